"""Grade katas: run their tests in one pytest subprocess and turn its events into a verdict per blank.

The subprocess keeps the checker safe from what a kata can do (loop forever, crash, eat memory):
pytest-timeout stops a test that runs too long, and a test that started but never reported
is named as the place the run died. The checker itself never imports torch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from checker.blanks import blank_near_line, normalize, unfilled_blanks
from checker import catalog, i18n, shortcuts
from checker.catalog import REFERENCE_DIR, ROOT, TESTS_DIR, Kata, shown
from checker.i18n import t
from checker.manifest import edited_test_files
from checker.worker import WarmGrader

TEST_TIMEOUT_S = 10  # per test; the kata tests take well under a second each
RUN_TIMEOUT_S = 300  # the whole run, in case something slips past pytest-timeout

# Blank verdicts, from best to worst. SHORTCUT: the blank hands its work to what the kata forbids
# (a built-in that does it, the solutions: checker/shortcuts.py), whatever its tests say.
PASS, TODO, NEEDS, FAIL, SHORTCUT, TIMEOUT, NOT_RUN = "pass", "todo", "needs", "fail", "shortcut", "timeout", "not run"
# Kata states
NOT_STARTED, IN_PROGRESS, FAILING, PASSING, BROKEN = "not started", "in progress", "failing", "passing", "broken"
NOT_GRADED_YET = "not graded yet"  # said of a started kata the record has no grade of (never stored)
STATE_KEYS = {NOT_STARTED: "not_started", IN_PROGRESS: "in_progress", FAILING: "failing", PASSING: "passing",
              BROKEN: "broken", NOT_GRADED_YET: "not_graded_yet"}  # fmt: skip


def state_word(state: str) -> str:
    """A kata's state (these words, as progress.json keeps them) in the language now."""
    return t(f"state.{STATE_KEYS[state]}") if state in STATE_KEYS else state


@dataclass
class BlankResult:
    id: str
    statement: str  # in the language of the grade (checker/i18n.py)
    verdict: str
    tests_run: int = 0
    tests_passed: int = 0
    test: str = ""  # the first failing test
    error: dict = field(default_factory=dict)  # see pytest_plugin.describe_exception
    diagnosis: list[str] = field(default_factory=list)  # catalogued mistakes that fail a test the same way
    cached: bool = False  # the verdict is from the last full grade (nothing changed since), not this run
    shortcuts: list[str] = field(default_factory=list)  # what the blank uses that the kata forbids, one line each


@dataclass
class KataResult:
    kata: Kata
    state: str
    blanks: list[BlankResult]
    problem: str = ""  # a whole-kata problem: syntax error, import error, edited tests, crash
    path: Path | None = None  # the file graded (the learner's, the reference, or another folder's)

    @property
    def passed(self) -> int:
        return sum(b.verdict == PASS for b in self.blanks)

    @property
    def first_open_blank(self) -> BlankResult | None:
        """The first graded blank that does not pass: the one to work on next."""
        return next((b for b in self.blanks if b.verdict not in (PASS, NOT_RUN)), None)


class EnvironmentProblem(Exception):
    """Grading cannot run at all here (no torch, no pytest-timeout): an install problem."""


def check_environment() -> None:
    missing = [m for m in ("torch", "pytest", "pytest_timeout") if importlib.util.find_spec(m) is None]
    if missing:
        names = ", ".join(m.replace("_", "-") for m in missing)
        raise EnvironmentProblem(t("grading.not_installed", names=names, python=sys.executable))


def _path_of(impl: str, kata: Kata) -> Path:
    return catalog.impl_folder(impl) / f"{kata.module}.py"


def grading_hash(kata: Kata, impl: str = "katas") -> str:
    """Changes whenever anything that decides this kata's grade changes."""
    h = hashlib.sha256()
    inputs = [_path_of(impl, kata), kata.test_path, kata.reference_path]
    inputs += [REFERENCE_DIR / f"{m}.py" for m in kata.depends_on]
    inputs += [TESTS_DIR / "support.py", TESTS_DIR / "conftest.py", Path(__file__).with_name("pytest_plugin.py")]
    inputs += [Path(shortcuts.__file__)]  # what a blank may not use
    for path in inputs:
        h.update(path.name.encode())
        h.update(normalize(path.read_text(encoding="utf-8")).encode() if path.exists() else b"<missing>")
    return h.hexdigest()[:16]


