"""Milestone caption (after kata 07): your captioner, on your tokenizer (kata 01) and your ViT
(kata 06), learns to describe scenes, and describes scenes it never saw.

The figure: the share of 1,000 held-out scenes (another seed) whose greedy caption states
exactly what the scene holds, word for word, or in the equivalent phrasing of a pair ("a red
circle above a blue square" = "a blue square below a red circle": the data uses both). Beside
it: the same per kind, and on colour–shape combinations never trained on.
"""

from __future__ import annotations

from pathlib import Path

import torch

from milestones.runner import Spec
from milestones.text import batch_of, says_the_scene, share, tokenized_scenes
from shapes.grid import save_grid
from shapes.world import KINDS


def build(mods, data) -> torch.nn.Module:
    config = mods.captioning.CaptionConfig(vocab_size=len(data.vocab), max_len=data.max_len + 1)
    return mods.captioning.CaptionModel(config)


def loss(mods, model, batch) -> torch.Tensor:
    images, tokens = batch
    return mods.captioning.caption_loss(model(images, tokens), tokens, mods.tokenizer.PAD_ID)


def captions_of(mods, model, images: torch.Tensor, data, device) -> list[str]:
    t = mods.tokenizer
    out = []
    for chunk in images.split(250):
        ids = mods.captioning.greedy_decode(model, chunk.to(device), t.BOS_ID, t.EOS_ID, t.PAD_ID, data.max_len)
        out += [t.decode(row.cpu(), data.vocab) for row in ids]
    return out


def exact(mods, model, scenes, data, device) -> tuple[list[bool], list[str]]:
    said = captions_of(mods, model, scenes.images, data, device)
    return [says_the_scene(c, truth) for c, truth in zip(said, scenes.labels())], said


def evaluate(mods, model, data, out: Path, device) -> tuple[float, dict, list[Path]]:
    right, said = exact(mods, model, data.fresh, data, device)
    right_unseen, said_unseen = exact(mods, model, data.unseen, data, device)
    kinds = [KINDS[k] for k in data.fresh.kind]
    details = {
        "heldout_scenes_by_kind": {kind: share([r for r, k in zip(right, kinds) if k == kind]) for kind in KINDS},
        "unseen_combinations": share(right_unseen),
    }
    marks = [c if ok else f"{c} (wrong)" for c, ok in zip(said, right)]
    pngs = [save_grid(data.fresh.images[:32], marks[:32], out / "heldout_captions.png"),
            save_grid(data.unseen.images[:16], said_unseen[:16], out / "unseen_combinations.png")]  # fmt: skip
    return share(right), details, pngs


SPEC = Spec(
    name="caption",
    needs=("01", "07"),
    metric="exact_match",
    says="exact-match captions on held-out scenes",
    goal=0.80,
    steps=1200,
    minutes="about 2 minutes",
    make_data=tokenized_scenes,
    build=build,
    loss=loss,
    batch=batch_of,
    train_size=lambda data: len(data.train),
    evaluate=evaluate,
)
