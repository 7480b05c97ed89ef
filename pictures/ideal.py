"""The ideal denoiser of a few scenes: what a perfectly trained network would predict, with no training.

Where the data are N images x_1..x_N, the best guess of x_0 from x_t is exact (Bayes: the noise is
Gaussian): each image weighted by how likely it made x_t,

    w_k ∝ π_k · exp(−‖x_t − √ᾱ_t x_k‖² / (2 (1 − ᾱ_t))),   x̂_0 = Σ_k w_k x_k,   ε = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t)

so a sampler given it walks from noise to one of the N images. It stands in for a trained U-Net
where no milestone checkpoint exists: the sampler, the guidance and the pipeline are then yours,
and only the network is known exactly. The prior π comes from the context, so a "prompt" can say
which images it means: context (B, Tc, N) holds log π in its first row (None: all alike).
"""

from __future__ import annotations

import torch
from torch import nn

from shapes.world import parse_caption

FAR = float("-inf")  # log π of an image the prompt does not describe: weight 0, however close x_t is to it


class IdealDenoiser(nn.Module):
    """ε(x_t, t, context) of the data `images` (N, C, H, W), under `schedule` (kata 09's Schedule)."""

    def __init__(self, images: torch.Tensor, schedule) -> None:
        super().__init__()
        self.images = nn.Parameter(images.float(), requires_grad=False)  # a parameter: the samplers read its device
        self.alpha_bar = schedule.alpha_bar.float()

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, context: torch.Tensor | None = None,
                context_mask: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        alpha_bar = self.alpha_bar.to(x_t.device)[t].view(-1, 1)  # (B, 1)
        x = x_t.flatten(1)  # (B, C·H·W)
        data = self.images.flatten(1)  # (N, C·H·W)
        distances = ((x[:, None, :] - alpha_bar.sqrt()[:, :, None] * data[None]) ** 2).sum(-1)  # (B, N)
        log_w = -distances / (2 * (1 - alpha_bar))  # (B, N)
        if context is not None:
            log_w = log_w + context[:, 0, :]
        x0 = log_w.softmax(dim=1) @ data  # (B, C·H·W)
        eps = (x - alpha_bar.sqrt() * x0) / (1 - alpha_bar).sqrt()
        return eps.view_as(x_t)


def log_prior(captions: list[str], scene_labels: list) -> torch.Tensor:
    """Each caption as a prior over the scenes: 0 for the scenes it describes, FAR for the others
    (it must describe one); the empty caption, every scene alike.  Returns (len(captions), 1, N)."""
    rows = []
    for caption in captions:
        if not caption.strip():
            rows.append(torch.zeros(len(scene_labels)))
            continue
        wanted = parse_caption(caption)
        rows.append(torch.tensor([0.0 if wanted.same_scene(label) else FAR for label in scene_labels]))
    return torch.stack(rows)[:, None, :]


class PromptPrior(nn.Module):
    """A stand-in text encoder for IdealDenoiser: tokens (B, T)  →  (features (B, T, N), pooled (B, N)),
    every feature vector the caption's log prior over the N scenes (log_prior), as the context
    IdealDenoiser reads. `decode` is kata 01's decode with the vocabulary bound."""

    def __init__(self, decode, scene_labels: list) -> None:
        super().__init__()
        self.decode, self.scene_labels = decode, scene_labels

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        prior = log_prior([self.decode(row.cpu()) for row in tokens], self.scene_labels).to(tokens.device)  # (B, 1, N)
        return prior.expand(-1, tokens.shape[1], -1), prior[:, 0]
