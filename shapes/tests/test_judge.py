"""The judge: its weights are checked, it reads real scenes right, it is not trivially yes,
and it compares a prompt with what it sees attribute by attribute."""

from __future__ import annotations

import ast
import math
import shutil
from pathlib import Path

import pytest
import torch

from shapes.judge import WEIGHTS, _label, clean_scenes, compare, hash_path, judge_prompts, load_judge, targets
from shapes.world import make_scenes, parse_caption

SEED = 31_337  # fresh scenes: the judge trained on seeds >= 1,000,000


@pytest.fixture(scope="module")
def judge():
    return load_judge()


def test_shipped_weights_are_small_and_load():
    assert WEIGHTS.stat().st_size < 1_000_000, f"{WEIGHTS.name} is {WEIGHTS.stat().st_size} bytes"
    load_judge()


def test_a_damaged_weights_file_is_refused_loudly(tmp_path):
    path = tmp_path / WEIGHTS.name
    shutil.copy(WEIGHTS, path)
    shutil.copy(hash_path(WEIGHTS), hash_path(path))
    load_judge(path)  # the intact copy loads
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1  # one bit flipped
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256.*damaged.*--train"):
        load_judge(path)
    with pytest.raises(ValueError, match="sha256"):
        load_judge(WEIGHTS, sha256="0" * 64)


def test_the_judge_imports_no_kata():
    """The judge stays independent of the learner's code: shapes/ imports nothing from katas/ or reference/."""
    for path in Path(__file__).parents[1].glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        bad = [n for n in names if n.split(".")[0] in ("katas", "reference", "support") or n.startswith("k") and n[1:3].isdigit()]
        assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("size", [16, 32])
@pytest.mark.parametrize("split", ["all", "heldout"])
def test_the_judge_reads_fresh_real_scenes(judge, size, split):
    s = make_scenes(300, seed=SEED, size=size, split=split)
    report = judge_prompts(s.images, s.captions, judge)
    wrong = [f"{s.captions[i]!r} read as {report.readings[i]!r}" for i in (~report.ok).nonzero().flatten().tolist()]
    assert report.adherence >= 0.98, f"adherence {report.adherence:.3f} on real scenes ({size}×{size}, {split}); e.g. {wrong[:3]}"
    assert report.ok.shape == report.confidence.shape == (300,) and report.ok.dtype == torch.bool
    assert report.confidence.median() > 0.95, f"median confidence {report.confidence.median():.3f} on real scenes"


def test_the_judge_reads_real_scenes_through_light_noise(judge):
    s = make_scenes(300, seed=SEED + 1)
    noisy = (s.images + 0.05 * torch.randn(s.images.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    report = judge_prompts(noisy, s.captions, judge)
    assert report.adherence >= 0.95, f"adherence {report.adherence:.3f} on real scenes with noise of std 0.05"


def test_shuffled_prompts_get_low_adherence(judge):
    s = make_scenes(300, seed=SEED + 2)
    report = judge_prompts(s.images, s.captions[1:] + s.captions[:1], judge)
    assert report.adherence < 0.15, f"adherence {report.adherence:.3f} with every prompt for another image"


def test_noise_is_read_with_low_confidence(judge):
    real = judge.read(make_scenes(200, seed=SEED + 3).images).confidence
    noise = judge.read(torch.rand(200, 3, 16, 16, generator=torch.Generator().manual_seed(0))).confidence
    assert noise.mean() < real.mean() - 0.2, f"mean confidence {noise.mean():.2f} on noise, {real.mean():.2f} on scenes"


def test_a_pair_said_the_other_way_round_is_the_same_image(judge):
    s = make_scenes(200, seed=SEED + 4, kinds=("pair",))
    flipped = {"above": "below", "below": "above", "left of": "right of", "right of": "left of"}
    other = []
    for caption in s.captions:
        label = parse_caption(caption)
        a, b = label.objects
        other.append(f"a {b.colour} {b.shape} {flipped[label.relation]} a {a.colour} {a.shape}")
    assert torch.equal(judge_prompts(s.images, s.captions, judge).ok, judge_prompts(s.images, other, judge).ok)
    assert judge_prompts(s.images, other, judge).adherence >= 0.98


def verdict(prompt: str, seen: str) -> dict:
    return compare(parse_caption(prompt), parse_caption(seen))


def test_compare_checks_what_the_prompt_states_and_nothing_else():
    assert verdict("a red circle", "a red circle on the left") == dict(count=True, colour=True, shape=True, position=None)
    assert verdict("a red circle on the left", "a red circle on the right")["position"] is False
    assert verdict("a red circle", "a red circle above a blue square") == dict(count=False, colour=False, shape=False, position=None)
    swapped = verdict("a red circle above a blue square", "a blue square above a red circle")
    assert swapped == dict(count=True, colour=True, shape=True, position=False)
    assert verdict("a red circle above a blue square", "a red circle left of a blue square")["position"] is False
    assert verdict("a red circle above a blue square", "a blue square below a red circle")["position"] is True
    wrong_shape = verdict("a red circle above a blue circle", "a red square above a blue circle")
    assert wrong_shape == dict(count=True, colour=True, shape=False, position=False)
    assert verdict("a red circle left of a red square", "a red square right of a red circle")["colour"] is True


def test_report_accuracy_is_over_images_whose_prompt_states_the_attribute(judge):
    s = make_scenes(50, seed=SEED + 5, kinds=("single",))
    report = judge_prompts(s.images, s.captions, judge)
    assert math.isnan(report.accuracy["position"]) and report.correct["position"].all()
    assert report.adherence == report.ok.float().mean().item()


def test_training_targets_say_what_the_captions_say():
    """Targets, read back as the judge reads its heads, give the scene of the caption."""
    s = make_scenes(400, seed=SEED + 6)
    t = targets(s)
    for i in range(len(s)):
        read = _label(*(t[h][i].item() for h in ("layout", "colour_a", "shape_a", "colour_b", "shape_b")))
        assert read.same_scene(s.label(i)), f"{s.captions[i]!r}: targets say {read.caption()!r}"


def test_bad_input_is_refused(judge):
    with pytest.raises(ValueError, match="multiple of 16"):
        judge.read(torch.rand(2, 3, 20, 20))
    with pytest.raises(ValueError, match="NaN"):
        judge.read(torch.full((1, 3, 16, 16), math.nan))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        judge.read(make_scenes(4, seed=0).images * 2 - 1)
    with pytest.raises(ValueError, match="2 images but 1 prompts"):
        judge_prompts(torch.rand(2, 3, 16, 16), ["a red circle"], judge)


def test_clean_scenes_pass_and_noise_blends_and_smudges_do_not():
    scenes = make_scenes(400, seed=77, split="all")
    assert clean_scenes(scenes.images).float().mean() >= 0.99
    blended = (scenes.images + scenes.images.roll(1, 0)) / 2
    noisy = (scenes.images + 0.2 * torch.randn(scenes.images.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    assert clean_scenes(blended).float().mean() < 0.2
    assert clean_scenes(noisy).float().mean() < 0.2
    assert not clean_scenes(torch.rand(50, 3, 16, 16, generator=torch.Generator().manual_seed(1))).any()
