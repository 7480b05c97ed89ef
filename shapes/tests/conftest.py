"""Shared setup of the shapes-world tests."""

from __future__ import annotations

import torch

torch.set_num_threads(1)  # small tensors; one thread is fast and deterministic