def static_problem(kata: Kata, impl: str = "katas") -> str:
    """What is wrong with the kata file before running anything: missing, or a syntax error."""
    path = _path_of(impl, kata)
    if not path.exists():
        return t("grading.kata_missing", path=shown(path), number=kata.number)
    if not kata.test_path.exists():
        return t("grading.tests_missing", path=shown(kata.test_path))
    source = path.read_text(encoding="utf-8")
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as e:
        near = blank_near_line(source, e.lineno or 0)
        where = t("grading.in_blank", blank=near) if near else ""
        caret = " " * max((e.offset or 1) - 1, 0) + "^"
        text = (e.text or "").rstrip("\n")
        return t("grading.syntax_error", path=shown(path), line=e.lineno, where=where, msg=e.msg, text=text,
                 caret=caret)  # fmt: skip
    return ""


def is_pristine(kata: Kata) -> bool:
    """True when no blank of the learner's file has been filled in yet."""
    if not kata.kata_path.exists():
        return False
    left = unfilled_blanks(kata.kata_path.read_text(encoding="utf-8"))
    return sorted(left) == sorted(b.id for b in kata.blanks)


_warm = None  # the worker.WarmGrader of an open warm_grading() block


@contextmanager
def warm_grading():
    """Within it, each grading run is a forked child of one warm process that imported torch and
    pytest once (`watch` re-grades in a fraction of a second). Where fork is not available, or
    a block is open already, runs go on as before: each in a fresh interpreter."""
    global _warm
    if _warm is not None:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="katas-warm-") as tmp:
        _warm = WarmGrader.start(grading_env(tmp))
        try:
            yield
        finally:
            if _warm is not None:
                _warm.close()
            _warm = None


def grade(
    katas: list[Kata], impl: str = "katas", only_blanks: list[str] | None = None, timeout: int = TEST_TIMEOUT_S
) -> list[KataResult]:
    """Grade each kata (its tests against `impl`): one pytest run for all of them (see warm_grading)."""
    check_environment()
    results: dict[str, KataResult] = {}
    to_run = []
    for kata in katas:
        problem = static_problem(kata, impl)
        if not problem and impl == "katas":
            edited = edited_test_files(kata)
            if edited:
                problem = t("grading.tests_edited", files=", ".join(edited))
        if problem:
            blanks = [BlankResult(b.id, kata.statement(b.id), NOT_RUN) for b in kata.blanks]
            results[kata.number] = KataResult(kata, BROKEN, blanks, problem)
        else:
            to_run.append(kata)
    if to_run:
        events, crash = _run_pytest(to_run, impl, only_blanks, timeout)
        for kata in to_run:
            results[kata.number] = _verdicts(kata, events, crash)
    for kata in katas:
        results[kata.number].path = _path_of(impl, kata)
        refuse_shortcuts(results[kata.number])
    return [results[k.number] for k in katas]


def refuse_shortcuts(result: KataResult) -> None:
    """Each blank that takes a shortcut (checker/shortcuts.py) gets the verdict SHORTCUT, whatever
    its tests said: graded or not in this run, it does not pass."""
    try:
        source = result.path.read_text(encoding="utf-8") if result.path else ""
    except (OSError, UnicodeDecodeError):  # missing or unreadable: grading says so on its own
        return
    found = shortcuts.violations(result.kata, source) if source else {}
    for blank in result.blanks:
        if blank.id in found:
            blank.verdict, blank.shortcuts = SHORTCUT, found[blank.id]
    if found:
        result.state = kata_state(result.blanks, result.problem)


