"""Kata 10: The forward process: noising an image to any step in one go.

Adding noise step by step (kata 09, DDPM Eq. 2) composes into a single Gaussian: the sum of
independent Gaussians is Gaussian, and the signal shrinks by √α at every step. So x_t can be
drawn straight from x_0 (Ho et al. 2020, DDPM Eq. 4):

    q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I),    i.e.   x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,   ε ~ N(0, I)

Training (kata 14) picks a random t for each image, makes x_t this way, and asks the model
for the ε that was used.

Two conventions hold from here to the end of the course, and this kata checks them loudly:
- **Images live in [-1, 1] inside the model**, so that pure noise N(0, I) and data have the
  same scale and 0 is mid-grey. The shapes world (and PNG files) use [0, 1]:
  `to_model_range` and `to_image_range` convert. A [0, 1] image given to q_sample is an error.
- **Timesteps are 0-based integers in [0, T)**, one per image of the batch: a (B,) long tensor.
  `extract` reads a schedule's value at each image's own timestep, shaped to broadcast over
  that image: (B,) becomes (B, 1, 1, 1) for images (B, C, H, W).

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: channels   H, W: image height and width   T: number of diffusion steps
"""

from __future__ import annotations

import torch

from k09_schedules import Schedule


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] (as the shapes world and PNGs have them) → [-1, 1] (as the model wants them)."""
    # TODO 10.1 (about 1 line): map 0 to -1 and 1 to 1, linearly.
    raise NotImplementedError("blank 10.1 is not filled in yet")


def to_image_range(x: torch.Tensor) -> torch.Tensor:
    """The model's [-1, 1] → [0, 1], clamped (a sample may overshoot a little)."""
    # TODO 10.2 (about 1 line): the inverse of to_model_range, then clamp to [0, 1].
    raise NotImplementedError("blank 10.2 is not filled in yet")


def extract(a: torch.Tensor, t: torch.Tensor, shape: torch.Size | tuple[int, ...]) -> torch.Tensor:
    """a[t] for each image, in float32, shaped to broadcast against a batch of that shape.

    a: (T,) a per-step schedule quantity   t: (B,) long, each in [0, T)   shape: (B, ...) e.g. (B, C, H, W)
    Returns (B, 1, ..., 1) with as many dimensions as `shape`.
    """
    if t.dtype != torch.long or t.dim() != 1 or t.shape[0] != shape[0]:
        raise ValueError(f"t must be a (B,) long tensor with B = {shape[0]}, got {tuple(t.shape)} {t.dtype}")
    if t.min() < 0 or t.max() >= a.shape[0]:
        raise IndexError(f"timesteps are 0-based in [0, T) with T = {a.shape[0]}; got values from "
                         f"{t.min().item()} to {t.max().item()}")  # fmt: skip
    if a.device != t.device:  # the schedule stays on the CPU; t comes from the model's device (a GPU)
        a = a.float().to(t.device)  # float32 first: some devices have no float64
    # TODO 10.3 (about 1 line): pick a's value at each image's timestep (as float32), then reshape to (B, 1, ..., 1).
    raise NotImplementedError("blank 10.3 is not filled in yet")


def check_model_range(x0: torch.Tensor) -> None:
    """A clear error for an image batch that is still in [0, 1] (black is -1 in the model's range)."""
    if x0.numel() > 1 and x0.min() >= 0:
        raise ValueError(
            f"x0 has no negative value (min {x0.min().item():.3g}, max {x0.max().item():.3g}): it looks like images "
            "in [0, 1]. Inside the model images live in [-1, 1]: call to_model_range(images) first."
        )


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε: a draw from q(x_t | x_0), DDPM Eq. 4.

    x0: (B, C, H, W) in [-1, 1]   t: (B,) long in [0, T)   noise: ε, (B, C, H, W) ~ N(0, I)
    Returns x_t (B, C, H, W).
    """
    check_model_range(x0)
    # TODO 10.4 (about 3 lines): read ᾱ_t for each image with extract, then combine x0 and the noise as in Eq. 4.
    raise NotImplementedError("blank 10.4 is not filled in yet")
