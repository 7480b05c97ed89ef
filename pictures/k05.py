"""Kata 05's picture: inside the text encoder: each layer's attention heads over a caption, the
token features it ends with, and the pooled vector that padding does not change."""

from __future__ import annotations

import torch

from pictures import plot
from pictures.checkpoints import text_encoder
from pictures.hooks import attention_weights
from shapes.world import VOCABULARY

CAPTIONS = ["a red circle above a blue square", "a green triangle"]


def draw(mods, show) -> None:
    tok = mods.tokenizer
    vocab = tok.build_vocab([" ".join(VOCABULARY)])  # the milestones' vocabulary
    encoder, source = text_encoder(mods, show)
    if encoder is None:
        torch.manual_seed(0)
        encoder = mods.transformer.TextEncoder(mods.transformer.TextEncoderConfig(vocab_size=len(vocab))).eval()
        show.note("No trained text encoder: these are random weights. A checkpoint of milestone clip (or text2image) "
                  "shows what training makes of the attention (`nox -s milestone-clip -- --reference`, about 2 minutes).")  # fmt: skip
        whose_weights = "random weights"
    else:
        whose_weights = f"weights of milestone {source}'s CLIP text tower"
    tokens = tok.pad_batch([tok.encode(c, vocab) for c in CAPTIONS])  # (2, T): the short caption padded
    words = [w for w, i in sorted(vocab.items(), key=lambda item: item[1])]
    names = [words[i] for i in tokens[0].tolist()]
    with torch.no_grad(), attention_weights(mods) as seen:
        features, pooled = encoder(tokens)  # (2, T, D), (2, D); one attention per layer
    with torch.no_grad():
        _, alone = encoder(tokens[1:, : len(tok.encode(CAPTIONS[1], vocab))])  # the short caption, unpadded
    gap = float((pooled[1] - alone[0]).abs().max())
    layers = len(seen)

    fig = plot.figure(16, 3.4 * layers + 0.6, f"TextEncoder ({whose_weights}; {show.whose}): '{CAPTIONS[0]}'. "
                                              f"Pooled vector of '{CAPTIONS[1]}' padded to {tokens.shape[1]} tokens vs alone: "
                                              f"max difference {gap:.1e}")  # fmt: skip
    left, right = fig.subfigures(1, 2, width_ratios=[4, 1.1])
    heads = seen[0].shape[1]
    axes = left.subplots(layers, heads, squeeze=False)
    for layer, weights in enumerate(seen):
        for h in range(heads):
            ax = axes[layer][h]
            plot.heat(ax, weights[0, h], f"layer {layer + 1}, head {h + 1}", cmap="Blues", vmin=0, vmax=1, colorbar=False)
            plot.labels(ax, names if h == 0 else [""] * len(names), names if layer == layers - 1 else [""] * len(names),
                        fontsize=7)  # fmt: skip
    ax = right.subplots()
    plot.signed_heat(ax, features[0], "the token features (T, D) after the final LayerNorm")
    plot.labels(ax, names)
    ax.set_xlabel("feature", fontsize=8)
    show.save(fig, "text_encoder")
