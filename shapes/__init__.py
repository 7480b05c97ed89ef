"""The shapes world: seeded scenes with captions (world), the judge that reads them back
(judge), and a captioned PNG grid (grid). Support code for every part of the course, not a kata.

The judge is imported from its module (`from shapes.judge import judge_prompts`), so that
`python -m shapes.judge` runs it without importing it twice."""

from shapes.grid import save_grid
from shapes.world import (
    COLOURS,
    HELDOUT_COMBOS,
    KINDS,
    REGIONS,
    RELATIONS,
    SHAPES,
    VOCABULARY,
    ObjectLabel,
    SceneLabel,
    Scenes,
    make_scenes,
    parse_caption,
)

__all__ = [
    "COLOURS",
    "HELDOUT_COMBOS",
    "KINDS",
    "REGIONS",
    "RELATIONS",
    "SHAPES",
    "VOCABULARY",
    "ObjectLabel",
    "SceneLabel",
    "Scenes",
    "make_scenes",
    "parse_caption",
    "save_grid",
]
