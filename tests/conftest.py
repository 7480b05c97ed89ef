"""Shared fixtures of the kata tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from support import CHECKS, Guarded, load_kata

torch.set_num_threads(1)  # tiny tensors: one thread is fastest and deterministic


def manual_seed_cpu(seed: int) -> torch.Generator:
    """torch.manual_seed for the CPU alone. The tests run on the CPU, and torch.manual_seed also
    queues the seed for each accelerator, formatting a stack trace each time: milliseconds a call
    deep inside pytest, a third of a kata's grading time."""
    return torch.default_generator.manual_seed(int(seed))


torch.manual_seed = manual_seed_cpu


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
