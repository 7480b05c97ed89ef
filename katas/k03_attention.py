"""Kata 03: Attention: a stable softmax and scaled dot-product attention.

Attention lets every position look at every other position and take a weighted average of
what it finds. Each query q asks a question; it scores every key k by a dot product, turns the
scores into weights with a softmax, and returns the weighted sum of the values v
(Vaswani et al. 2017, "Attention Is All You Need", §3.2.1, Eq. 1):

    Attention(Q, K, V) = softmax(Q Kᵀ / √d) V

Here Q, K and V are given; in a model they are learned linear projections of the token
features (kata 04: Q = x W_Q, K = x W_K, V = x W_V, one row per token).

Dividing by √d keeps the scores' variance near 1 whatever the width d, so the softmax does
not saturate. A mask says which keys each query may see: a causal mask hides the future
(for a decoder), a padding mask hides the padding.

The convention for every mask in these katas: a boolean tensor, True where attending is
allowed, False where it is not (the same as `torch.nn.functional.scaled_dot_product_attention`).

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    ...: any leading dimensions (batch, heads)   Tq: queries   Tk: keys   D: query/key width
    Dv: value width
"""

from __future__ import annotations

import math

import torch


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """softmax(x)_i = exp(x_i) / Σ_j exp(x_j) along `dim`, computed without overflow.

    x: any shape; entries may be -inf (masked), but every slice along `dim` has a finite one.
    Returns the same shape, each slice along `dim` summing to 1.
    """
    # TODO 03.1 (about 1 line): subtract the maximum along `dim` from x (keep the dimension so it broadcasts).
    raise NotImplementedError("blank 03.1 is not filled in yet")
    # TODO 03.2 (about 2 lines): exponentiate, and divide by the sum along `dim`.
    raise NotImplementedError("blank 03.2 is not filled in yet")


def causal_mask(T: int) -> torch.Tensor:
    """The mask of a decoder: position i may attend to positions 0..i, never to the future.

    Returns (T, T) bool, True on and below the diagonal.
    """
    # TODO 03.3 (about 1 line): a (T, T) boolean tensor, True where key index <= query index.
    raise NotImplementedError("blank 03.3 is not filled in yet")


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention(Q, K, V) = softmax(Q Kᵀ / √D) V   (Vaswani et al. 2017, Eq. 1).

    q: (..., Tq, D)   k: (..., Tk, D)   v: (..., Tk, Dv)
    mask: bool, broadcastable to (..., Tq, Tk), True where query may attend to key; or None.
    Returns (out, weights): out (..., Tq, Dv), weights (..., Tq, Tk) with rows summing to 1.
    """
    D = q.shape[-1]
    # TODO 03.4 (about 1 line): the scores: every query dotted with every key, divided by √D.
    raise NotImplementedError("blank 03.4 is not filled in yet")
    if mask is not None:
        # TODO 03.5 (about 1 line): set the scores where the mask is False to -inf, so they get zero weight.
        raise NotImplementedError("blank 03.5 is not filled in yet")
    # TODO 03.6 (about 2 lines): softmax over the keys (use yours), then the weighted sum of the values.
    raise NotImplementedError("blank 03.6 is not filled in yet")
    return out, weights
