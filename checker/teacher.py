"""Teacher mode: grade a learner's fork with the upstream's tests and checker (`katas grade --against`).

A fork holds its own tests, manifest and checker, and a learner can edit all three so that a
wrong answer passes. The canonical grade trusts nothing of the fork but its kata files:

1. the upstream (a clean checkout, or a URL or path that `git clone --depth 1` takes) is
   copied to a temporary folder, caches and local state left out (IGNORED_* below);
2. the fork's `katas/k*.py` replace the copy's (a kata file the fork lacks is then missing,
   as it would be in the fork's own grade);
3. `python -m checker grade` runs in the copy, with the copy's checker (checked before it
   runs: see `checker_in`), and writes results.json there;
4. every other file of the fork is compared with the upstream's: those edited, missing or
   added are listed in results.json's `fork` section (`changed`), for the teacher to read.

The learner's code runs in the grade, as in any grade: run teacher mode where that is safe
(a container, CI). The reports are checker/report.py's; `katas grade --against` (checker/cli.py)
calls grade_current or grade_batch.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from rich.console import Console
from rich.text import Text

from checker import report
from checker.blanks import normalize
from checker.catalog import is_kata_repository, shown
from checker.grading import RUN_TIMEOUT_S

IGNORED_ANYWHERE = {"__pycache__", ".pytest_cache", ".hypothesis", ".nox", ".mypy_cache", ".ruff_cache", ".DS_Store"}
IGNORED_PATTERNS = ("*.egg-info", "*.pyc")
IGNORED_AT_ROOT = {".git", ".katas", "out", "build", ".venv", "venv", "PROGRESS.md", "notebooks"}  # the learner's record and notebooks (their work reaches katas/ through the check cell), outputs, environments
KATA_FILES = "k*.py"  # in katas/: the only files taken from a fork
GRADE_TIMEOUT_S = 2 * RUN_TIMEOUT_S + 120  # the upstream's grade runs pytest once, plus the interpreter starts
CLONE_TIMEOUT_S = 600


class TeacherError(Exception):
    """The upstream cannot be had (git missing, the clone failed, not a kata repository): one line."""


@dataclass
class ForkGrade:
    fork: Path
    data: dict | None  # results.json of the canonical grade, with its `fork` section; None where none was made
    output: str = ""  # what the upstream's grade printed
    error: str = ""  # why there is no grade (the fork is not a kata repository, the grade wrote no results)
    code: int | None = None  # the upstream's grade's exit code


def ignored(relpath: tuple[str, ...]) -> bool:
    name = relpath[-1]
    if len(relpath) == 1 and name in IGNORED_AT_ROOT:
        return True
    return name in IGNORED_ANYWHERE or any(fnmatch(name, p) for p in IGNORED_PATTERNS)


def tree_files(root: Path) -> dict[str, Path]:
    """The files of a repository folder ('tests/support.py' -> its path), caches and local state
    left out. Links are left out too: a grade never follows one out of the folder."""
    found = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder).relative_to(root).parts
        dirs[:] = sorted(d for d in dirs if not ignored((*here, d)) and not (Path(folder) / d).is_symlink())
        for name in sorted(files):
            path = Path(folder) / name
            if not ignored((*here, name)) and path.is_file() and not path.is_symlink():
                found["/".join((*here, name))] = path
    return found


def is_kata_file(relpath: str) -> bool:
    folder, _, name = relpath.rpartition("/")
    return folder == "katas" and fnmatch(name, KATA_FILES)


def same_content(a: Path, b: Path) -> bool:
    """The same bytes, or the same text but for line endings (a checkout on Windows)."""
    if filecmp.cmp(a, b, shallow=False):
        return True
    try:
        return normalize(a.read_text(encoding="utf-8")) == normalize(b.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, OSError):
        return False


def changed_files(upstream: Path, fork: Path) -> list[dict]:
    """Every file outside the kata files that the fork edited, lacks or added, against the upstream."""
    theirs, mine = tree_files(upstream), tree_files(fork)
    changed = []
    for relpath in sorted(set(theirs) | set(mine)):
        if is_kata_file(relpath):
            continue
        if relpath not in mine:
            changed.append({"path": relpath, "change": "missing"})
        elif relpath not in theirs:
            changed.append({"path": relpath, "change": "added"})
        elif not same_content(theirs[relpath], mine[relpath]):
            changed.append({"path": relpath, "change": "edited"})
    return changed


def copy_repository(source: Path, target: Path) -> None:
    """A copy of a repository folder's files (tree_files: no caches, no local state, no links)."""
    for relpath, path in tree_files(source).items():
        destination = target / relpath
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def resolve_upstream(upstream: str, scratch: Path) -> tuple[Path, str]:
    """The upstream's folder, and its name in the reports: `upstream` itself where it is a kata
    repository's folder (named by its full path), else a shallow clone of it in `scratch` (named
    as given). TeacherError says why neither works."""
    path = Path(upstream).expanduser()
    if path.is_dir() and is_kata_repository(path):
        return path.resolve(), str(path.resolve())
    git = shutil.which("git")
    if git is None:
        raise TeacherError(f"{upstream} is not a kata repository's folder, and git is not installed to clone it: "
                           "give the folder of a clean checkout of the upstream instead")  # fmt: skip
    target = scratch / "upstream"
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")  # a private URL fails at once instead of asking for a password
    try:
        run = subprocess.run([git, "clone", "--depth", "1", "--quiet", upstream, str(target)], env=env,
                             capture_output=True, text=True, timeout=CLONE_TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise TeacherError(f"could not clone {upstream}: no answer in {CLONE_TIMEOUT_S} s") from None
    if run.returncode != 0:
        said = [line.strip() for line in run.stderr.splitlines() if line.strip()]
        raise TeacherError(f"could not clone {upstream}: {said[-1] if said else f'git exit code {run.returncode}'}")
    if not is_kata_repository(target):
        raise TeacherError(f"{upstream} is not a kata repository (it lacks reference/, katas/ or tests/support.py)")
    return target, upstream


def fork_problem(fork: Path) -> str:
    """Why a fork cannot be graded, in one line ('' where it can)."""
    if not fork.is_dir():
        return f"{fork} is not a folder"
    if not (fork / "katas").is_dir():
        return f"{fork} has no katas/ folder"
    if not is_kata_repository(fork):
        return f"{fork} is not a kata repository (it lacks reference/ or tests/support.py)"
    return ""


def grading_env(copy: Path) -> dict[str, str]:
    """The environment of the grade in the copy: its checker and its katas, whatever is installed."""
    env = dict(os.environ, KATAS_ROOT=str(copy), COLUMNS=str(shutil.get_terminal_size().columns))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(copy), os.environ.get("PYTHONPATH", "")]))
    return env


