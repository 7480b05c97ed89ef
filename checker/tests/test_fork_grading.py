"""Grading on forks: `katas grade` in a learner's fork, and a teacher's canonical grade `--against`
a clean copy of the upstream (checker/teacher.py). A grade in a fork is a subprocess that
imports torch: a few seconds each, so the scenario grades katas 00 and 01 only."""

import csv
import hashlib
import json
import shutil
import subprocess
import sys

import pytest

from checker import catalog, cli, progress, teacher
from checker.blanks import apply_answers, generate_kata, normalize, solved_kata
from checker.catalog import find_kata
from checker.grading import PASS, PASSING, BlankResult, KataResult

WRONG_00_1 = "return image.unsqueeze(1)"  # a batch dimension in the wrong place: (C, 1, H, W)
WEAKENED_TEST = "assert out.numel() == image.numel()"  # what a learner might put in the test's place


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """A clean copy of this repository: its files, no caches or local state, every kata as shipped."""
    folder = tmp_path_factory.mktemp("upstream") / "text2image-katas"
    teacher.copy_repository(catalog.INSTALLED_ROOT, folder)
    for kata in catalog.all_katas():
        (folder / "katas" / kata.kata_path.name).write_text(generate_kata(kata.reference_source), encoding="utf-8")
    return folder


def make_fork(upstream, folder, answers: dict[str, dict[str, str]]):
    """A learner's fork: the upstream's files, these katas filled in ({kata: {blank: wrong answer}},
    the reference solution for every blank not named)."""
    teacher.copy_repository(upstream, folder)
    for number, wrong in answers.items():
        kata = find_kata(number)
        (folder / "katas" / kata.kata_path.name).write_text(apply_answers(kata.reference_source, wrong), encoding="utf-8")
    return folder


def grade_in(folder, out):
    """`python -m checker grade` run in a repository folder, as CI on a fork runs it: (exit code, results.json)."""
    run = subprocess.run([sys.executable, "-m", "checker", "grade", f"--out={out}"], cwd=folder,
                         env=teacher.grading_env(folder), capture_output=True, text=True, timeout=600)  # fmt: skip
    return run.returncode, json.loads((out / "results.json").read_text(encoding="utf-8"))


def weaken_test_and_manifest(fork):
    """Edit blank 00.1's test so the wrong answer passes it, and its manifest entry to match."""
    test = fork / "tests" / "test_k00_start.py"
    text = test.read_text(encoding="utf-8")
    checks = '        assert_tensor(out, shape=(1, *shape), dtype=image.dtype, call=where, seed=seed)\n' \
             '        assert_close(out[0], image, call=where, seed=seed, name=said("output[0]", ja="出力[0]"))'  # fmt: skip
    assert checks in text
    test.write_text(text.replace(checks, f"        {WEAKENED_TEST}"), encoding="utf-8")
    manifest_path = fork / "checker" / "tests_manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["tests/test_k00_start.py"] = hashlib.sha256(normalize(test.read_text(encoding="utf-8")).encode()).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def by_number(data):
    return {k["number"]: k for k in data["katas"]}


