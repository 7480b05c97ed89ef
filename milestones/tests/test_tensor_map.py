"""The Tensor Map: recorded from the reference pipeline (untrained: seconds), the README's copy is
current, its rows have the shapes the pipeline must have, and the recorder leaves nothing behind."""

import sys
import types

import pytest
import torch
from PIL import Image
from rich.console import Console
from torch import nn

from checker import catalog, cli
from milestones import tensor_map, text2image
from milestones.readme import read_block, write_block
from milestones.tensor_map import PROMPT, Recorder, condensed, rows_of

pytestmark = pytest.mark.timeout(120)  # recording runs the pipeline's 50 DDIM steps: seconds, more on a busy machine
README = catalog.ROOT / "README.md"


@pytest.fixture(scope="module")
def rows():
    return tensor_map.tensor_map()


@pytest.fixture(scope="module")
def pixel_rows():
    return tensor_map.pixel_unet_map()


def find(rows, kind, name=None):
    found = [r for r in rows if r.kind == kind and (name is None or r.name == name)]
    assert found, f"no row of {kind} {name or ''} in the map"
    return found[0]


def test_the_readmes_tensor_map_is_the_one_the_code_records(rows, pixel_rows):
    recorded = tensor_map.markdown(rows, pixel_rows)
    assert read_block(README, tensor_map.README_BLOCK) == recorded, (
        "README.md's Tensor Map is not what the pipeline records now (a change of shapes?): run `nox -s tensor-map`"
    )


def test_the_rows_have_the_shapes_of_the_pipeline(rows):
    L, D = len(PROMPT.split()) + 2, text2image.TEXT_DIM  # the prompt's words between <bos> and <eos>; the text width
    assert 25 <= len(rows) <= 50
    assert rows[0].kind == "TextToImage" and rows[0].output == "(1, 3, 16, 16)" and rows[-1].output == "(1, 3, 16, 16)"
    assert find(rows, "pad_batch").output == f"(2, {L}) long"  # B prompts and B empty captions: 2B
    assert find(rows, "TextEncoder").output == f"(2, {L}, {D}), (2, {D})"
    assert find(rows, "ddim_sample").output == "(1, 4, 8, 8)"  # the latent
    assert find(rows, "Guided").count == text2image.DDIM_STEPS == find(rows, "ddim_step").count
    assert find(rows, "ConditionalUNet").inputs.startswith("x (2, 4, 8, 8) · t (2,) long")  # guided: 2B
    cross = find(rows, "MultiHeadAttention", "cross_attn")
    assert cross.inputs == f"x (2, 64, 64) · context (2, {L}, {D}) · mask (2, 1, {L}) bool"  # 8×8 pixels read the text
    assert find(rows, "scaled_dot_product_attention").output == f"(2, 4, 64, 16), (2, 4, 64, {L})"  # weights: pixel × token
    assert find(rows, "LatentCodec.decode").output == "(1, 3, 16, 16)"
    assert find(rows, "Downsample").output == "(2, 64, 4, 4)" and find(rows, "Upsample").output == "(2, 64, 8, 8)"


def test_each_row_names_the_kata_file_that_builds_it(rows):
    files = {p.stem for p in catalog.REFERENCE_DIR.glob("k*.py")}
    assert all(r.kata in files for r in rows)
    assert find(rows, "SpatialTransformer").kata == "k16_conditioning" and find(rows, "ResBlock").kata == "k12_unet_blocks"
    assert find(rows, "nn.Conv2d", "inc").kata == "k13_unet"  # a torch layer: the kata whose code calls it
    assert find(rows, "encode").kata == "k01_tokenizer" and find(rows, "to_image_range").kata == "k10_forward"


def test_the_pixel_space_unet_has_three_levels_and_no_latent(pixel_rows):
    assert pixel_rows[0].kind == "ConditionalUNet" and pixel_rows[0].inputs.startswith("x (2, 3, 16, 16)")
    assert [r.output for r in pixel_rows if r.kind == "Downsample"] == ["(2, 32, 8, 8)", "(2, 64, 4, 4)"]
    assert pixel_rows[-1].output == "(2, 3, 16, 16)"


