"""Run the mutants: each plausible wrong answer, written into a copy of the reference, must fail
the tests of its blank.

Mutants live in tests/mutants/<module>.py as MUTANTS = {blank_id: {why: code}}. A worker
process (`python -m checker.mutation JOBS.json RESULTS.json`) imports torch once and runs
pytest in-process for each mutant, so a hundred mutants take seconds, not minutes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import runpy
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from checker.blanks import apply_mutant
from checker.catalog import ROOT, Kata


@dataclass
class MutantJob:
    kata: str  # module, e.g. "k03_attention"
    blank: str
    why: str
    code: str


@dataclass
class MutantResult:
    job: MutantJob
    caught: bool
    message: str  # the first failure a learner would have seen, or why it was not caught
    diagnosis: list[str] = field(default_factory=list)  # the mistakes the grader would name for it


def load_mutants(kata: Kata) -> dict[str, dict[str, str]]:
    if not kata.mutants_path.exists():
        return {}
    return runpy.run_path(str(kata.mutants_path)).get("MUTANTS", {})


def jobs_for(kata: Kata) -> list[MutantJob]:
    return [MutantJob(kata.module, blank, why, code) for blank, mutants in load_mutants(kata).items()
            for why, code in mutants.items()]  # fmt: skip


def run_all(jobs: list[MutantJob], workers: int = 2) -> list[MutantResult]:
    """Split the jobs over `workers` processes and gather their results in job order."""
    workers = max(1, min(workers, len(jobs)))
    chunks = [jobs[i::workers] for i in range(workers)]
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        procs = []
        for i, chunk in enumerate(chunks):
            job_file, out_file = Path(tmp) / f"jobs{i}.json", Path(tmp) / f"results{i}.json"
            job_file.write_text(json.dumps([asdict(j) for j in chunk]))
            env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
                       HYPOTHESIS_STORAGE_DIRECTORY=str(Path(tmp) / "hypothesis"))  # fmt: skip
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
            command = [sys.executable, "-m", "checker.mutation", str(job_file), str(out_file)]
            procs.append((subprocess.Popen(command, cwd=ROOT, env=env), out_file, chunk))
        results = {}
        for proc, out_file, chunk in procs:
            proc.wait()
            done = json.loads(out_file.read_text()) if out_file.exists() else []
            for job, item in zip(chunk, done + [None] * (len(chunk) - len(done))):
                item = item or {"caught": False, "message": "the mutant worker died"}
                results[id(job)] = MutantResult(job, item["caught"], item["message"], item.get("diagnosis", []))
    return [results[id(j)] for j in jobs]


def _run_one(job: MutantJob, tmp: Path) -> MutantResult:
    import pytest

    kata_dir = tmp / f"{job.kata}-{abs(hash((job.blank, job.why)))}"
    kata_dir.mkdir()
    reference = (ROOT / "reference" / f"{job.kata}.py").read_text(encoding="utf-8")
    (kata_dir / f"{job.kata}.py").write_text(apply_mutant(reference, job.blank, job.code), encoding="utf-8")
    report = kata_dir / "events.jsonl"
    args = [str(ROOT / "tests" / f"test_{job.kata}.py"), f"--impl={kata_dir}", f"--blank={job.blank}",
            f"--kata-report={report}", "-x", "-q", "-p", "pytest_timeout", "-p", "no:unraisableexception",
            "--timeout=10", "--rootdir", str(ROOT), "--diagnose", "--tb=line",
            "--diagnose-budget=30"]  # fmt: skip  (the self-check wants every diagnosis, however busy the machine)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(args)
    fresh = tuple(str(p) for p in (ROOT / "tests", ROOT / "reference", ROOT / "katas", tmp))
    for name, module in list(sys.modules.items()):  # tests and katas load afresh for the next mutant
        if (getattr(module, "__file__", None) or "").startswith(fresh):
            del sys.modules[name]
    events = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    failures = [e for e in events if e["event"] == "result" and e["outcome"] == "failed"]
    if not events:
        return MutantResult(job, False, "no test of this blank ran")
    if not failures:
        return MutantResult(job, False, "every test of this blank passed")
    error = failures[0].get("error", {})
    message = f"{failures[0]['name']}: {error.get('type')}: {error.get('message', '')}"
    return MutantResult(job, True, message, error.get("diagnosis", []))


def _worker(job_file: str, out_file: str) -> None:
    import pytest  # noqa: F401  (imported before the snapshot, with torch, so they load once)
    import torch  # noqa: F401

    sys.path.insert(0, str(ROOT / "tests"))
    import hypothesis  # noqa: F401

    jobs = [MutantJob(**j) for j in json.loads(Path(job_file).read_text())]
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        results = [_run_one(job, Path(tmp)) for job in jobs]
    Path(out_file).write_text(json.dumps([{"caught": r.caught, "message": r.message, "diagnosis": r.diagnosis}
                                          for r in results]))  # fmt: skip


if __name__ == "__main__":
    _worker(*sys.argv[1:3])
