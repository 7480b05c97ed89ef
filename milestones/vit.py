"""Milestone vit (after kata 06): your ViT learns to read the colour, shape and position of a
one-object scene.

One ViT, three read-outs: its K = 4 + 3 + 5 logits are cut into colour, shape and region
groups, each a softmax of its own. The figure: the share of attributes it reads right on
2,000 held-out scenes (drawn with another seed, never trained on). Reported beside it, not
in the figure: the same on colour–shape combinations it never saw at all (every yellow
triangle, blue circle and green square is kept out of training): whether it composes what it
learned apart. The PNG shows those.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F

from milestones.runner import Spec
from shapes.grid import save_grid
from shapes.world import COLOURS, REGIONS, SHAPES, make_scenes

KINDS = ("single", "position")  # one object: in the centre, or in a named half
GROUPS = {"colour": len(COLOURS), "shape": len(SHAPES), "region": len(REGIONS)}


def make_data(mods) -> SimpleNamespace:
    return SimpleNamespace(
        train=make_scenes(20_000, seed=1, split="train", kinds=KINDS),
        fresh=make_scenes(2_000, seed=2, split="train", kinds=KINDS),
        unseen=make_scenes(2_000, seed=3, split="heldout", kinds=KINDS),
    )


def build(mods, data) -> torch.nn.Module:
    return mods.vit.ViT(mods.vit.ViTConfig(num_classes=sum(GROUPS.values())))


def targets(scenes, indices=None) -> dict[str, torch.Tensor]:
    pick = slice(None) if indices is None else indices
    return {"colour": scenes.colour[pick, 0], "shape": scenes.shape[pick, 0], "region": scenes.region[pick, 0]}


def batch(data, indices: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    labels = {k: v.to(device) for k, v in targets(data.train, indices).items()}
    return data.train.images[indices].to(device), labels


def split_logits(logits: torch.Tensor) -> dict[str, torch.Tensor]:
    """logits (B, K) → {group: (B, classes of the group)}."""
    return dict(zip(GROUPS, logits.split(list(GROUPS.values()), dim=1)))


def loss(mods, model, batch) -> torch.Tensor:
    images, labels = batch
    groups = split_logits(model(images))
    return sum(F.cross_entropy(groups[g], labels[g]) for g in GROUPS)


def predict(model, images: torch.Tensor, device: torch.device) -> dict[str, torch.Tensor]:
    logits = torch.cat([model(chunk.to(device)).cpu() for chunk in images.split(500)])
    return {g: x.argmax(dim=1) for g, x in split_logits(logits).items()}


def accuracies(model, scenes, device) -> dict[str, float]:
    predicted, truth = predict(model, scenes.images, device), targets(scenes)
    right = {g: predicted[g] == truth[g] for g in GROUPS}
    out = {g: r.float().mean().item() for g, r in right.items()}
    out["all three"] = torch.stack(list(right.values())).all(dim=0).float().mean().item()
    return out


def evaluate(mods, model, data, out: Path, device) -> tuple[float, dict, list[Path]]:
    fresh, unseen = accuracies(model, data.fresh, device), accuracies(model, data.unseen, device)
    figure = sum(fresh[g] for g in GROUPS) / len(GROUPS)
    scenes = data.unseen
    shown = scenes.images[:32]
    predicted = predict(model, shown, device)
    captions = []
    for i in range(len(shown)):
        said = f"{COLOURS[predicted['colour'][i]]} {SHAPES[predicted['shape'][i]]} {REGIONS[predicted['region'][i]]}"
        truth = f"{COLOURS[scenes.colour[i, 0]]} {SHAPES[scenes.shape[i, 0]]} {REGIONS[scenes.region[i, 0]]}"
        captions.append(said if said == truth else f"{said} (wrong: it is {truth})")
    png = save_grid(shown, captions, out / "unseen_combinations.png")
    details = {"heldout_scenes": fresh, "unseen_combinations": unseen}
    return figure, details, [png]


SPEC = Spec(
    name="vit",
    needs=("06",),
    metric="accuracy",
    says="held-out attribute accuracy",
    goal=0.95,
    steps=600,
    minutes="about 1 minute",
    make_data=make_data,
    build=build,
    loss=loss,
    batch=batch,
    train_size=lambda data: len(data.train),
    evaluate=evaluate,
)
