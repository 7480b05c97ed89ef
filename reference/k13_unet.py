"""Kata 13: The U-Net: the denoiser, from kata 12's blocks.

A U-Net (Ronneberger et al. 2015; the DDPM denoiser, Ho et al. 2020 Appendix B) reads a noisy
image x_t and its timestep t and returns a tensor of the same shape: here the noise ε it
thinks was added (kata 14). Its shape is a U:

    16×16 ──ResBlock── skip ─────────────────────────────── cat ──ResBlock── 16×16 → out
      │ Downsample                                            ↑ Upsample
     8×8 ──ResBlock, attention── skip ────────── cat ──ResBlock, attention── 8×8
      │ Downsample                                ↑ Upsample
     4×4 ──ResBlock, attention── skip ── middle ── cat ──ResBlock, attention── 4×4
                                (ResBlock, attention, ResBlock)

- the **down path** halves the resolution level by level (more channels, a wider view);
- the **middle** works at the lowest resolution, where attention is cheap;
- the **up path** doubles it back, and at each level it concatenates (along the channels)
  what the down path kept at that resolution, the **skip connection**: the fine detail that
  the lowest resolution could not carry. Skips come back in reverse order (last kept, first
  used), and each is concatenated after the up path's own channels: torch.cat([h, skip], 1).

Every ResBlock gets the time vector (kata 11's TimeMLP of t). Every attention layer gets the
context and its mask (the prompt's tokens from kata 16 on; None here, and self-attention
ignores them): that is the one path by which text will reach this network. A level without
attention passes its input through (NoAttention). The output has the input's channels.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: image channels   H, W: height and width (divisible by 2^(levels−1))
    D: width of the time vector   Tc, Dc: the context's length and width (kata 16)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from k11_time_embedding import TimeMLP
from k12_unet_blocks import Downsample, ResBlock, SelfAttention2d, Upsample


@dataclass(frozen=True)
class UNetConfig:
    """A U-Net small enough for 16×16 scenes on a CPU: 16 → 8 → 4, attention at 8×8 and 4×4."""

    in_channels: int = 3
    channels: tuple[int, ...] = (32, 64, 64)  # the width of each level, from the top
    attention: tuple[bool, ...] = (False, True, True)  # an attention layer at that level?
    time_dim: int = 128
    groups: int = 8
    n_heads: int = 4
    context_dim: int | None = None  # the width of the text tokens, from kata 16 on


class NoAttention(nn.Module):
    """A level without attention: x passes through, the context is not used."""

    def forward(self, x: torch.Tensor, context=None, context_mask=None) -> torch.Tensor:
        return x


class UNet(nn.Module):
    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        c, levels = config.channels, len(config.channels)
        self.time = TimeMLP(c[0], config.time_dim)
        self.inc = nn.Conv2d(config.in_channels, c[0], 3, padding=1)
        self.down_blocks, self.down_attn, self.downsamples = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        ch = c[0]
        for i, width in enumerate(c):
            self.down_blocks.append(ResBlock(ch, width, config.time_dim, config.groups))
            self.down_attn.append(self.attention(width) if config.attention[i] else NoAttention())
            self.downsamples.append(Downsample(width) if i < levels - 1 else nn.Identity())
            ch = width
        self.mid1 = ResBlock(ch, ch, config.time_dim, config.groups)
        self.mid_attn = self.attention(ch)
        self.mid2 = ResBlock(ch, ch, config.time_dim, config.groups)
        self.up_blocks, self.up_attn, self.upsamples = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i in reversed(range(levels)):  # from the lowest level back up; each takes its skip (c[i] channels)
            self.up_blocks.append(ResBlock(ch + c[i], c[i], config.time_dim, config.groups))
            self.up_attn.append(self.attention(c[i]) if config.attention[i] else NoAttention())
            self.upsamples.append(Upsample(c[i]) if i > 0 else nn.Identity())
            ch = c[i]
        self.out_norm = nn.GroupNorm(config.groups, ch)
        self.out_conv = nn.Conv2d(ch, config.in_channels, 3, padding=1)

    def attention(self, channels: int) -> nn.Module:
        """The attention layer of a level: self-attention here; kata 16 makes it read the prompt."""
        return SelfAttention2d(channels, self.config.n_heads, self.config.groups)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        context: torch.Tensor | None = None,
        context_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x: (B, C, H, W) noisy images   t: (B,) long timesteps
        context: (B, Tc, Dc) text tokens or None   context_mask: (B, 1, Tc) bool, True at real tokens, or None
        Returns (B, C, H, W): the predicted noise.
        """
        # BLANK 13.1 (about 2 lines): the time vector from t, and the first conv of x.
        # HINT: Two inputs, two entry points: the timesteps go through the TimeMLP, the image through the input conv.
        # HINT: self.time(t) is (B, D), read by every ResBlock; self.inc(x) is (B, c[0], H, W).
        # HINT: temb = self.time(t); h = self.inc(x)
        temb = self.time(t)  # (B, D)
        h = self.inc(x)  # (B, c[0], H, W)
        # END BLANK 13.1
        skips = []
        # BLANK 13.2 (about 5 lines): the down path: at each level a ResBlock, its attention (with the context), keep h as a skip, then downsample.
        # HINT: Walk the three lists together: zip(self.down_blocks, self.down_attn, self.downsamples); the last level's "downsample" is an Identity.
        # HINT: block(h, temb); attn(h, context, context_mask); skips.append(h) before downsampling: the skip has this level's resolution.
        # HINT: for block, attn, down in zip(...): h = block(h, temb); h = attn(h, context, context_mask); skips.append(h); h = down(h)
        for block, attn, down in zip(self.down_blocks, self.down_attn, self.downsamples):
            h = block(h, temb)
            h = attn(h, context, context_mask)
            skips.append(h)  # (B, c[i], H_i, W_i)
            h = down(h)
        # END BLANK 13.2
        # BLANK 13.3 (about 3 lines): the middle: ResBlock, attention (with the context), ResBlock.
        # HINT: Three modules in a row at the lowest resolution: self.mid1, self.mid_attn, self.mid2.
        # HINT: ResBlocks take (h, temb); attention layers take (h, context, context_mask).
        # HINT: h = self.mid1(h, temb); h = self.mid_attn(h, context, context_mask); h = self.mid2(h, temb)
        h = self.mid1(h, temb)
        h = self.mid_attn(h, context, context_mask)
        h = self.mid2(h, temb)
        # END BLANK 13.3
        # BLANK 13.4 (about 5 lines): the up path: at each level concatenate the matching skip after h, then ResBlock, attention, upsample.
        # HINT: The skips come back last-in, first-out: the lowest level's skip first (skips.pop()).
        # HINT: torch.cat([h, skip], dim=1) joins along the channels, h first; then block(h, temb), attn(h, context, context_mask), up(h).
        # HINT: for block, attn, up in zip(...): h = torch.cat([h, skips.pop()], dim=1); h = block(h, temb); h = attn(h, context, context_mask); h = up(h)
        for block, attn, up in zip(self.up_blocks, self.up_attn, self.upsamples):
            h = torch.cat([h, skips.pop()], dim=1)  # (B, ch + c[i], H_i, W_i)
            h = block(h, temb)
            h = attn(h, context, context_mask)
            h = up(h)
        # END BLANK 13.4
        # BLANK 13.5 (about 1 line): the output: out_norm, SiLU, out_conv (back to the input's channels).
        # HINT: The same pre-activation order as inside a ResBlock: normalise, activate, convolve.
        # HINT: self.out_conv(F.silu(self.out_norm(h))) is (B, C, H, W).
        # HINT: return self.out_conv(F.silu(self.out_norm(h)))
        return self.out_conv(F.silu(self.out_norm(h)))  # (B, C, H, W)
        # END BLANK 13.5
