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
    # BLANK 04.1 (about 1 line): view the last dimension as (H, Dh), then move the head dimension in front of T.
    # HINT: First split D into H groups of Dh (a view of the same data), then put H before T so each head is a (T, Dh) matrix.
    # HINT: x.view(B, T, H, Dh) splits the width; .transpose(1, 2) swaps T and H. A plain view to (B, H, T, Dh) would mix tokens up.
    # HINT: return x.view(B, T, n_heads, D // n_heads).transpose(1, 2)
    return x.view(B, T, n_heads, D // n_heads).transpose(1, 2)  # (B, H, T, Dh)
    # END BLANK 04.1


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """Join the heads again, the inverse of split_heads: x: (B, H, T, Dh)  →  (B, T, H*Dh)."""
    B, H, T, Dh = x.shape
    # BLANK 04.2 (about 1 line): move the head dimension back behind T, then flatten (H, Dh) into one width.
    # HINT: Undo split_heads in reverse order: first swap H and T back, then join the last two dimensions.
    # HINT: x.transpose(1, 2) is (B, T, H, Dh) but not contiguous in memory: .view fails on it; .reshape copies when it must.
    # HINT: return x.transpose(1, 2).reshape(B, T, H * Dh)
    return x.transpose(1, 2).reshape(B, T, H * Dh)  # (B, T, H*Dh)
    # END BLANK 04.2


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
        # BLANK 04.3 (about 4 lines): project the queries from x, the keys and values from the context (x itself when it is None).
        # HINT: Self-attention is cross-attention to yourself: when no context is given, use x as the context.
        # HINT: q = self.q_proj(x) is (B, Tq, D); k and v come from self.k_proj and self.v_proj applied to the context: (B, Tk, D).
        # HINT: context = x if context is None else context; q = self.q_proj(x); k = self.k_proj(context); v = self.v_proj(context)
        context = x if context is None else context
        q = self.q_proj(x)  # (B, Tq, D)
        k = self.k_proj(context)  # (B, Tk, D)
        v = self.v_proj(context)  # (B, Tk, D)
        # END BLANK 04.3
        q, k, v = (split_heads(t, self.n_heads) for t in (q, k, v))  # (B, H, Tq or Tk, Dh)
        if mask is not None:  # broadcastable to (B, Tq, Tk)
            # BLANK 04.4 (about 1 line): insert the head dimension just before (Tq, Tk), so the mask broadcasts against the scores (B, H, Tq, Tk).
            # HINT: Every head uses the same mask. Broadcasting lines shapes up from the right: Tq, Tk already sit last; H goes just before.
            # HINT: tensor.unsqueeze(dim) inserts a dimension of size 1; a negative dim counts from the right: 2-D and 3-D masks alike.
            # HINT: mask = mask.unsqueeze(-3)  turns (Tq, Tk) into (1, Tq, Tk) and (B, 1 or Tq, Tk) into (B, 1, 1 or Tq, Tk)
            mask = mask.unsqueeze(-3)  # (..., 1, Tq or 1, Tk)
            # END BLANK 04.4
        # BLANK 04.5 (about 2 lines): attend within each head (kata 03's attention), merge the heads, apply the output projection.
        # HINT: scaled_dot_product_attention works on any leading dimensions, so (B, H) are handled at once; keep its output, not its weights.
        # HINT: out, _ = scaled_dot_product_attention(q, k, v, mask) is (B, H, Tq, Dh); merge_heads makes it (B, Tq, D); then W_O.
        # HINT: out, _ = scaled_dot_product_attention(q, k, v, mask); return self.out_proj(merge_heads(out))
        out, _ = scaled_dot_product_attention(q, k, v, mask)  # (B, H, Tq, Dh)
        return self.out_proj(merge_heads(out))  # (B, Tq, D)
        # END BLANK 04.5
