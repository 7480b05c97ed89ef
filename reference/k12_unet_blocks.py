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
        # BLANK 12.1 (about 1 line): the first layer: norm1, SiLU, conv1.
        # HINT: Pre-activation order, as in the Transformer's pre-norm: normalise, activate, then convolve.
        # HINT: F.silu(x) is x · sigmoid(x); the layers are self.norm1 and self.conv1.
        # HINT: h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv1(F.silu(self.norm1(x)))  # (B, C_out, H, W)
        # END BLANK 12.1
        # BLANK 12.2 (about 1 line): add the time: SiLU of temb, time_proj to one value per channel, broadcast over H and W.
        # HINT: The time vector becomes C_out numbers per image; each is added to every pixel of its channel.
        # HINT: self.time_proj(F.silu(temb)) is (B, C_out); [:, :, None, None] makes it (B, C_out, 1, 1).
        # HINT: h = h + self.time_proj(F.silu(temb))[:, :, None, None]
        h = h + self.time_proj(F.silu(temb))[:, :, None, None]  # (B, C_out, H, W)
        # END BLANK 12.2
        # BLANK 12.3 (about 2 lines): the second layer (norm2, SiLU, conv2), then add the input back through the skip.
        # HINT: The residual adds the block's input to its output; the skip makes its channels match when C_in ≠ C_out.
        # HINT: h = self.conv2(F.silu(self.norm2(h))); the input goes through self.skip (a 1×1 conv or nothing).
        # HINT: h = self.conv2(F.silu(self.norm2(h))); return h + self.skip(x)
        h = self.conv2(F.silu(self.norm2(h)))  # (B, C_out, H, W)
        return h + self.skip(x)
        # END BLANK 12.3


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
        # BLANK 12.4 (about 1 line): nearest-neighbour upsampling by 2, then the conv.
        # HINT: Nearest neighbour: each pixel becomes a 2×2 block of copies of itself, then the conv learns to smooth.
        # HINT: F.interpolate(x, scale_factor=2, mode="nearest") is (B, C, 2H, 2W).
        # HINT: return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))  # (B, C, 2H, 2W)
        # END BLANK 12.4


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
        # BLANK 12.5 (about 3 lines): normalise, turn the pixels into a sequence (B, H·W, C), attend, turn it back to (B, C, H, W), add x.
        # HINT: Attention wants tokens of C features: flatten H and W into one axis of H·W tokens and move C last.
        # HINT: self.norm(x).flatten(2) is (B, C, H·W); .transpose(1, 2) gives (B, H·W, C). Undo both after self.attn, with .reshape(B, C, H, W).
        # HINT: h = self.norm(x).flatten(2).transpose(1, 2); h = self.attn(h); return x + h.transpose(1, 2).reshape(B, C, H, W)
        h = self.norm(x).flatten(2).transpose(1, 2)  # (B, H·W, C)
        h = self.attn(h)  # (B, H·W, C)
        return x + h.transpose(1, 2).reshape(B, C, H, W)
        # END BLANK 12.5
