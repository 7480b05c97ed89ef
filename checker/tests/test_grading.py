"""The grader against bad input: each case ends in a short verdict that names the blank.

Kata 00 is the subject: each test writes a variant of it into a temporary folder and grades
that folder (`impl=`), the way the self-check grades mutants.
"""

import hashlib
import time
from pathlib import Path

import pytest

from checker import grading, manifest
from checker.blanks import generate_kata, solved_kata
from checker.catalog import find_kata
from checker.grading import (
    BROKEN,
    FAIL,
    FAILING,
    IN_PROGRESS,
    NOT_RUN,
    NOT_STARTED,
    PASS,
    PASSING,
    TIMEOUT,
    TODO,
    BlankResult,
    grade,
)

KATA = find_kata("00")


def write_variant(folder: Path, **answers: str) -> Path:
    """Kata 00 with blanks 00.1.. answered: `b1="return ..."`; missing ones stay unfilled."""
    text = generate_kata(KATA.reference_source)
    for key, code in answers.items():
        blank = f"00.{key[1:]}"
        indent = next(b.indent for b in KATA.blanks if b.id == blank)
        body = "\n".join(indent + line for line in code.split("\n"))
        text = text.replace(f'{indent}raise NotImplementedError("blank {blank} is not filled in yet")', body)
    folder.mkdir(exist_ok=True)
    (folder / "k00_start.py").write_text(text, encoding="utf-8")
    return folder


def verdicts(result):
    return {b.id: b.verdict for b in result.blanks}


def test_loop_nan_and_wrong_shape_each_get_a_verdict_naming_their_blank(tmp_path):
    folder = write_variant(
        tmp_path / "impl",
        b1="while True:\n    pass",
        b2='return images * float("nan")',
        b3="return (a[:, None, :] - b[None, :, :]) ** 2",
    )
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    (result,) = grade([KATA], impl=str(folder), timeout=2)
    assert verdicts(result) == {"00.1": TIMEOUT, "00.2": FAIL, "00.3": FAIL}
    assert result.state == FAILING
    loop, nan, shape = result.blanks
    assert loop.error["where"]["code"].startswith(("while True", "pass"))
    assert "NaN" in nan.error["message"] and "call: normalize_channels(" in nan.error["message"]
    assert "has shape (4, 3, 2), expected (4, 3)" in shape.error["message"]
    # grading leaves the learner's folder exactly as it was: no edits, no __pycache__
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()} == before


def test_wrong_dtype_an_exception_and_an_unfilled_blank(tmp_path):
    folder = write_variant(tmp_path / "impl", b1="return image.unsqueeze(0).double()", b2="return images + mean.foo")
    (result,) = grade([KATA], impl=str(folder))
    assert verdicts(result) == {"00.1": FAIL, "00.2": FAIL, "00.3": TODO}
    assert "dtype torch.float64, expected torch.float32" in result.blanks[0].error["message"]
    error = result.blanks[1].error
    assert error["type"] == "AttributeError" and error["where"]["code"] == "return images + mean.foo"
    assert result.first_open_blank.id == "00.1"


def test_a_process_that_dies_is_reported_in_the_test_it_died_in(tmp_path):
    folder = write_variant(tmp_path / "impl", b1="return image[None]", b2="import os\nos._exit(3)")
    (result,) = grade([KATA], impl=str(folder))
    assert verdicts(result) == {"00.1": PASS, "00.2": TIMEOUT, "00.3": NOT_RUN}
    assert result.blanks[1].error["type"] == "Crashed" and "exit code 3" in result.blanks[1].error["message"]


def test_an_import_error_breaks_the_kata_with_one_message(tmp_path):
    folder = write_variant(tmp_path / "impl")
    path = folder / "k00_start.py"
    path.write_text(path.read_text().replace("import torch", "import torch\nimport numpyy"))
    (result,) = grade([KATA], impl=str(folder))
    assert result.state == BROKEN
    assert "ModuleNotFoundError while importing: No module named 'numpyy'" in result.problem


def test_a_syntax_error_is_reported_before_running_anything_with_its_blank(tmp_path):
    folder = write_variant(tmp_path / "impl", b2="mean = mean.view(1, -1, 1, 1\nreturn mean")
    (result,) = grade([KATA], impl=str(folder))
    assert result.state == BROKEN
    assert "(in blank 00.2): SyntaxError" in result.problem and "k00_start.py line" in result.problem
    assert {b.verdict for b in result.blanks} == {NOT_RUN}


def test_a_missing_kata_file_says_how_to_get_it_back(tmp_path):
    (result,) = grade([KATA], impl=str(tmp_path))
    assert result.state == BROKEN and "katas reset 00" in result.problem


def test_edited_tests_are_refused(monkeypatch):
    monkeypatch.setattr(manifest, "shipped_manifest", lambda: {"tests/test_k00_start.py": "0" * 64})
    assert manifest.edited_test_files(KATA) == ["tests/test_k00_start.py"]
    (result,) = grade([KATA], impl="katas")
    assert result.state == BROKEN and "differ from the shipped version" in result.problem


def test_missing_torch_raises_an_environment_problem_with_an_install_hint(monkeypatch):
    real = grading.importlib.util.find_spec
    monkeypatch.setattr(grading.importlib.util, "find_spec", lambda name: None if name == "torch" else real(name))
    with pytest.raises(grading.EnvironmentProblem, match="pip install -e ."):
        grade([KATA])


