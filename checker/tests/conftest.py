"""Fixtures of the checker's own tests. They grade katas many times: each run is a forked child
of one warm process (grading.warm_grading), not a fresh interpreter."""

import pytest

from checker.grading import warm_grading
from checker.testing import sandbox, shell  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """The checker speaks English in its tests, whatever the machine's locale (test_i18n.py changes it)."""
    monkeypatch.setenv("KATAS_LANG", "en")


@pytest.fixture(scope="session", autouse=True)
def warm_grader():
    with warm_grading():
        yield
