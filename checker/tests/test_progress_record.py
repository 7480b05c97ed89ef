"""The progress record that travels in git: stamps, PROGRESS.md, stale passes, a record that
cannot be trusted, hints kept apart, `katas history` and the checkpoint commit."""

import json
import shutil
import subprocess

import pytest

from checker import cli, history, progress
from checker.catalog import find_kata
from checker.tests.test_cli import solve


pytestmark = pytest.mark.timeout(90)  # several grading runs a test


def record_row(sandbox, number: str) -> str:
    return next(line for line in (sandbox / "PROGRESS.md").read_text().splitlines() if line.startswith(f"| {number} |"))


def test_a_pass_is_stamped_in_both_records(sandbox):
    kata = find_kata("00")
    solve(kata, "00.1")
    assert cli.main(["check", "00"]) == cli.NOT_PASSING
    solve(kata, "00.2", "00.3")
    assert cli.main(["check", "00"]) == cli.OK
    entry = json.loads((sandbox / ".katas" / "progress.json").read_text())["katas"]["00"]
    assert entry["state"] == "passing" and entry["passed"] == entry["total"] == 3
    assert entry["runs"] == 2 and entry["runs_to_pass"] == 2 and entry["first_passed"]
    assert entry["kata_file"] == progress.kata_file_hash(kata) and entry["tests"] == progress.tests_hash(kata)
    row = record_row(sandbox, "00")
    assert f"| {kata.title} | 3/3 | passing | {entry['first_passed'].replace('T', ' ')} |" in row
    assert "| not started |" in record_row(sandbox, "01")
    cli.main(["check", "00"])  # graded again: the first pass keeps its date and run count
    again = json.loads((sandbox / ".katas" / "progress.json").read_text())["katas"]["00"]
    assert again["runs"] == 3 and (again["first_passed"], again["runs_to_pass"]) == (entry["first_passed"], 2)


def test_a_pass_goes_stale_when_the_kata_changes_until_graded_again(sandbox):
    kata = find_kata("00")
    solve(kata, "00.1", "00.2", "00.3")
    assert cli.main(["check", "00"]) == cli.OK
    first = json.loads((sandbox / ".katas" / "progress.json").read_text())["katas"]["00"]["first_passed"]
    text = kata.kata_path.read_text()
    kata.kata_path.write_text(text.replace("return image.unsqueeze(0)", "return image.unsqueeze(1)"))  # broken after passing
    solve(find_kata("01"), "01.1")
    cli.main(["check", "01"])  # another kata graded: the record is rewritten, 00 not re-graded
    assert "passing, *stale* (kata file changed since)" in record_row(sandbox, "00")
    assert cli.main(["check", "00"]) == cli.NOT_PASSING
    row = record_row(sandbox, "00")
    assert "stale" not in row and "| failing |" in row and first.replace("T", " ") in row


def test_stale_names_the_tests_when_they_changed():
    kata = find_kata("03")
    entry = {"kata_file": progress.kata_file_hash(kata), "tests": "0" * 16}
    assert progress.stale(kata, entry) == "tests changed since"
    entry["tests"] = progress.tests_hash(kata)
    assert progress.stale(kata, entry) == ""
    entry["kata_file"] = "x"
    entry["tests"] = "y"
    assert progress.stale(kata, entry) == "kata file and tests changed since"


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: "<<<<<<< HEAD\n" + text + "=======\n" + text + ">>>>>>> theirs\n",  # a merge conflict
        lambda text: text.replace('"failing"', '"passing"'),  # a hand edit claiming a pass
    ],
    ids=["truncated", "merge-conflict", "hand-edited"],
)
def test_an_untrusted_record_is_kept_aside_and_rebuilt_by_grading(sandbox, capsys, damage):
    kata = find_kata("00")
    solve(kata, "00.1")
    text = kata.kata_path.read_text()
    kata.kata_path.write_text(text.replace('raise NotImplementedError("blank 00.2 is not filled in yet")', "return 0"))
    cli.main(["hint", "00.3"])
    cli.main(["check", "00"])  # failing: 00.1 passes, 00.2 fails
    path = sandbox / ".katas" / "progress.json"
    assert '"failing"' in path.read_text()
    path.write_text(damage(path.read_text()))
    damaged = path.read_text()
    capsys.readouterr()
    assert cli.main(["status"]) == cli.OK
    out = capsys.readouterr().out
    warning = [line for line in out.splitlines() if "cannot be trusted" in line]
    assert len(warning) == 1 and "rebuilding it by grading" in out.replace("\n", " ")
    kept = list((sandbox / ".katas" / "backups").glob("progress.*.json"))
    assert len(kept) == 1 and kept[0].read_text() == damaged  # nothing lost
    rebuilt = json.loads(path.read_text())
    assert rebuilt["katas"]["00"]["state"] == "failing" and progress.problem() == ""
    assert progress.hints() == {"00.3": 1}  # hint tiers survive the record
    capsys.readouterr()
    cli.main(["status"])
    assert "cannot be trusted" not in capsys.readouterr().out


