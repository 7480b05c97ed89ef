"""Kata 19: The VAE: an autoencoder whose latents are a distribution.

Stable Diffusion does not diffuse pixels: it diffuses the latents of an autoencoder, a grid
smaller than the image (Rombach et al. 2022, §3), and decodes the result. Ours halves 16×16
to 8×8 with Cz = 4 channels. It is a variational autoencoder (Kingma & Welling 2014): the
encoder does not give one latent per image but a Gaussian q(z | x) = N(μ, diag σ²), as the
mean μ and the log-variance log σ² ("logvar": any real number, where σ² must stay positive).

- **The reparameterization trick** (Kingma & Welling §2.4): a sample of q is
      z = μ + σ ⊙ ε,   σ = exp(½ log σ²),   ε ~ N(0, I).
  The randomness is an input ε, so z is a plain function of μ and log σ² and gradients flow to
  both. torch.normal(μ, σ) draws the same distribution, but nothing trains through it.
- **The KL term** keeps q(z | x) close to the prior N(0, I), so the latents stay in a tame
  range. Between Gaussians it has a closed form (Kingma & Welling, Appendix B):
      KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² − 1 − log σ²)   for each latent value,
  summed over the Cz·h·w values of an image. It is 0 exactly when μ = 0 and σ² = 1.
- **The loss**: the negative ELBO (Kingma & Welling Eq. 3). With a Gaussian decoder of fixed
  variance s², −log p(x | z) = Σ (x − x̂)² / (2 s²) + const; times 2 s², each image costs
      Σ (x̂ − x)²  +  kl_weight · KL,        kl_weight = 2 s²,
  the sum running over all C·H·W values of the image; the loss is its mean over the batch.
  The weight trades the two off: a large one gives latents close to N(0, I) but blurry
  reconstructions; a tiny one gives sharp reconstructions and latents close to deterministic
  (σ ≪ |μ|), whose scale the KL barely constrains. Stable Diffusion's autoencoder takes the
  tiny one (about 1e-6) and rescales its latents to unit variance before diffusing them
  (kata 20's scaling factor); ours uses about 1e-3 to 1e-2.

The encoder also clamps log σ² to [-30, 20], as Stable Diffusion's does: exp(log σ²) of an
untrained encoder's output must not overflow or vanish in float32.

Images live in [-1, 1], as in Part IV (kata 10). The decoder's output is not squashed into
that range: the loss pulls it there.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: image channels   H, W: image height and width (even)
    Cz: latent channels   h, w: latent height and width (H/2, W/2)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

LOGVAR_MIN, LOGVAR_MAX = -30.0, 20.0  # the range Stable Diffusion clamps log σ² to


def reparameterize(mean: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
    """z = μ + exp(½ log σ²) · ε  (Kingma & Welling §2.4), ε drawn from N(0, I) when noise is None.

    mean, logvar, noise: (B, Cz, h, w)  →  z: (B, Cz, h, w)
    """
    # TODO 19.1 (about 3 lines): draw ε ~ N(0, I) if no noise is given; σ from the log-variance; shift and scale ε.
    raise NotImplementedError("blank 19.1 is not filled in yet")


def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) of each image: ½ Σ (μ² + σ² − 1 − log σ²) over its latent values.

    mean, logvar: (B, Cz, h, w)  →  (B,)
    """
    # TODO 19.2 (about 2 lines): the closed form for every latent value, then its sum over each image's values.
    raise NotImplementedError("blank 19.2 is not filled in yet")


@dataclass(frozen=True)
class VAEConfig:
    in_channels: int = 3  # C: RGB
    latent_channels: int = 4  # Cz, as Stable Diffusion's
    channels: tuple[int, int] = (32, 64)  # c0 at H × W, c1 at h × w
    groups: int = 8  # GroupNorm groups (they divide c0 and c1)


def conv_norm_silu(c_in: int, c_out: int, groups: int, stride: int = 1) -> list[nn.Module]:
    """A 3×3 conv, GroupNorm, SiLU: the layer both halves are made of."""
    return [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.GroupNorm(groups, c_out), nn.SiLU()]


class VAE(nn.Module):
    """The encoder (H × W → h × w, the moments μ and log σ²) and the decoder (h × w → H × W)."""

    def __init__(self, config: VAEConfig = VAEConfig()) -> None:
        super().__init__()
        self.config = config
        C, Cz, G = config.in_channels, config.latent_channels, config.groups
        c0, c1 = config.channels
        self.encoder = nn.Sequential(
            *conv_norm_silu(C, c0, G),
            *conv_norm_silu(c0, c1, G, stride=2),  # H × W → h × w
            *conv_norm_silu(c1, c1, G),
            nn.Conv2d(c1, 2 * Cz, 1),  # the moments: μ in the first Cz channels, log σ² in the last Cz
        )
        self.decoder = nn.Sequential(
            *conv_norm_silu(Cz, c1, G),
            *conv_norm_silu(c1, c1, G),
            nn.Upsample(scale_factor=2, mode="nearest"),  # h × w → H × W
            *conv_norm_silu(c1, c0, G),
            nn.Conv2d(c0, C, 3, padding=1),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, C, H, W) in [-1, 1]  →  (mean, logvar), each (B, Cz, h, w); logvar in [-30, 20]."""
        moments = self.encoder(x)  # (B, 2·Cz, h, w)
        # TODO 19.3 (about 2 lines): split the moments into mean (the first Cz channels) and logvar (the last Cz), clamp logvar to [LOGVAR_MIN, LOGVAR_MAX].
        raise NotImplementedError("blank 19.3 is not filled in yet")
        return mean, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, Cz, h, w)  →  (B, C, H, W), unbounded (images live in [-1, 1])."""
        return self.decoder(z)

    def forward(
        self, x: torch.Tensor, noise: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x: (B, C, H, W)   noise: ε (B, Cz, h, w), drawn if None  →  (recon (B, C, H, W), mean, logvar)."""
        # TODO 19.4 (about 3 lines): encode, sample z from q(z | x) with the noise given, decode z; return recon, mean, logvar.
        raise NotImplementedError("blank 19.4 is not filled in yet")


def vae_loss(
    recon: torch.Tensor, x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor, kl_weight: float
) -> torch.Tensor:
    """The mean over the batch of Σ (x̂ − x)² over each image's values + kl_weight · its KL.

    recon, x: (B, C, H, W)   mean, logvar: (B, Cz, h, w)  →  a scalar
    """
    # TODO 19.5 (about 2 lines): each image's sum of squared errors, plus kl_weight times its KL; the mean of that over the batch.
    raise NotImplementedError("blank 19.5 is not filled in yet")
