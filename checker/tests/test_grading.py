"""The grader against bad input: each case ends in a short verdict that names the blank.

Kata 00 is the subject: each test writes a variant of it into a temporary folder and grades
that folder (`impl=`), the way the self-check grades mutants.
"""

import hashlib
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
    ],
)
def test_kata_state_from_blank_verdicts(given, state):
    blanks = [BlankResult(f"00.{i}", "", v) for i, v in enumerate(given, start=1)]
    assert grading._state(blanks, "", None) == state
    assert grading._state(blanks, "a syntax error", None) == BROKEN


def test_earlier_katas_come_from_the_reference_so_a_broken_one_blocks_nothing(tmp_path):
    """Kata 05 imports kata 04; a broken k04_multihead.py beside it must not matter."""
    kata = find_kata("05")
    folder = tmp_path / "impl"
    folder.mkdir()
    (folder / "k05_transformer.py").write_text(solved_kata(kata.reference_source), encoding="utf-8")
    (folder / "k04_multihead.py").write_text("this is not python\n", encoding="utf-8")
    (result,) = grade([kata], impl=str(folder))
    assert result.state == PASSING, [(b.id, b.verdict, b.error.get("message")) for b in result.blanks]
