"""Kata 21: The text-to-image pipeline: a sentence in, a picture out.

Everything you built, in the order Stable Diffusion runs it (Rombach et al. 2022, Fig. 3):

    "a red circle above a blue square"
      → tokens (kata 01)  → text features (kata 05's encoder, trained as kata 08's CLIP text tower)
      → pure noise in latent space, denoised by DDIM (kata 18) with classifier-free guidance
        (kata 17) by the conditional U-Net (kata 16) reading the text through cross-attention
      → the VAE's decoder (katas 19–20) → an image in [-1, 1] → [0, 1] (kata 10) → a PNG

Guidance needs the empty caption's features beside the prompts': the pipeline tokenizes the
B prompts and B empty captions as one padded batch of 2B, runs the text encoder once, and
splits the features (prompts first). A seed makes it reproducible: the same prompts, steps,
scale and seed give the same images, whatever ran before (a generator of its own, never the
global random state).

to_pixels turns floats in [0, 1] into the bytes a PNG stores (0..255), and save_grid lays B images out in rows of `ncol` (row-major: image i at row i // ncol, column
i % ncol) and writes one PNG with Pillow.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: number of prompts   C: image channels   H, W: image size   Cz, h, w: latent channels and size
    T: caption length (tokens)   D: width of the text features
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from k01_tokenizer import encode, pad_batch, padding_mask, words_of
from k09_schedules import Schedule
from k10_forward import to_image_range
from k17_guidance import Guided
from k18_ddim import ddim_sample
from k20_latent import LatentCodec


class TextToImage(nn.Module):
    """Prompts → images: tokenizer, text encoder, conditional U-Net with guidance and DDIM, VAE decoder."""

    def __init__(self, vocab: dict[str, int], text_encoder: nn.Module, unet: nn.Module, codec: LatentCodec,
                 schedule: Schedule, latent_shape: tuple[int, int, int]) -> None:  # fmt: skip
        super().__init__()
        self.vocab, self.text_encoder, self.unet, self.codec = vocab, text_encoder, unet, codec
        self.schedule, self.latent_shape = schedule, latent_shape  # latent_shape: (Cz, h, w)

    def check_words(self, prompts: list[str]) -> None:
        """A clear error for a word the model never learned."""
        for prompt in prompts:
            # TODO 21.1 (about 1 line): the words of the prompt (as kata 01 splits them) that are not in the vocabulary, in order.
            raise NotImplementedError("blank 21.1 is not filled in yet")
            if unknown:
                known = " ".join(sorted(w for w in self.vocab if not w.startswith("<")))
                raise ValueError(f"{unknown[0]!r} in {prompt!r} is not a word this model knows. Known words: {known}")

    def encode_prompts(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The text features and key padding masks of the B prompts and of B empty captions.

        Returns (context (B, T, D), mask (B, 1, T), uncond_context (B, T, D), uncond_mask (B, 1, T)).
        """
        self.check_words(prompts)
        B = len(prompts)
        device = next(self.unet.parameters()).device
        # TODO 21.2 (about 4 lines): tokenize the prompts and B empty captions as one padded batch, run the text encoder once, split features and masks (prompts first).
        raise NotImplementedError("blank 21.2 is not filled in yet")

    @torch.no_grad()
    def forward(self, prompts: list[str], steps: int = 50, guidance_scale: float = 4.0, seed: int = 0) -> torch.Tensor:
        """B prompts  →  images (B, C, H, W) in [0, 1], the same for the same arguments."""
        context, mask, uncond_context, uncond_mask = self.encode_prompts(prompts)
        # TODO 21.3 (about 3 lines): a generator seeded with `seed`; the guided U-Net (kata 17); DDIM in latent space, from noise of shape (B, Cz, h, w), without the x̂_0 clip.
        raise NotImplementedError("blank 21.3 is not filled in yet")
        # TODO 21.4 (about 1 line): decode the latents to images (the codec undoes the scale), then bring them from [-1, 1] to [0, 1], clamped (kata 10).
        raise NotImplementedError("blank 21.4 is not filled in yet")


def to_pixels(x: torch.Tensor) -> np.ndarray:
    """Floats in [0, 1] (any shape) as the bytes of a PNG: a numpy uint8 array of the same shape, 0..255."""
    # TODO 21.5 (about 1 line): clamp to [0, 1], scale to 0..255, round to the nearest whole number, convert to uint8, as numpy.
    raise NotImplementedError("blank 21.5 is not filled in yet")


def save_grid(images: torch.Tensor, path: str | Path, ncol: int = 8) -> Path:
    """Tile RGB images (B, 3, H, W) in [0, 1] into rows of ncol (the last row padded with black) and write a PNG."""
    B, C, H, W = images.shape
    rows = -(-B // ncol)  # ceil(B / ncol)
    padded = torch.cat([images.detach().cpu().float(), images.new_zeros(rows * ncol - B, C, H, W).cpu().float()])  # (rows·ncol, C, H, W)
    # TODO 21.6 (about 2 lines): the (rows·ncol, C, H, W) batch as one (rows·H, ncol·W, C) picture: image i at row i // ncol, column i % ncol.
    raise NotImplementedError("blank 21.6 is not filled in yet")
    pixels = to_pixels(grid)  # (rows·H, ncol·W, C) uint8
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path
