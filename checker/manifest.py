"""The fingerprints of the shipped tests, so grading can tell when a test was edited.

`katas sync` writes them to checker/tests_manifest.json; the self-check verifies they are
current; the grader refuses to count a grade made with tests that differ from them.
"""

from __future__ import annotations

import hashlib
import json

from checker.blanks import normalize
from checker.catalog import ROOT, TESTS_DIR, Kata, shown

MANIFEST_PATH = ROOT / "checker" / "tests_manifest.json"
SHARED_TEST_FILES = ("tests/conftest.py", "tests/support.py")


def fingerprint(relpath: str) -> str:
    path = ROOT / relpath
    if not path.exists():
        return "missing"
    return hashlib.sha256(normalize(path.read_text(encoding="utf-8")).encode()).hexdigest()


def current_manifest() -> dict[str, str]:
    paths = list(SHARED_TEST_FILES) + sorted(p.relative_to(ROOT).as_posix() for p in TESTS_DIR.glob("test_k*.py"))
    return {path: fingerprint(path) for path in paths}


def shipped_manifest() -> dict[str, str]:
    if not MANIFEST_PATH.exists():
        return {}
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


def write_manifest() -> None:
    MANIFEST_PATH.write_text(json.dumps(current_manifest(), indent=2) + "\n", encoding="utf-8")


def edited_test_files(kata: Kata) -> list[str]:
    """The test files this kata's grade depends on that differ from the shipped ones."""
    shipped = shipped_manifest()
    paths = [*SHARED_TEST_FILES, shown(kata.test_path)]
    return [p for p in paths if p in shipped and fingerprint(p) != shipped[p]]
