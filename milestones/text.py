"""Captions as the learner's own tokenizer (kata 01) makes them, shared by the milestones that read text."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from shapes.world import VOCABULARY, make_scenes, parse_caption


def tokenized_scenes(mods, n_train: int = 20_000, n_eval: int = 1_000) -> SimpleNamespace:
    """Scenes of every kind, their captions as (N, T) token tensors, the vocabulary: training scenes,
    held-out scenes (another seed) and scenes of combinations never trained on."""
    vocab = mods.tokenizer.build_vocab([" ".join(VOCABULARY)])
    data = SimpleNamespace(
        vocab=vocab,
        train=make_scenes(n_train, seed=1, split="train"),
        fresh=make_scenes(n_eval, seed=2, split="train"),
        unseen=make_scenes(n_eval, seed=3, split="heldout"),
    )
    for part in ("train", "fresh", "unseen"):
        captions = getattr(data, part).captions
        setattr(data, f"{part}_tokens", mods.tokenizer.pad_batch([mods.tokenizer.encode(c, vocab) for c in captions]))
    data.max_len = max(data.train_tokens.shape[1], data.fresh_tokens.shape[1], data.unseen_tokens.shape[1])
    return data


def says_the_scene(caption: str, truth) -> bool:
    """Whether a generated caption states exactly what the scene holds ("a red circle above a blue
    square" and "a blue square below a red circle" say the same); a caption that does not parse does not."""
    try:
        return parse_caption(caption).same_scene(truth)
    except ValueError:
        return False


def share(flags: list[bool]) -> float:
    return sum(flags) / max(len(flags), 1)


def batch_of(data, indices: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return data.train.images[indices].to(device), data.train_tokens[indices].to(device)