@pytest.mark.parametrize(
    "given, state",
    [
        ([PASS, PASS], PASSING),
        ([PASS, TODO], IN_PROGRESS),
        ([PASS, FAIL], FAILING),
        ([TODO, TIMEOUT], FAILING),
        ([TODO, TODO], NOT_STARTED),
        ([PASS, NOT_RUN], IN_PROGRESS),  # one blank graded: the kata does not pass yet
    ],
)
def test_kata_state_from_blank_verdicts(given, state):
    blanks = [BlankResult(f"00.{i}", "", v) for i, v in enumerate(given, start=1)]
    assert grading.kata_state(blanks) == state
    assert grading.kata_state(blanks, "a syntax error") == BROKEN


def test_earlier_katas_come_from_the_reference_so_a_broken_one_blocks_nothing(tmp_path):
    """Kata 05 imports kata 04; a broken k04_multihead.py beside it must not matter."""
    kata = find_kata("05")
    folder = tmp_path / "impl"
    folder.mkdir()
    (folder / "k05_transformer.py").write_text(solved_kata(kata.reference_source), encoding="utf-8")
    (folder / "k04_multihead.py").write_text("this is not python\n", encoding="utf-8")
    (result,) = grade([kata], impl=str(folder))
    assert result.state == PASSING, [(b.id, b.verdict, b.error.get("message")) for b in result.blanks]


def test_a_catalogued_mistake_is_named_and_nothing_else_is(tmp_path):
    folder = write_variant(
        tmp_path / "impl",
        b1="return image.unsqueeze(0)",
        # "multiplies by std" in tests/mutants/k00_start.py, written another way
        b2="return (images - mean[None, :, None, None]) * std.reshape(1, -1, 1, 1)",
        b3="return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1) + 0.5",  # wrong, and no catalogued mistake
    )
    (result,) = grade([KATA], impl=str(folder))
    assert verdicts(result) == {"00.1": PASS, "00.2": FAIL, "00.3": FAIL}
    assert result.blanks[1].diagnosis == ["multiplies by std"]
    assert result.blanks[0].diagnosis == result.blanks[2].diagnosis == []


def test_an_error_raised_by_another_blanks_code_names_no_mistake_of_this_one(tmp_path):
    """03.1 without keepdim breaks the tests of 03.2 (which call the whole softmax) with the same
    RuntimeError that 03.2's "forgets keepdim" raises, but on another line: 03.2 is not blamed."""
    kata = find_kata("03")
    folder = tmp_path / "impl"
    folder.mkdir()
    source = solved_kata(kata.reference_source).replace(
        "x = x - x.amax(dim=dim, keepdim=True)", "x = x - x.amax(dim=dim)"
    )
    (folder / "k03_attention.py").write_text(source, encoding="utf-8")
    (result,) = grade([kata], impl=str(folder), only_blanks=["03.1", "03.2"])
    first, second = result.blanks[:2]
    assert first.verdict == FAIL and first.diagnosis == ["max without keepdim"]
    assert second.verdict == FAIL and second.diagnosis == []


def test_after_a_timeout_the_tests_that_reach_the_same_line_stop_there(tmp_path):
    """An infinite loop in 03.4: one test waits out its timeout; the other tests that call
    the attention (03.5, 03.6) stop at the loop at once and are reported as not run."""
    kata = find_kata("03")
    folder = tmp_path / "impl"
    folder.mkdir()
    source = solved_kata(kata.reference_source).replace(
        "scores = q @ k.transpose(-2, -1) / math.sqrt(D)", "while True:\n        pass"
    )
    (folder / "k03_attention.py").write_text(source, encoding="utf-8")
    start = time.perf_counter()
    (result,) = grade([kata], impl=str(folder), timeout=2)
    elapsed = time.perf_counter() - start
    assert verdicts(result) == {"03.1": PASS, "03.2": PASS, "03.3": PASS, "03.4": TIMEOUT,
                                "03.5": NOT_RUN, "03.6": NOT_RUN}  # fmt: skip
    assert result.blanks[4].error["stopped"] and "where a test of blank 03.4 timed out" in result.blanks[4].error["message"]
    assert elapsed < 20, f"{elapsed:.1f} s: the 20 tests of 03.4-03.6 each waited out the 2 s timeout?"


@pytest.mark.timeout(60)  # a fresh interpreter imports torch: seconds
def test_a_dead_warm_worker_hands_over_to_a_fresh_interpreter_which_grades_alike(tmp_path, monkeypatch):
    """The checker's tests grade in children of a warm worker; learners on macOS and Windows, or
    after the worker died, grade in a fresh interpreter. Both paths must agree."""
    folder = write_variant(tmp_path / "impl", b1="return image.unsqueeze(0)", b2="return images - mean")
    (warm,) = grade([KATA], impl=str(folder))
    worker = grading.WarmGrader.start(grading.grading_env(str(tmp_path)))
    worker.process.kill()
    worker.process.wait()
    monkeypatch.setattr(grading, "_warm", worker)
    (plain,) = grade([KATA], impl=str(folder))
    assert grading._warm is None
    assert verdicts(plain) == verdicts(warm) == {"00.1": PASS, "00.2": FAIL, "00.3": TODO}
    assert plain.blanks[1].error["message"] == warm.blanks[1].error["message"]
