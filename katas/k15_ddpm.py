"""Kata 15: DDPM sampling: from pure noise to an image, one step at a time.

Sampling (Ho et al. 2020, Algorithm 2) runs the forward process backwards. Start from
x_{T−1} ~ N(0, I); at each t = T−1, ..., 0 draw x_{t−1} from the posterior
q(x_{t−1} | x_t, x_0) (DDPM Eq. 6–7), with the model's guess of x_0 in place of the unknown
clean image:

1. the model predicts the noise: ε = ε_θ(x_t, t);
2. invert Eq. 4 for x_0 (Eq. 15):  x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t,  **clipped to [-1, 1]**;
3. the posterior mean (Eq. 7):  μ̃ = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x̂_0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t;
4. x_{t−1} = μ̃ + √β̃_t z,  z ~ N(0, I), except at t = 0, where the mean itself is the sample:
   there is no further step to take, and noise added there would stay in the image. (β̃_0 = 0
   already, since ᾱ_{−1} = 1; the branch says so outright, and DDPM's other variance, β_t, is not 0.)

The clip in step 2 matters more than it looks: at large t the guess of x_0 can be far outside
[-1, 1], and the mean then drags the whole trajectory there; a briefly trained model
gives saturated, blown-out images without it.

Timesteps are 0-based (kata 10): the first step of sampling is t = T−1, the last t = 0.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: channels   H, W: height and width   T: number of diffusion steps
"""

from __future__ import annotations

import torch
from torch import nn

from k09_schedules import Schedule
from k10_forward import extract


def predict_x0(x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t, clipped to [-1, 1] (DDPM Eq. 15).

    x_t, eps: (B, C, H, W)   t: (B,) long  →  (B, C, H, W)
    """
    # TODO 15.1 (about 2 lines): ᾱ_t for each image, Eq. 4 solved for x_0, clipped to [-1, 1].
    raise NotImplementedError("blank 15.1 is not filled in yet")


def posterior_mean(x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """μ̃_t(x_t, x_0) = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x_0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t  (DDPM Eq. 7).

    x0, x_t: (B, C, H, W)   t: (B,) long  →  (B, C, H, W)
    """
    beta = extract(schedule.betas, t, x_t.shape)  # (B, 1, 1, 1), as the three below
    alpha = extract(schedule.alphas, t, x_t.shape)
    alpha_bar = extract(schedule.alpha_bar, t, x_t.shape)
    alpha_bar_prev = extract(schedule.alpha_bar_prev, t, x_t.shape)
    # TODO 15.2 (about 3 lines): the two coefficients of Eq. 7, then the weighted sum of x0 and x_t.
    raise NotImplementedError("blank 15.2 is not filled in yet")


@torch.no_grad()
def p_sample(
    model: nn.Module,
    x_t: torch.Tensor,
    t: int,
    schedule: Schedule,
    noise: torch.Tensor | None = None,
    context: torch.Tensor | None = None,
    context_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """One step of Algorithm 2: x_t at step t (an int in [0, T)) → x_{t−1}. noise: z (drawn if None)."""
    t_batch = torch.full((x_t.shape[0],), t, dtype=torch.long, device=x_t.device)  # (B,): the same t for all
    # TODO 15.3 (about 3 lines): steps 1–3: the model's ε, the clipped x̂_0, the posterior mean.
    raise NotImplementedError("blank 15.3 is not filled in yet")
    # TODO 15.4 (about 4 lines): step 4: at t = 0 return the mean; else the mean plus √β̃_t times noise (draw it if None).
    raise NotImplementedError("blank 15.4 is not filled in yet")


@torch.no_grad()
def ddpm_sample(
    model: nn.Module,
    shape: tuple[int, ...],
    schedule: Schedule,
    generator: torch.Generator | None = None,
    context: torch.Tensor | None = None,
    context_mask: torch.Tensor | None = None,
    keep_every: int = 0,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Algorithm 2 from x_{T−1} ~ N(0, I) down to t = 0.

    shape: (B, C, H, W). Returns (the samples in [-1, 1] as the model made them, the trajectory:
    x_t every `keep_every` steps, first and last included; empty when keep_every is 0).
    """
    device = next(model.parameters()).device
    x = torch.randn(shape, generator=generator).to(device)  # x_{T−1}
    trajectory = []
    # TODO 15.5 (about 1 line): the timesteps of sampling, in order: from T−1 down to 0, both included.
    raise NotImplementedError("blank 15.5 is not filled in yet")
    for t in steps:
        if keep_every and (t % keep_every == 0 or t == schedule.T - 1):
            trajectory.append(x.cpu())
        noise = torch.randn(shape, generator=generator).to(device)  # z of this step, from the generator
        x = p_sample(model, x, t, schedule, noise, context, context_mask)
    if keep_every:
        trajectory.append(x.cpu())
    return x, trajectory
