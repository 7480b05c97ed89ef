"""Shared setup of the pictures' tests: one thread (small tensors), the sandbox fixture (a learner's checkout)."""

import torch

from checker.testing import sandbox  # noqa: F401  (a fixture)

torch.set_num_threads(1)