def checker_in(copy: Path) -> str:
    """Where `python -m checker` run in the copy imports the checker from ('' where it is the copy's own)."""
    ask = [sys.executable, "-c", "import checker; print(checker.__file__)"]
    run = subprocess.run(ask, cwd=copy, env=grading_env(copy), capture_output=True, text=True, timeout=60)
    where = run.stdout.strip()
    if run.returncode == 0 and where and Path(where).resolve().is_relative_to(copy.resolve()):
        return ""
    return where or (run.stderr.strip().splitlines() or ["nowhere"])[-1]


def grade_fork(upstream: Path, fork: Path, scratch: Path, label: str = "") -> ForkGrade:
    """The canonical grade of the fork's kata files, made in a copy of the upstream under `scratch`."""
    fork = fork.resolve()
    problem = fork_problem(fork)
    if problem:
        return ForkGrade(fork, None, error=problem)
    copy, out = scratch / "repository", scratch / "out"
    copy_repository(upstream, copy)
    for shipped in (copy / "katas").glob(KATA_FILES):
        shipped.unlink()
    for relpath, path in tree_files(fork).items():
        if is_kata_file(relpath):
            shutil.copyfile(path, copy / relpath)
    elsewhere = checker_in(copy)
    if elsewhere:
        return ForkGrade(fork, None, error=f"python runs another checker than the upstream's in its copy: {elsewhere}")
    command = [sys.executable, "-m", "checker", "grade", f"--out={out}"]
    try:
        run = subprocess.run(command, cwd=copy, env=grading_env(copy), capture_output=True, text=True,
                             timeout=GRADE_TIMEOUT_S)  # fmt: skip
        output, code = run.stdout + run.stderr, run.returncode
    except subprocess.TimeoutExpired as e:
        return ForkGrade(fork, None, str(e.stdout or ""), f"the grade ran past {GRADE_TIMEOUT_S} s and was stopped")
    results = out / "results.json"
    if not results.exists():
        last = [line for line in output.splitlines() if line.strip()][-1:] or [f"exit code {code}"]
        return ForkGrade(fork, None, output, f"the upstream's grade wrote no results.json: {last[0].strip()}", code)
    data = json.loads(results.read_text(encoding="utf-8"))
    data["fork"] = {"path": str(fork), "upstream": label or str(upstream), "canonical": True,
                    "changed": changed_files(upstream, fork)}  # fmt: skip
    return ForkGrade(fork, data, output, code=code)