def grading_env(tmp: str) -> dict[str, str]:
    """The environment of a grading run: only the plugins grading needs (others a learner has
    installed, hypothesis's slow to import or pytest-randomly's reordering, stay out of the way),
    nothing written into the repository; the language of the messages (tests/support.py's) is the
    checker's own."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    env[i18n.ENV] = i18n.language()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env["KATAS_ROOT"] = str(ROOT)
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(Path(tmp) / "hypothesis")
    return env


def _run_warm(args: list[str], tmp: str) -> tuple[str, int | None] | None:
    """pytest in a child of the warm worker; None if the worker is gone (then grading goes on without it)."""
    global _warm
    try:
        return _warm.run(args, grading_env(tmp), str(Path(tmp) / "output.txt"), RUN_TIMEOUT_S)
    except (OSError, RuntimeError, ValueError):
        _warm.close()
        _warm = None
        return None


def _run_pytest(katas: list[Kata], impl: str, only_blanks, timeout: int) -> tuple[list[dict], str]:
    with tempfile.TemporaryDirectory(prefix="katas-") as tmp:
        report = Path(tmp) / "events.jsonl"
        args = [str(k.test_path) for k in katas]
        # --opt=value: a separate path-like value would confuse pytest's search for pyproject.toml
        args += [f"--impl={catalog.impl_folder(impl)}", f"--kata-report={report}", f"--timeout={timeout}"]
        args += ["-q", "--no-header", "-p", "pytest_timeout", "--rootdir", str(ROOT), "--diagnose"]
        args += ["-p", "no:unraisableexception"]  # its gc.collect() calls cost ~0.7 s a run once torch is loaded
        args += ["--tb=line"]  # the events say what failed: pytest's own tracebacks cost ~0.1 s a failing test
        args += [f"--blank={b}" for b in only_blanks or []]
        ran = _run_warm(args, tmp) if _warm is not None else None  # a forked child of a warm process
        if ran is not None:
            output, code = ran
        else:
            command = [sys.executable, "-m", "pytest", *args]
            try:
                run = subprocess.run(command, cwd=ROOT, env=grading_env(tmp), capture_output=True, text=True,
                                     timeout=RUN_TIMEOUT_S)  # fmt: skip
                output, code = run.stdout + run.stderr, run.returncode
            except subprocess.TimeoutExpired as e:
                output, code = str(e.stdout or ""), None
        events = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    crash = ""
    if code is None:
        crash = t("grading.ran_past", seconds=RUN_TIMEOUT_S)
    elif code not in (0, 1):
        tail = [line for line in output.strip().split("\n") if line.strip()][-8:]
        crash = t("grading.stopped_with", code=code) + "\n" + "\n".join(tail)
    return events, crash


def _verdicts(kata: Kata, events: list[dict], crash: str) -> KataResult:
    prefix = f"tests/{kata.test_path.name}::"
    mine = [e for e in events if e["test"].startswith(prefix)]
    finished = {e["test"]: e for e in mine if e["event"] == "result"}
    died_in = [e for e in mine if e["event"] == "start" and e["test"] not in finished]
    for e in died_in:  # the run died inside this test: a hard timeout or a crash
        finished[e["test"]] = dict(e, outcome="failed", error={"type": "Crashed", "message": crash, "timeout": True})
    blanks = []
    for blank in kata.blanks:
        runs = [e for e in finished.values() if e["blank"] == blank.id]
        passed = sum(e["outcome"] == "passed" for e in runs)
        result = BlankResult(blank.id, kata.statement(blank.id), NOT_RUN, len(runs), passed)
        stopped = [e for e in runs if e.get("error", {}).get("stopped")]  # where an earlier test timed out
        failures = [e for e in runs if e["outcome"] == "failed" and e not in stopped]
        result.diagnosis = next((e["error"]["diagnosis"] for e in failures if e["error"].get("diagnosis")), [])
        own = [e for e in failures if e.get("error", {}).get("unfilled") == blank.id]
        if own:  # the blank is not filled in: what else its tests met (a flaky property run under load) is moot
            result.test, result.error, result.verdict = own[0]["name"], own[0].get("error", {}), TODO
        elif failures:
            first = failures[0]
            result.test, result.error = first["name"], first.get("error", {})
            unfilled = result.error.get("unfilled")
            if unfilled == blank.id:
                result.verdict = TODO
            elif unfilled:
                result.verdict = NEEDS
            elif result.error.get("timeout"):
                result.verdict = TIMEOUT
            else:
                result.verdict = FAIL
        elif stopped:  # stopped where an earlier test timed out: not run to the end, for that reason
            result.test, result.error = stopped[0]["name"], stopped[0]["error"]
        elif runs:
            result.verdict = PASS
        blanks.append(result)
    problem = ""
    load_errors = [b.error["message"] for b in blanks if b.error.get("type") == "KataLoadError"]
    if load_errors and len(load_errors) == len([b for b in blanks if b.verdict != NOT_RUN]):
        problem = load_errors[0]
    elif crash and not mine:
        problem = crash
    return KataResult(kata, kata_state(blanks, problem), blanks, problem)


def kata_state(blanks: list[BlankResult], problem: str = "") -> str:
    """A kata passes when every one of its blanks passes (a blank not graded does not)."""
    verdicts = [b.verdict for b in blanks]
    if problem:
        return BROKEN
    if verdicts and all(v == PASS for v in verdicts):
        return PASSING
    if any(v in (FAIL, SHORTCUT, TIMEOUT) for v in verdicts):
        return FAILING
    if any(v == PASS for v in verdicts):
        return IN_PROGRESS
    return NOT_STARTED
