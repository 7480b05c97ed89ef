"""The few ways the pictures draw, on matplotlib's object API (no pyplot: no global state, no window).

Images are (3, H, W) tensors in [0, 1]; one in the model's [-1, 1] goes through kata 10's
to_image_range first, which clamps, so nothing shows unclamped.
"""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import torch

logging.getLogger("matplotlib").setLevel(logging.WARNING)  # nox logs at debug level: keep matplotlib's own lines out
from matplotlib.figure import Figure  # noqa: E402  (after the line above: importing matplotlib logs)

DPI = 110
SIGNED = "RdBu_r"  # negative blue, zero white, positive red
MASKED = "#d9d9d9"  # where a mask forbids attending


def figure(width: float, height: float, title: str | None = None) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, facecolor="white")
    return path


def image(ax, img: torch.Tensor, title: str | None = None, fontsize: float = 8, wrap: int = 18) -> None:
    """One RGB image (3, H, W) in [0, 1], pixels as squares, no ticks; the title wrapped at `wrap` characters."""
    ax.imshow(img.detach().float().cpu().clamp(0, 1).permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title("\n".join(textwrap.fill(line, wrap) for line in title.split("\n")), fontsize=fontsize)


def heat(ax, m: torch.Tensor, title: str | None = None, cmap: str = "viridis", vmin: float | None = None,
         vmax: float | None = None, colorbar: bool = True, fontsize: float = 9, aspect: str = "auto"):  # fmt: skip
    """A matrix as colours (row i, column j), with its colour bar; aspect "equal" keeps cells square (images)."""
    shown = ax.imshow(m.detach().float().cpu().numpy(), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest",
                      aspect=aspect)  # fmt: skip
    if title:
        ax.set_title(title, fontsize=fontsize)
    if colorbar:
        ax.figure.colorbar(shown, ax=ax, shrink=0.8)
    return shown


def signed_heat(ax, m: torch.Tensor, title: str | None = None, limit: float | None = None, **kw):
    """A matrix of signed values: zero white, the colour range symmetric about it."""
    limit = float(m.abs().max()) if limit is None else limit
    return heat(ax, m, title, cmap=SIGNED, vmin=-limit, vmax=limit, **kw)


def values(ax, m: torch.Tensor, fmt: str = "{:.2f}", hide: torch.Tensor | None = None, fontsize: float = 7,
           threshold: float | None = None, dark: str = "low") -> None:  # fmt: skip
    """Write each value in its cell, white where the colour map is dark (`dark`: "low" values, as
    viridis, or "high", as Blues); cells where `hide` is True get none."""
    m = m.detach().float().cpu()
    threshold = float(m.max() + m.min()) / 2 if threshold is None else threshold
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if hide is None or not hide[i, j]:
                v = float(m[i, j])
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=fontsize,
                        color="white" if (v < threshold) == (dark == "low") else "black")  # fmt: skip


def masked_cells(ax, allowed: torch.Tensor) -> None:
    """Grey out the cells a bool mask forbids (False), over a heat map drawn with imshow."""
    for i, j in (~allowed.bool()).nonzero().tolist():
        ax.add_patch(_rect(j - 0.5, i - 0.5, 1, 1, MASKED))


def _rect(x, y, w, h, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=colour, edgecolor="white", linewidth=0.5)


def labels(ax, rows: list[str] | None = None, columns: list[str] | None = None, fontsize: float = 8,
           rotate: int = 60) -> None:  # fmt: skip
    """Name the rows and columns of a heat map."""
    if rows is not None:
        ax.set_yticks(range(len(rows)), rows, fontsize=fontsize)
    if columns is not None:
        ax.set_xticks(range(len(columns)), columns, fontsize=fontsize, rotation=rotate, ha="right" if rotate else "center",
                      rotation_mode="anchor")  # fmt: skip


def thumbnails_above(ax, images: torch.Tensor, height: float = 0.14) -> None:
    """One small image above each column of a heat map (N columns, images (N, 3, H, W) in [0, 1])."""
    n = len(images)
    for j in range(n):
        inset = ax.inset_axes([j / n, 1.01, 1 / n, height])
        image(inset, images[j])
        inset.set_axis_off()
