"""The demo command's code, in seconds: an untrained model stands in for the trained one (runner.trained
patched), drawn in 2 DDIM steps; the grid is written, the same seed gives the same PNG, and the
README's block says what the judge read."""

from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from checker import catalog, cli
from milestones import demo, runner, tensor_map, text2image
from milestones.demo import GROUPS, PROMPTS, Demo

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def untrained(monkeypatch, tmp_path):
    """runner.trained answers with an untrained reference model of milestone text2image; 2 DDIM steps."""
    mods = tensor_map.reference_chain(text2image.SPEC)
    vocab = tensor_map.vocabulary(mods)
    torch.manual_seed(0)
    model = text2image.TextToImageModel(mods, len(vocab), max_len=16).eval()
    answer = runner.Trained(mods, model, SimpleNamespace(vocab=vocab), {}, torch.device("cpu"), 0, 0.0, reused=True)
    asked = []
    monkeypatch.setattr(runner, "trained", lambda spec, **kwargs: asked.append((spec.name, kwargs)) or answer)
    monkeypatch.setattr(runner, "out_dir", lambda name: tmp_path / "out" / name)
    monkeypatch.setattr(text2image, "DDIM_STEPS", 2)
    (tmp_path / "README.md").write_text("# title\n<!-- demo:start -->\n<!-- demo:end -->\nmore\n")
    return asked


def test_the_demo_writes_the_grid_and_the_readme_block_and_the_same_seed_gives_the_same_png(untrained, tmp_path):
    console = SimpleNamespace(print=lambda *a, **k: None)
    first = demo.make(tmp_path, console)
    assert untrained == [("text2image", {"use_reference": True, "device": "cpu", "states": {}, "console": console})]
    png = tmp_path / "docs" / "demo.png"
    assert first.png == png and len(first.right) == len(PROMPTS) == 12 and first.reused
    columns, rows = demo.COLUMNS, -(-len(PROMPTS) // demo.COLUMNS)
    width, height = Image.open(png).size
    assert width == columns * 16 * 8 + (columns + 1) * 4 and height > rows * 16 * 8  # 16×16 scenes at ×8, captions below
    before = png.read_bytes()
    again = demo.make(tmp_path, console)
    assert png.read_bytes() == before and again.right == first.right
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("# title\n<!-- demo:start -->\n![12 prompts") and text.endswith("<!-- demo:end -->\nmore\n")
    assert f"reads **{sum(first.right)} of 12** images as their prompt" in text and "seed 0" in text


def test_the_judges_reading_is_told_group_by_group():
    right = [True] * len(PROMPTS)
    right[PROMPTS.index("a blue square below a red triangle")] = False
    readings = [p if ok else "a blue triangle above a red square" for p, ok in zip(PROMPTS, right)]
    text = Demo(catalog.ROOT / "docs" / "demo.png", right, readings, True).markdown()
    assert "reads **11 of 12** images" in text
    assert f"- {GROUPS[0][0]}: 4 of 4\n" in text
    assert ('- two objects and a relation: 3 of 4; not "a blue square below a red triangle" '
            '(it reads "a blue triangle above a red square")') in text  # fmt: skip


def test_the_command_says_what_it_wrote(untrained, sandbox, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(catalog, "ROOT", tmp_path)
    assert cli.main(["demo"]) == cli.OK
    out = " ".join(capsys.readouterr().out.split())
    assert "wrote docs/demo.png (checkpoint reused); the judge reads" in out and "of 12 images as their prompt" in out
