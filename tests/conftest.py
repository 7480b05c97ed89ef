"""Shared fixtures of the kata tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from support import load_kata

torch.set_num_threads(1)  # tiny tensors: one thread is fastest and deterministic


@pytest.fixture(scope="module")
def kata(request: pytest.FixtureRequest):
    """The implementation under test of the kata this test file is named after
    (tests/test_k03_attention.py → k03_attention)."""
    return load_kata(Path(request.module.__file__).stem.removeprefix("test_"))
