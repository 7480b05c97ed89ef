"""Kata 20: Latent diffusion: diffuse in the VAE's latent space instead of pixels.

Stable Diffusion (Rombach et al. 2022) does not denoise pixels: a VAE (kata 19) first maps
each image to a smaller latent (here 3×16×16 → 4×8×8: 4/3 as many values per pixel, but a
quarter as many places for the U-Net's convolutions and attention), the diffusion model is
trained and sampled there, and the decoder turns the sampled latent back into an image.

One detail makes or breaks it. Diffusion assumes data of about unit variance: the forward
process (kata 10) mixes √ᾱ x_0 with √(1 − ᾱ) ε, and the schedule's noise levels were chosen
for x_0 of that size. A VAE trained with a small KL weight makes latents of whatever size
suits it (often ±5, or ±0.2). So the latents are multiplied by a **scaling factor** s, once,
estimated from data as 1 / (their standard deviation) (§4.3.2: "we rescale the latents to
unit standard deviation"; Stable Diffusion's 0.18215 came from the same recipe):

    encode:  z = s · mean of the VAE's q(z | x)          (the mean, not a draw: the KL weight is
    decode:  x = VAE.decode(z / s)                        tiny, the posterior is nearly a point)

The diffusion loss on latents is kata 14's loss with z in place of x_0. The VAE is trained
first and then frozen: the latent loss must not move it (no gradient reaches it).

Latents are not images: they are not in [-1, 1], and the x̂_0 clip of katas 15 and 18 does
not apply to them (ddim_sample(..., clip_x0=False)).

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: image channels   H, W: image size   Cz, h, w: the latent's channels and size
"""

from __future__ import annotations

import torch
from torch import nn

from k09_schedules import Schedule
from k14_training import diffusion_loss
from k19_vae import VAE


@torch.no_grad()
def estimate_scale(vae: VAE, images: torch.Tensor) -> float:
    """s = 1 / the standard deviation of the VAE's latent means over `images`.

    images: (N, C, H, W) in [-1, 1]  →  a positive float.
    """
    # BLANK 20.1 (about 2 lines): the latent means of the images (encode returns mean and log-variance), and 1 over their standard deviation, as a float.
    # HINT: One number for the whole latent space: the spread of every latent value of every image together.
    # HINT: mean, _ = vae.encode(images); mean.std() is a 0-d tensor; .item() makes it a float.
    # HINT: mean, _ = vae.encode(images); return 1.0 / mean.std().item()
    mean, _ = vae.encode(images)  # (N, Cz, h, w)
    return 1.0 / mean.std().item()
    # END BLANK 20.1


class LatentCodec(nn.Module):
    """A frozen VAE and its scaling factor: images ↔ latents of about unit variance."""

    def __init__(self, vae: VAE, scale: float) -> None:
        super().__init__()
        self.vae = vae.eval().requires_grad_(False)
        self.register_buffer("scale", torch.tensor(float(scale)))

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) in [-1, 1]  →  z: (B, Cz, h, w), about unit variance."""
        # BLANK 20.2 (about 2 lines): the VAE's latent mean of x, multiplied by the scale.
        # HINT: Encode to the posterior's mean (no random draw), then bring it to unit variance.
        # HINT: self.vae.encode(x) returns (mean, logvar); self.scale is s.
        # HINT: mean, _ = self.vae.encode(x); return mean * self.scale
        mean, _ = self.vae.encode(x)  # (B, Cz, h, w)
        return mean * self.scale
        # END BLANK 20.2

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, Cz, h, w) scaled latents  →  (B, C, H, W) images in the model's range (about [-1, 1])."""
        # BLANK 20.3 (about 1 line): undo the scale, then the VAE's decoder.
        # HINT: decode(encode(x)) should give back (nearly) x: undo what encode did, in reverse order.
        # HINT: Divide by self.scale before self.vae.decode.
        # HINT: return self.vae.decode(z / self.scale)
        return self.vae.decode(z / self.scale)  # (B, C, H, W)
        # END BLANK 20.3


def latent_diffusion_loss(
    model: nn.Module,
    codec: LatentCodec,
    x0: torch.Tensor,
    schedule: Schedule,
    context: torch.Tensor | None = None,
    context_mask: torch.Tensor | None = None,
    t: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Kata 14's ε-prediction loss on the latents of images x0 (B, C, H, W) in [-1, 1].

    t: (B,) long, noise: (B, Cz, h, w) (each drawn if None). Returns a scalar; only `model` gets gradients.
    """
    # BLANK 20.4 (about 2 lines): the scaled latents of x0 (no gradient to the VAE), then diffusion_loss on them.
    # HINT: The U-Net learns to denoise latents exactly as it learned to denoise images: only what it is given changes.
    # HINT: codec.encode(x0) is (B, Cz, h, w) and already runs without gradients; diffusion_loss(model, z0, schedule, t, noise, context, context_mask).
    # HINT: z0 = codec.encode(x0); return diffusion_loss(model, z0, schedule, t, noise, context, context_mask)
    z0 = codec.encode(x0)  # (B, Cz, h, w)
    return diffusion_loss(model, z0, schedule, t, noise, context, context_mask)
    # END BLANK 20.4
