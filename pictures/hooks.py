"""Seeing inside a model: the attention weights every MultiHeadAttention computes (kata 04 calls
kata 03's scaled_dot_product_attention and keeps only its output; this keeps the weights too)."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def attention_weights(mods):
    """Within the block, every attention that kata 04's module runs appends its weights
    (B, H, Tq, Tk), detached and on the CPU, to the list this yields, in the order they ran."""
    module = mods.multihead
    original = module.scaled_dot_product_attention
    seen = []

    def recording(q, k, v, mask=None):
        out, weights = original(q, k, v, mask)
        seen.append(weights.detach().cpu())
        return out, weights

    module.scaled_dot_product_attention = recording
    try:
        yield seen
    finally:
        module.scaled_dot_product_attention = original
