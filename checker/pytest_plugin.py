"""The pytest side of the checker, loaded for every test run (see pyproject.toml).

- `--impl katas|reference|FOLDER` chooses which implementation the kata tests load: the one
  switch between the learner's katas and the reference. Earlier katas that a kata imports
  always resolve to `reference/`, so a mistake in kata 03 never fails kata 05's tests.
- `--blank NN.M` keeps only the tests of that blank (tests say which with `@pytest.mark.blank`).
- `--kata-report FILE` writes one JSON line per test event, which the grader turns into a
  short message per blank. A "start" line without its "result" line means the run died there.
- `--diagnose`: when a test of a blank fails, name the catalogued mistake that fails it the same
  way (checker/diagnosis.py).
- Once a test times out at a line of the kata, a later test that reaches that line again is
  stopped there at once (StoppedAtLoop) instead of waiting out its own timeout.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from checker.catalog import REFERENCE_DIR, impl_folder, shown
from checker.i18n import t

UNFILLED_MSG_RE = re.compile(r"blank (\d\d\.\d+) is not filled in yet")
MAX_MESSAGE_LINES = 14
MAX_DIAGNOSES_PER_BLANK = 3  # failing tests of one blank tried, until one names a mistake


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("katas")
    group.addoption(
        "--impl",
        default=os.environ.get("KATAS_IMPL", "katas"),
        help="implementation the kata tests load: 'katas' (yours, the default), 'reference', or a folder",
    )
    group.addoption("--blank", action="append", default=[], help="run only the tests of this blank (NN.M)")
    group.addoption("--kata-report", default=None, help="write JSON lines of test events here (for the grader)")
    group.addoption("--diagnose", action="store_true", help="name the catalogued mistake a failing answer matches")
    group.addoption("--diagnose-budget", type=float, default=None, help="seconds all diagnoses of the run may take")


def impl_dir(config: pytest.Config) -> Path:
    return impl_folder(config.getoption("--impl"))


def pytest_configure(config: pytest.Config) -> None:
    sys.dont_write_bytecode = True  # grading leaves nothing behind in the learner's folders
    config.addinivalue_line("markers", "blank(id): the blank (NN.M) this test grades")
    os.environ["KATAS_IMPL_DIR"] = str(impl_dir(config))
    if str(REFERENCE_DIR) not in sys.path:
        sys.path.insert(0, str(REFERENCE_DIR))
    path = config.getoption("--kata-report")
    config._kata_report = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115
    config._looping_lines = {}  # (file, line) where a test timed out -> which test it was, in words
    config._diagnosis_tries = {}  # blank -> failing tests diagnosed so far in this run
    if config.getoption("--diagnose"):
        from checker.diagnosis import BUDGET_S, Budget

        config._diagnosis_budget = Budget(config.getoption("--diagnose-budget") or BUDGET_S)


def pytest_unconfigure(config: pytest.Config) -> None:
    report = getattr(config, "_kata_report", None)
    if report:
        report.close()


def blank_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("blank")
    return marker.args[0] if marker else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("--blank"))
    if not wanted:
        return
    keep = [item for item in items if blank_of(item) in wanted]
    config.hook.pytest_deselected(items=[item for item in items if blank_of(item) not in wanted])
    items[:] = keep


def _emit(config: pytest.Config, **event) -> None:
    report = getattr(config, "_kata_report", None)
    if report:
        report.write(json.dumps(event) + "\n")
        report.flush()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _emit(item.config, event="start", test=item.nodeid, name=item.name, blank=blank_of(item))


class StoppedAtLoop(Exception):
    """A test reached a line of the kata where an earlier test of this run timed out."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Stop the test at a line where an earlier test timed out: it would only time out again."""
    looping = item.config._looping_lines
    if not looping:
        return (yield)
    files = {file for file, _ in looping}

    def in_kata(frame, event, arg):
        where = (frame.f_code.co_filename, frame.f_lineno)
        if event == "line" and where in looping:
            said = t("plugin.stopped", line=where[1], file=Path(where[0]).name, who=looping[where])
            raise StoppedAtLoop(t("plugin.stopped_prefix") + said)
        return in_kata

    sys.settrace(lambda frame, event, arg: in_kata if frame.f_code.co_filename in files else None)
    try:
        return (yield)
    finally:
        sys.settrace(None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    failed_setup = report.when == "setup" and not report.passed
    if report.when == "call" or failed_setup:
        event = dict(event="result", test=item.nodeid, name=item.name, blank=blank_of(item), outcome=report.outcome)
        if call.excinfo is not None and not report.skipped:
            event["error"] = error = describe_exception(call.excinfo, impl_dir(item.config))
            if error.get("timeout") and "where" in error:
                item.config._looping_lines[(error["where"]["path"], error["where"]["line"])] = (
                    t("plugin.a_test_of_blank", blank=blank_of(item)) if blank_of(item) else item.name
                )
            elif report.when == "call":
                _diagnose(item, call.excinfo.value, error)
        _emit(item.config, **event)
    return report


def _diagnose(item: pytest.Item, exc: BaseException, error: dict) -> None:
    """Add the names of the catalogued mistakes this failure matches (the first few failures of each blank)."""
    budget, blank, tries = getattr(item.config, "_diagnosis_budget", None), blank_of(item), item.config._diagnosis_tries
    if budget is None or blank is None or tries.get(blank, 0) >= MAX_DIAGNOSES_PER_BLANK:
        return
    if "unfilled" in error or error.get("stopped") or error["type"] == "Failed":  # not filled in, or a timeout
        return
    from checker.diagnosis import diagnose

    found = diagnose(item, blank, exc, error.get("where"), budget)
    tries[blank] = MAX_DIAGNOSES_PER_BLANK if found else tries.get(blank, 0) + 1
    if found:
        error["diagnosis"] = found


def describe_exception(excinfo: pytest.ExceptionInfo, kata_dir: Path) -> dict:
    """What the grader needs to tell a learner: kind, short message, and where in their file."""
    exc = excinfo.value
    message = str(exc).strip()
    notes = [n for n in getattr(exc, "__notes__", []) if "hypothesis" not in n.lower() or "Falsifying" in n]
    if notes:
        message += "\n" + "\n".join(notes)
    lines = message.split("\n")
    if len(lines) > MAX_MESSAGE_LINES:
        lines = lines[:MAX_MESSAGE_LINES] + ["..."]
    info = {"type": type(exc).__name__, "message": "\n".join(lines)}
    unfilled = UNFILLED_MSG_RE.search(message)
    if isinstance(exc, NotImplementedError) and unfilled:
        info["unfilled"] = unfilled[1]
    if type(exc).__name__ == "Failed" and message.startswith("Timeout"):
        info["timeout"] = True
    if isinstance(exc, StoppedAtLoop):
        info["stopped"] = True
    for entry in reversed(excinfo.traceback):
        path = Path(str(entry.path)).resolve()
        if path.parent == kata_dir:
            info["where"] = {
                "path": str(entry.path),
                "file": shown(path),
                "line": entry.lineno + 1,
                "code": str(entry.statement).strip().split("\n")[0],
            }
            break
    return info
