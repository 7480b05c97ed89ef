"""Kata 16: Text conditioning: the U-Net reads the prompt through cross-attention.

Kata 13's U-Net draws *a* scene; to draw *the* scene a prompt describes, the prompt has to
reach it. Stable Diffusion (Rombach et al. 2022, §3.3) does it with cross-attention: at the
U-Net's attention levels, every pixel (an image token, a C-vector) asks the prompt's tokens
(the text encoder's features, kata 05) what to draw there. The layer is a **spatial
transformer**, a Transformer block (kata 05) run on the pixels as tokens:

    x ── GroupNorm, 1×1 conv ── pixels as tokens (B, H·W, C)
             h = h + SelfAttention(LayerNorm(h))                 pixels look at each other
             h = h + CrossAttention(LayerNorm(h), text, mask)    pixels read the prompt
             h = h + FeedForward(LayerNorm(h))
         ── back to (B, C, H, W), 1×1 conv ── added to x

The queries come from the pixels, the keys and values from the text: kata 04's
MultiHeadAttention with a context. The prompt's padding must never be read: the key padding
mask (B, 1, Tc) is True at real tokens, as in kata 05. ConditionalUNet is kata 13's U-Net with
this layer at every attention level; nothing else changes, since kata 13 already hands every
attention layer the context and its mask.

**Condition dropout** (Ho & Salimans 2022) prepares for classifier-free guidance (kata 17):
while training, each caption is replaced by the empty caption ("", just <bos> <eos>) with a
small probability p (0.1), so one network learns both ε(x_t, t, prompt) and ε(x_t, t, nothing).
Only training drops captions; sampling always gives the prompt (and the empty caption beside
it, for guidance).

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: channels   H, W: height and width
    N = H·W: the pixels as tokens, row by row (token i·W + j is pixel (i, j))
    T, Tc: caption length (tokens)   Dc: width of the text features
"""

from __future__ import annotations

import torch
from torch import nn

from k01_tokenizer import BOS_ID, EOS_ID, PAD_ID
from k04_multihead import MultiHeadAttention
from k05_transformer import FeedForward, LayerNorm
from k13_unet import UNet, UNetConfig


class SpatialTransformer(nn.Module):
    """A Transformer block on the pixels: self-attention, cross-attention to the prompt, feed-forward."""

    def __init__(self, channels: int, context_dim: int, n_heads: int = 4, groups: int = 8) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.proj_in = nn.Conv2d(channels, channels, 1)
        self.ln1 = LayerNorm(channels)
        self.self_attn = MultiHeadAttention(channels, n_heads)
        self.ln2 = LayerNorm(channels)
        self.cross_attn = MultiHeadAttention(channels, n_heads, context_dim)  # queries: C wide; keys, values: from Dc
        self.ln3 = LayerNorm(channels)
        self.ff = FeedForward(channels, 4 * channels)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor, context: torch.Tensor, context_mask: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, C, H, W)   context: (B, Tc, Dc) text features   context_mask: (B, 1, Tc) bool, True at real tokens
        Returns (B, C, H, W)."""
        B, C, H, W = x.shape
        # TODO 16.1 (about 1 line): GroupNorm and proj_in, then the pixels as a sequence of tokens (B, N, C), row by row (token i·W + j is pixel (i, j)).
        raise NotImplementedError("blank 16.1 is not filled in yet")
        # TODO 16.2 (about 2 lines): pre-norm self-attention among the pixels, then pre-norm cross-attention to the context with its mask, each added back.
        raise NotImplementedError("blank 16.2 is not filled in yet")
        # TODO 16.3 (about 2 lines): pre-norm feed-forward added back; then the tokens back to (B, C, H, W), proj_out, and x added back.
        raise NotImplementedError("blank 16.3 is not filled in yet")


class ConditionalUNet(UNet):
    """Kata 13's U-Net with a SpatialTransformer at each attention level (config.context_dim must be set)."""

    def __init__(self, config: UNetConfig) -> None:
        if config.context_dim is None:
            raise ValueError("ConditionalUNet reads text: set UNetConfig(context_dim=...) to the text features' width")
        super().__init__(config)

    def attention(self, channels: int) -> nn.Module:
        # TODO 16.4 (about 1 line): a SpatialTransformer for this level's channels, reading text of width config.context_dim.
        raise NotImplementedError("blank 16.4 is not filled in yet")


def empty_caption(batch_size: int, length: int) -> torch.Tensor:
    """The empty caption "" encoded (kata 01: <bos> <eos>) and padded to `length`, B times.  Returns (B, T) long."""
    # TODO 16.5 (about 3 lines): a (B, T) long tensor of <pad>, with <bos> in column 0 and <eos> in column 1.
    raise NotImplementedError("blank 16.5 is not filled in yet")


def drop_condition(tokens: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each caption replaced by the empty caption with probability p, independently (a new tensor).

    tokens: (B, T) long, padded, T ≥ 2, on the CPU (drop before moving a batch to a GPU)  →  (B, T) long
    """
    # TODO 16.6 (about 3 lines): one uniform draw per caption (with the generator); where it is below p, the row becomes the empty caption.
    raise NotImplementedError("blank 16.6 is not filled in yet")