def test_a_record_of_the_earlier_format_is_read_and_its_hints_move_out(sandbox):
    state = sandbox / ".katas"
    state.mkdir()
    (state / "progress.json").write_text(json.dumps({"katas": {}, "hints": {"03.2": 2}}))
    assert progress.problem() == ""
    solve(find_kata("00"), "00.1")
    cli.main(["check", "00"])
    assert progress.hints() == {"03.2": 2}
    assert "hints" not in json.loads((state / "progress.json").read_text())


# --- git ----------------------------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def git_repo(sandbox, monkeypatch):
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Learner")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "learner@example.com")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(sandbox / "no-global-gitconfig"))
    subprocess.run(["git", "init", "-q", str(sandbox)], check=True)
    return sandbox


def git(repo, *args) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def test_history_is_unavailable_outside_git(sandbox, capsys, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(sandbox.parent))  # no repository above the sandbox either
    assert cli.main(["history"]) == cli.OK
    assert "History is unavailable" in capsys.readouterr().out


@needs_git
def test_history_reads_first_passes_and_runs_from_the_commits(git_repo, capsys):
    kata = find_kata("00")
    solve(kata, "00.1")
    cli.main(["check", "00"])
    cli.main(["history"])
    assert "was never committed" in capsys.readouterr().out
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "started 00")
    solve(kata, "00.2", "00.3")
    cli.main(["check", "00"])  # the second grading run passes
    git(git_repo, "commit", "-qam", "00 passes")
    cli.main(["check", "00"])  # graded again: history still names the first pass
    git(git_repo, "commit", "-qam", "graded again")
    passes = history.first_passes()
    assert [(p.number, p.runs) for p in passes] == [("00", 2)]
    assert passes[0].commit == git(git_repo, "rev-parse", "--short=8", "HEAD~1").strip()
    capsys.readouterr()
    cli.main(["history"])
    out = capsys.readouterr().out
    assert "When each kata first passed" in out and passes[0].commit in out


@needs_git
def test_commit_on_pass_commits_the_kata_and_the_record(git_repo, capsys):
    kata = find_kata("00")
    solve(kata, "00.1")
    cli.main(["check", "00", "--commit"])  # not passing yet: nothing committed
    assert git(git_repo, "log", "--oneline", "--all") == ""
    solve(kata, "00.2", "00.3")
    (git_repo / "notes.txt").write_text("not mine to commit")
    assert cli.main(["check", "00", "--commit"]) == cli.OK
    assert "committed" in capsys.readouterr().out
    subject = git(git_repo, "log", "-1", "--format=%s").strip()
    assert subject == f"feat(kata-00): pass {kata.title} (3/3 blanks)"
    files = set(git(git_repo, "show", "--name-only", "--format=", "HEAD").split())
    assert files == {"katas/k00_start.py", ".katas/progress.json", ".katas/hints.json", "PROGRESS.md"} - (
        set() if (git_repo / ".katas" / "hints.json").exists() else {".katas/hints.json"}
    )
    assert "notes.txt" in git(git_repo, "status", "--porcelain")  # only the kata and its record
    cli.main(["config", "commit-on-pass", "on"])
    capsys.readouterr()
    cli.main(["check", "00"])  # the setting: a pass commits without --commit (here nothing new but the stamp)
    assert "committed" in capsys.readouterr().out
    assert git(git_repo, "log", "-1", "--format=%s").startswith("feat(kata-00)")