@pytest.mark.timeout(600)
def test_a_fork_that_edits_a_test_and_its_manifest_fools_its_own_grade_but_not_the_canonical_one(
    upstream, tmp_path, monkeypatch, capsys
):
    n01 = len(find_kata("01").blanks)
    fork = make_fork(upstream, tmp_path / "alice", {"00": {}, "01": {}})

    code, data = grade_in(fork, tmp_path / "own")  # the learner's CI: katas 00 and 01 solved
    assert code == 0 and data["status"] == "pass" and data["score"] == 3 + n01
    assert by_number(data)["00"]["state"] == by_number(data)["01"]["state"] == PASSING
    assert {k["state"] for n, k in by_number(data).items() if n not in ("00", "01")} == {"not started"}
    assert data["max_score"] == sum(len(k.blanks) for k in catalog.all_katas()) == len(data["tests"])
    summary = (tmp_path / "own" / "summary.md").read_text(encoding="utf-8")
    assert f"| 00 | {find_kata('00').title} | 3/3 | ✅ passing |" in summary

    kata = find_kata("00")  # a wrong answer, and a test and manifest edited to let it pass
    (fork / "katas" / kata.kata_path.name).write_text(apply_answers(kata.reference_source, {"00.1": WRONG_00_1}))
    weaken_test_and_manifest(fork)
    code, data = grade_in(fork, tmp_path / "own-edited")
    assert code == 0 and by_number(data)["00"]["state"] == PASSING  # the fork's own grade is fooled
    edited = {p: (fork / p).read_text(encoding="utf-8") for p in ("tests/test_k00_start.py", "katas/k00_start.py")}

    monkeypatch.setattr(catalog, "ROOT", fork)  # the teacher grades the fork it is in
    out = tmp_path / "canonical"
    assert cli.main(["grade", "--against", str(upstream), "--out", str(out)]) == cli.NOT_PASSING
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["status"] == "fail" and data["score"] == 2 + n01
    assert by_number(data)["00"]["state"] == "failing" and by_number(data)["00"]["open_blank"] == "00.1"
    assert by_number(data)["01"]["state"] == PASSING
    test = data["tests"][0]
    assert test["name"].startswith("kata 00 blank 00.1: ") and test["status"] == "fail"
    assert "expected (1, 3, 4, 5)" in test["message"]
    assert data["fork"] == {"path": str(fork.resolve()), "upstream": str(upstream.resolve()), "canonical": True,
                            "changed": [{"path": "checker/tests_manifest.json", "change": "edited"},
                                        {"path": "tests/test_k00_start.py", "change": "edited"}]}  # fmt: skip
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "Canonical grade" in summary and "- `tests/test_k00_start.py` (edited)" in summary
    assert "| 00 | Start here: shapes and broadcasting | 2/3 | ❌ failing |" in summary
    said = " ".join(capsys.readouterr().out.split())
    assert "canonical (the upstream's tests and checker); 2 files changed outside katas/" in said
    assert "tests/test_k00_start.py (edited)" in said
    assert edited == {p: (fork / p).read_text(encoding="utf-8") for p in edited}  # the fork is left as it was

    bob = make_fork(upstream, tmp_path / "bob", {"00": {}})  # the batch: two forks and a folder that is none
    (tmp_path / "carol").mkdir()
    batch = tmp_path / "batch"
    forks = [str(fork), str(bob), str(tmp_path / "carol")]
    assert cli.main(["grade", "--against", str(upstream), "--out", str(batch), *forks]) == cli.OK
    rows = {row["fork"]: row for row in csv.DictReader((batch / "forks.csv").open(encoding="utf-8"))}
    assert (rows["alice"]["k00"], rows["alice"]["k01"], rows["alice"]["total"]) == ("2", str(n01), str(2 + n01))
    assert rows["alice"]["changed_files"] == "2" and rows["alice"]["states"].startswith("1 passing, 1 failing")
    assert (rows["bob"]["k00"], rows["bob"]["k01"], rows["bob"]["changed_files"]) == ("3", "0", "0")
    assert rows["carol"]["error"].endswith("carol has no katas/ folder") and rows["carol"]["total"] == "0"
    table = (batch / "forks.md").read_text(encoding="utf-8")
    assert f"| alice | 2/3 | {n01}/{n01} |" in table and "| bob | 3/3 | 0/" in table
    assert "| carol |" in table and "error: " in table
    assert by_number(json.loads((batch / "forks" / "alice" / "results.json").read_text()))["00"]["state"] == "failing"
    assert (batch / "forks" / "bob" / "summary.md").exists() and not (batch / "forks" / "carol").exists()


def test_grade_takes_no_verdict_from_the_record(sandbox):
    kata = find_kata("00")
    (sandbox / "katas" / kata.kata_path.name).write_text(apply_answers(kata.reference_source, {"00.1": WRONG_00_1}))
    forged = KataResult(kata, PASSING, [BlankResult(b.id, b.statement, PASS) for b in kata.blanks])
    progress.record([forged])  # a record that says kata 00 passes
    out = sandbox / "out"
    assert cli.main(["grade", "--out", str(out)]) == cli.NOT_PASSING
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert by_number(data)["00"]["state"] == "failing" and by_number(data)["00"]["points"] == 2
    assert data["status"] == "fail" and (out / "summary.md").exists()


