"""The workflow that grades a learner's fork (.github/workflows/grade.yml): actions pinned, a
read-only token not kept in git, skipped upstream, and a nox session that exists. No network:
.ci/run checks the same file fully with check-jsonschema and zizmor."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "grade.yml"
UPSTREAM = "text2image-katas/text2image-katas"


def workflow() -> dict:
    """grade.yml parsed, with PyYAML or with ruamel.yaml (check-jsonschema's, in `.[ci]`)."""
    text = WORKFLOW.read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:
        try:
            from ruamel.yaml import YAML
        except ImportError:
            pytest.skip("no YAML parser here (python -m pip install -e .[ci] brings one)")
        return YAML(typ="safe").load(text)
    return yaml.safe_load(text)


def steps() -> list[dict]:
    return workflow()["jobs"]["grade"]["steps"]


def step_index(steps: list[dict], needle: str) -> int:
    """The first step whose `run` or `uses` contains needle."""
    return next(i for i, step in enumerate(steps) if needle in step.get("run", step.get("uses", "")))


def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it():
    uses = [line.strip() for line in WORKFLOW.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert len(uses) >= 3, uses  # checkout, setup-python, upload-artifact
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line


def test_the_token_is_read_only_and_checkout_does_not_keep_it():
    assert workflow()["permissions"] in ({"contents": "read"}, {})
    all_steps = steps()
    checkout = all_steps[step_index(all_steps, "actions/checkout@")]
    assert checkout["with"]["persist-credentials"] is False


def test_no_expression_is_pasted_into_a_script():
    for step in steps():
        assert "${{" not in step.get("run", ""), step


def test_the_job_skips_the_upstream_repository_only():
    assert workflow()["jobs"]["grade"]["if"] == f"github.repository != '{UPSTREAM}'"
    assert UPSTREAM in (ROOT / "AUTHORING.md").read_text(encoding="utf-8")


def test_cpu_torch_comes_before_the_project_and_the_grade():
    all_steps = steps()
    cpu_torch = step_index(all_steps, "--index-url https://download.pytorch.org/whl/cpu")
    assert cpu_torch < step_index(all_steps, "pip install -e .") < step_index(all_steps, "nox -s grade")


def test_summary_and_artifact_come_even_when_grading_fails():
    all_steps = steps()
    grade = step_index(all_steps, "nox -s grade")
    summary = all_steps[step_index(all_steps, "$GITHUB_STEP_SUMMARY")]
    upload = all_steps[step_index(all_steps, "actions/upload-artifact@")]
    assert summary["if"] == upload["if"] == "always()"
    assert all_steps.index(summary) > grade and all_steps.index(upload) > grade
    assert "out/grade/summary.md" in summary["run"]
    assert upload["with"]["path"].split() == ["out/grade/results.json", "out/**/*.png"]
    assert upload["with"]["if-no-files-found"] == "ignore"


def test_the_nox_sessions_it_runs_exist():
    scripts = " ".join(step.get("run", "") for step in steps())
    sessions = re.findall(r"python -m nox -s (\S+)", scripts)
    assert sessions == ["grade"]
    for session in sessions:
        listed = subprocess.run(
            [sys.executable, "-m", "nox", "--list", "--json", "-s", session],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        assert [entry["name"] for entry in json.loads(listed.stdout)] == [session]
