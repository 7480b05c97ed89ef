"""Kata 14: Training a denoiser: the ε-prediction loss, EMA, and one training step.

DDPM's training (Ho et al. 2020, Algorithm 1) is short:

    repeat
        x_0 ~ data;   t ~ Uniform({0, ..., T−1});   ε ~ N(0, I)
        take a gradient step on  ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²
    until converged

The network ε_θ (kata 13's U-Net) sees a noisy image and its timestep and predicts the noise
ε that made it: the target is ε, not the clean image (§3.2 shows this "ε-prediction" is a
reweighted variational bound, and it trains better). The loss is the mean of the squared
error over every pixel and channel of every image. One random t per image covers every step
of the process in expectation. (The paper numbers steps 1..T; these katas use 0-based t in
[0, T), as does kata 10's q_sample.)

Two habits of every diffusion codebase:
- **Gradient clipping**: the norm of all gradients together is capped (at 1.0) after
  backward and before the optimizer's step, so one unlucky batch cannot throw the weights far.
- **EMA** (an exponential moving average of the weights): after each step,
  θ_ema ← decay · θ_ema + (1 − decay) · θ, with decay close to 1 (0.999). The average is much
  smoother than the last weights, and it is the EMA model that samples (kata 15).

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: channels   H, W: height and width   T: number of diffusion steps
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from k09_schedules import Schedule
from k10_forward import q_sample


def sample_timesteps(batch_size: int, T: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One timestep per image, uniform over {0, ..., T−1}.  Returns (B,) long."""
    # TODO 14.1 (about 1 line): B random integers, uniform in [0, T), as a long tensor (use the generator).
    raise NotImplementedError("blank 14.1 is not filled in yet")


def diffusion_loss(
    model: nn.Module,
    x0: torch.Tensor,
    schedule: Schedule,
    t: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
    context: torch.Tensor | None = None,
    context_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """The ε-prediction loss of Algorithm 1: mean ‖ε − ε_θ(x_t, t)‖² over every value.

    x0: (B, C, H, W) in [-1, 1]   t: (B,) long (drawn here if None)   noise: ε (drawn if None)
    context, context_mask: passed to the model (the prompt, from kata 16 on). Returns a scalar.
    """
    if t is None:
        t = sample_timesteps(x0.shape[0], schedule.T).to(x0.device)
    if noise is None:
        noise = torch.randn_like(x0)
    # TODO 14.2 (about 3 lines): noise x0 to step t (kata 10), ask the model for the noise, and return the mean squared error against the true noise.
    raise NotImplementedError("blank 14.2 is not filled in yet")


class EMA:
    """An exponential moving average of a model's weights: θ_ema ← decay · θ_ema + (1 − decay) · θ."""

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval()  # the averaged copy: it samples, it never trains
        self.model.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move each averaged weight a step (1 − decay) of the way towards the model's."""
        for averaged, current in zip(self.model.parameters(), model.parameters()):
            # TODO 14.3 (about 1 line): averaged ← decay · averaged + (1 − decay) · current, in place.
            raise NotImplementedError("blank 14.3 is not filled in yet")
        for averaged, current in zip(self.model.buffers(), model.buffers()):
            averaged.copy_(current)


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x0: torch.Tensor,
    schedule: Schedule,
    ema: EMA | None = None,
    max_grad_norm: float = 1.0,
    context: torch.Tensor | None = None,
    context_mask: torch.Tensor | None = None,
) -> float:
    """One step of Algorithm 1 on a batch x0 (B, C, H, W) in [-1, 1], with gradient clipping and
    the EMA update. Returns the loss as a float."""
    optimizer.zero_grad(set_to_none=True)
    loss = diffusion_loss(model, x0, schedule, context=context, context_mask=context_mask)
    # TODO 14.4 (about 4 lines): backward, clip the gradients' total norm at max_grad_norm, take the optimizer's step, update the EMA (if any).
    raise NotImplementedError("blank 14.4 is not filled in yet")
    return loss.item()
