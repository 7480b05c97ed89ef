"""The milestones' own code, in seconds: a few training steps, the files they write, and how they
stop when a kata they need does not pass. The real runs are benchmarks (benchmarks/milestones.py)."""

import dataclasses
import json

import pytest
import torch
from PIL import Image

from types import SimpleNamespace

from checker import cli
from milestones import runner, vit
from milestones.runner import MissingKatas, run
from shapes.world import make_scenes

torch.set_num_threads(1)
NOTHING_PASSES = {f"{n:02d}": "not started" for n in range(9)}


@pytest.fixture
def out(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "out_dir", lambda name: tmp_path / name)
    return tmp_path


def test_a_kata_that_does_not_pass_stops_the_milestone_and_is_named():
    states = dict(NOTHING_PASSES, **{"02": "passing", "03": "passing", "04": "passing", "05": "passing"})
    with pytest.raises(MissingKatas) as e:
        run(vit.SPEC, states=dict(states, **{"06": "failing"}))
    assert "kata 06 (k06_vit: failing)" in str(e.value) and "nox -s kata-06" in str(e.value)
    assert "--reference" in str(e.value) and "kata 05" not in str(e.value)


def test_the_chain_takes_yours_where_it_passes_and_ours_elsewhere_with_reference():
    katas = runner.chain_of(vit.SPEC)
    assert [k.number for k in katas] == ["02", "03", "04", "05", "06"]
    sources = runner.choose_sources(katas, True, dict(NOTHING_PASSES, **{"03": "passing"}))
    assert sources["k03_attention"].parent.name == "katas" and sources["k06_vit"].parent.name == "reference"


def small_vit_data(mods):
    return SimpleNamespace(**{part: make_scenes(n, seed=i, split=split, kinds=vit.KINDS)
                              for i, (part, n, split) in enumerate([("train", 256, "train"), ("fresh", 64, "train"),
                                                                    ("unseen", 64, "heldout")])})  # fmt: skip


def test_vit_milestone_writes_its_result_and_png_and_reuses_its_checkpoint(out):
    spec = dataclasses.replace(vit.SPEC, make_data=small_vit_data)
    first = run(spec, use_reference=True, steps=3, states=NOTHING_PASSES, device="cpu")
    result = json.loads((out / "vit" / "result.json").read_text())
    assert result["milestone"] == "vit" and result["metric"] == "accuracy" and 0 <= result["accuracy"] <= 1
    assert result["goal"] == 0.95 and result["steps"] == 3 and result["device"] == "cpu"
    assert result["katas"]["k06_vit"] == "reference" and not result["checkpoint_reused"]
    assert set(result["details"]) == {"heldout_scenes", "unseen_combinations"}
    (png,) = first.pngs
    assert Image.open(png).size[0] == 8 * 16 * 8 + 9 * 4  # 8 columns of 16×16 scenes at ×8, padded
    again = run(spec, use_reference=True, steps=3, states=NOTHING_PASSES, device="cpu")
    assert again.reused and again.figure == first.figure
    assert "milestone vit: held-out attribute accuracy" in again.line().plain


def test_the_cli_names_an_unknown_milestone_and_a_missing_kata(sandbox, capsys):
    assert cli.main(["milestone", "nope"]) == cli.BAD_REQUEST
    assert "the milestones are vit" in capsys.readouterr().out
    assert cli.main(["milestone", "vit"]) == cli.NOT_PASSING
    out = " ".join(capsys.readouterr().out.split())
    assert "Milestone vit (after kata 06): your ViT reads" in out
    assert "Not passing yet: kata 02 (k02_embeddings: not started)" in out and "nox -s kata-02" in out


