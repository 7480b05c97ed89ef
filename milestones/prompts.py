"""Prompts for the text-to-image milestones and the generate command: which scenes are kept out
of training, the prompts a model is judged on, and the judge's verdict per group.

A model is judged on prompts it never saw verbatim: about one scene in six (by a fixed hash of
what the scene holds, so "a green triangle above a red square" and "a red square below a green
triangle" are kept out together) never appears in training, and the single-object and pair
prompts of the figures are drawn from those. The README's showcase prompt is always trained
on. Beside them, "unseen": colour–shape combinations never trained on at all
(shapes.world.HELDOUT_COMBOS: every yellow triangle, ...).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import torch

from shapes.judge import JudgeReport, judge_prompts
from shapes.world import SceneLabel, Scenes, make_scenes, parse_caption

HELDOUT_ONE_IN = 6
SHOWCASE = ("a red circle above a blue square",)  # the README's prompt: always trained on, never among the judged
GROUPS = ("single", "pair", "unseen")  # single-object prompts, two-object relational prompts, unseen combinations


def scene_key(label: SceneLabel) -> str:
    """What a scene holds, whatever the phrasing: its objects (colour, shape, region), sorted."""
    return "|".join(sorted(f"{o.colour} {o.shape} {o.region}" for o in label.objects))


def kept_out(label: SceneLabel) -> bool:
    """Whether this scene is never trained on (the same answer on every machine). The showcase prompts' scenes are
    always trained on: `katas generate "a red circle above a blue square"` should draw what the README promises."""
    if any(label.same_scene(parse_caption(p)) for p in SHOWCASE):
        return False
    return zlib.crc32(scene_key(label).encode()) % HELDOUT_ONE_IN == 0


def training_scenes(n: int, seed: int = 1, size: int = 16) -> Scenes:
    """n training scenes of every kind, none of them kept out (their combinations from the train split)."""
    scenes = make_scenes(int(n * 1.3) + 100, seed=seed, split="train", size=size)
    keep = torch.tensor([not kept_out(label) for label in scenes.labels()])
    index = keep.nonzero().squeeze(1)[:n]
    if len(index) < n:
        raise RuntimeError(f"only {len(index)} of {n} scenes left after keeping some out")
    return Scenes(scenes.images[index], [scenes.captions[i] for i in index.tolist()], scenes.kind[index],
                  scenes.colour[index], scenes.shape[index], scenes.region[index], scenes.relation[index])  # fmt: skip


@dataclass(frozen=True)
class PromptSet:
    """The prompts of each group, as captions."""

    single: list[str]
    pair: list[str]
    unseen: list[str]

    def all(self) -> list[str]:
        return [*self.single, *self.pair, *self.unseen]


def judged_prompts(n_single: int = 64, n_pair: int = 128, n_unseen: int = 64, seed: int = 2) -> PromptSet:
    """Prompts of scenes kept out of training (single: one object, centred or placed; pair: two
    objects and a relation), and prompts of combinations never trained on (every kind)."""
    fresh = make_scenes(20_000, seed=seed, split="train")
    out = {"single": [], "pair": []}
    for caption, label in zip(fresh.captions, fresh.labels()):
        group = "pair" if label.kind == "pair" else "single"
        if kept_out(label) and len(out[group]) < (n_pair if group == "pair" else n_single):
            out[group].append(caption)
    unseen = make_scenes(n_unseen, seed=seed + 1, split="heldout").captions
    return PromptSet(out["single"], out["pair"], unseen)


def judge_groups(images: torch.Tensor, prompts: PromptSet) -> dict[str, JudgeReport]:
    """The judge's report per group, for images (N, 3, S, S) in [0, 1] drawn for prompts.all() in order."""
    reports, start = {}, 0
    for group in GROUPS:
        chunk = getattr(prompts, group)
        reports[group] = judge_prompts(images[start : start + len(chunk)], chunk)
        start += len(chunk)
    return reports

