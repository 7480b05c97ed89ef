"""Kata 18: DDIM: the same trained model, sampled in 50 steps instead of T.

DDPM (kata 15) takes every one of the T steps. DDIM (Song, Meng & Ermon 2021) notices that
training only ever fixed the marginals q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I), so sampling
may jump from step t to any earlier step s along a process with the same marginals. With the
model's ε at x_t (DDIM Eq. 12, with ᾱ written for the paper's α):

    x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t                       the "predicted x_0", clipped to [-1, 1]
    ε̂   = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t)                      the noise that leads from x̂_0 to x_t
    x_s = √ᾱ_s x̂_0  +  √(1 − ᾱ_s − σ²) ε̂  +  σ z           z ~ N(0, I)
          └ where x_0 is ┘ └ the direction pointing to x_t ┘  └ fresh noise ┘

    σ = η · √((1 − ᾱ_s) / (1 − ᾱ_t)) · √(1 − ᾱ_t / ᾱ_s)     (DDIM Eq. 16)

ε̂ is the model's ε itself unless the clip moved x̂_0. When it did, the step must point from the
clipped x̂_0 to x_t, or the two terms disagree: a briefly trained model's x̂_0 is often far
outside [-1, 1] at high noise, and a step that keeps the old ε drifts towards saturated colours
(in the text2image milestone, single-object prompts drawn right went from 81% with ε to 95%
with ε̂; diffusers calls this use_clipped_model_output). DDPM's posterior mean (kata 15) is
built from x̂_0 and x_t, so it does this already.

η = 0 makes sampling deterministic (no fresh noise: the same x_T always gives the same image);
η = 1 between consecutive steps is exactly DDPM's step (σ² = β̃_t, kata 15). The jumps follow
a short, evenly spread sequence of timesteps, from T − 1 (pure noise) down to 0; after the last
one (t = 0) the image is x̂_0 itself: ᾱ_s = 1 there, "before the first step", as kata 09's
alpha_bar_prev[0] = 1.

Timesteps are 0-based (kata 10); images in [-1, 1].

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: channels   H, W: height and width   T: diffusion steps   n: sampling steps
"""

from __future__ import annotations

import torch
from torch import nn

from k09_schedules import Schedule


def ddim_timesteps(T: int, n: int) -> torch.Tensor:
    """n timesteps spread evenly from T − 1 down to 0, both included (1 ≤ n ≤ T).  Returns (n,) long, descending."""
    if not 1 <= n <= T:
        raise ValueError(f"n must be between 1 and T = {T}, got {n}")
    # BLANK 18.1 (about 1 line): n evenly spaced values from T − 1 down to 0 (just T − 1 when n is 1), rounded to whole steps.
    # HINT: Sampling starts at the noisiest step and ends at t = 0; n = T gives every step T − 1, ..., 0.
    # HINT: torch.linspace(start, end, steps) includes both ends; .round().long() makes them whole timesteps.
    # HINT: return torch.linspace(T - 1, 0, n).round().long()
    return torch.linspace(T - 1, 0, n).round().long()  # (n,)
    # END BLANK 18.1


