"""Kata 04: Multi-head attention: self- and cross-attention.

One attention gives each query one weighted average: one way of deciding what matters.
Multi-head attention (Vaswani et al. 2017, §3.2.2) projects the input, cuts the width D into
H slices of Dh = D/H, runs one attention per slice ("head") side by side, and joins them:

    MultiHead(x, c) = Concat(head_1, ..., head_H) W_O,   head_h = Attention(x W_Q^h, c W_K^h, c W_V^h)

Each head can learn its own pattern (one follows the previous word, another the noun an
adjective belongs to), for the cost of a single attention of width D.

Self-attention: queries, keys and values all come from the same sequence x (c = x).
Cross-attention: the queries come from x, the keys and values from another sequence, the
context c, which has its own length Tk and width Dc. Later in the course the captioner's
words attend to image patches this way (kata 07), and the image tokens of the U-Net attend
to the text tokens of the prompt (kata 16): that is how the words steer the picture.

Masks follow one rule, kata 03's and torch.nn.functional.scaled_dot_product_attention's: a
mask is bool, True where a query may attend to a key, 2-D or 3-D, and BROADCASTABLE TO
(B, Tq, Tk). The three usual shapes:
    (B, 1, Tk)    key padding: the same keys hidden from every query (padding in the context)
    (Tq, Tk)      one pattern for the whole batch, e.g. a causal mask; (1, Tq, Tk) is the same
    (B, Tq, Tk)   one pattern per sequence
Broadcasting lines shapes up from the right, so a 2-D mask is always (Tq, Tk): key padding is
(B, 1, Tk), never (B, Tk). Every head uses the same mask: `forward` adds the head dimension.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   T: sequence length   Tq: queries   Tk: keys (context tokens)
    D: model width   Dc: context width   H: heads   Dh: width of one head (D / H)
"""

from __future__ import annotations

import torch
from torch import nn

from k03_attention import scaled_dot_product_attention


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Cut the width into heads: x: (B, T, D)  →  (B, H, T, Dh) with Dh = D / H.

    Head h gets the features h*Dh .. (h+1)*Dh - 1 of every token: out[:, h] = x[:, :, h*Dh:(h+1)*Dh].
    """
    B, T, D = x.shape
    if D % n_heads:
        raise ValueError(f"width {D} does not split into {n_heads} heads")
    # TODO 04.1 (about 1 line): view the last dimension as (H, Dh), then move the head dimension in front of T.
    raise NotImplementedError("blank 04.1 is not filled in yet")


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """Join the heads again, the inverse of split_heads: x: (B, H, T, Dh)  →  (B, T, H*Dh)."""
    B, H, T, Dh = x.shape
    # TODO 04.2 (about 1 line): move the head dimension back behind T, then flatten (H, Dh) into one width.
    raise NotImplementedError("blank 04.2 is not filled in yet")


class MultiHeadAttention(nn.Module):
    """Multi-head attention (Vaswani et al. §3.2.2): self-attention, or cross-attention to a context.

    dim: D, the width of x and of the output.   n_heads: H, dividing D.
    context_dim: Dc, the width of the context (None: the same as D).
    """

    def __init__(self, dim: int, n_heads: int, context_dim: int | None = None) -> None:
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"dim {dim} does not split into {n_heads} heads")
        context_dim = dim if context_dim is None else context_dim
        self.n_heads = n_heads
        self.q_proj = nn.Linear(dim, dim)  # W_Q of all heads side by side
        self.k_proj = nn.Linear(context_dim, dim)  # W_K
        self.v_proj = nn.Linear(context_dim, dim)  # W_V
        self.out_proj = nn.Linear(dim, dim)  # W_O

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """x: (B, Tq, D)   context: (B, Tk, Dc) or None (self-attention: the context is x)
        mask: bool, True where a query may attend to a key, broadcastable to (B, Tq, Tk); or None.
              Key padding (B, 1, Tk); one pattern for all, e.g. causal, (Tq, Tk); per sequence (B, Tq, Tk).
        Returns (B, Tq, D).
        """
        # TODO 04.3 (about 4 lines): project the queries from x, the keys and values from the context (x itself when it is None).
        raise NotImplementedError("blank 04.3 is not filled in yet")
        q, k, v = (split_heads(t, self.n_heads) for t in (q, k, v))  # (B, H, Tq or Tk, Dh)
        if mask is not None:  # broadcastable to (B, Tq, Tk)
            # TODO 04.4 (about 1 line): insert the head dimension just before (Tq, Tk), so the mask broadcasts against the scores (B, H, Tq, Tk).
            raise NotImplementedError("blank 04.4 is not filled in yet")
        # TODO 04.5 (about 2 lines): attend within each head (kata 03's attention), merge the heads, apply the output projection.
        raise NotImplementedError("blank 04.5 is not filled in yet")
