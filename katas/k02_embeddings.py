"""Kata 02: Embeddings: token vectors and the positions a Transformer needs.

A Transformer sees a sentence as a set: attention has no idea which word came first. Two
tables fix that. A token embedding turns each token ID into a learned vector; a positional
encoding adds to it a vector that depends only on the position. Vaswani et al. (2017) use
fixed sinusoids (§3.5):

    PE[pos, 2i]   = sin(pos / 10000^(2i / D))
    PE[pos, 2i+1] = cos(pos / 10000^(2i / D))

so each pair of dimensions is a clock ticking at its own rate, from 1 radian per position
(i = 0) down to 1/10000^((D-2)/D) (i = D/2 - 1, just above 1/10000); learned positions (as
in BERT, GPT and CLIP) are simply a second table, one row per position.

The token vectors are added to the positions, so their scales must match. Vaswani et al.
multiply the embedding weights by √D (§3.4), bringing them to the scale of the sinusoids
(entries between -1 and 1); here the table starts as randn / √D, so the product's entries
start near unit variance. The learned positions start at unit variance too: were they much
smaller, a model trained for minutes would hardly see word order ("a red circle above a blue
square" and "a blue square above a red circle" hold the same words).

The blanks: the token lookup (02.1), the clock rates (02.2), the sin/cos table (02.3), and
adding learned positions (02.4).

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   T: sequence length   D: embedding width   V: vocabulary size
"""

from __future__ import annotations

import math

import torch
from torch import nn


class TokenEmbedding(nn.Module):
    """A learned vector per token ID, scaled by √D as in Vaswani et al. §3.4."""

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.weight = nn.Parameter(torch.randn(vocab_size, dim) / math.sqrt(dim))  # (V, D), times √D: variance ~1

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: (B, T) long  →  (B, T, D): row tokens[b, t] of the table, times √D."""
        # TODO 02.1 (about 1 line): look up each token's row of self.weight and multiply by √D.
        raise NotImplementedError("blank 02.1 is not filled in yet")


def sinusoid_frequencies(D: int) -> torch.Tensor:
    """The D/2 angular frequencies of the sinusoids, one per pair of dimensions (Vaswani et al. §3.5).

    Returns (D/2,) float32: freqs[i] = 1 / 10000^(2i/D) for i = 0 .. D/2 - 1, from 1 down to 1/10000^((D-2)/D).
    """
    # TODO 02.2 (about 1 line): return the D/2 frequencies 1 / 10000^(2i/D), float32, shape (D/2,).
    raise NotImplementedError("blank 02.2 is not filled in yet")


def sinusoidal_positions(T: int, D: int) -> torch.Tensor:
    """The fixed positional encodings of Vaswani et al. §3.5, for positions 0..T-1.

    Returns (T, D) float32: PE[pos, 2i] = sin(pos / 10000^(2i/D)), PE[pos, 2i+1] = cos(same). D even.
    """
    if D % 2:
        raise ValueError(f"D must be even, got {D}")
    position = torch.arange(T, dtype=torch.float32)[:, None]  # (T, 1)
    angles = position * sinusoid_frequencies(D)  # (T, D/2): angles[pos, i] = pos / 10000^(2i/D)
    pe = torch.zeros(T, D)
    # TODO 02.3 (about 2 lines): write sin(angles) into the even columns of pe and cos(angles) into the odd ones.
    raise NotImplementedError("blank 02.3 is not filled in yet")
    return pe


class LearnedPositions(nn.Module):
    """A learned vector per position (as in BERT, GPT-2 and CLIP), added to the input."""

    def __init__(self, max_len: int, dim: int) -> None:
        super().__init__()
        self.max_len = max_len
        # (max_len, D), at the scale of the token vectors. GPT-2's std of 0.02 suits its long training;
        # a small model trained for minutes barely moves it, and reads its text as a bag of words.
        self.weight = nn.Parameter(torch.randn(max_len, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, D) with T <= max_len  →  (B, T, D): x plus the vectors of positions 0..T-1."""
        T = x.shape[1]
        if T > self.max_len:
            raise ValueError(f"sequence of length {T} is longer than max_len={self.max_len}")
        # TODO 02.4 (about 1 line): add the first T rows of self.weight to x (broadcast over the batch).
        raise NotImplementedError("blank 02.4 is not filled in yet")
