"""A PNG of images in a grid, each upscaled (nearest neighbour) with its caption below it.

Shapes used in this file:
    N: number of images   H, W: image height and width
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

PAD = 4  # pixels around and between cells
BACKGROUND = (40, 40, 40)  # dark grey, so the black of a scene shows where its image ends
TEXT = (235, 235, 235)
FONT_SIZE = 11


def save_grid(
    images: torch.Tensor, captions: list[str] | None, path: str | Path, ncol: int | None = None, scale: int = 8
) -> Path:
    """Write images (N, 3, H, W), clamped to [0, 1], as a PNG grid of `ncol` columns (default:
    up to 8), each upscaled `scale` times and captioned (wrapped at spaces). Returns the path.

    A cell is W · scale wide (wider only if one word of a caption is), so the PNG is
    ncol · W · scale + (ncol + 1) · PAD pixels wide.
    """
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images should be (N, 3, H, W), got shape {tuple(images.shape)}")
    N, _, H, W = images.shape
    if captions is not None and len(captions) != N:
        raise ValueError(f"{N} images but {len(captions)} captions")
    if N == 0 or scale < 1:
        raise ValueError(f"need at least one image and scale >= 1 (got N={N}, scale={scale})")
    ncol = min(N, 8) if ncol is None else ncol
    nrow = math.ceil(N / ncol)
    font = _font()
    words = [w for caption in captions or [] for w in caption.split()]
    cell_w = max([W * scale] + [math.ceil(font.getlength(w)) + 2 for w in words])
    lines = [_wrap(caption, font, cell_w) for caption in captions or [""] * N]
    line_h = font.getbbox("Ag")[3] + 3
    band_h = max(len(ls) for ls in lines) * line_h + (2 if captions else 0)
    cell_h = H * scale + band_h

    pixels = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()  # (N, 3, H, W)
    sheet = Image.new("RGB", (ncol * cell_w + (ncol + 1) * PAD, nrow * cell_h + (nrow + 1) * PAD), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for i in range(N):
        left = PAD + (i % ncol) * (cell_w + PAD)
        top = PAD + (i // ncol) * (cell_h + PAD)
        tile = Image.fromarray(pixels[i].permute(1, 2, 0).numpy(), "RGB").resize((W * scale, H * scale), Image.Resampling.NEAREST)
        sheet.paste(tile, (left + (cell_w - W * scale) // 2, top))
        for j, line in enumerate(lines[i]):
            x = left + (cell_w - font.getlength(line)) / 2
            draw.text((x, top + H * scale + 2 + j * line_h), line, fill=TEXT, font=font)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, format="PNG")
    return path


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's default font: a scalable one (Pillow >= 10.1 with FreeType), else the bitmap one."""
    try:
        return ImageFont.load_default(size=FONT_SIZE)
    except (TypeError, ImportError):  # Pillow 10.0 has no size argument; no FreeType: no scaling
        return ImageFont.load_default()


def _wrap(caption: str, font, width: int) -> list[str]:
    """The caption cut at spaces into lines that fit in `width` pixels (a word never is cut)."""
    lines: list[str] = []
    for word in caption.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width - 2:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def save_matrix(images: torch.Tensor, captions: list[str], matrix: torch.Tensor, path: str | Path, cell: int = 48) -> Path:
    """A heat map of matrix[i, j] (in [0, 1]: caption i against image j), the images (N, 3, H, W)
    along the top and the captions down the left side. Writes a PNG and returns its path."""
    N, M = matrix.shape
    font = _font()
    left = max(math.ceil(font.getlength(c)) for c in captions) + 2 * PAD
    sheet = Image.new("RGB", (left + M * cell + PAD, cell + N * cell + 2 * PAD), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    pixels = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    for j in range(M):
        tile = Image.fromarray(pixels[j].permute(1, 2, 0).numpy(), "RGB").resize((cell - 2, cell - 2), Image.NEAREST)
        sheet.paste(tile, (left + j * cell + 1, PAD))
    for i in range(N):
        top = PAD + cell + i * cell
        draw.text((PAD, top + cell / 2 - FONT_SIZE / 2), captions[i], fill=TEXT, font=font)
        for j in range(M):
            v = float(matrix[i, j].clamp(0, 1))
            colour = (int(40 + 215 * v), int(40 + 120 * v), 40)
            draw.rectangle([left + j * cell + 1, top + 1, left + (j + 1) * cell - 1, top + cell - 1], fill=colour)
            draw.text((left + j * cell + 6, top + cell / 2 - FONT_SIZE / 2), f"{v:.2f}", fill=TEXT, font=font)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, format="PNG")
    return path
