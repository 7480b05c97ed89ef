"""The README's generated parts: a command writes its block between two markers, and a test reads it back.

    <!-- tensor-map:start -->
    ...written by `katas tensor-map`...
    <!-- tensor-map:end -->
"""

from __future__ import annotations

from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def read_block(path: Path, name: str) -> str:
    """What is between the block's markers (without the newlines next to them)."""
    text = path.read_text(encoding="utf-8")
    start, end = markers(name)
    if start not in text or end not in text:
        raise ValueError(f"{path.name} has no block {name}: add the lines {start} and {end} where it goes")
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n")


def write_block(path: Path, name: str, body: str) -> bool:
    """Put `body` between the block's markers; True if that changed the file."""
    read_block(path, name)  # the markers are there
    text = path.read_text(encoding="utf-8")
    start, end = markers(name)
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    new = f"{before}{start}\n{body.strip(chr(10))}\n{end}{after}"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True
