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
    # BLANK 00.1 (about 1 line): return the image with a new leading batch dimension of size 1.
    # HINT: A model takes batches; a single image needs an extra dimension in front, of size 1.
    # HINT: `unsqueeze(d)` inserts a new dimension of size 1 at position d; indexing with `None` does too.
    # HINT: return image.unsqueeze(0)   (or image[None])
    return image.unsqueeze(0)
    # END BLANK 00.1


def normalize_channels(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Standardise each colour channel: (images - mean[c]) / std[c] for every pixel of channel c.

    images: (B, C, H, W)   mean, std: (C,)  →  returns (B, C, H, W)
    """
    # BLANK 00.2 (about 3 lines): reshape mean and std so they broadcast over B, H and W, then standardise.
    # HINT: Broadcasting lines shapes up from the right: (C,) against (B, C, H, W) pairs C with W, not with C.
    # HINT: Give mean and std the shape (1, C, 1, 1), or (C, 1, 1): then C lines up with the channel dimension.
    # HINT: mean = mean.view(1, -1, 1, 1); std = std.view(1, -1, 1, 1); return (images - mean) / std
    mean = mean.view(1, -1, 1, 1)  # (1, C, 1, 1)
    std = std.view(1, -1, 1, 1)  # (1, C, 1, 1)
    return (images - mean) / std
    # END BLANK 00.2


def pairwise_sq_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distance between every point of `a` and every point of `b`.

    a: (N, D)   b: (M, D)  →  returns (N, M) with out[i, j] = sum_d (a[i, d] - b[j, d])²
    """
    # BLANK 00.3 (about 2 lines): broadcast a against b to get all differences, then square and sum over D.
    # HINT: Give a and b a dimension of size 1 each, so that (N, 1, D) - (1, M, D) broadcasts to (N, M, D).
    # HINT: diff = a[:, None, :] - b[None, :, :]   # (N, M, D); then square it and sum over the last dimension.
    # HINT: return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1)
    diff = a[:, None, :] - b[None, :, :]  # (N, M, D)
    return (diff**2).sum(dim=-1)  # (N, M)
    # END BLANK 00.3
