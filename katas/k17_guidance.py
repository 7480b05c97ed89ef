"""Kata 17: Classifier-free guidance: follow the prompt harder than the training data did.

A model trained with condition dropout (kata 16) predicts the noise two ways: with the prompt,
ε(x_t, t, c), and without it, ε(x_t, t, ∅). Their difference points from "any scene" towards
"the scene the prompt describes". Classifier-free guidance (Ho & Salimans 2022, Eq. 6, in the
form Stable Diffusion uses) goes that way on purpose, with a scale g:

    ε̃ = ε(x_t, t, ∅) + g · (ε(x_t, t, c) − ε(x_t, t, ∅))

g = 0 ignores the prompt, g = 1 is the plain conditional model, g > 1 (3 to 7 is usual)
exaggerates what the prompt changes: samples follow it more closely, at some cost in variety.
(The paper writes (1 + w) ε_c − w ε_∅: the same thing with g = 1 + w.)

Both predictions come from one forward pass of a batch twice the size: the images twice, the
empty caption's features beside the prompt's. That is one call instead of two, as every
Stable Diffusion pipeline does it. The unconditional half comes first.

Guided wraps a model and its empty caption's features in an nn.Module that the samplers
(kata 15's ddpm_sample, kata 18's ddim_sample) take in place of the model: they call it with
the prompt's features, it answers with the guided ε.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: channels   H, W: height and width   Tc, Dc: the text features' length and width
"""

from __future__ import annotations

import torch
from torch import nn


def classifier_free_guidance(eps_uncond: torch.Tensor, eps_cond: torch.Tensor, scale: float) -> torch.Tensor:
    """ε̃ = ε_∅ + g · (ε_c − ε_∅).  eps_uncond, eps_cond: (B, C, H, W)  →  (B, C, H, W)."""
    # TODO 17.1 (about 1 line): start from the unconditional prediction and move `scale` times the difference towards the conditional one.
    raise NotImplementedError("blank 17.1 is not filled in yet")


def guided_eps(
    model: nn.Module,
    x_t: torch.Tensor,
    t: torch.Tensor,
    context: torch.Tensor,
    context_mask: torch.Tensor | None,
    uncond_context: torch.Tensor,
    uncond_mask: torch.Tensor | None,
    scale: float,
) -> torch.Tensor:
    """The guided ε from ONE call of the model on 2B images: the unconditional half first.

    x_t: (B, C, H, W)   t: (B,) long   context, uncond_context: (B, Tc, Dc)
    context_mask, uncond_mask: (B, 1, Tc) bool or None (both None, or both given)
    Returns (B, C, H, W).
    """
    # TODO 17.2 (about 3 lines): stack the inputs twice (unconditional half first), one model call, split its answer into eps_uncond and eps_cond.
    raise NotImplementedError("blank 17.2 is not filled in yet")
    # TODO 17.3 (about 1 line): combine the two halves with classifier_free_guidance.
    raise NotImplementedError("blank 17.3 is not filled in yet")


class Guided(nn.Module):
    """A model that answers with the guided ε: what the samplers are given in place of the model.

    uncond_context: (B, Tc, Dc) the empty caption's features, B times; uncond_mask: (B, 1, Tc) or None.
    """

    def __init__(self, model: nn.Module, uncond_context: torch.Tensor, uncond_mask: torch.Tensor | None, scale: float) -> None:
        super().__init__()
        self.model, self.scale = model, scale
        self.register_buffer("uncond_context", uncond_context, persistent=False)  # buffers: .to(device) moves them
        self.register_buffer("uncond_mask", uncond_mask, persistent=False)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, context: torch.Tensor, context_mask: torch.Tensor | None = None) -> torch.Tensor:
        """x_t: (B, C, H, W)   t: (B,)   context: (B, Tc, Dc) the prompt's features  →  (B, C, H, W)."""
        # TODO 17.4 (about 1 line): guided_eps with the wrapped model, this call's inputs, the stored empty caption and scale.
        raise NotImplementedError("blank 17.4 is not filled in yet")
