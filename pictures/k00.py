"""Kata 00's pictures: a batch of scenes standardised channel by channel, and the distances between them."""

from __future__ import annotations

import torch

from pictures import plot
from shapes.world import make_scenes

CHANNELS = ("red", "green", "blue")


def draw(mods, show) -> None:
    start = mods.start
    scenes = make_scenes(8, seed=0)
    images = scenes.images  # (8, 3, 16, 16) in [0, 1]
    one = start.add_batch_dim(images[0])  # (1, 3, 16, 16)
    mean, std = images.mean(dim=(0, 2, 3)), images.std(dim=(0, 2, 3))  # (3,) each
    normalised = start.normalize_channels(images, mean, std)  # (8, 3, 16, 16)

    fig = plot.figure(11, 5.8, f"normalize_channels: each colour channel to mean 0, std 1 ({show.whose})\n"
                               f"add_batch_dim(one scene): {tuple(images[0].shape)} → {tuple(one.shape)}")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.6])
    for ax, img, caption in zip(top.subplots(1, 8), images, scenes.captions):
        plot.image(ax, img, caption, fontsize=7)
    for c, (name, ax) in enumerate(zip(CHANNELS, bottom.subplots(1, 3))):
        before, after = images[:, c].flatten(), normalised[:, c].flatten()
        ax.hist(before.numpy(), bins=40, color="grey", alpha=0.6, label=f"before: mean {before.mean():.2f}, std {before.std():.2f}")
        ax.hist(after.numpy(), bins=40, color=name, alpha=0.6, label=f"after: mean {after.mean():.2f}, std {after.std():.2f}")
        ax.set_title(f"{name} channel: every pixel of the 8 scenes", fontsize=9)
        ax.set_yscale("log")
        ax.set_xlabel("value", fontsize=8)
        ax.legend(fontsize=7)
    show.save(fig, "normalize_channels")

    flat = images.flatten(1)  # (8, 768): each scene a point
    d = start.pairwise_sq_distances(flat, flat)  # (8, 8)
    fig = plot.figure(8.5, 7, f"pairwise_sq_distances: every scene against every scene ({show.whose})")
    grid = fig.add_gridspec(9, 9)
    ax = fig.add_subplot(grid[1:, 1:])
    plot.heat(ax, d, "squared distance between the scenes' 768 pixel values")
    plot.values(ax, d, fmt="{:.0f}")
    ax.set_xticks([])
    ax.set_yticks([])
    for i in range(8):
        plot.image(fig.add_subplot(grid[0, 1 + i]), images[i])
        plot.image(fig.add_subplot(grid[1 + i, 0]), images[i])
    nearest = (d + torch.eye(8) * d.max()).argmin(dim=1)
    ax.set_xlabel(f"nearest to the first scene ({scenes.captions[0]}): {scenes.captions[int(nearest[0])]}", fontsize=9)
    show.save(fig, "pairwise_distances")
