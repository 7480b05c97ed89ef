"""Kata 03's picture: attention weights of a caption's tokens, with no mask, a causal mask and a padding mask."""

from __future__ import annotations

import torch

from pictures import plot

D = 16
SENTENCE = "<bos> a red circle above a blue square <eos>".split()
SHORT = "<bos> a green triangle <eos> <pad> <pad> <pad> <pad>".split()


def features(words: list[str], pe: torch.Tensor) -> torch.Tensor:
    """One random vector per distinct word (the same word, the same vector), plus its position: (T, D)."""
    generator = torch.Generator().manual_seed(0)
    table = {w: torch.randn(D, generator=generator) for w in sorted(set(SENTENCE + SHORT))}
    return torch.stack([table[w] for w in words]) * 1.2 + 0.8 * pe[: len(words)]


def draw(mods, show) -> None:
    att = mods.attention
    pe = mods.embeddings.sinusoidal_positions(len(SENTENCE), D)
    x = features(SENTENCE, pe)  # (T, D): queries and keys alike, as in self-attention
    big = torch.tensor([1000.0, 1001.0, 1002.0])
    stable = att.softmax(big)

    T = len(SENTENCE)
    causal = att.causal_mask(T)  # (T, T)
    y = features(SHORT, pe)
    padding = torch.tensor([w != "<pad>" for w in SHORT])[None, :].expand(T, T)  # key padding, the same for every query
    cases = [
        ("no mask: every token sees every token", SENTENCE, x, None),
        ("causal_mask: token i sees tokens 0..i", SENTENCE, x, causal),
        ("padding mask: no token sees <pad>", SHORT, y, padding),
    ]
    fig = plot.figure(16, 5.6, f"scaled_dot_product_attention weights, softmax(q kᵀ / √{D}) ({show.whose}); grey: masked.  "
                               f"softmax([1000, 1001, 1002]) = [{', '.join(f'{v:.2f}' for v in stable.tolist())}] "
                               "(exp(1000) alone overflows)")  # fmt: skip
    for ax, (title, words, z, mask) in zip(fig.subplots(1, 3), cases):
        _, weights = att.scaled_dot_product_attention(z, z, z, mask)  # (T, T)
        plot.heat(ax, weights, title, cmap="Blues", vmin=0, vmax=1, colorbar=False)
        if mask is not None:
            plot.masked_cells(ax, mask)
        plot.values(ax, weights, hide=None if mask is None else ~mask, fontsize=6.5, threshold=0.5, dark="high")
        plot.labels(ax, words, words)
        ax.set_xlabel("keys", fontsize=8)
        ax.set_ylabel("queries", fontsize=8)
    show.save(fig, "attention")