def test_ddpm_milestone_trains_with_the_learners_step_and_writes_samples_and_trajectory(out, monkeypatch):
    from milestones import ddpm

    monkeypatch.setattr(ddpm, "T", 20)
    monkeypatch.setattr(ddpm, "SAMPLES", 4)
    result = run(ddpm.SPEC, use_reference=True, steps=2, states=NOTHING_PASSES, device="cpu")
    saved = json.loads((out / "ddpm" / "result.json").read_text())
    assert saved["metric"] == "clean_share" and 0 <= saved["clean_share"] <= 1 and saved["details"]["T"] == 20
    assert {k for k, v in saved["katas"].items()} >= {"k13_unet", "k14_training", "k15_ddpm", "k09_schedules"}
    samples, trajectory = result.pngs
    assert Image.open(samples).size[0] == 4 * 16 * 8 + 5 * 4
    assert Image.open(trajectory).size[0] == 12 * 16 * 8 + 13 * 4  # x_19, then every 2 steps down to x_0, and the sample


@pytest.mark.parametrize("name, metric", [("caption", "exact_match"), ("clip", "retrieval_top1")])
def test_caption_and_clip_milestones_run_on_the_learners_tokenizer_and_write_their_pngs(out, monkeypatch, name, metric):
    import importlib

    from milestones.text import tokenized_scenes

    module = importlib.import_module(f"milestones.{name}")
    spec = dataclasses.replace(module.SPEC, make_data=lambda mods: tokenized_scenes(mods, n_train=256, n_eval=40))
    result = run(spec, use_reference=True, steps=2, states=NOTHING_PASSES, device="cpu")
    saved = json.loads((out / name / "result.json").read_text())
    assert saved["metric"] == metric and 0 <= saved[metric] <= 1 and saved["katas"]["k01_tokenizer"] == "reference"
    assert set(saved["details"]["heldout_scenes_by_kind"]) == {"single", "position", "pair"}
    for png in result.pngs:
        assert Image.open(png).size[0] > 100


def tiny_prompts(**_):
    from milestones.prompts import PromptSet

    return PromptSet(["a red circle", "a blue square on the left"], ["a red circle above a blue square"], ["a yellow triangle"])


@pytest.fixture
def tiny_text2image(monkeypatch):
    """Milestone text2image in seconds: 2 CLIP steps, 2 U-Net steps, 512 scenes, 4 prompts, 2 DDIM steps."""
    from milestones import latent, text2image

    monkeypatch.setattr(text2image, "CLIP_STEPS", 2)
    monkeypatch.setattr(text2image, "DDIM_STEPS", 2)
    monkeypatch.setattr(text2image, "judged_prompts", tiny_prompts)
    monkeypatch.setattr(latent, "VAE_STEPS", 2)
    small = lambda n, seed=1, size=16: make_scenes(512, seed=seed, split="train")  # noqa: E731
    monkeypatch.setattr(text2image, "training_scenes", small)
    return text2image


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["text2image", "latent"])
def test_text_to_image_milestones_train_every_stage_and_judge_each_group(out, tiny_text2image, name):
    import importlib

    spec = dataclasses.replace(importlib.import_module(f"milestones.{name}").SPEC, batch_size=8)
    result = run(spec, use_reference=True, steps=2, states=NOTHING_PASSES, device="cpu")
    saved = json.loads((out / name / "result.json").read_text())
    assert saved["metric"] == "pair_adherence" and 0 <= saved["pair_adherence"] <= 1 and saved["goal"] == 0.8
    assert set(saved["details"]["adherence"]) == {"single", "pair", "unseen"}
    assert saved["details"]["prompts"] == {"single": 2, "pair": 1, "unseen": 1}
    assert saved["katas"]["k16_conditioning"] == "reference" and saved["katas"]["k18_ddim"] == "reference"
    assert all(Image.open(png).size[0] > 16 for png in result.pngs)
    if name == "latent":
        assert saved["details"]["latent_scale"] > 0 and saved["katas"]["k21_pipeline"] == "reference"


def test_generate_refuses_words_it_does_not_know_before_training_anything(sandbox, capsys):
    assert cli.main(["generate", "a", "purple", "circle"]) == cli.BAD_REQUEST
    out = " ".join(capsys.readouterr().out.split())
    assert "'purple' is not a word the shapes world has" in out and "red green blue yellow" in out
    assert cli.main(["generate", "circle", "a", "red"]) == cli.BAD_REQUEST
    assert "cannot read caption 'circle a red'" in " ".join(capsys.readouterr().out.split())


