"""Issue 9's scenario, end to end, as a learner and a teacher live it: clone the course, fill two
katas, grade, read the record and results.json; take a shortcut in kata 03 and see it refused;
break a kata after passing it and see the pass go stale; corrupt the record and see it rebuilt;
edit a test and the manifest, and see a teacher's canonical grade ignore both and name them.

Every command runs as a subprocess in the clone (`python -m checker ...`), as CI and a learner
run it. Each grade imports torch: the whole story takes tens of seconds."""

import json
import shutil
import subprocess
import sys

import pytest

from checker import catalog, teacher
from checker.blanks import apply_answers, generate_kata
from checker.catalog import find_kata
from checker.tests.test_fork_grading import WRONG_00_1, weaken_test_and_manifest

pytestmark = [pytest.mark.timeout(900), pytest.mark.skipif(shutil.which("git") is None, reason="needs git")]

SDPA_03_6 = "weights = softmax(scores, dim=-1)\nout = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)"


def katas(folder, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "checker", *args], cwd=folder, env=teacher.grading_env(folder),
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    run.text = " ".join((run.stdout + run.stderr).split())  # rich wraps lines at the terminal's width
    return run


def git(folder, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": teacher.grading_env(folder)["PATH"]}  # fmt: skip
    return subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True, text=True).stdout


def write(fork, number: str, answers: dict[str, str] | None = None) -> None:
    kata = find_kata(number)
    (fork / "katas" / kata.kata_path.name).write_text(apply_answers(kata.reference_source, answers or {}), encoding="utf-8")


def record(fork) -> dict:
    return json.loads((fork / ".katas" / "progress.json").read_text(encoding="utf-8"))["katas"]


def row(fork, number: str) -> str:
    return next(line for line in (fork / "PROGRESS.md").read_text(encoding="utf-8").splitlines()
                if line.startswith(f"| {number} |"))  # fmt: skip


def results(fork) -> dict:
    return json.loads((fork / "out" / "grade" / "results.json").read_text(encoding="utf-8"))


def test_a_learner_and_a_teacher_from_clone_to_canonical_grade(tmp_path):
    upstream = tmp_path / "upstream"
    teacher.copy_repository(catalog.INSTALLED_ROOT, upstream)
    for kata in catalog.all_katas():
        (upstream / "katas" / kata.kata_path.name).write_text(generate_kata(kata.reference_source), encoding="utf-8")
    git(upstream, "init", "-q")
    git(upstream, "add", ".")
    git(upstream, "commit", "-qm", "the course")
    fork = tmp_path / "fork"
    git(tmp_path, "clone", "-q", str(upstream), str(fork))

    # Two katas filled in, graded as CI grades a fork.
    write(fork, "00")
    write(fork, "03")
    graded = katas(fork, "grade")
    assert graded.returncode == 0, graded.text
    data = results(fork)
    states = {k["number"]: k["state"] for k in data["katas"]}
    assert states["00"] == states["03"] == "passing" and states["01"] == "not started"
    assert data["status"] == "pass" and data["score"] == len(find_kata("00").blanks) + len(find_kata("03").blanks)
    saved = record(fork)
    assert saved["03"]["state"] == "passing" and saved["03"]["first_passed"] and saved["03"]["runs_to_pass"] == 1
    assert "| passing |" in row(fork, "00") and "| passing |" in row(fork, "03")

    # The shortcut: kata 03's attention handed to PyTorch's own.
    write(fork, "03", {"03.6": SDPA_03_6})
    refused = katas(fork, "check", "03")
    assert refused.returncode == 1 and "blank 03.6 calls torch.nn.functional.scaled_dot_product_attention" in refused.text
    assert record(fork)["03"]["blanks"]["03.6"] == "shortcut" and record(fork)["03"]["state"] == "failing"
    katas(fork, "grade")
    test_03_6 = next(t for t in results(fork)["tests"] if t["name"].startswith("kata 03 blank 03.6"))
    assert test_03_6["status"] == "fail" and test_03_6["score"] == 0 and "scaled_dot_product_attention" in test_03_6["message"]
    write(fork, "03")

    # Broken after passing: the record says the pass is stale until 00 is graded again.
    write(fork, "00", {"00.1": WRONG_00_1})
    katas(fork, "check", "03")
    assert "passing, *stale* (kata file changed since)" in row(fork, "00")
    assert katas(fork, "check", "00").returncode == 1
    assert "| failing |" in row(fork, "00") and "stale" not in row(fork, "00")

    # A corrupt record: said once, kept, rebuilt by grading.
    (fork / ".katas" / "progress.json").write_text('{"katas": {"00": {"state": "passing"', encoding="utf-8")
    rebuilt = katas(fork, "status")
    assert rebuilt.text.count("cannot be trusted") == 1 and "rebuilding it by grading" in rebuilt.text
    assert record(fork)["00"]["state"] == "failing" and record(fork)["03"]["state"] == "passing"
    assert list((fork / ".katas" / "backups").glob("progress.*.json"))

    # A test and its manifest entry weakened in the fork: its own grade passes the wrong 00.1 ...
    weaken_test_and_manifest(fork)
    own = katas(fork, "grade")
    assert own.returncode == 0 and {k["number"]: k["state"] for k in results(fork)["katas"]}["00"] == "passing"
    # ... the teacher's grade, with the upstream's tests and checker, does not, and names the edits.
    canonical = katas(fork, "grade", "--against", str(upstream), "--out", str(tmp_path / "canonical"))
    assert canonical.returncode == 1, canonical.text
    data = json.loads((tmp_path / "canonical" / "results.json").read_text(encoding="utf-8"))
    assert {k["number"]: k["state"] for k in data["katas"]}["00"] == "failing"
    assert {c["path"] for c in data["fork"]["changed"]} == {"tests/test_k00_start.py", "checker/tests_manifest.json"}
    assert "tests/test_k00_start.py" in canonical.text
