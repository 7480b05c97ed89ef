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
    # BLANK 09.1 (about 1 line): T evenly spaced values from beta_start to beta_end, both included, in float64.
    # HINT: "Evenly spaced, both ends included" is exactly what one torch function makes.
    # HINT: torch.linspace(start, end, steps, dtype=...) includes both ends; ask for torch.float64.
    # HINT: return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    # END BLANK 09.1


def cosine_alpha_bar(t: torch.Tensor, T: int, s: float = 0.008) -> torch.Tensor:
    """ᾱ(t) = f(t) / f(0), f(t) = cos²((t/T + s) / (1 + s) · π/2): Nichol & Dhariwal Eq. 17.

    t: float64 tensor of (possibly fractional) times in [0, T]. Returns the same shape.
    """
    # BLANK 09.2 (about 2 lines): f(t) as in Eq. 17, then divide by f(0) so that ᾱ(0) = 1.
    # HINT: f is a squared cosine of a time shifted by s and rescaled so that t = T lands on π/2.
    # HINT: f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2; f(0) is the same formula at t = 0: math.cos(s / (1 + s) * math.pi / 2) ** 2.
    # HINT: f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2; return f / math.cos(s / (1 + s) * math.pi / 2) ** 2
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    return f / math.cos(s / (1 + s) * math.pi / 2) ** 2
    # END BLANK 09.2


def cosine_beta_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """The cosine schedule: β_t = 1 − ᾱ(t+1) / ᾱ(t) for t = 0..T-1, clipped at max_beta.  Returns (T,) float64."""
    t = torch.arange(T + 1, dtype=torch.float64)  # (T + 1,): 0, 1, ..., T
    alpha_bar = cosine_alpha_bar(t, T, s)  # (T + 1,)
    # BLANK 09.3 (about 2 lines): β_t = 1 − ᾱ(t+1)/ᾱ(t) for each of the T steps, clipped at max_beta.
    # HINT: Consecutive ratios of a product give back its factors: α_t = ᾱ(t+1)/ᾱ(t), and β_t = 1 − α_t.
    # HINT: alpha_bar[1:] / alpha_bar[:-1] is (T,); clamp the betas with .clamp(max=max_beta).
    # HINT: betas = 1 - alpha_bar[1:] / alpha_bar[:-1]; return betas.clamp(max=max_beta)
    betas = 1 - alpha_bar[1:] / alpha_bar[:-1]  # (T,)
    return betas.clamp(max=max_beta)
    # END BLANK 09.3


class Schedule:
    """Every per-step quantity the forward process and the samplers read, from the betas (T,).

    betas, alphas, alpha_bar, alpha_bar_prev, posterior_variance: each (T,) float64, index t = 0..T-1.
    """

    def __init__(self, betas: torch.Tensor) -> None:
        if betas.dim() != 1 or not ((betas > 0) & (betas < 1)).all():
            raise ValueError("betas must be a (T,) tensor of variances strictly between 0 and 1")
        self.betas = betas.to(torch.float64)  # (T,)
        # BLANK 09.4 (about 2 lines): α_t = 1 − β_t, and ᾱ_t = α_0 · α_1 ⋯ α_t (a running product).
        # HINT: ᾱ_t is the signal left after steps 0..t: each step keeps a factor α of it, so the factors multiply.
        # HINT: torch.cumprod(x, dim=0) gives the running products x_0, x_0·x_1, ... .
        # HINT: self.alphas = 1 - self.betas; self.alpha_bar = torch.cumprod(self.alphas, dim=0)
        self.alphas = 1 - self.betas  # (T,)
        self.alpha_bar = torch.cumprod(self.alphas, dim=0)  # (T,)
        # END BLANK 09.4
        # BLANK 09.5 (about 1 line): ᾱ_{t-1} for each t: 1 at t = 0 (no step yet), then ᾱ_0 ... ᾱ_{T-2}.
        # HINT: It is alpha_bar shifted one place to the right, with a 1 coming in at the front.
        # HINT: torch.cat([a tensor holding 1.0 (float64), self.alpha_bar[:-1]]).
        # HINT: self.alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bar[:-1]])
        self.alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bar[:-1]])  # (T,)
        # END BLANK 09.5
        # BLANK 09.6 (about 1 line): the posterior variance β̃_t = β_t (1 − ᾱ_{t-1}) / (1 − ᾱ_t), DDPM Eq. 7.
        # HINT: Every factor is already here, one value per t: combine them elementwise.
        # HINT: β̃_t uses ᾱ of the step before (alpha_bar_prev) on top and ᾱ of this step below.
        # HINT: self.posterior_variance = self.betas * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)
        self.posterior_variance = self.betas * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)  # (T,)
        # END BLANK 09.6

    @property
    def T(self) -> int:
        return self.betas.shape[0]
