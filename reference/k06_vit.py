"""Kata 06: The Vision Transformer: an image as a sequence of patches.

A Transformer reads sequences. Dosovitskiy et al. (2021, "An Image is Worth 16x16 Words")
turn an image into one: cut it into P×P patches, flatten each patch into a vector, project
each vector linearly to the model width D, and the image is a sequence of N = (H/P)·(W/P)
tokens. From there on, it is kata 05's Transformer, unchanged.

Two more pieces make it a classifier (§3.1 of the paper, as in BERT):
- a learned **class token** goes in front of the patch tokens; through self-attention it
  gathers what the whole image holds, and the classifier reads its output alone;
- attention does not know where a token came from, so each of the N + 1 places gets a
  learned **position** vector, added after the class token is in place (the class token has
  a position of its own, place 0).

Patches are numbered row by row (left to right, then top to bottom), and each patch is
flattened pixel by pixel with its C channel values together: (p1, p2, c), the order of the
reference implementations. Katas 07 and 08 read the output tokens of this ViT (all of them,
through `features`) as the image half of captioning and CLIP.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: channels   H, W: image height and width   P: patch size
    N: number of patches, (H/P)·(W/P)   D: model width   K: number of classes
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from k05_transformer import LayerNorm, TransformerBlock
from torch import nn


def patchify(images: torch.Tensor, P: int) -> torch.Tensor:
    """Cut images into P×P patches, row by row, each flattened as (p1, p2, c).

    images: (B, C, H, W), H and W multiples of P  →  (B, N, P·P·C)
    """
    B, C, H, W = images.shape
    # BLANK 06.1 (about 2 lines): split H and W into (patch row, pixel row) and (patch column, pixel column), bring the patch axes forward, flatten.
    # HINT: View (B, C, H, W) as (B, C, H/P, P, W/P, P): axes 2 and 4 pick the patch, axes 3 and 5 the pixel inside it.
    # HINT: Permute to (B, H/P, W/P, P, P, C), then reshape to (B, N, P*P*C). A reshape alone, without the permute, mixes pixels of different patches.
    # HINT: x = images.view(B, C, H // P, P, W // P, P).permute(0, 2, 4, 3, 5, 1); return x.reshape(B, (H // P) * (W // P), P * P * C)
    x = images.view(B, C, H // P, P, W // P, P).permute(0, 2, 4, 3, 5, 1)  # (B, H/P, W/P, P, P, C)
    return x.reshape(B, (H // P) * (W // P), P * P * C)  # (B, N, P·P·C)
    # END BLANK 06.1


def unpatchify(patches: torch.Tensor, P: int, C: int, H: int, W: int) -> torch.Tensor:
    """The inverse of patchify: patches (B, N, P·P·C)  →  images (B, C, H, W)."""
    B = patches.shape[0]
    # BLANK 06.2 (about 2 lines): undo patchify: view as (B, H/P, W/P, P, P, C), permute back, reshape to (B, C, H, W).
    # HINT: Run patchify's steps backwards: the view first, then the permutation that undoes (0, 2, 4, 3, 5, 1).
    # HINT: After patches.view(B, H // P, W // P, P, P, C), the axes are (B, rows, cols, p1, p2, C); you want (B, C, rows, p1, cols, p2).
    # HINT: x = patches.view(B, H // P, W // P, P, P, C).permute(0, 5, 1, 3, 2, 4); return x.reshape(B, C, H, W)
    x = patches.view(B, H // P, W // P, P, P, C).permute(0, 5, 1, 3, 2, 4)  # (B, C, H/P, P, W/P, P)
    return x.reshape(B, C, H, W)
    # END BLANK 06.2


class PatchEmbedding(nn.Module):
    """Patches → tokens: a linear projection of each patch, a class token in front, learned positions."""

    def __init__(self, image_size: int, patch_size: int, channels: int, dim: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        n_patches = (image_size // patch_size) ** 2
        self.proj = nn.Linear(patch_size * patch_size * channels, dim)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)  # (1, 1, D)
        self.positions = nn.Parameter(torch.randn(1, n_patches + 1, dim) * 0.02)  # (1, N + 1, D)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images: (B, C, H, W)  →  tokens (B, N + 1, D): the class token at place 0, then the patches."""
        # BLANK 06.3 (about 1 line): patchify the images and project each patch to D with self.proj.
        # HINT: Each patch becomes a vector of P·P·C numbers (your patchify), and one linear layer maps it to the model width.
        # HINT: patchify(images, self.patch_size) is (B, N, P·P·C); self.proj maps its last dimension to D.
        # HINT: x = self.proj(patchify(images, self.patch_size))
        x = self.proj(patchify(images, self.patch_size))  # (B, N, D)
        # END BLANK 06.3
        # BLANK 06.4 (about 2 lines): put the class token in front of every image's patch tokens, then add the positions.
        # HINT: The class token is one learned vector shared by the batch: repeat it B times (expand), then concatenate along the token axis.
        # HINT: self.cls_token.expand(x.shape[0], -1, -1) is (B, 1, D); torch.cat([...], dim=1) gives (B, N + 1, D); self.positions is (1, N + 1, D).
        # HINT: x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1); return x + self.positions
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)  # (B, N + 1, D)
        return x + self.positions  # (B, N + 1, D)
        # END BLANK 06.4


@dataclass(frozen=True)
class ViTConfig:
    """A ViT small enough for 16×16 shapes on a CPU: 16 patches of 4×4."""

    image_size: int = 16
    patch_size: int = 4
    channels: int = 3
    dim: int = 64
    n_heads: int = 4
    n_layers: int = 2
    num_classes: int = 10


class ViT(nn.Module):
    """Patch embedding, n_layers pre-norm Transformer blocks (kata 05), a final LayerNorm, a linear head."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = PatchEmbedding(config.image_size, config.patch_size, config.channels, config.dim)
        self.blocks = nn.ModuleList(TransformerBlock(config.dim, config.n_heads) for _ in range(config.n_layers))
        self.ln_final = LayerNorm(config.dim)
        self.head = nn.Linear(config.dim, config.num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """images: (B, C, H, W)  →  (B, N + 1, D): every output token, the class token first."""
        # BLANK 06.5 (about 4 lines): embed the patches, run every block (no mask: every token sees every token), final norm.
        # HINT: Exactly kata 05's text encoder, with patch tokens in place of word tokens, and no padding to mask.
        # HINT: x = self.embed(images); then x = block(x) for each block in self.blocks; then self.ln_final.
        # HINT: x = self.embed(images); for block in self.blocks: x = block(x); return self.ln_final(x)
        x = self.embed(images)  # (B, N + 1, D)
        for block in self.blocks:
            x = block(x)  # (B, N + 1, D)
        return self.ln_final(x)
        # END BLANK 06.5

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images: (B, C, H, W)  →  logits (B, K), read from the class token's output alone."""
        # BLANK 06.6 (about 1 line): classify the class token: the head applied to place 0 of the features.
        # HINT: The class token went in at place 0, and through attention it gathered the whole image.
        # HINT: self.features(images) is (B, N + 1, D); [:, 0] takes the class token of each image: (B, D).
        # HINT: return self.head(self.features(images)[:, 0])
        return self.head(self.features(images)[:, 0])  # (B, K)
        # END BLANK 06.6
