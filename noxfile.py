"""nox sessions: thin wrappers over the `katas` command (checker/cli.py), python=False (no virtualenv).

What `nox -l` shows (this module's description and each session's) is said in the learner's
language: the "nox" keys of checker/locales/ (nox.listing is the text above the list).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT))
nox.options.sessions = ["dashboard"]
nox.options.error_on_missing_interpreters = False
nox.options.default_venv_backend = "none"  # no session builds a virtualenv
# Recent nox looks for uv before every session, venv or not, and logs "uv binary not found."
# when it is not installed (the backend option above does not stop the search): drop that line.
logging.getLogger("nox").addFilter(lambda record: record.getMessage() != "uv binary not found.")

try:
    from checker import i18n
except ImportError:  # not installed yet (Python 3.10 without tomli): the sessions are listed undescribed
    i18n = None


def say(key: str, args=(), **fields) -> str | None:
    """The catalogue's words for `key` (checker/locales/) in the learner's language, `--lang` among
    `args` first; None where the checker cannot be imported."""
    if i18n is None:
        return None
    asked = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "--lang"), None)
    asked = next((a.split("=", 1)[1] for a in args if a.startswith("--lang=")), asked)
    return i18n.t_in(i18n.resolve(asked)[0], key, **fields)


__doc__ = say("nox.listing") or __doc__  # the text above `nox -l`'s list


def described(key: str, **fields):
    """The session's description in `nox -l`: the catalogue's "nox.KEY"."""

    def describe(fn):
        fn.__doc__ = say(f"nox.{key}", **fields)
        return fn

    return describe


def katas(session: nox.Session, *args: str) -> None:
    """Run the checker in this process (one interpreter fewer to start: grading stays quick)."""
    try:
        from checker.cli import main
    except ImportError as e:
        session.error(f"{e}. Install the project into the Python that runs nox: {sys.executable} -m pip install -e .")
    code = main(list(args))
    if code:
        reasons = {1: "nox.not_passing", 2: "nox.see_above", 3: "nox.cannot_grade"}
        session.error(say(reasons[code], args) if code in reasons else f"exit code {code}")


def katas_for(session: nox.Session, command: str, what: str, example: str) -> None:
    """A checker command that needs to be told which kata or blank: `nox -s hint -- 03.2`."""
    if not session.posargs:
        session.error(say(f"nox.say_which_{what}", command=command, example=example))
    katas(session, command, *session.posargs)


def kata_titles() -> list[tuple[str, str]]:
    """(number, title) of each kata, in the learner's language (English where it has no translation)."""
    if i18n is None:
        return [(path.stem[1:3], "") for path in sorted((ROOT / "reference").glob("k[0-9][0-9]_*.py"))]
    from checker.catalog import all_katas

    lang = i18n.resolve()[0]
    return [(kata.number, kata.title_in(lang)) for kata in all_katas()]


@nox.session(python=False)
@described("dashboard")
def dashboard(session: nox.Session) -> None:
    katas(session, "status")


def _kata_session(number: str, title: str):
    @described("kata", number=number, title=title)
    def grade_kata(session: nox.Session) -> None:
        katas(session, "check", number, *session.posargs)

    return nox.session(grade_kata, name=f"kata-{number}", python=False, default=False)


for _number, _title in kata_titles():
    globals()[f"kata_{_number}"] = _kata_session(_number, _title)


@nox.session(python=False, default=False)
@described("hint")
def hint(session: nox.Session) -> None:
    katas_for(session, "hint", "blank", "03.2")


@nox.session(python=False, default=False)
@described("watch")
def watch(session: nox.Session) -> None:
    katas_for(session, "watch", "kata", "03")


@nox.session(python=False, default=False)
@described("reset")
def reset(session: nox.Session) -> None:
    katas_for(session, "reset", "kata", "03")


@nox.session(python=False, default=False)
@described("restore")
def restore(session: nox.Session) -> None:
    katas_for(session, "restore", "kata", "03")


@nox.session(python=False, default=False)
@described("solution")
def solution(session: nox.Session) -> None:
    katas_for(session, "solution", "kata", "03")


@nox.session(python=False, default=False)
@described("language")
def language(session: nox.Session) -> None:
    katas(session, "language", *session.posargs)


def _milestone_session(name: str, after: str, shows: str):
    @described("milestone", after=after, shows=shows)
    def milestone(session: nox.Session) -> None:
        katas(session, "milestone", name, *session.posargs)

    return nox.session(milestone, name=f"milestone-{name}", python=False, default=False)


from milestones import MILESTONES  # noqa: E402  (names only: no torch import)

for _name, (_module, _after, _shows) in MILESTONES.items():
    globals()[f"milestone_{_name}"] = _milestone_session(_name, _after, _shows)


@nox.session(python=False, default=False)
@described("generate")
def generate(session: nox.Session) -> None:
    katas_for(session, "generate", "prompt", '"a red circle above a blue square"')


@nox.session(python=False, default=False)
@described("show")
def show(session: nox.Session) -> None:
    katas_for(session, "show", "kata", "03")


@nox.session(python=False, default=False)
@described("history")
def history(session: nox.Session) -> None:
    katas(session, "history")


@nox.session(python=False, default=False)
@described("grade")
def grade(session: nox.Session) -> None:
    katas(session, "grade", *session.posargs)


@nox.session(python=False, default=False)
@described("reference")
def reference(session: nox.Session) -> None:
    session.run(sys.executable, "-m", "pytest", "--impl=reference", *session.posargs, external=True)


@nox.session(python=False, default=False)
@described("selfcheck")
def selfcheck(session: nox.Session) -> None:
    katas(session, "selfcheck", *session.posargs)


@nox.session(name="sync-katas", python=False, default=False)
@described("sync_katas")
def sync_katas(session: nox.Session) -> None:
    katas(session, "sync", *session.posargs)


@nox.session(name="tensor-map", python=False, default=False)
@described("tensor_map")
def tensor_map(session: nox.Session) -> None:
    katas(session, "tensor-map")


@nox.session(python=False, default=False)
@described("demo")
def demo(session: nox.Session) -> None:
    katas(session, "demo")