def ddim_step(
    x_t: torch.Tensor,
    eps: torch.Tensor,
    alpha_bar_t: float | torch.Tensor,
    alpha_bar_prev: float | torch.Tensor,
    eta: float = 0.0,
    noise: torch.Tensor | None = None,
    clip_x0: bool = True,
) -> torch.Tensor:
    """One DDIM jump from step t to the earlier step s (DDIM Eq. 12 and 16).

    x_t, eps, noise: (B, C, H, W)   alpha_bar_t, alpha_bar_prev: ᾱ_t and ᾱ_s (numbers, or 0-d tensors)
    eta: η in [0, 1]   noise: z (drawn if None and needed)   clip_x0: clip x̂_0 to [-1, 1] (images; not latents, kata 20)
    Returns x_s: (B, C, H, W).
    """
    alpha_bar_t, alpha_bar_prev = torch.as_tensor(alpha_bar_t, dtype=x_t.dtype), torch.as_tensor(alpha_bar_prev, dtype=x_t.dtype)
    # BLANK 18.2 (about 3 lines): 1. the predicted x_0 from x_t and ε, clipped to [-1, 1] when clip_x0 is True.
    # HINT: The same inversion of Eq. 4 as kata 15's predict_x0, with ᾱ_t given as a number; the clip is for images only.
    # HINT: (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t, then .clamp(-1, 1) if clip_x0.
    # HINT: x0 = (x_t - (1 - alpha_bar_t).sqrt() * eps) / alpha_bar_t.sqrt(); if clip_x0: x0 = x0.clamp(-1, 1)
    x0 = (x_t - (1 - alpha_bar_t).sqrt() * eps) / alpha_bar_t.sqrt()  # (B, C, H, W)
    if clip_x0:
        x0 = x0.clamp(-1, 1)
    # END BLANK 18.2
    # BLANK 18.3 (about 1 line): 2. σ of Eq. 16: η times √((1 − ᾱ_s)/(1 − ᾱ_t)) times √(1 − ᾱ_t/ᾱ_s).
    # HINT: σ is a standard deviation (a square root), 0 when η is 0; between consecutive steps with η = 1, σ² is DDPM's β̃_t.
    # HINT: ᾱ_s is alpha_bar_prev, ᾱ_t is alpha_bar_t; both square roots are taken of ratios of them.
    # HINT: sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()
    # END BLANK 18.3
    # BLANK 18.4 (about 5 lines): 3. ε̂, the noise from the clipped x̂_0 to x_t; x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂, plus σ z when σ > 0 (draw z if None).
    # HINT: Eq. 12 has three terms: where x_0 is, the direction pointing to x_t (a noise, scaled), and fresh noise σ z. The direction starts at x̂_0 as clipped: after a clip it is no longer the model's ε.
    # HINT: ε̂ is Eq. 4 solved for the noise, with x̂_0: (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t); then alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps_hat; when sigma > 0 add sigma * noise (torch.randn_like(x_t) if None).
    # HINT: eps_hat = (x_t - alpha_bar_t.sqrt() * x0) / (1 - alpha_bar_t).sqrt(); x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps_hat; if sigma > 0: x_prev = x_prev + sigma * (torch.randn_like(x_t) if noise is None else noise); return x_prev
    eps_hat = (x_t - alpha_bar_t.sqrt() * x0) / (1 - alpha_bar_t).sqrt()  # (B, C, H, W): ε, unless the clip moved x̂_0
    x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps_hat  # (B, C, H, W)
    if sigma > 0:
        x_prev = x_prev + sigma * (torch.randn_like(x_t) if noise is None else noise)
    return x_prev
    # END BLANK 18.4


@torch.no_grad()
def ddim_sample(
    model: nn.Module,
    shape: tuple[int, ...],
    schedule: Schedule,
    steps: int = 50,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    context: torch.Tensor | None = None,
    context_mask: torch.Tensor | None = None,
    clip_x0: bool = True,
) -> torch.Tensor:
    """DDIM from x_{T−1} ~ N(0, I) through ddim_timesteps(T, steps).  shape: (B, C, H, W)  →  (B, C, H, W)
    (in [-1, 1] when clip_x0; latents are not clipped: clip_x0=False)."""
    device = next(model.parameters()).device
    x = torch.randn(shape, generator=generator).to(device)  # x_{T−1}
    timesteps = ddim_timesteps(schedule.T, steps).tolist()
    alpha_bar = schedule.alpha_bar.tolist()  # floats: ᾱ_t for t in [0, T)
    for i, t in enumerate(timesteps):
        t_batch = torch.full((shape[0],), t, dtype=torch.long, device=device)  # (B,)
        noise = torch.randn(shape, generator=generator).to(device)
        # BLANK 18.5 (about 3 lines): the model's ε at t; ᾱ_s of the next timestep in the list (1.0 after the last); one ddim_step (pass eta, noise, clip_x0).
        # HINT: The jump goes to the next (smaller) timestep of the sequence, not to t − 1; after t = 0 comes "before the first step", where ᾱ is 1.
        # HINT: eps = model(x, t_batch, context, context_mask); alpha_bar_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else 1.0.
        # HINT: eps = model(...); alpha_bar_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else 1.0; x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev, eta, noise, clip_x0)
        eps = model(x, t_batch, context, context_mask)  # (B, C, H, W)
        alpha_bar_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else 1.0
        x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev, eta, noise, clip_x0)
        # END BLANK 18.5
    return x
