"""Kata 13's picture: the U-Net's receptive field, read from gradients: which input pixels can move
one output pixel, against what its first level alone (the first conv and ResBlock) could see."""

from __future__ import annotations

import torch

from pictures import plot

OUTPUTS = ((2, 2), (8, 8), (13, 5))  # (row, column) of the output pixels asked about


def gradient_map(f, x: torch.Tensor, row: int, col: int) -> torch.Tensor:
    """|∂ f(x)[:, row, col] / ∂ x| summed over channels: (H, W)."""
    x = x.clone().requires_grad_(True)
    f(x)[0, :, row, col].sum().backward()
    return x.grad[0].abs().sum(dim=0)


def draw(mods, show) -> None:
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))  # a noisy input, as at large t
    t = torch.tensor([500])
    torch.manual_seed(0)
    unet = mods.unet.UNet(mods.unet.UNetConfig())
    with torch.no_grad():
        out = unet(x, t)
    temb = unet.time(t).detach()
    whole = [gradient_map(lambda z: unet(z, t), x, r, c) for r, c in OUTPUTS]
    first_level = [gradient_map(lambda z: unet.down_blocks[0](unet.inc(z), temb), x, r, c) for r, c in OUTPUTS]

    fig = plot.figure(12, 8.4, f"UNet (random weights, seeded; {show.whose}): x {tuple(x.shape)}, t = 500 → output "
                               f"{tuple(out.shape)}.\nThe gradient of one output pixel (+) with respect to every input "
                               "pixel, log scale. Counted: pixels above 1% of the largest\n(GroupNorm's statistics let "
                               "every pixel move every output a little)")  # fmt: skip
    rows = fig.subplots(2, len(OUTPUTS))
    for r, (name, maps) in enumerate((("the whole U-Net", whole), ("its first level alone (inc, ResBlock)", first_level))):
        for k, ((row, col), ax) in enumerate(zip(OUTPUTS, rows[r])):
            reach = int((maps[k] > 0.01 * maps[k].max()).sum())
            plot.heat(ax, maps[k].clamp_min(1e-6).log10(), f"{name}:\noutput ({row}, {col}) reads {reach} of 256 pixels",
                      cmap="magma", vmin=-4, vmax=0.5, colorbar=k == len(OUTPUTS) - 1, fontsize=8, aspect="equal")  # fmt: skip
            ax.plot(col, row, "+", color="cyan", markersize=12, markeredgewidth=2)
            ax.set_xticks([])
            ax.set_yticks([])
    show.save(fig, "receptive_field")
