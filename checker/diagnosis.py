"""Name the mistake: when a test of a blank fails, run the blank's catalogued wrong answers
(tests/mutants/) through the same test, and say which of them fails it the same way.

"The same way" means: the same kind of failure at the same check, with the same value there
(shape, dtype, and values within the check's tolerance; see support.same_result), or the same
exception with the same message, raised by the same line of code. Runs inside the grader's
pytest process (pytest_plugin.py), after the learner's test failed and before its fixtures are
torn down.
"""

from __future__ import annotations

import runpy
import sys
import time
import traceback
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import pytest

from checker.blanks import apply_mutant
from checker.catalog import MUTANTS_DIR, REFERENCE_DIR

BUDGET_S = 2.0  # all diagnoses of one grading run together: past it, no more are tried


class Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> bool:
        return time.monotonic() < self.deadline


@lru_cache(maxsize=None)
def mutant_modules(module: str, blank: str) -> tuple[tuple[str, ModuleType], ...]:
    """(why, module) for each catalogued wrong answer of `blank`: the reference with that blank
    replaced. Each module keeps its source lines in `__lines__` (its file name is made up)."""
    path = MUTANTS_DIR / f"{module}.py"
    if not path.exists():
        return ()
    mutants = runpy.run_path(str(path)).get("MUTANTS", {}).get(blank, {})
    reference = (REFERENCE_DIR / f"{module}.py").read_text(encoding="utf-8")
    built = []
    for i, (why, code) in enumerate(mutants.items()):
        name = f"mutant{i}_{blank.replace('.', '_')}.{module}"
        mutant = ModuleType(name)
        mutant.__file__ = f"<{name}>"
        source = apply_mutant(reference, blank, code)
        mutant.__lines__ = source.split("\n")
        sys.modules[name] = mutant  # dataclasses look their module up here
        try:
            exec(compile(source, mutant.__file__, "exec"), mutant.__dict__)
        except Exception:  # noqa: BLE001  (a mutant that cannot even load names no mistake here)
            continue
        built.append((why, mutant))
    return tuple(built)


def _rerun(item: pytest.Item, kata) -> BaseException | None:
    """Run the test function again with `kata` in place of the learner's module: what it raised."""
    support = sys.modules["support"]
    monkeypatch = pytest.MonkeyPatch()
    args = {}
    for name in item._fixtureinfo.argnames:
        args[name] = {"kata": kata, "monkeypatch": monkeypatch}.get(name, item.funcargs.get(name))
    support.CHECKS.clear()
    sys.modules["torch"].manual_seed(0)  # as conftest.py's fresh_test did for the learner's run
    try:
        item.obj(**args)
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001  (a timeout, or pytest.fail: no match)
        return e
    finally:
        monkeypatch.undo()
    return None


def _raising_line(error: BaseException, mutant: ModuleType) -> str:
    """The line of the mutant's code that raised `error` (the innermost), stripped."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == mutant.__file__]
    return mutant.__lines__[frames[-1].lineno - 1].strip() if frames else ""


def _learner_line(where: dict | None) -> str:
    if not where:
        return ""
    lines = Path(where["path"]).read_text(encoding="utf-8").split("\n")
    return lines[where["line"] - 1].strip() if where["line"] <= len(lines) else ""


def diagnose(item: pytest.Item, blank: str, error: BaseException, where: dict | None, budget: Budget) -> list[str]:
    """The names of the blank's catalogued mistakes that fail this test exactly as the learner's code
    did. `where`: the learner's line that raised `error` (pytest_plugin.describe_exception)."""
    support, learner = sys.modules.get("support"), item.funcargs.get("kata")
    if support is None or learner is None or not isinstance(error, Exception):
        return []
    mine = list(support.CHECKS)
    found = []
    try:
        for why, mutant in mutant_modules(learner.__name__.split(".")[-1], blank):
            if not budget.left():
                break
            theirs = _rerun(item, support.Guarded(mutant))
            if type(theirs) is not type(error):
                continue
            if isinstance(error, AssertionError):
                if support.same_result(mine, list(support.CHECKS), str(error), str(theirs)):
                    found.append(why)
            elif str(theirs) == str(error) and _raising_line(theirs, mutant) == _learner_line(where):
                found.append(why)
    finally:
        support.CHECKS[:] = mine
    return found