# --- the reports: one repository, or a batch -------------------------------------------------


def grade_current(upstream: Path, label: str, fork: Path, folder: Path, console: Console) -> ForkGrade:
    """One repository's canonical grade: its results.json and summary.md in `folder`, and on the console."""
    with tempfile.TemporaryDirectory(prefix="katas-fork-") as scratch:
        graded = grade_fork(upstream, fork, Path(scratch), label)
    said = graded.output.split("\nwrote ")[0].rstrip("\n")  # its last lines name the scratch folder
    if said:
        console.print(Text(said))
    data = graded.data or report.results_json([], problem=graded.error)
    for path in report.write(data, folder):
        console.print(f"wrote {shown(path)}")
    console.print(Text(verdict(graded), style="bold" if data["status"] != report.ERROR_STATUS else "red"))
    return graded


def grade_batch(upstream: Path, label: str, forks: list[Path], folder: Path, console: Console) -> list[dict]:
    """Each fork's canonical grade: its reports in folder/forks/NAME/, one row a fork in forks.csv and
    forks.md (a fork that cannot be graded is a row that says why). Returns the rows."""
    rows, names = [], set()
    for fork in forks:
        name = fork.resolve().name
        while name in names:  # two clones of the same name
            name += "+"
        names.add(name)
        with tempfile.TemporaryDirectory(prefix="katas-fork-") as scratch:
            graded = grade_fork(upstream, fork, Path(scratch), label)
        if graded.data:
            report.write(graded.data, folder / "forks" / name)
        rows.append(report.fork_row(name, graded.data, graded.error))
        console.print(Text(f"{name}: {verdict(graded)}", style="red" if rows[-1]["error"] else ""))
    folder.mkdir(parents=True, exist_ok=True)
    table, markdown = folder / report.FORKS_CSV_NAME, folder / report.FORKS_MARKDOWN_NAME
    table.write_text(report.forks_csv(rows), encoding="utf-8")
    markdown.write_text(report.forks_markdown(rows, label), encoding="utf-8")
    console.print(f"wrote {shown(table)} and {shown(markdown)}; each fork's reports are in {shown(folder / 'forks')}/")
    return rows


def verdict(graded: ForkGrade) -> str:
    """One line on a fork's canonical grade: its points, and the other files it changed."""
    data = graded.data
    if data is None or data["status"] == report.ERROR_STATUS:
        return f"not graded: {graded.error or (data['message'] or '').strip().splitlines()[0]}"
    said = f"{data['score']}/{data['max_score']} blanks, canonical (the upstream's tests and checker)"
    changed = data["fork"]["changed"]
    if not changed:
        return said + "; no file changed outside katas/"
    files = ", ".join(f"{c['path']} ({c['change']})" for c in changed[:8]) + (", ..." if len(changed) > 8 else "")
    return said + f"; {len(changed)} file{'s' if len(changed) > 1 else ''} changed outside katas/, not used: {files}"
