"""Kata 19's picture: VAE reconstructions: scenes, decoded from the mean of q(z | x) and from a
sample of it, what the decoder makes of N(0, I), and the two terms of the loss while it trained."""

from __future__ import annotations

import torch

from pictures import plot
from pictures.vae import trained_vae
from shapes.world import make_scenes


def draw(mods, show) -> None:
    vae_kata, fwd = mods.vae, mods.forward
    vae, source, curves = trained_vae(mods, show)
    scenes = make_scenes(8, seed=9)
    x = fwd.to_model_range(scenes.images).to(show.device)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        mean, logvar = vae.encode(x)  # (8, Cz, 8, 8) each
        from_mean = vae.decode(mean)
        noise = torch.randn(mean.shape, generator=generator).to(show.device)
        sampled, _, _ = vae(x, noise)  # decoded from z = μ + σ ε
        prior = vae.decode(torch.randn(mean.shape, generator=generator).to(show.device))
        kl = vae_kata.kl_divergence(mean, logvar)  # (8,)
    error = (from_mean - x).pow(2).mean().item()
    rows = [("the scenes", x), ("decode(μ)", from_mean), ("decode(μ + σ ε): reparameterize", sampled),
            ("decode(z ~ N(0, I))", prior)]  # fmt: skip

    fig = plot.figure(16, 7.2, f"VAE ({source}; {show.whose}): 3×16×16 → latent {tuple(mean.shape[1:])} → 3×16×16, "
                               f"shown with to_image_range (clamped). Mean squared error of decode(μ): {error:.4f}")  # fmt: skip
    left, right = fig.subfigures(1, 2, width_ratios=[2.3, 1])
    axes = left.subplots(len(rows), 8)
    for r, (name, images) in enumerate(rows):
        images = fwd.to_image_range(images.cpu())
        for i in range(8):
            title = f"KL {float(kl[i]):.0f}" if r == 0 else None
            plot.image(axes[r][i], images[i], title, fontsize=7)
        axes[r][0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    left.suptitle("the KL weight is small (1e-3): q(z | x) is far from N(0, I), so the prior decodes to no scene", fontsize=9)
    ax = right.subplots()
    if curves:
        ax.plot(curves["reconstruction"], label="Σ (x̂ − x)² per image")
        ax.plot(curves["kl"], label="KL per image (kl_divergence)")
        ax.set_yscale("log")
        ax.set_xlabel("step", fontsize=8)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        ax.set_title("the two terms of vae_loss while it trained", fontsize=9)
    else:
        ax.hist(mean.flatten().cpu().numpy(), bins=50, color="grey")
        ax.set_title(f"the latent means μ of these scenes: std {float(mean.std()):.2f}", fontsize=9)
    show.save(fig, "vae")
