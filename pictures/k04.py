"""Kata 04's picture: what each head of a multi-head attention looks at, in self-attention with a
causal mask and in cross-attention to a padded context."""

from __future__ import annotations

import torch

from pictures import plot
from pictures.hooks import attention_weights

D, HEADS = 32, 4
WORDS = "<bos> a red circle above a blue square".split()
CONTEXT = "<bos> a red circle <eos> <pad> <pad>".split()


def embed(words: list[str], pe: torch.Tensor) -> torch.Tensor:
    """One random vector per distinct word, plus its position: (1, T, D)."""
    generator = torch.Generator().manual_seed(0)
    table = {w: torch.randn(D, generator=generator) for w in sorted(set(WORDS + CONTEXT))}
    return (torch.stack([table[w] for w in words]) + 0.5 * pe[: len(words)])[None]


def draw(mods, show) -> None:
    torch.manual_seed(0)
    mha = mods.multihead.MultiHeadAttention(D, HEADS)
    cross = mods.multihead.MultiHeadAttention(D, HEADS, context_dim=D)
    pe = mods.embeddings.sinusoidal_positions(len(WORDS), D)
    x, context = embed(WORDS, pe), embed(CONTEXT, pe)
    causal = mods.attention.causal_mask(len(WORDS))  # (Tq, Tq): one pattern for the batch
    key_padding = torch.tensor([w != "<pad>" for w in CONTEXT])[None, None, :]  # (B, 1, Tk)
    with torch.no_grad(), attention_weights(mods) as seen:
        out_self = mha(x, mask=causal)
        out_cross = cross(x, context, mask=key_padding)
    self_weights, cross_weights = seen[0][0], seen[1][0]  # (H, Tq, Tk) each

    fig = plot.figure(16, 8.4, f"MultiHeadAttention, {HEADS} heads of width {D // HEADS} (random weights, seeded; "
                               f"{show.whose}): outputs {tuple(out_self.shape)} and {tuple(out_cross.shape)}")  # fmt: skip
    rows = fig.subfigures(2, 1)
    rows[0].suptitle("self-attention with causal_mask (Tq, Tk): each head its own pattern, none sees the future", fontsize=10)
    rows[1].suptitle("cross-attention to a context padded to 7 tokens, key padding mask (B, 1, Tk): no head reads <pad>",
                     fontsize=10)  # fmt: skip
    for row, weights, keys, allowed in ((rows[0], self_weights, WORDS, causal),
                                        (rows[1], cross_weights, CONTEXT, key_padding[0].expand(len(WORDS), -1))):  # fmt: skip
        for h, ax in enumerate(row.subplots(1, HEADS)):
            plot.heat(ax, weights[h], f"head {h + 1}", cmap="Blues", vmin=0, vmax=1, colorbar=False)
            plot.masked_cells(ax, allowed)
            plot.values(ax, weights[h], hide=~allowed, fontsize=5.5, threshold=0.5, dark="high")
            plot.labels(ax, WORDS if h == 0 else [""] * len(WORDS), keys, fontsize=7)
    show.save(fig, "heads")
