"""The `katas` commands, run in a sandbox: katas/ and .katas/ point into a temporary folder."""

import pytest

from checker import catalog, cli, grading, workspace
from checker.blanks import generate_kata
from checker.catalog import find_kata


def solve(kata, *blank_ids):
    """Fill the given blanks of the sandbox kata with the reference solution."""
    text = kata.kata_path.read_text(encoding="utf-8")
    for blank in kata.blanks:
        if blank.id in blank_ids:
            body = "\n".join(blank.indent + line if line else "" for line in blank.solution.rstrip().split("\n"))
            text = text.replace(f'{blank.indent}raise NotImplementedError("blank {blank.id} is not filled in yet")', body)
    kata.kata_path.write_text(text, encoding="utf-8")


def test_hints_come_one_tier_per_request(sandbox, capsys):
    blank = find_kata("00").blanks[1]
    assert cli.main(["hint", "00.2"]) == 0
    first = capsys.readouterr().out
    assert "hint 1 of 3" in first and "hint 2 of 3" not in first
    cli.main(["hint", "00.2"])
    assert "hint 2 of 3" in capsys.readouterr().out
    cli.main(["hint", "00.2"])
    cli.main(["hint", "00.2"])  # past the last tier: the last one again
    last = capsys.readouterr().out
    assert "hint 3 of 3" in last and "last hint" in last
    assert blank.hints[2][:30] in last.replace("\n", "")


def test_reset_keeps_the_learners_version_as_a_backup(sandbox, capsys):
    kata = find_kata("00")
    solve(kata, "00.1")
    mine = kata.kata_path.read_text()
    assert cli.main(["reset", "00"]) == 0
    backups = list((sandbox / ".katas" / "backups").iterdir())
    assert len(backups) == 1 and backups[0].read_text() == mine
    assert kata.kata_path.read_text() == generate_kata(kata.reference_source)
    assert "kept as" in capsys.readouterr().out
    cli.main(["reset", "00"])  # already fresh: nothing more to back up
    assert len(list((sandbox / ".katas" / "backups").iterdir())) == 1


def test_generate_backs_up_a_kata_with_learner_work(sandbox, monkeypatch):
    monkeypatch.setattr(workspace, "write_manifest", lambda: None)
    kata = find_kata("00")
    solve(kata, "00.1")
    mine = kata.kata_path.read_text()
    ((_, saved),) = workspace.generate([kata])
    assert saved is not None and saved.read_text() == mine
    assert kata.kata_path.read_text() == generate_kata(kata.reference_source)


def test_solution_opens_only_once_the_kata_passes(sandbox, capsys):
    assert cli.main(["solution", "00"]) == cli.NOT_PASSING
    assert "opens once yours passes" in capsys.readouterr().out
    kata = find_kata("00")
    solve(kata, "00.1", "00.2", "00.3")
    assert cli.main(["check", "00"]) == 0
    capsys.readouterr()
    assert cli.main(["solution", "00"]) == 0
    out = capsys.readouterr().out
    assert "Yours is the same as the reference" in out or "From yours" in out


def test_dashboard_grades_only_what_changed(sandbox, capsys, monkeypatch):
    kata = find_kata("00")
    solve(kata, "00.1")
    calls = []
    real_grade = cli.grade
    monkeypatch.setattr(cli, "grade", lambda katas, **kw: calls.append([k.number for k in katas]) or real_grade(katas))
    assert cli.main([]) == 0
    first = capsys.readouterr().out
    assert calls == [["00"]]  # the other katas are untouched: not started, no run needed
    assert "in progress" in first and "1/3" in first
    cli.main(["status"])
    assert calls == [["00"]]  # nothing changed: the stored result serves
    solve(kata, "00.2")
    cli.main(["status"])
    assert calls == [["00"], ["00"]]
    assert "2/3" in capsys.readouterr().out


def test_check_one_blank_grades_that_blank_and_reports_the_kata_from_all_its_blanks(sandbox, capsys):
    solve(find_kata("00"), "00.2")
    assert cli.main(["check", "00.2"]) == 0  # the blank asked about passes
    out = " ".join(capsys.readouterr().out.split())
    assert "✔ 00.2" in out and "not graded in this run" in out
    assert "1 of 3 blanks pass in progress" in out and "passes." not in out


def test_check_one_blank_takes_the_other_verdicts_from_the_last_grade_if_nothing_changed(sandbox, capsys):
    kata = find_kata("00")
    solve(kata, "00.1", "00.2")
    cli.main(["check", "00"])
    capsys.readouterr()
    assert cli.main(["check", "00.2"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "2 of 3 blanks pass in progress" in out and "from your last grade" in out
    solve(kata, "00.3")  # the file changed: the old verdicts no longer count
    assert cli.main(["check", "00.3"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1 of 3 blanks pass in progress" in out and "from your last grade" not in out


def test_unknown_kata_or_blank_exits_2_with_the_known_ones(capsys):
    assert cli.main(["check", "99"]) == cli.BAD_REQUEST
    assert "the katas are 00" in capsys.readouterr().out
    assert cli.main(["hint", "00.9"]) == cli.BAD_REQUEST
    assert "its blanks are 00.1, 00.2, 00.3" in capsys.readouterr().out
    assert cli.main(["check", "00", "01.1"]) == cli.BAD_REQUEST  # not a vacuous pass
    assert "blank 01.1 is not in kata 00" in capsys.readouterr().out


def test_missing_torch_exits_3_with_an_install_hint(monkeypatch, capsys, sandbox):
    real = grading.importlib.util.find_spec
    monkeypatch.setattr(grading.importlib.util, "find_spec", lambda name: None if name == "torch" else real(name))
    assert cli.main(["check", "00"]) == cli.NO_ENVIRONMENT
    assert "pip install -e ." in capsys.readouterr().out


@pytest.mark.timeout(60)
def test_check_says_what_state_the_earlier_katas_are_in(sandbox, capsys):
    cli.main(["check", "05"])
    out = " ".join(capsys.readouterr().out.split())
    assert "builds on kata 02 (k02_embeddings: not started) and kata 04 (k04_multihead: not started)" in out
    assert "its tests use the reference versions" in out
    kata = find_kata("04")
    solve(kata, *[b.id for b in kata.blanks])
    kata.kata_path.write_text(kata.kata_path.read_text().replace("q = self.q_proj(x)", "q = self.q_proj(x) * 2"))
    cli.main(["check", "04"])
    cli.main(["check", "05"])
    out = " ".join(capsys.readouterr().out.split())
    assert "kata 04 (k04_multihead: failing)" in out


def test_the_kata_repository_is_the_one_the_command_is_run_in(tmp_path, monkeypatch, capsys):
    other = tmp_path / "my-clone"
    for folder in ("reference", "katas", "tests"):
        (other / folder).mkdir(parents=True)
    (other / "tests" / "support.py").write_text("")
    monkeypatch.delenv("KATAS_ROOT", raising=False)
    monkeypatch.chdir(other / "katas")  # a parent counts too
    assert catalog.find_root() == other.resolve()
    monkeypatch.chdir(tmp_path)  # not inside a kata repository: the checker's own
    assert catalog.find_root() == catalog.INSTALLED_ROOT
    monkeypatch.setenv("KATAS_ROOT", str(other))
    assert catalog.find_root() == other.resolve()
    monkeypatch.setattr(catalog, "ROOT", other)  # as if found so: the command says which it grades
    cli.main(["check", "99"])
    out = " ".join(capsys.readouterr().out.split())
    assert f"Kata repository: {other}" in out and f"installed from {catalog.INSTALLED_ROOT}" in out
