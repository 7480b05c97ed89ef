"""Kata 12's picture: what the U-Net's blocks do to a scene: where SelfAttention2d's pixels look,
how the time vector shifts a ResBlock's channels, and Downsample / Upsample."""

from __future__ import annotations

import torch
from torch import nn

from pictures import plot
from pictures.hooks import attention_weights
from shapes.world import make_scenes

C = 32
QUERIES = ((4, 7, "on the green triangle"), (11, 8, "on the red circle"), (1, 1, "on the background"))  # (row, column)


def identity_conv(conv: nn.Conv2d) -> None:
    """Make a 3×3 conv pass each channel through unchanged (centre tap 1, the rest and the bias 0)."""
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        for c in range(conv.out_channels):
            conv.weight[c, c, 1, 1] = 1.0


def draw(mods, show) -> None:
    blocks = mods.unet_blocks
    scene = make_scenes(3, seed=4, kinds=("pair",)).images[2:3]  # (1, 3, 16, 16): a green triangle above a red circle
    x = mods.forward.to_model_range(scene)
    torch.manual_seed(0)
    lift = nn.Conv2d(3, C, 1)  # the scene's colours as C feature channels
    attention = blocks.SelfAttention2d(C)
    time = mods.time_embedding.TimeMLP(C, 128)
    res = blocks.ResBlock(C, 2 * C, 128)
    with torch.no_grad():
        h = lift(x)  # (1, C, 16, 16)
        with attention_weights(mods) as seen:
            attention(h)
        weights = seen[0][0].mean(dim=0)  # (256, 256): head average, query pixel × key pixel
        t = torch.arange(0, 1000, 25)
        injected = []  # the ResBlock's h after the time is added (norm2's input), per t
        hook = res.norm2.register_forward_hook(lambda module, inputs, output: injected.append(inputs[0]))
        out = res(h.expand(len(t), -1, -1, -1), time(t))  # (len(t), 2C, 16, 16)
        hook.remove()
        shift = injected[0] - injected[0][:1]  # (len(t), 2C, 16, 16): what the time added, against t = 0
        per_pixel = float(shift.std(dim=(2, 3)).max())  # 0 when the time is added to every pixel alike
        down, up = blocks.Downsample(3), blocks.Upsample(3)
        identity_conv(down.conv)
        identity_conv(up.conv)
        small = down(scene)  # (1, 3, 8, 8)
        big = up(small)  # (1, 3, 16, 16)

    fig = plot.figure(16, 7.4, f"The U-Net's blocks on a scene (random weights, seeded; {show.whose})")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.1])
    axes = top.subplots(1, 4)
    plot.image(axes[0], scene[0], "the scene; + marks the query pixels")
    for (row, col, _), colour in zip(QUERIES, ("white", "white", "yellow")):
        axes[0].plot(col, row, "+", color=colour, markersize=12, markeredgewidth=2)
    for ax, (row, col, where) in zip(axes[1:4], QUERIES):
        plot.heat(ax, weights[row * 16 + col].view(16, 16), f"SelfAttention2d: the weights of the pixel {where}",
                  cmap="magma", colorbar=False, fontsize=8)  # fmt: skip
        ax.plot(col, row, "+", color="cyan", markersize=12, markeredgewidth=2)
        ax.set_xticks([])
        ax.set_yticks([])
    lines, down_ax, up_ax = bottom.subplots(1, 3, width_ratios=[2.2, 1, 1])
    for c in range(6):
        lines.plot(t.numpy(), shift[:, c, 0, 0].numpy(), label=f"channel {c}")
    lines.set_title(f"ResBlock: what the time vector adds to each channel, against t = 0 (the same at every pixel: "
                    f"spatial std {per_pixel:.1e}); output {tuple(out.shape[1:])}", fontsize=9)  # fmt: skip
    lines.set_xlabel("t", fontsize=8)
    lines.legend(fontsize=7, ncol=3)
    lines.grid(alpha=0.3)
    plot.image(down_ax, big[0], f"Downsample to {tuple(small.shape[2:])}, then Upsample to {tuple(big.shape[2:])} "
                                "(their convs set to the identity)", wrap=34)  # fmt: skip
    plot.heat(up_ax, (big - scene)[0].abs().sum(dim=0), "what the round trip lost: the detail a U-Net's skips carry back",
              cmap="magma", colorbar=False, fontsize=8)  # fmt: skip
    up_ax.set_xticks([])
    up_ax.set_yticks([])
    show.save(fig, "unet_blocks")