def test_the_canonical_grade_uses_the_copys_checker_not_the_installed_one(upstream, tmp_path):
    assert teacher.checker_in(upstream) == ""
    (tmp_path / "empty").mkdir()
    assert teacher.checker_in(tmp_path / "empty") != ""  # no checker there: python finds another, or none


def test_changed_files_are_every_file_but_the_kata_files_that_differs_is_missing_or_is_added(tmp_path):
    upstream, fork = tmp_path / "upstream", tmp_path / "fork"
    files = {"tests/test_k00_start.py": "def test(): pass\n", "noxfile.py": "a\nb\n", "README.md": "hello\n",
             "katas/k00_start.py": "x = 1\n", "checker/grading.py": "y = 2\n"}  # fmt: skip
    for root in (upstream, fork):
        for relpath, text in files.items():
            (root / relpath).parent.mkdir(parents=True, exist_ok=True)
            (root / relpath).write_bytes(text.encode())
    (fork / "noxfile.py").write_bytes(b"a\r\nb\r\n")  # line endings alone: not a change
    (fork / "tests" / "test_k00_start.py").write_text("def test(): assert True\n")
    (fork / "katas" / "k00_start.py").write_text("x = 2\n")  # the learner's work: not listed
    (fork / "katas" / "helpers.py").write_text("z = 3\n")  # not a kata file: not used, so listed
    (fork / "checker" / "grading.py").unlink()
    (fork / "conftest.py").write_text("import pytest\n")
    for junk in ("checker/__pycache__/grading.cpython-311.pyc", ".katas/progress.json", "out/grade/results.json",
                 ".git/HEAD", "text2image_katas.egg-info/PKG-INFO", ".pytest_cache/README.md"):  # fmt: skip
        (fork / junk).parent.mkdir(parents=True, exist_ok=True)
        (fork / junk).write_text("local\n")
    assert teacher.changed_files(upstream, fork) == [
        {"path": "checker/grading.py", "change": "missing"},
        {"path": "conftest.py", "change": "added"},
        {"path": "katas/helpers.py", "change": "added"},
        {"path": "tests/test_k00_start.py", "change": "edited"},
    ]


def test_a_link_in_a_fork_is_neither_copied_nor_followed(tmp_path):
    (tmp_path / "katas").mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not the learner's\n")
    try:
        (tmp_path / "katas" / "k00_start.py").symlink_to(secret)
    except OSError:
        pytest.skip("no symbolic links here")
    assert "katas/k00_start.py" not in teacher.tree_files(tmp_path)


git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@git
@pytest.mark.timeout(120)
def test_an_upstream_that_is_not_a_folder_is_cloned(upstream, tmp_path):
    repo = tmp_path / "upstream.git"
    shutil.copytree(upstream, repo)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    clone, label = teacher.resolve_upstream(repo.as_uri(), scratch)
    assert clone.is_relative_to(scratch) and catalog.is_kata_repository(clone) and label == repo.as_uri()
    as_it_is = teacher.resolve_upstream(str(upstream), scratch)  # a kata repository's folder: not cloned
    assert as_it_is == (upstream.resolve(), str(upstream.resolve()))
    with pytest.raises(teacher.TeacherError, match="^could not clone .*nowhere"):
        teacher.resolve_upstream(str(tmp_path / "nowhere"), scratch)


def test_the_command_says_in_one_line_why_the_upstream_cannot_be_had(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(teacher.shutil, "which", lambda name: None)
    assert cli.main(["grade", "--against", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == cli.BAD_REQUEST
    said = capsys.readouterr().out.strip()
    assert "git is not installed" in said and "Traceback" not in said
    assert cli.main(["grade", str(tmp_path)]) == cli.BAD_REQUEST  # forks without --against
    assert "--against UPSTREAM FORK" in capsys.readouterr().out
