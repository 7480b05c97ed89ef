"""Kata 08's pictures: what the temperature does to CLIP's logits and loss (on embeddings made by
hand, no training), and, with milestone clip's weights, the similarity matrix of scenes and
captions and zero-shot classification."""

from __future__ import annotations

import math

import torch

from pictures import plot
from pictures.checkpoints import run_first
from shapes.world import COLOURS, KINDS, SHAPES, VOCABULARY, make_scenes

TEMPERATURES = (1.0, 1 / 0.07, 100.0)  # exp(t): none, CLIP's start, CLIP's cap


def distinct_scenes(n: int = 8):
    """n held-out scenes with n different captions: (images (n, 3, 16, 16), captions, labels)."""
    scenes = make_scenes(64, seed=2, split="train")
    chosen, seen = [], set()
    for i, caption in enumerate(scenes.captions):
        if caption not in seen and len(chosen) < n:
            chosen.append(i)
            seen.add(caption)
    return scenes.images[chosen], [scenes.captions[i] for i in chosen], [scenes.label(i) for i in chosen]


def by_hand(labels, generator: torch.Generator) -> torch.Tensor:
    """An embedding that knows a scene's kind, colours and shapes (one-hot), plus noise: (n, E)."""
    rows = []
    for label in labels:
        parts = [torch.eye(len(KINDS))[KINDS.index(label.kind)]]
        for weight, obj in zip((1.0, 0.7), (label.objects[0], label.objects[-1])):
            parts += [weight * torch.eye(len(COLOURS))[COLOURS.index(obj.colour)],
                      weight * torch.eye(len(SHAPES))[SHAPES.index(obj.shape)]]  # fmt: skip
        rows.append(torch.cat(parts))
    emb = torch.stack(rows)
    return emb + 0.25 * torch.randn(emb.shape, generator=generator)


def draw(mods, show) -> None:
    clip = mods.clip
    images, captions, labels = distinct_scenes()
    generator = torch.Generator().manual_seed(0)
    image_emb, text_emb = by_hand(labels, generator), by_hand(labels, generator)  # two noisy views of the same facts

    fig = plot.figure(16, 6.6, f"clip_logits and clip_loss ({show.whose}) on embeddings made by hand (each scene's kind, "
                               "colours and shapes, plus noise; no training): the temperature sharpens the softmax")  # fmt: skip
    for k, (ax, temperature) in enumerate(zip(fig.subplots(1, 3), TEMPERATURES)):
        logits = clip.clip_logits(image_emb, text_emb, torch.tensor(math.log(temperature)))  # (images, captions)
        probability = logits.T.softmax(dim=1)  # each caption's softmax over the images
        plot.heat(ax, probability, None, cmap="viridis", vmin=0, vmax=1, colorbar=False)
        plot.values(ax, probability, fontsize=6, threshold=0.5)
        ax.set_xticks([])
        ax.set_yticks(range(8), captions if k == 0 else [""] * 8, fontsize=7)
        ax.set_xlabel(f"exp(t) = {temperature:.3g}: clip_loss {float(clip.clip_loss(logits)):.3f}", fontsize=9)
        plot.thumbnails_above(ax, images)
    show.save(fig, "temperature")

    state = show.trained("clip")
    if state is None:
        show.note(f"No clip checkpoint fits, so no trained similarity matrix. {run_first('clip')}")
        return
    trained_pictures(mods, show, state, images, captions)


def trained_pictures(mods, show, state: dict, images: torch.Tensor, captions: list[str]) -> None:
    tok, clip = mods.tokenizer, mods.clip
    vocab = tok.build_vocab([" ".join(VOCABULARY)])
    max_len = state["text.positions.weight"].shape[0]
    model = clip.CLIP(clip.CLIPConfig(text=mods.transformer.TextEncoderConfig(vocab_size=len(vocab), max_len=max_len)))
    model.load_state_dict(state)
    model.to(show.device).eval()
    tokens = tok.pad_batch([tok.encode(c, vocab) for c in captions])
    with torch.no_grad():
        logits = model(images.to(show.device), tokens.to(show.device)).cpu()  # (images, captions)
    probability = logits.T.softmax(dim=1)  # (captions, images)
    fig = plot.figure(9.5, 7.6, f"CLIP with milestone clip's weights ({show.whose}): each caption's softmax over 8 "
                                "held-out scenes")  # fmt: skip
    ax = fig.subplots()
    plot.heat(ax, probability, None, vmin=0, vmax=1, colorbar=False)
    plot.values(ax, probability, fontsize=7, threshold=0.5)
    ax.set_xticks([])
    ax.set_yticks(range(8), captions, fontsize=8)
    plot.thumbnails_above(ax, images)
    show.save(fig, "similarity")

    classes = [f"a {c} {s}" for c in COLOURS for s in SHAPES]
    singles = make_scenes(16, seed=5, split="all", kinds=("single",))
    class_tokens = tok.pad_batch([tok.encode(c, vocab) for c in classes])
    with torch.no_grad():
        picked = clip.zero_shot_classify(model, singles.images.to(show.device), class_tokens.to(show.device)).cpu()
    said = [classes[int(k)] for k in picked]
    right = sum(s == c for s, c in zip(said, singles.captions))
    fig = plot.figure(14, 4.6, f"zero_shot_classify among the 12 prompts 'a <colour> <shape>' ({show.whose}, milestone "
                               f"clip's weights): {right} of 16 right")  # fmt: skip
    for i, ax in enumerate(fig.subplots(2, 8).flatten()):
        plot.image(ax, singles.images[i], said[i] + ("" if said[i] == singles.captions[i] else "  ✗"), fontsize=8)
        if said[i] != singles.captions[i]:
            ax.title.set_color("red")
    show.save(fig, "zero_shot")
