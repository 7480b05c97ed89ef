"""Kata 06's picture: an image cut into patches, the patch sequence a ViT reads, and back."""

from __future__ import annotations

import torch

from pictures import plot
from shapes.world import make_scenes

P = 8  # patch side: a 32×32 scene gives 16 patches


def draw(mods, show) -> None:
    vit = mods.vit
    scenes = make_scenes(3, seed=4, size=32, kinds=("pair",))
    image, caption = scenes.images[2:3], scenes.captions[2]  # (1, 3, 32, 32): a green triangle above a red circle
    _, C, H, W = image.shape
    patches = vit.patchify(image, P)  # (1, N, P·P·C)
    back = vit.unpatchify(patches, P, C, H, W)  # (1, 3, 32, 32)
    N, rows = patches.shape[1], H // P
    torch.manual_seed(0)
    embed = vit.PatchEmbedding(H, P, C, dim=32)
    with torch.no_grad():
        tokens = embed(image)  # (1, N + 1, D)

    fig = plot.figure(16, 5.2, f"patchify / unpatchify, P = {P} ({show.whose}): '{caption}'")
    grid = fig.add_gridspec(rows, 4 * rows + 6)
    ax = fig.add_subplot(grid[:, :rows])
    plot.image(ax, image[0], f"the image {tuple(image.shape[1:])}, cut every {P} pixels", wrap=40)
    for k in range(1, rows):
        ax.axhline(k * P - 0.5, color="white", linewidth=1)
        ax.axvline(k * P - 0.5, color="white", linewidth=1)
    for n in range(N):
        ax = fig.add_subplot(grid[n // rows, rows + n % rows])
        plot.image(ax, patches[0, n].view(P, P, C).permute(2, 0, 1), f"token {n}", fontsize=7)
    ax = fig.add_subplot(grid[:, 2 * rows : 2 * rows + 3])
    strip = patches[0].view(N, P * P, C)  # (N, P·P, C): each row one token's pixels, in (p1, p2, c) order
    ax.imshow(strip.clamp(0, 1).numpy(), interpolation="nearest", aspect="auto")
    ax.set_title(f"the sequence (N, P·P·C) = {tuple(patches.shape[1:])}:\neach row a token's {P * P} pixels", fontsize=8)
    ax.set_ylabel("token", fontsize=8)
    ax.set_xticks([])
    ax = fig.add_subplot(grid[:, 2 * rows + 3 : 3 * rows + 3])
    plot.image(ax, back[0], f"unpatchify: max difference {float((back - image).abs().max()):.0e}", wrap=40)
    ax = fig.add_subplot(grid[:, 3 * rows + 3 :])
    plot.signed_heat(ax, tokens[0], f"PatchEmbedding (random weights): {tuple(tokens.shape[1:])}, class token first",
                     fontsize=8)  # fmt: skip
    ax.set_ylabel("place (0: class token)", fontsize=8)
    show.save(fig, "patches")
