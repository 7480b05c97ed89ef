"""`katas show NN`: every kata's picture draws (with ours, small budgets, no checkpoint), a learner's
unfinished or broken kata gets one screen naming the blank, a missing matplotlib one line, and the
self-check finds a kata without a picture."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

import pictures
from checker import catalog, cli, selfcheck
from checker.blanks import apply_answers
from checker.catalog import all_katas, find_kata
from milestones import caption
from milestones.runner import chain_of, checkpoint_key, choose_sources
from pictures import checkpoints
from pictures.show import ShowProblem, load_modules, show
from shapes.world import VOCABULARY

KATAS = [k.number for k in all_katas()]


def assert_real_png(path) -> None:
    """A PNG of some size that is not one flat colour."""
    image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    assert image.shape[0] >= 30 and image.shape[1] >= 60, f"{path.name} is only {image.shape[1]}×{image.shape[0]} pixels"
    assert image.var() > 0, f"{path.name} is blank"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("number", KATAS)
def test_every_katas_picture_draws_with_the_reference(number, tmp_path):
    result = show(find_kata(number), use_reference=True, out=tmp_path, quick=True)
    assert result.paths, f"kata {number}'s picture wrote nothing"
    for path in result.paths:
        assert path.parent == tmp_path / find_kata(number).module and path.suffix == ".png"
        assert_real_png(path)


def test_an_unfilled_blank_is_named_on_one_screen(sandbox, capsys):
    assert cli.main(["show", "03"]) == 1
    out = capsys.readouterr().out
    assert "kata 03: blank 03.1 is not filled in yet" in out and "--reference" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) <= 4


def test_a_picture_that_trains_first_names_the_blank_before_it_trains(sandbox):
    with pytest.raises(ShowProblem, match="kata 21: blank 21.1 is not filled in yet"):
        show(find_kata("21"), quick=True)


def write_kata(kata, answers: dict[str, str]) -> None:
    """The learner's file: the reference's solutions, with `answers` in place of some blanks."""
    kata.kata_path.write_text(apply_answers(kata.reference_source, answers), encoding="utf-8")


def test_a_blank_that_raises_is_named_with_its_line(sandbox):
    kata = find_kata("03")
    write_kata(kata, {"03.4": "scores = q @ k / math.sqrt(D)  # forgets the transpose"})
    with pytest.raises(ShowProblem) as e:
        show(kata, quick=True)
    message = str(e.value)
    assert message.startswith("kata 03: blank 03.4 raises RuntimeError") and "katas/k03_attention.py, line" in message
    assert "nox -s kata-03" in message and "Traceback" not in message


def test_a_syntax_error_is_named_with_its_blank(sandbox):
    kata = find_kata("03")
    write_kata(kata, {"03.2": "e = x.exp(\nreturn e / e.sum(dim=dim, keepdim=True)"})
    with pytest.raises(ShowProblem, match=r"^kata 03: blank 03.2 raises SyntaxError"):
        show(kata, quick=True)


def test_a_wrong_result_that_breaks_the_picture_is_blamed_on_the_kata(sandbox):
    kata = find_kata("10")
    write_kata(kata, {"10.2": "return ((x + 1) / 2).clamp(0, 1)[0]  # drops the batch"})
    with pytest.raises(ShowProblem) as e:
        show(kata, quick=True)
    assert str(e.value).startswith("kata 10: the picture could not use what your code returned")
    assert "nox -s kata-10" in str(e.value)


def test_the_learners_passing_code_draws(sandbox, tmp_path):
    kata = find_kata("10")
    write_kata(kata, {})
    result = show(kata, out=tmp_path, quick=True)
    assert [p.name for p in result.paths] == ["forward.png"]
    assert_real_png(result.paths[0])


def test_without_matplotlib_show_says_so_in_one_line_and_skips(sandbox, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert cli.main(["show", "00", "--reference"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "matplotlib" in lines[0] and 'pip install -e ".[pictures]"' in lines[0]
    assert not (sandbox / "out").exists()


def test_the_self_check_finds_a_kata_without_a_picture(tmp_path, monkeypatch, capsys):
    for number in KATAS[:-1]:
        (tmp_path / f"k{number}.py").write_text("def draw(mods, show):\n    pass\n", encoding="utf-8")
    (tmp_path / "k03.py").write_text("TITLE = 'no draw here'\n", encoding="utf-8")
    monkeypatch.setattr(pictures, "PICTURES_DIR", tmp_path)
    findings = selfcheck.Findings(cli.render.console())
    selfcheck.check_pictures(all_katas(), findings)
    out = capsys.readouterr().out
    assert findings.problems == 2
    assert f"kata {KATAS[-1]} has no picture" in out and "kata 03 has no picture" in out


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_a_device_that_is_not_there_gets_one_line(sandbox, capsys):
    assert cli.main(["show", "02", "--reference", "--device", "cuda"]) == 1
    assert "There is no cuda device here" in capsys.readouterr().out


def test_every_kata_has_a_picture():
    assert [n for n in KATAS if not pictures.has_picture(n)] == []


def test_grading_and_the_self_check_never_import_matplotlib():
    code = "import sys, checker.cli, checker.grading, checker.selfcheck, pictures; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=catalog.ROOT, check=True)
    assert out.stdout.strip() == "False"


def fake_checkpoint(folder, spec, key: str) -> None:
    """A checkpoint of random weights under `key`, in folder/<milestone>/ (where runner.out_dir is pointed)."""
    mods = load_modules(find_kata("07"), use_reference=True)
    vocab = mods.tokenizer.build_vocab([" ".join(VOCABULARY)])
    model = spec.build(mods, SimpleNamespace(vocab=vocab, max_len=10))
    (folder / spec.name).mkdir(parents=True)
    torch.save({"key": key, "state_dict": model.state_dict(), "seconds": 0.0}, folder / spec.name / "checkpoint.pt")


def test_a_checkpoint_is_used_only_where_its_key_fits(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "out_dir", lambda name: tmp_path / name)
    assert checkpoints.fitting_state("caption") is None  # none at all
    fake_checkpoint(tmp_path, caption.SPEC, "another key")
    assert checkpoints.fitting_state("caption") is None
    key = checkpoint_key(caption.SPEC, choose_sources(chain_of(caption.SPEC), True, {}), caption.SPEC.steps)
    torch.save(dict(torch.load(tmp_path / "caption" / "checkpoint.pt"), key=key), tmp_path / "caption" / "checkpoint.pt")
    assert "positions.weight" in checkpoints.fitting_state("caption")


def test_with_a_fitting_checkpoint_kata_07_shows_the_captions(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "out_dir", lambda name: tmp_path / "checkpoints" / name)
    key = checkpoint_key(caption.SPEC, choose_sources(chain_of(caption.SPEC), True, {}), caption.SPEC.steps)
    fake_checkpoint(tmp_path / "checkpoints", caption.SPEC, key)
    result = show(find_kata("07"), use_reference=True, out=tmp_path / "show")
    assert [p.name for p in result.paths] == ["caption_mask.png", "captions.png"]
    assert all(p.exists() for p in result.paths)
