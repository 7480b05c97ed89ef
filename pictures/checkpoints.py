"""A milestone's trained weights, for the pictures that only mean something with a trained model.

A checkpoint fits when its key (milestones/runner.py: the katas' code, the milestone's code, the
budget) is the one the milestone would make now, with the katas it would choose: yours where the
progress record says they pass, ours elsewhere (`--reference`), or ours throughout. A picture never
trains a milestone, and never grades: where nothing fits, it says which milestone to run.
"""

from __future__ import annotations

import importlib

import torch

from checker import progress
from checker.grading import PASSING
from milestones import MILESTONES
from milestones.runner import chain_of, checkpoint_key, choose_sources, out_dir


def fitting_state(name: str) -> dict | None:
    """The state dict of out/<name>/checkpoint.pt where it fits the milestone's default budget, else None."""
    path = out_dir(name) / "checkpoint.pt"
    if not path.exists():
        return None
    saved = torch.load(path, map_location="cpu", weights_only=True)
    spec = importlib.import_module(MILESTONES[name][0]).SPEC
    katas = chain_of(spec)
    data = progress.load()
    recorded = {k.number: (progress.cached(k, data) or {}).get("state") for k in katas}
    passing = {number: PASSING for number, state in recorded.items() if state == PASSING}
    for states in (passing, {}):  # what `--reference` would choose now; ours throughout
        if checkpoint_key(spec, choose_sources(katas, True, states), spec.steps) == saved.get("key"):
            return saved["state_dict"]
    return None


def part(state: dict, prefix: str) -> dict:
    """The entries of a sub-module: part(state, "text.") for model.text."""
    return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}


def run_first(name: str) -> str:
    """One line: which milestone to run for the trained version of a picture, and how long it takes."""
    spec = importlib.import_module(MILESTONES[name][0]).SPEC
    return f"Train one with `nox -s milestone-{name} -- --reference` ({spec.minutes}, on 2 CPU cores), then show again."


TEXT_TOWERS = (("clip", "text."), ("text2image", "text."), ("latent", "text."))  # where a trained text encoder is kept


def text_encoder(mods, show):
    """A text encoder (kata 05's TextEncoder, built from `mods`) with trained weights, and the
    milestone they come from: CLIP's text tower (milestone clip, or the one milestones text2image
    and latent train first). (None, None) where no checkpoint fits."""
    for name, prefix in TEXT_TOWERS:
        state = show.trained(name)
        if state is None:
            continue
        weights = part(state, prefix)
        max_len, dim = weights["positions.weight"].shape
        config = mods.transformer.TextEncoderConfig(vocab_size=weights["embed.weight"].shape[0], dim=dim, max_len=max_len)
        encoder = mods.transformer.TextEncoder(config)
        encoder.load_state_dict(weights)
        return encoder.eval(), name
    return None, None


def milestone_model(name: str, mods, show):
    """Milestone text2image's or latent's model (built from `mods`, so with the learner's code of
    the kata shown) with its checkpoint's weights, on show.device; None where no checkpoint fits."""
    from types import SimpleNamespace

    from shapes.world import VOCABULARY

    state = show.trained(name)
    if state is None:
        return None
    spec_module = importlib.import_module(MILESTONES[name][0])
    vocab = mods.tokenizer.build_vocab([" ".join(VOCABULARY)])  # what make_data builds, without its 30,000 scenes
    data = SimpleNamespace(vocab=vocab, max_len=state["text.positions.weight"].shape[0])
    model = spec_module.build(mods, data)
    model.load_state_dict(state)
    model.vocab = vocab
    return model.to(show.device).eval()
