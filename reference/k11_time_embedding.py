"""Kata 11: Time embedding: telling the network which step it is denoising.

One network denoises at every step t, and what it should do depends on t: at t near T the
input is almost pure noise and only a rough layout can be guessed; at t near 0 only a little
noise is left to remove. So t goes in too, as a vector.

The vector is the Transformer's sinusoidal encoding of a position (kata 02; Vaswani et al.
§3.5), applied to the timestep, as in DDPM (Ho et al. 2020, Appendix B) and in the
guided-diffusion code that Stable Diffusion kept:

    freq_i = exp(−ln(max_period) · i / half),  i = 0 .. half − 1,   half = dim // 2
    emb(t) = [cos(t · freq_0), ..., cos(t · freq_{half−1}), sin(t · freq_0), ..., sin(t · freq_{half−1})]

(cosines first, then sines: one block each, not interleaved as in kata 02). A dim that is
odd gets one more column of zeros at the end. Nearby timesteps get nearby vectors, the
highest frequency tells neighbouring steps apart, the lowest tells the first steps from
the last.

A small MLP (linear, SiLU, linear) turns that fixed code into a learned one, which every
residual block of the U-Net then reads (kata 12).

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   E: width of the sinusoidal code (dim)   D: width of the MLP's output
"""

from __future__ import annotations

import math

import torch
from torch import nn


def timestep_frequencies(half: int, max_period: float = 10_000.0) -> torch.Tensor:
    """freq_i = exp(−ln(max_period) · i / half) for i = 0 .. half − 1: from 1 down towards 1/max_period.  (half,) float32."""
    # BLANK 11.1 (about 1 line): the half frequencies, geometrically spaced from 1 down towards 1/max_period.
    # HINT: Evenly spaced exponents between 0 and −ln(max_period), the last one excluded (i / half stays below 1).
    # HINT: torch.arange(half, dtype=torch.float32) / half gives i / half; multiply by −math.log(max_period) and exponentiate.
    # HINT: return torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    return torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)  # (half,)
    # END BLANK 11.1


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """The sinusoidal code of each timestep: t (B,) long or float  →  (B, dim) float32, cosines then sines."""
    half = dim // 2
    freqs = timestep_frequencies(half, max_period)  # (half,)
    # BLANK 11.2 (about 2 lines): the angles t · freq (every timestep with every frequency), then their cosines and sines side by side.
    # HINT: An outer product: timesteps down the rows, frequencies along the columns; t may be a long tensor (or float64): make it float32 first.
    # HINT: t.float()[:, None] * freqs[None, :] is (B, half); torch.cat([cos, sin], dim=-1) is (B, 2·half), cosines first.
    # HINT: args = t.float()[:, None] * freqs[None, :]; emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    args = t.float()[:, None] * freqs[None, :]  # (B, half)
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # (B, 2·half)
    # END BLANK 11.2
    if dim % 2:
        # BLANK 11.3 (about 1 line): an odd dim: add one column of zeros at the end, so the result is (B, dim).
        # HINT: 2·half is one short of dim when dim is odd; the missing column holds zeros.
        # HINT: torch.cat with a (B, 1) tensor of zeros (emb.new_zeros(emb.shape[0], 1)) along the last dimension.
        # HINT: emb = torch.cat([emb, emb.new_zeros(emb.shape[0], 1)], dim=-1)
        emb = torch.cat([emb, emb.new_zeros(emb.shape[0], 1)], dim=-1)  # (B, dim)
        # END BLANK 11.3
    return emb


class TimeMLP(nn.Module):
    """The timestep's sinusoidal code (width E), through linear → SiLU → linear, to width D."""

    def __init__(self, embed_dim: int, dim: int) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.fc1 = nn.Linear(embed_dim, dim)
        self.fc2 = nn.Linear(dim, dim)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """t: (B,) timesteps  →  (B, D)."""
        # BLANK 11.4 (about 1 line): embed t (width embed_dim), then fc1, SiLU, fc2.
        # HINT: The fixed code first (your timestep_embedding), then the learned part on top of it.
        # HINT: torch.nn.functional.silu(x) is x · sigmoid(x), the activation of the U-Net.
        # HINT: return self.fc2(nn.functional.silu(self.fc1(timestep_embedding(t, self.embed_dim))))
        return self.fc2(nn.functional.silu(self.fc1(timestep_embedding(t, self.embed_dim))))  # (B, D)
        # END BLANK 11.4
