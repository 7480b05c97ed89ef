"""Fixtures of the checker's own tests. They grade katas many times: each run is a forked child
of one warm process (grading.warm_grading), not a fresh interpreter."""

import pytest

from checker.grading import warm_grading
from checker.testing import sandbox  # noqa: F401  (a fixture)


@pytest.fixture(scope="session", autouse=True)
def warm_grader():
    with warm_grading():
        yield