def test_the_diagram_is_drawn(rows, tmp_path):
    pytest.importorskip("matplotlib")
    path = tensor_map.draw(rows, tmp_path / "map.png")
    assert Image.open(path).size == (1700, 940)
    assert tensor_map.draw(rows, tmp_path / "again.png").read_bytes() == path.read_bytes()


def test_the_command_writes_the_readme_block_and_the_png(rows, pixel_rows, sandbox, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    (tmp_path / "README.md").write_text("# title\n\n<!-- tensor-map:start -->\nold\n<!-- tensor-map:end -->\n\nmore\n")
    monkeypatch.setattr(catalog, "ROOT", tmp_path)
    monkeypatch.setattr(tensor_map, "tensor_map", lambda: rows)
    monkeypatch.setattr(tensor_map, "pixel_unet_map", lambda: pixel_rows)
    assert cli.main(["tensor-map"]) == cli.OK
    assert "the Tensor Map rewritten" in capsys.readouterr().out and (tmp_path / "docs" / "tensor_map.png").exists()
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("# title\n\n<!-- tensor-map:start -->\nOne prompt") and text.endswith("<!-- tensor-map:end -->\n\nmore\n")
    assert cli.main(["tensor-map"]) == cli.OK
    assert "was up to date" in capsys.readouterr().out


def test_a_readme_without_the_markers_gets_a_message_naming_them(tmp_path):
    (tmp_path / "README.md").write_text("# title\n")
    with pytest.raises(ValueError, match="<!-- tensor-map:start -->"):
        write_block(tmp_path / "README.md", "tensor-map", "table")


def test_the_recorder_notes_shapes_merges_repeats_and_leaves_nothing_behind(monkeypatch):
    """A made-up kata module (k99_fake) and a model that calls its function and a layer three times."""
    fake = types.ModuleType("k99_fake")

    def double(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x], dim=-1)

    double.__module__ = fake.__name__
    fake.double = double
    monkeypatch.setitem(sys.modules, "k99_fake", fake)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(4, 2)

        def forward(self, x, scale=None):
            for _ in range(3):
                x = fake.double(self.layer(x))
            return x

    Model.__module__ = Model.forward.__module__ = fake.__name__  # as if defined in k99_fake.py
    model, global_hooks = Model(), len(nn.modules.module._global_forward_hooks)
    with Recorder(model, [fake]) as recorder, torch.no_grad():
        model(torch.zeros(5, 4), scale=torch.ones(5))
    assert fake.double is double and not model._forward_hooks and not model.layer._forward_pre_hooks
    assert len(nn.modules.module._global_forward_hooks) == global_hooks
    (top,) = recorder.root.children
    assert (top.kind, top.kata, top.inputs, top.output) == ("Model", "k99_fake", [("x", "(5, 4)"), ("scale", "(5,)")], "(5, 4)")
    monkeypatch.setattr(tensor_map, "OPENED", ("Model",))
    rows = rows_of(condensed(top))
    assert [(r.name, r.owner, r.kata, r.output, r.count) for r in rows] == [
        ("", "Model", "k99_fake", "(5, 4)", 1),
        ("layer", "nn.Linear", "k99_fake", "(5, 2)", 3),  # a torch layer: the kata whose code calls it
        ("double", "", "k99_fake", "(5, 4)", 3),
    ]
    monkeypatch.setattr(tensor_map, "OPENED", ())  # the calls inside show only for the kinds the map opens
    assert len(rows_of(condensed(top))) == 1


def test_the_console_says_when_matplotlib_is_missing(rows, pixel_rows, tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text("<!-- tensor-map:start -->\n<!-- tensor-map:end -->\n")
    monkeypatch.setattr(tensor_map, "tensor_map", lambda: rows)
    monkeypatch.setattr(tensor_map, "pixel_unet_map", lambda: pixel_rows)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib: ImportError
    console = Console(record=True, width=200)
    changed, png = tensor_map.make(tmp_path, console)
    assert changed and png is None and "needs matplotlib" in console.export_text()
