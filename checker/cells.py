"""A kata file as notebook cells, and back.

A kata is its module docstring (the explanation) and its code. The code is cut into cells: the
imports and constants first, then one cell for each top-level function or class (its decorators
and the comment lines right above it included). What lies between the cells (the docstring,
the blank lines) is the kata's layout; `assemble` puts cells back into it, so the cells of a
kata give that kata file back, and a learner's cells give the file with the learner's code.

Nothing here imports torch or IPython.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from checker.blanks import normalize


class LayoutError(ValueError):
    """A kata file that cannot be cut into cells (no docstring, no code, a syntax error)."""


@dataclass(frozen=True)
class Layout:
    docstring: str  # the module docstring's text, as ast reads it
    gaps: tuple[str, ...]  # the text before the first cell, between cells, and after the last
    cells: tuple[str, ...]  # the code cells, without their leading and trailing blank lines

    def assemble(self, cells: list[str] | tuple[str, ...]) -> str:
        """The kata file with `cells` in place of its own (as many, in the same order)."""
        if len(cells) != len(self.cells):
            raise LayoutError(f"{len(cells)} cells given, the kata has {len(self.cells)}")
        parts = [self.gaps[0]]
        for cell, gap in zip(cells, self.gaps[1:]):
            parts += [trimmed(cell), gap]
        return "".join(parts)


def trimmed(cell: str) -> str:
    """A cell's code without the blank lines (or whitespace-only lines) above and below it."""
    lines = normalize(cell).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _cell_starts(tree: ast.Module, lines: list[str]) -> list[int]:
    """0-based line where each cell starts: the first code line after the docstring, then each
    top-level def or class (decorators, and the comment lines right above, included)."""
    body = tree.body[1:]
    if not body:
        raise LayoutError("no code after the docstring")
    first = tree.body[0].end_lineno  # the line after the docstring, 0-based
    while first < len(lines) and not lines[first].strip():
        first += 1
    starts = [first]
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            while start > first and lines[start - 1].lstrip().startswith("#"):
                start -= 1
            if start > starts[-1]:
                starts.append(start)
    return starts


def split(kata_text: str) -> Layout:
    """Cut a kata file into its docstring, code cells and the layout around them."""
    text = normalize(kata_text)
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        raise LayoutError(f"line {e.lineno}: {e.msg}") from e
    if not (tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant)
            and isinstance(tree.body[0].value.value, str)):  # fmt: skip
        raise LayoutError("no module docstring")
    lines = text.split("\n")
    starts = _cell_starts(tree, lines)
    gaps, cells = [], []
    previous_end = 0
    for start, end in zip(starts, [*starts[1:], len(lines)]):
        chunk = lines[start:end]
        while chunk and not chunk[-1].strip():  # trailing blank lines belong to the gap after
            chunk.pop()
        between = "".join(line + "\n" for line in lines[previous_end:start])
        gaps.append(between if not cells else "\n" + between)  # a cell's own last newline is the gap's
        cells.append("\n".join(chunk))
        previous_end = start + len(chunk)
    gaps.append("".join("\n" + line for line in lines[previous_end:]))
    layout = Layout(ast.get_docstring(tree) or "", tuple(gaps), tuple(cells))
    if layout.assemble(layout.cells) != text:  # the cut is lossless, or it is a bug here
        raise LayoutError("cutting this file into cells does not give it back")
    return layout
