from checker.testing import sandbox  # noqa: F401  (a fixture)
