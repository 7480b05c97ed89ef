"""Progress as git saw it: when each kata first passed, read from the commits of the record, and
the optional checkpoint commit after a pass.

Everything here is optional: outside a git repository, or where git is not installed, the
checker works as before and `katas history` says why it has nothing to show.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from checker import progress
from checker.grading import PASSING
from checker.i18n import t

COMMIT_SETTING = "commit_on_pass"


class NoHistory(Exception):
    """Git cannot tell the history here (no git, not a repository, the record never committed)."""


@dataclass
class FirstPass:
    number: str
    passed_on: str  # the commit's date (ISO 8601)
    commit: str  # its short hash
    runs: int | None  # grading runs of the kata up to and including the one that passed


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8",
                          errors="replace")  # fmt: skip


def repository() -> Path:
    """The git work tree holding the record, or NoHistory saying why there is none."""
    if shutil.which("git") is None:
        raise NoHistory(t("history.no_git"))
    folder = progress.PROGRESS_PATH.parent.parent
    top = _git(["rev-parse", "--show-toplevel"], folder)
    if top.returncode != 0:
        raise NoHistory(t("history.not_a_repository", folder=folder))
    return Path(top.stdout.strip())


def _relative(path: Path, top: Path) -> str:
    return path.resolve().relative_to(top.resolve()).as_posix()


def first_passes() -> list[FirstPass]:
    """Each kata's first pass in the committed record, oldest commit first."""
    top = repository()
    record = _relative(progress.PROGRESS_PATH, top)
    never = t("history.never_committed", record=record)
    if _git(["rev-parse", "--verify", "--quiet", "HEAD"], top).returncode != 0:
        raise NoHistory(never)  # a repository without a commit yet
    log = _git(["log", "--reverse", "--format=%H %cI", "--", record], top)
    if log.returncode != 0:
        raise NoHistory(t("history.git_failed", command="git log",
                          why=log.stderr.strip().splitlines()[0] if log.stderr.strip() else t("history.no_output")))
    commits = [line.split(" ", 1) for line in log.stdout.splitlines() if line.strip()]
    if not commits:
        raise NoHistory(never)
    found: dict[str, FirstPass] = {}
    for sha, date in commits:
        shown = _git(["show", f"{sha}:{record}"], top)
        try:
            katas = json.loads(shown.stdout)["katas"]
        except (ValueError, KeyError, TypeError):
            continue  # a damaged version of the record tells nothing
        for number, entry in katas.items():
            if number not in found and isinstance(entry, dict) and entry.get("state") == PASSING:
                found[number] = FirstPass(number, date, sha[:8], entry.get("runs_to_pass"))
    return sorted(found.values(), key=lambda f: f.number)


def commit_pass(kata, result) -> str:
    """Commit the kata file and the record after a pass; returns a line saying what happened."""
    try:
        top = repository()
    except NoHistory as e:
        return t("history.not_committed", why=e)
    paths = [p for p in (kata.kata_path, progress.PROGRESS_PATH, progress.RECORD_PATH, progress.HINTS_PATH)
             if p.exists()]  # fmt: skip
    relative = [_relative(p, top) for p in paths]
    message = f"feat(kata-{kata.number}): pass {kata.title} ({result.passed}/{len(result.blanks)} blanks)"
    added = _git(["add", "--", *relative], top)
    if added.returncode != 0:
        return t("history.not_committed", why=t("history.git_failed", command="git add", why=added.stderr.strip()))
    if not _git(["diff", "--cached", "--quiet", "--", *relative], top).returncode:
        return t("history.nothing_new")
    done = _git(["commit", "--quiet", "-m", message, "--", *relative], top)
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        return t("history.not_committed", why=t("history.git_failed", command="git commit",
                                                 why=why[0] if why else t("history.no_output")))
    sha = _git(["rev-parse", "--short", "HEAD"], top).stdout.strip()
    return t("history.committed", sha=sha, message=message)


def commit_on_pass(asked: bool) -> bool:
    """--commit on the command line, or the setting (`katas config commit-on-pass on`)."""
    return asked or bool(progress.settings().get(COMMIT_SETTING))
