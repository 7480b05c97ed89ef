"""Kata 12: The U-Net's blocks: residual blocks that know the time, resampling, attention.

The denoiser of DDPM (Ho et al. 2020, Appendix B) is a U-Net (Ronneberger et al. 2015) built
from a few blocks, the same ones Stable Diffusion uses:

- **ResBlock**: GroupNorm → SiLU → 3×3 conv, then the timestep comes in, then GroupNorm →
  SiLU → 3×3 conv, and the input is added back (a residual, He et al. 2016). The time vector
  (kata 11) goes through SiLU and a linear layer to one value per channel, added to every
  pixel of that channel: the same conv weights can then do a different job at each t. When
  the block changes the number of channels, the input goes through a 1×1 conv before it is
  added back ("the skip"). GroupNorm (Wu & He 2018) normalises groups of channels of each
  image on its own, so it does not depend on the batch, unlike BatchNorm.
- **Downsample** halves H and W with a stride-2 3×3 conv; **Upsample** doubles them by
  repeating each pixel (nearest neighbour), then a 3×3 conv smooths the blocks out.
- **SelfAttention2d**: every pixel attends to every pixel (kata 04's multi-head attention on
  the H·W pixels as tokens, each a C-vector), after a GroupNorm, added back as a residual.
  Convolutions see a 3×3 neighbourhood; attention relates far-apart places in one step.

Every attention layer of the U-Net takes a context and its mask (the prompt's tokens, from
kata 16 on); self-attention has no use for them and ignores them.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C, C_in, C_out: channels   H, W: height and width   D: width of the time vector
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from k04_multihead import MultiHeadAttention


class ResBlock(nn.Module):
    """Two GroupNorm–SiLU–conv layers with the time added in between, and a residual connection."""

    def __init__(self, in_channels: int, out_channels: int, time_dim: int, groups: int = 8) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time_proj = nn.Linear(time_dim, out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, H, W)   temb: (B, D)  →  (B, C_out, H, W)."""
        # TODO 12.1 (about 1 line): the first layer: norm1, SiLU, conv1.
        raise NotImplementedError("blank 12.1 is not filled in yet")
        # TODO 12.2 (about 1 line): add the time: SiLU of temb, time_proj to one value per channel, broadcast over H and W.
        raise NotImplementedError("blank 12.2 is not filled in yet")
        # TODO 12.3 (about 2 lines): the second layer (norm2, SiLU, conv2), then add the input back through the skip.
        raise NotImplementedError("blank 12.3 is not filled in yet")


class Downsample(nn.Module):
    """Halve H and W with a stride-2 3×3 conv (channels unchanged)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W), H and W even  →  (B, C, H/2, W/2)."""
        return self.conv(x)


class Upsample(nn.Module):
    """Double H and W: each pixel repeated 2×2 (nearest neighbour), then a 3×3 conv."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W)  →  (B, C, 2H, 2W)."""
        # TODO 12.4 (about 1 line): nearest-neighbour upsampling by 2, then the conv.
        raise NotImplementedError("blank 12.4 is not filled in yet")


class SelfAttention2d(nn.Module):
    """GroupNorm, then multi-head self-attention among the H·W pixels (kata 04), added back."""

    def __init__(self, channels: int, n_heads: int = 4, groups: int = 8) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.attn = MultiHeadAttention(channels, n_heads)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None, context_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """x: (B, C, H, W)  →  (B, C, H, W). The context and its mask are not used: only kata 16's layers read them."""
        B, C, H, W = x.shape
        # TODO 12.5 (about 3 lines): normalise, turn the pixels into a sequence (B, H·W, C), attend, turn it back to (B, C, H, W), add x.
        raise NotImplementedError("blank 12.5 is not filled in yet")
