"""Kata 09: Noise schedules: how much noise at each step.

A diffusion model learns to undo noise (Ho et al. 2020, "Denoising Diffusion Probabilistic
Models", DDPM). The forward process adds a little Gaussian noise at each of T steps,
t = 0, 1, ..., T-1, until nothing of the image is left:

    q(x_t | x_{t-1}) = N(√(1 − β_t) x_{t-1}, β_t I)                       (DDPM Eq. 2)

The schedule is the list of variances β_0 ... β_{T-1}. Everything else follows from it:

    α_t = 1 − β_t,      ᾱ_t = α_0 · α_1 ⋯ α_t        (a product: the signal left after t+1 steps)

so that x_t can be drawn from x_0 in one go (kata 10): x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε.
Sampling walks back with the posterior q(x_{t-1} | x_t, x_0), a Gaussian whose variance is

    β̃_t = β_t (1 − ᾱ_{t-1}) / (1 − ᾱ_t)                                 (DDPM Eq. 7)

where ᾱ_{t-1} at t = 0 is 1 (no step taken yet: all signal), so β̃_0 = 0.

Two schedules:
- linear (DDPM §4): β rises evenly from 1e-4 to 0.02 over T = 1000 steps;
- cosine (Nichol & Dhariwal 2021, "Improved DDPM", Eq. 17): ᾱ itself follows a squared
  cosine, ᾱ(t) = f(t) / f(0) with f(t) = cos²((t/T + s) / (1 + s) · π/2), s = 0.008, and
  β_t = 1 − ᾱ(t+1) / ᾱ(t), clipped at 0.999 so the last step does not divide by ~0. It
  destroys information more evenly; small images (ours are 16×16) lose too much too early
  under the linear one.

Timesteps in these katas are 0-based integers in [0, T): t = 0 is the first noising step.
Schedules are computed in float64 (ᾱ of a long product loses digits in float32) and kept so.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    T: number of diffusion steps
"""

from __future__ import annotations

import math

import torch


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """β_t rising evenly from beta_start (t = 0) to beta_end (t = T-1), DDPM §4.  Returns (T,) float64."""
    # TODO 09.1 (about 1 line): T evenly spaced values from beta_start to beta_end, both included, in float64.
    raise NotImplementedError("blank 09.1 is not filled in yet")


def cosine_alpha_bar(t: torch.Tensor, T: int, s: float = 0.008) -> torch.Tensor:
    """ᾱ(t) = f(t) / f(0), f(t) = cos²((t/T + s) / (1 + s) · π/2): Nichol & Dhariwal Eq. 17.

    t: float64 tensor of (possibly fractional) times in [0, T]. Returns the same shape.
    """
    # TODO 09.2 (about 2 lines): f(t) as in Eq. 17, then divide by f(0) so that ᾱ(0) = 1.
    raise NotImplementedError("blank 09.2 is not filled in yet")


def cosine_beta_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """The cosine schedule: β_t = 1 − ᾱ(t+1) / ᾱ(t) for t = 0..T-1, clipped at max_beta.  Returns (T,) float64."""
    t = torch.arange(T + 1, dtype=torch.float64)  # (T + 1,): 0, 1, ..., T
    alpha_bar = cosine_alpha_bar(t, T, s)  # (T + 1,)
    # TODO 09.3 (about 2 lines): β_t = 1 − ᾱ(t+1)/ᾱ(t) for each of the T steps, clipped at max_beta.
    raise NotImplementedError("blank 09.3 is not filled in yet")


class Schedule:
    """Every per-step quantity the forward process and the samplers read, from the betas (T,).

    betas, alphas, alpha_bar, alpha_bar_prev, posterior_variance: each (T,) float64, index t = 0..T-1.
    """

    def __init__(self, betas: torch.Tensor) -> None:
        if betas.dim() != 1 or not ((betas > 0) & (betas < 1)).all():
            raise ValueError("betas must be a (T,) tensor of variances strictly between 0 and 1")
        self.betas = betas.to(torch.float64)  # (T,)
        # TODO 09.4 (about 2 lines): α_t = 1 − β_t, and ᾱ_t = α_0 · α_1 ⋯ α_t (a running product).
        raise NotImplementedError("blank 09.4 is not filled in yet")
        # TODO 09.5 (about 1 line): ᾱ_{t-1} for each t: 1 at t = 0 (no step yet), then ᾱ_0 ... ᾱ_{T-2}.
        raise NotImplementedError("blank 09.5 is not filled in yet")
        # TODO 09.6 (about 1 line): the posterior variance β̃_t = β_t (1 − ᾱ_{t-1}) / (1 − ᾱ_t), DDPM Eq. 7.
        raise NotImplementedError("blank 09.6 is not filled in yet")

    @property
    def T(self) -> int:
        return self.betas.shape[0]
