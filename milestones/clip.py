"""Milestone clip (after kata 08): your CLIP, on your tokenizer (kata 01), your text encoder
(kata 05) and your ViT (kata 06), learns which caption goes with which scene.

The figure: caption retrieval top-1 on 1,000 held-out scenes (another seed): for each scene,
every distinct caption of those scenes is a candidate, and the one CLIP scores highest must
say what the scene holds (the equivalent phrasing of a pair counts). Pairs make it hard: "a red
circle above a blue square" and "a blue circle above a red square" differ only in which
colour goes with which shape. Beside it: per kind, and on combinations never trained on.
"""

from __future__ import annotations

from pathlib import Path

import torch

from milestones.runner import Spec
from milestones.text import batch_of, says_the_scene, share, tokenized_scenes
from shapes.grid import save_grid, save_matrix
from shapes.world import KINDS


def build(mods, data) -> torch.nn.Module:
    config = mods.clip.CLIPConfig(
        vision=mods.vit.ViTConfig(), text=mods.transformer.TextEncoderConfig(vocab_size=len(data.vocab), max_len=data.max_len)
    )
    return mods.clip.CLIP(config)


def loss(mods, model, batch) -> torch.Tensor:
    images, tokens = batch
    return mods.clip.clip_loss(model(images, tokens))


def retrieve(mods, model, scenes, tokens: torch.Tensor, device) -> tuple[list[bool], list[str]]:
    """For each scene, the candidate caption (among the distinct ones of `scenes`) CLIP ranks first."""
    distinct = sorted(set(scenes.captions))
    rows = {c: i for i, c in enumerate(scenes.captions)}
    text = torch.cat([model.encode_text(tokens[[rows[c] for c in chunk]].to(device)).cpu()
                      for chunk in _chunks(distinct, 250)])  # fmt: skip
    image = torch.cat([model.encode_image(chunk.to(device)).cpu() for chunk in scenes.images.split(250)])
    logits = mods.clip.clip_logits(image, text, model.log_temperature.detach().cpu())  # (N, candidates)
    best = [distinct[i] for i in logits.argmax(dim=1).tolist()]
    return [says_the_scene(c, truth) for c, truth in zip(best, scenes.labels())], best


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def evaluate(mods, model, data, out: Path, device) -> tuple[float, dict, list[Path]]:
    right, best = retrieve(mods, model, data.fresh, data.fresh_tokens, device)
    right_unseen, _ = retrieve(mods, model, data.unseen, data.unseen_tokens, device)
    kinds = [KINDS[k] for k in data.fresh.kind]
    details = {
        "candidates": len(set(data.fresh.captions)),
        "heldout_scenes_by_kind": {kind: share([r for r, k in zip(right, kinds) if k == kind]) for kind in KINDS},
        "unseen_combinations": share(right_unseen),
    }
    pngs = [similarity_png(mods, model, data, out / "similarity.png", device),
            save_grid(data.fresh.images[:32], [c if ok else f"{c} (wrong)" for c, ok in zip(best[:32], right[:32])],
                      out / "retrieved_captions.png")]  # fmt: skip
    return share(right), details, pngs


def similarity_png(mods, model, data, path: Path, device, n: int = 8) -> Path:
    """The similarity matrix of n held-out scenes and their n captions: each caption's softmax over the scenes."""
    images, tokens = data.fresh.images[:n], data.fresh_tokens[:n]
    probs = model(images.to(device), tokens.to(device)).t().softmax(dim=1).cpu()  # (captions, scenes)
    return save_matrix(images, data.fresh.captions[:n], probs, path)


SPEC = Spec(
    name="clip",
    needs=("01", "08"),
    metric="retrieval_top1",
    says="caption retrieval top-1 on held-out scenes",
    goal=0.90,
    steps=1200,
    minutes="about 2 minutes",
    make_data=tokenized_scenes,
    build=build,
    loss=loss,
    batch=batch_of,
    train_size=lambda data: len(data.train),
    evaluate=evaluate,
)
