"""Kata 08: CLIP: images and captions in one embedding space.

CLIP (Radford et al. 2021) learns from pairs alone: an image and its caption. An image
encoder (kata 06's ViT) and a text encoder (kata 05's) each map their input to a vector, and
a linear projection brings both to the same E dimensions. In a batch of B pairs, image i and
caption i belong together, and the B² - B other combinations do not; training pulls the
matching pairs together and pushes the others apart (contrastive learning). The paper's
Figure 3 is the whole algorithm:

    I_e = l2_normalize(I_f @ W_i)           # (B, E) image embeddings
    T_e = l2_normalize(T_f @ W_t)           # (B, E) text embeddings
    logits = (I_e @ T_e.T) * exp(t)         # (B, B), the matching pairs on the diagonal
    loss = (CE(logits, arange(B), over rows) + CE(logits, arange(B), over columns)) / 2

- Why normalise: the dot product of two unit vectors is their cosine similarity, in [-1, 1].
  Without it, the model could raise a score by making a vector longer instead of pointing it
  the right way, and one long text vector would win against every image.
- The temperature: a cosine in [-1, 1] makes a soft softmax over B candidates. The learned
  scalar t multiplies the cosines by exp(t) (the exp keeps the scale positive, and lets t
  move freely); CLIP starts it at 1/0.07 ≈ 14.3 and never lets it pass 100 (the paper clips
  it there "to prevent scaling the logits by more than 100, ... to prevent training
  instability"). Here the clamp is part of clip_logits: t at most max_log_temperature.
- The loss is symmetric: each image classifies which of the B captions is its own (rows),
  and each caption which of the B images is its own (columns); the loss is the mean of both.
- Zero-shot classification (§3.1.2): write one prompt per class ("a red circle", "a blue
  square", ...), embed the prompts, and give each image the class whose prompt it matches
  best. No classifier is trained: the classes are chosen at test time, in words.

The text tower trained here is the one that steers the diffusion model later on: from kata 16,
its token features are what the U-Net's cross-attention reads.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size (B images and B captions: B pairs)   M: number of texts   K: number of classes
    E: embedding width   C, H, W: image channels, height, width   T: caption length
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from k05_transformer import TextEncoder, TextEncoderConfig
from k06_vit import ViT, ViTConfig
from torch import nn


def l2_normalize(x: torch.Tensor) -> torch.Tensor:
    """Each vector divided by its Euclidean length. x: (B, E)  →  (B, E), every row of norm 1."""
    # BLANK 08.1 (about 1 line): divide each row by its L2 norm, √(Σ x²) over the last dimension.
    # HINT: Each embedding is scaled on its own to length 1: its own norm, taken over its E features.
    # HINT: x.norm(dim=-1, keepdim=True) is (B, 1): keepdim lets it broadcast against (B, E).
    # HINT: return x / x.norm(dim=-1, keepdim=True)
    return x / x.norm(dim=-1, keepdim=True)  # (B, E) / (B, 1)
    # END BLANK 08.1


def clip_logits(
    image_emb: torch.Tensor,
    text_emb: torch.Tensor,
    log_temperature: torch.Tensor,
    max_log_temperature: float = math.log(100),
) -> torch.Tensor:
    """Cosine similarity of every image with every text, times exp(t), t clamped at max_log_temperature.

    image_emb: (B, E)   text_emb: (M, E)   log_temperature: () scalar t  →  logits (B, M)
    """
    # BLANK 08.2 (about 3 lines): normalise both embeddings, scale = exp(t) with t clamped at max_log_temperature, logits = scale · image @ textᵀ.
    # HINT: Figure 3 of the paper: the cosines of unit vectors, times exp(t); the clamp keeps exp(t) at most 100.
    # HINT: l2_normalize each embedding; log_temperature.clamp(max=max_log_temperature).exp() is the scale; image @ text.T is (B, M).
    # HINT: scale = log_temperature.clamp(max=max_log_temperature).exp(); return scale * l2_normalize(image_emb) @ l2_normalize(text_emb).T
    image, text = l2_normalize(image_emb), l2_normalize(text_emb)  # (B, E), (M, E)
    scale = log_temperature.clamp(max=max_log_temperature).exp()  # () in (0, e^max]
    return scale * image @ text.T  # (B, M)
    # END BLANK 08.2


def clip_loss(logits: torch.Tensor) -> torch.Tensor:
    """The symmetric contrastive loss: logits (B, B), pair i on the diagonal  →  () scalar."""
    # BLANK 08.3 (about 3 lines): targets 0..B-1; cross-entropy over the rows (images) and over the columns (texts); their mean.
    # HINT: Row i asks "which caption is image i's?", column i asks "which image is caption i's?": the answer is i both times.
    # HINT: targets = torch.arange(B); F.cross_entropy(logits, targets) reads the rows; logits.T turns the columns into rows.
    # HINT: targets = torch.arange(len(logits)); return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2
    targets = torch.arange(logits.shape[0], device=logits.device)  # (B,): pair i is at column i
    loss_images = F.cross_entropy(logits, targets)  # each image picks its caption
    loss_texts = F.cross_entropy(logits.T, targets)  # each caption picks its image
    return (loss_images + loss_texts) / 2
    # END BLANK 08.3


@dataclass(frozen=True)
class CLIPConfig:
    """The two towers (katas 06 and 05) and the width E of the shared embedding space."""

    vision: ViTConfig = field(default_factory=ViTConfig)
    text: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    embed_dim: int = 64


class CLIP(nn.Module):
    """An image tower and a text tower, each projected to E, and a learned temperature."""

    def __init__(self, config: CLIPConfig) -> None:
        super().__init__()
        self.config = config
        self.vision = ViT(config.vision)  # its classification head is not used here
        self.text = TextEncoder(config.text)
        self.image_proj = nn.Linear(config.vision.dim, config.embed_dim, bias=False)  # W_i
        self.text_proj = nn.Linear(config.text.dim, config.embed_dim, bias=False)  # W_t
        self.log_temperature = nn.Parameter(torch.tensor(math.log(1 / 0.07)))  # t: exp(t) starts at 1/0.07

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """images: (B, C, H, W)  →  (B, E): the ViT's class token, projected (not normalised)."""
        # BLANK 08.4 (about 1 line): the class token of self.vision.features, projected by self.image_proj.
        # HINT: Kata 06's class token gathers the whole image: CLIP reads it, as the ViT classifier did.
        # HINT: self.vision.features(images) is (B, N + 1, Dv); place 0 is the class token; self.image_proj maps Dv to E.
        # HINT: return self.image_proj(self.vision.features(images)[:, 0])
        return self.image_proj(self.vision.features(images)[:, 0])  # (B, E)
        # END BLANK 08.4

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: (B, T) long, padded  →  (B, E): the text encoder's pooled vector, projected."""
        # BLANK 08.5 (about 2 lines): the pooled vector of self.text (kata 05: the mean of the real tokens), projected by self.text_proj.
        # HINT: Kata 05's encoder returns two things; the one that stands for the whole caption, padding left out, is the second.
        # HINT: features, pooled = self.text(tokens): (B, T, Dt) and (B, Dt); self.text_proj maps Dt to E.
        # HINT: _, pooled = self.text(tokens); return self.text_proj(pooled)
        _, pooled = self.text(tokens)  # (B, Dt)
        return self.text_proj(pooled)  # (B, E)
        # END BLANK 08.5

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """images: (B, C, H, W)   tokens: (B, T), caption i describing image i  →  logits (B, B)."""
        # BLANK 08.6 (about 1 line): clip_logits of the image embeddings (rows) and text embeddings (columns), with self.log_temperature.
        # HINT: Rows are images, columns are captions: logits[i, j] scores image i against caption j.
        # HINT: clip_logits(image_emb, text_emb, log_temperature) with self.encode_image(images) and self.encode_text(tokens).
        # HINT: return clip_logits(self.encode_image(images), self.encode_text(tokens), self.log_temperature)
        return clip_logits(self.encode_image(images), self.encode_text(tokens), self.log_temperature)  # (B, B)
        # END BLANK 08.6


@torch.no_grad()
def zero_shot_classify(model: CLIP, images: torch.Tensor, class_tokens: torch.Tensor) -> torch.Tensor:
    """Each image's class: the one whose prompt it matches best.

    images: (B, C, H, W)   class_tokens: (K, T), one prompt per class  →  (B,) long, in [0, K)
    """
    # BLANK 08.7 (about 3 lines): embed the images and the K prompts, score every image against every prompt, argmax over the prompts.
    # HINT: The prompts play the captions' part: the best-scoring prompt of row i is image i's class.
    # HINT: clip_logits(model.encode_image(images), model.encode_text(class_tokens), model.log_temperature) is (B, K); argmax over the last dim.
    # HINT: logits = clip_logits(model.encode_image(images), model.encode_text(class_tokens), model.log_temperature); return logits.argmax(dim=-1)
    image_emb = model.encode_image(images)  # (B, E)
    text_emb = model.encode_text(class_tokens)  # (K, E)
    return clip_logits(image_emb, text_emb, model.log_temperature).argmax(dim=-1)  # (B,)
    # END BLANK 08.7
