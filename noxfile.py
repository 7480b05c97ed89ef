"""nox sessions: thin wrappers over the `katas` command (checker/cli.py).

Every session runs in the current environment (python=False): no virtualenv is built, so a
kata is graded in seconds. `nox` alone shows the dashboard; `nox -l` lists everything.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.sessions = ["dashboard"]
nox.options.error_on_missing_interpreters = False
nox.options.default_venv_backend = "none"  # no session builds a virtualenv
# Recent nox looks for uv before every session, venv or not, and logs "uv binary not found."
# when it is not installed (the backend option above does not stop the search): drop that line.
logging.getLogger("nox").addFilter(lambda record: record.getMessage() != "uv binary not found.")


def katas(session: nox.Session, *args: str) -> None:
    """Run the checker in this process (one interpreter fewer to start: grading stays quick)."""
    sys.path.insert(0, str(ROOT))
    try:
        from checker.cli import main
    except ImportError as e:
        session.error(f"{e}. Install the project into the Python that runs nox: {sys.executable} -m pip install -e .")
    code = main(list(args))
    if code:
        reasons = {1: "not every blank passes yet", 2: "see the message above", 3: "grading cannot run here"}
        session.error(reasons.get(code, f"exit code {code}"))


def katas_for(session: nox.Session, command: str, what: str, example: str) -> None:
    """A checker command that needs to be told which kata or blank: `nox -s hint -- 03.2`."""
    if not session.posargs:
        session.error(f"say which {what}: nox -s {command} -- {example}")
    katas(session, command, *session.posargs)


def kata_titles() -> list[tuple[str, str]]:
    """(number, title) of each kata, read from reference/ without importing the checker."""
    titles = []
    for path in sorted((ROOT / "reference").glob("k[0-9][0-9]_*.py")):
        first = path.read_text(encoding="utf-8").split('"""')[1].strip().split("\n")[0]
        titles.append((path.stem[1:3], first.split(":", 1)[-1].strip().rstrip(".")))
    return titles


@nox.session(python=False)
def dashboard(session: nox.Session) -> None:
    """Your progress: every kata, blanks left, and what to do next (the default)."""
    katas(session, "status")


def _kata_session(number: str, title: str):
    def grade_kata(session: nox.Session) -> None:
        katas(session, "check", number, *session.posargs)

    grade_kata.__doc__ = f"Grade kata {number}: {title}"
    return nox.session(grade_kata, name=f"kata-{number}", python=False, default=False)


for _number, _title in kata_titles():
    globals()[f"kata_{_number}"] = _kata_session(_number, _title)


@nox.session(python=False, default=False)
def hint(session: nox.Session) -> None:
    """The next hint for a blank: nox -s hint -- 03.2"""
    katas_for(session, "hint", "blank", "03.2")


@nox.session(python=False, default=False)
def watch(session: nox.Session) -> None:
    """Grade a kata again on every save: nox -s watch -- 03"""
    katas_for(session, "watch", "kata", "03")


@nox.session(python=False, default=False)
def reset(session: nox.Session) -> None:
    """A fresh copy of a kata; yours is kept in .katas/backups/: nox -s reset -- 03"""
    katas_for(session, "reset", "kata", "03")


@nox.session(python=False, default=False)
def restore(session: nox.Session) -> None:
    """Put back a kata from its backups: nox -s restore -- 03 (the latest), -- 03 --list, -- 03 NAME"""
    katas_for(session, "restore", "kata", "03")


@nox.session(python=False, default=False)
def solution(session: nox.Session) -> None:
    """Where your code differs from the reference, once yours passes: nox -s solution -- 03"""
    katas_for(session, "solution", "kata", "03")


def _milestone_session(name: str, after: str, shows: str):
    def milestone(session: nox.Session) -> None:
        katas(session, "milestone", name, *session.posargs)

    milestone.__doc__ = f"After kata {after}: {shows} (--reference, --device, --steps)"
    return nox.session(milestone, name=f"milestone-{name}", python=False, default=False)


sys.path.insert(0, str(ROOT))
from milestones import MILESTONES  # noqa: E402  (names only: no torch import)

for _name, (_module, _after, _shows) in MILESTONES.items():
    globals()[f"milestone_{_name}"] = _milestone_session(_name, _after, _shows)


@nox.session(python=False, default=False)
def generate(session: nox.Session) -> None:
    """Draw a prompt with your own model: nox -s generate -- "a red circle above a blue square" (-n, --seed, --reference)"""
    katas_for(session, "generate", "prompt", '"a red circle above a blue square"')


@nox.session(python=False, default=False)
def show(session: nox.Session) -> None:
    """Pictures of a kata, drawn by your code: nox -s show -- 03 (--reference: ours; PNGs in out/show/)"""
    katas_for(session, "show", "kata", "03")


@nox.session(python=False, default=False)
def history(session: nox.Session) -> None:
    """When each kata first passed and after how many grading runs, read from git."""
    katas(session, "history")


@nox.session(python=False, default=False)
def grade(session: nox.Session) -> None:
    """Grade every kata you started (what CI runs on your fork)."""
    katas(session, "grade")


@nox.session(python=False, default=False)
def reference(session: nox.Session) -> None:
    """The project's test suite: every kata test against reference/, and the checker's own tests."""
    session.run(sys.executable, "-m", "pytest", "--impl=reference", *session.posargs, external=True)


@nox.session(python=False, default=False)
def selfcheck(session: nox.Session) -> None:
    """Maintainers: katas == generated, reference passes, shipped katas fail, every mutant caught."""
    katas(session, "selfcheck", *session.posargs)


@nox.session(name="sync-katas", python=False, default=False)
def sync_katas(session: nox.Session) -> None:
    """Maintainers: rewrite katas/ and the tests manifest from reference/ and tests/."""
    katas(session, "sync", *session.posargs)
