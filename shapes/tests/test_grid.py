"""save_grid: a PNG of the expected size whose cells are the images, upscaled by nearest neighbour."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from shapes.grid import PAD, save_grid
from shapes.world import make_scenes


@pytest.mark.parametrize("n, ncol, scale, size", [(1, None, 8, 16), (5, 3, 4, 16), (10, None, 8, 16), (4, 2, 2, 32)])
def test_png_has_the_expected_size_and_shows_each_image(tmp_path, n, ncol, scale, size):
    s = make_scenes(n, seed=n, size=size)
    path = save_grid(s.images, s.captions, tmp_path / "sub" / "grid.png", ncol=ncol, scale=scale)
    assert path == tmp_path / "sub" / "grid.png" and path.exists()
    png = np.asarray(Image.open(path).convert("RGB"))  # (height, width, 3)
    ncol = ncol or min(n, 8)
    cell = size * scale
    assert png.shape[1] == ncol * cell + (ncol + 1) * PAD, f"width {png.shape[1]} for {ncol} columns of {cell} px"
    nrow = -(-n // ncol)
    assert png.shape[0] >= nrow * (cell + PAD) + PAD + nrow * 8, f"height {png.shape[0]}: no room for captions"
    cell_h = (png.shape[0] - PAD) // nrow - PAD
    for i in range(n):
        top, left = PAD + (i // ncol) * (cell_h + PAD), PAD + (i % ncol) * (cell + PAD)
        expected = (s.images[i] * 255).round().to(torch.uint8).repeat_interleave(scale, 1).repeat_interleave(scale, 2)
        got = torch.from_numpy(png[top : top + cell, left : left + cell].copy()).permute(2, 0, 1)
        assert torch.equal(got, expected), f"image {i} is not where expected, or not upscaled by nearest neighbour"
        assert png[top + cell : top + cell_h, left : left + cell].max() > 128, f"no caption text under image {i}"


def test_values_outside_0_1_are_clamped_and_captions_may_be_left_out(tmp_path):
    images = torch.tensor([-1.0, 0.5, 2.0]).view(1, 3, 1, 1).expand(2, 3, 4, 4)
    png = np.asarray(Image.open(save_grid(images, None, tmp_path / "g.png", scale=2)).convert("RGB"))
    assert png.shape == (4 * 2 + 2 * PAD, 2 * 4 * 2 + 3 * PAD, 3)
    assert png[PAD, PAD].tolist() == [0, 128, 255]


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        save_grid(torch.rand(2, 1, 16, 16), ["a", "b"], tmp_path / "g.png")
    with pytest.raises(ValueError, match="2 images but 1 captions"):
        save_grid(torch.rand(2, 3, 16, 16), ["a red circle"], tmp_path / "g.png")
