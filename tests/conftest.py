"""Shared fixtures of the kata tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from support import CHECKS, Guarded, load_kata

torch.set_num_threads(1)  # tiny tensors: one thread is fastest and deterministic


@pytest.fixture(scope="module")
def kata(request: pytest.FixtureRequest):
    """The implementation under test of the kata this test file is named after
    (tests/test_k03_attention.py → k03_attention), guarded: tensors passed in must come out unchanged."""
    return Guarded(load_kata(Path(request.module.__file__).stem.removeprefix("test_")))


@pytest.fixture(autouse=True)
def fresh_test():
    """Each test starts from the same random state, with no checks recorded (see support.CHECKS)."""
    CHECKS.clear()
    torch.manual_seed(0)
