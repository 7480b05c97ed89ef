"""The shapes world: seeded scenes with captions and labels. Support code for every part of
the course, not a kata."""

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
]