@pytest.mark.timeout(60)
def test_generate_trains_once_then_reuses_the_checkpoint_and_writes_the_png(out, tiny_text2image, monkeypatch, capsys):
    from milestones import text2image

    monkeypatch.setattr(text2image, "SPEC", dataclasses.replace(text2image.SPEC, steps=2, batch_size=8))
    monkeypatch.setattr(cli, "kata_states", lambda katas: {k.number: ("not started", None) for k in katas})
    args = ["generate", "a red circle above a blue square", "-n", "2", "--steps", "2", "--reference", "--device", "cpu"]
    assert cli.main(args) == cli.OK
    first = capsys.readouterr().out
    assert "Training the model of milestone text2image first" in first and "trained 2 steps" in first
    png = out / "generate" / "a_red_circle_above_a_blue_square_seed0.png"
    assert png.exists() and Image.open(png).size[0] == 2 * 16 * 8 + 3 * 4
    before = png.read_bytes()
    assert cli.main(args) == cli.OK
    again = capsys.readouterr().out
    assert "checkpoint reused" in again and "Training" not in again
    assert png.read_bytes() == before  # the same seed draws the same images


def test_judged_prompts_are_kept_out_of_training_and_the_showcase_is_trained():
    from milestones.prompts import SHOWCASE, judged_prompts, kept_out, training_scenes
    from shapes.world import parse_caption

    train = training_scenes(3000)
    assert not any(kept_out(label) for label in train.labels())
    prompts = judged_prompts(n_single=16, n_pair=32, n_unseen=8)
    assert all(kept_out(parse_caption(p)) for p in prompts.single + prompts.pair)
    assert len(prompts.pair) == 32 and all(parse_caption(p).kind == "pair" for p in prompts.pair)
    assert not any(kept_out(parse_caption(p)) for p in SHOWCASE)
    assert any(parse_caption(SHOWCASE[0]).same_scene(label) for label in training_scenes(20_000).labels())


def test_a_checkpoint_keys_on_the_milestones_code_it_trains_with_not_on_the_others():
    from milestones import latent, text2image, vit
    from milestones.runner import milestone_code

    names = {spec.name: [p.name for p in milestone_code(spec)] for spec in (vit.SPEC, text2image.SPEC, latent.SPEC)}
    assert names["vit"] == ["runner.py", "vit.py"]
    assert names["text2image"] == ["clip.py", "prompts.py", "runner.py", "text.py", "text2image.py"]
    assert "text2image.py" in names["latent"] and "latent.py" in names["latent"]
    assert all("__init__.py" not in n for n in names.values())  # drawing (milestones.draw) does not retrain


def test_a_checkpoint_keys_on_code_not_on_comments_or_docstrings():
    from milestones.runner import code_of

    source = '"""Kata 99."""\n\ndef f(x):\n    """Doubles."""\n    # HINT: x + x\n    return 2 * x  # twice\n'
    reworded = '"""Kata 99, said better."""\n\ndef f(x):\n    """Twice x."""\n    # HINT: multiply by 2\n    return 2 * x\n'
    assert code_of(source) == code_of(reworded)
    assert code_of(source) != code_of(source.replace("2 * x", "x + x"))
    assert code_of('def g():\n    """Only words."""\n') != code_of("def g():\n    return 1\n")


def test_the_learning_rate_warms_up_then_decays_to_zero_on_a_half_cosine():
    from milestones.runner import lr_factor

    steps = 1000
    factors = [lr_factor(s, steps) for s in range(steps)]
    assert factors[0] == pytest.approx(1 / 50) and factors[49] == pytest.approx(1.0)  # 5% warm-up
    assert all(a >= b for a, b in zip(factors[49:], factors[50:]))  # then never up again
    assert factors[-1] < 1e-4 and factors[525] == pytest.approx(0.5, abs=0.01)
