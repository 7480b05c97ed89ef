"""Kata 20's picture: the latents: each scene's 4 latent channels after the scaling factor, their
values before and after it (estimate_scale brings them to unit std), the round trip through
LatentCodec, and the forward process in latent space, decoded."""

from __future__ import annotations

import torch

from pictures import plot
from pictures.vae import trained_vae
from shapes.world import make_scenes

STEPS = (0, 100, 200, 300, 500, 700)
NEEDS = ("20.1", "20.2", "20.3")  # the blanks it runs: named before the VAE trains, not after


def draw(mods, show) -> None:
    lat, fwd = mods.latent, mods.forward
    vae, source, _ = trained_vae(mods, show)
    scenes = make_scenes(512, seed=8)
    data = fwd.to_model_range(scenes.images).to(show.device)
    scale = lat.estimate_scale(vae, data)
    codec = lat.LatentCodec(vae, scale).to(show.device)
    first_of_colour = [int((scenes.colour[:, 0] == c).nonzero()[0]) for c in range(4)]  # one scene per colour
    x = data[first_of_colour]
    with torch.no_grad():
        raw, _ = vae.encode(data)  # (512, Cz, 8, 8): the VAE's latent means, unscaled
        z_all = codec.encode(data)
        z = z_all[first_of_colour]  # (4, Cz, 8, 8)
        back = codec.decode(z)
        schedule = mods.schedules.Schedule(mods.schedules.cosine_beta_schedule(1000))
        t = torch.tensor(STEPS, device=show.device)
        noise = torch.randn((1, *z.shape[1:]), generator=torch.Generator().manual_seed(0)).to(show.device)
        z_t = fwd.q_sample(z[:1].expand(len(STEPS), -1, -1, -1), t, noise.expand(len(STEPS), -1, -1, -1), schedule)
        decoded_t = codec.decode(z_t)
    Cz = z.shape[1]
    limit = float(z.abs().max())

    fig = plot.figure(16, 8.2, f"LatentCodec ({source}; {show.whose}): estimate_scale s = {scale:.3f} = 1 / std of the "
                               f"latent means of 512 scenes")  # fmt: skip
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.5, 1])
    axes = top.subplots(4, Cz + 2)
    for i in range(4):
        plot.image(axes[i][0], fwd.to_image_range(x[i].cpu()), "scene" if i == 0 else None)
        for c in range(Cz):
            shown = plot.signed_heat(axes[i][c + 1], z[i, c].cpu(), f"z channel {c}" if i == 0 else None, limit=limit,
                                     colorbar=False, aspect="equal", fontsize=8)  # fmt: skip
            axes[i][c + 1].set_xticks([])
            axes[i][c + 1].set_yticks([])
        plot.image(axes[i][Cz + 1], fwd.to_image_range(back[i].cpu()), "decode(encode(x))" if i == 0 else None)
    top.colorbar(shown, ax=axes[:, 1 : Cz + 1], shrink=0.7, label="z = s · μ")
    hist, forward = bottom.subfigures(1, 2, width_ratios=[1, 2.2])
    ax = hist.subplots()
    ax.hist(raw.flatten().cpu().numpy(), bins=60, alpha=0.6, density=True, label=f"VAE means: std {float(raw.std()):.3f}")
    ax.hist(z_all.flatten().cpu().numpy(), bins=60, alpha=0.6, density=True, label=f"× s: std {float(z_all.std()):.3f}")
    ax.set_title("latent values of 512 scenes", fontsize=9)
    ax.legend(fontsize=8)
    axes = forward.subplots(1, len(STEPS))
    forward.suptitle("q_sample in latent space (cosine, T = 1000), each z_t decoded: the noise the U-Net will remove",
                     fontsize=9)  # fmt: skip
    for k, ax in enumerate(axes):
        plot.image(ax, fwd.to_image_range(decoded_t[k].cpu()), f"t = {STEPS[k]}")
    show.save(fig, "latents")
