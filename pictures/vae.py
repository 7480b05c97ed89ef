"""The VAE the pictures of katas 19-21 use: milestone latent's where its checkpoint fits, else a
small one trained for a few seconds now (the learner's VAE class and loss, when kata 19 is shown)."""

from __future__ import annotations

import time

import torch

from milestones.latent import LATENT_CHANNELS
from milestones.runner import adamw
from pictures.checkpoints import part, run_first
from shapes.world import make_scenes

QUICK_STEPS = 250
KL_WEIGHT = 1e-3  # as milestone latent


def trained_vae(mods, show, note: bool = True) -> tuple[torch.nn.Module, str, dict]:
    """(a VAE in eval mode, where it comes from in words, its training curves {"reconstruction", "kl"}; empty when loaded).
    `note`: say which milestone trains the real one (the caller may say it itself)."""
    state = show.trained("latent")
    if state is not None:
        weights = part(state, "vae.")
        vae = mods.vae.VAE(mods.vae.VAEConfig(latent_channels=LATENT_CHANNELS))  # as milestone latent builds it
        vae.load_state_dict(weights)
        return vae.to(show.device).eval(), "milestone latent's VAE", {}
    steps = show.steps(QUICK_STEPS, 4)
    show.now(f"No latent checkpoint fits: training a small VAE for {steps} steps now (about 10-20 s on 2 CPU cores).")
    start = time.perf_counter()
    vae, curves = quick_vae(mods, steps, show.device)
    if note:
        show.note(f"The VAE was trained for {steps} steps just now. {run_first('latent')}")
    return vae, f"a small VAE trained {steps} steps now ({time.perf_counter() - start:.0f} s)", curves


def quick_vae(mods, steps: int, device) -> tuple[torch.nn.Module, dict]:
    """mods.vae's VAE (channels 16 and 32, 4 latent channels) trained `steps` steps of 32 scenes with its vae_loss."""
    images = mods.forward.to_model_range(make_scenes(2048, seed=1).images)
    torch.manual_seed(0)
    vae = mods.vae.VAE(mods.vae.VAEConfig(latent_channels=LATENT_CHANNELS, channels=(16, 32))).to(device)
    optimizer = adamw(vae, 2e-3)
    generator = torch.Generator().manual_seed(0)
    curves = {"reconstruction": [], "kl": []}
    for _ in range(steps):
        x = images[torch.randint(0, len(images), (32,), generator=generator)].to(device)
        recon, mean, logvar = vae(x)
        loss = mods.vae.vae_loss(recon, x, mean, logvar, KL_WEIGHT)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            curves["reconstruction"].append(float((recon - x).pow(2).flatten(1).sum(dim=1).mean()))
            curves["kl"].append(float(mods.vae.kl_divergence(mean, logvar).mean()))
    return vae.eval(), curves
