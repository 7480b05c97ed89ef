"""Pictures of every kata: `katas show NN` (`nox -s show -- NN`) runs your code of kata NN on a
fixed, seeded example and writes PNGs under out/show/kNN_name/, printing their paths.

One module per kata, pictures/kNN.py, holds `draw(mods, show)`: `mods` is every kata module (this
kata's from your file, or ours with --reference; the others ours, as in grading), `show` saves
figures and notes (pictures/show.py). A picture that trains or loads something for seconds before
it reaches the learner's code lists the blanks it runs in `NEEDS`, so that an unfilled one is
named at once. The self-check requires a picture for every kata.

Grading never imports this package; matplotlib is an optional extra (`pip install -e ".[pictures]"`).
This file imports neither torch nor matplotlib: the self-check reads it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PICTURES_DIR = Path(__file__).parent


def picture_path(number: str) -> Path:
    """Where kata `number`'s picture lives: pictures/k03.py."""
    return PICTURES_DIR / f"k{number}.py"


def has_picture(number: str) -> bool:
    """Whether pictures/kNN.py exists and defines draw(mods, show) (read, not imported)."""
    path = picture_path(number)
    if not path.is_file():
        return False
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef) and node.name == "draw" for node in tree.body)
