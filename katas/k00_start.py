"""Kata 00: Start here: shapes and broadcasting.

A warm-up that is also a tour of the workflow. You will meet a failing message, a hint, a
pass, and the dashboard, on three small blanks about tensor shapes.

How to work a kata:
1. Find the blanks: each one starts with a `# TODO 00.1 (budget): what goes there` line and
   a `raise NotImplementedError(...)` line. Replace the `raise` line with your code.
2. Grade it: `nox -s kata-00` (or `katas check 00`). Each blank gets a pass, or a short
   message saying what is wrong: the shape first, then the values, the call and the seed.
3. Stuck? `nox -s hint -- 00.2` gives a hint; ask again for a stronger one.
4. Passed? `nox` shows the dashboard; `nox -s solution -- 00` compares yours with ours.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   C: channels   H, W: height and width   N, M: numbers of points   D: dims
"""

from __future__ import annotations

import torch


def add_batch_dim(image: torch.Tensor) -> torch.Tensor:
    """Turn one image into a batch of one.

    image: (C, H, W)  →  returns (1, C, H, W), sharing the same values.
    """
    # TODO 00.1 (about 1 line): return the image with a new leading batch dimension of size 1.
    raise NotImplementedError("blank 00.1 is not filled in yet")


def normalize_channels(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Standardise each colour channel: (images - mean[c]) / std[c] for every pixel of channel c.

    images: (B, C, H, W)   mean, std: (C,)  →  returns (B, C, H, W)
    """
    # TODO 00.2 (about 3 lines): reshape mean and std so they broadcast over B, H and W, then standardise.
    raise NotImplementedError("blank 00.2 is not filled in yet")


def pairwise_sq_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distance between every point of `a` and every point of `b`.

    a: (N, D)   b: (M, D)  →  returns (N, M) with out[i, j] = sum_d (a[i, d] - b[j, d])²
    """
    # TODO 00.3 (about 2 lines): broadcast a against b to get all differences, then square and sum over D.
    raise NotImplementedError("blank 00.3 is not filled in yet")
