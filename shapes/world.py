"""The shapes world: small seeded RGB scenes of one or two shapes, with captions and labels.

Every later part of the course trains on these scenes; nothing is downloaded. A scene is
one of three kinds:

    single    one object near the centre         "a red circle"
    position  one object in a half of the image  "a blue square on the left"
    pair      two objects, one in each half      "a red circle above a blue square"

Shapes are circles, squares and triangles (pointing up) in red, green, blue or yellow, on a
black background. The two objects of a pair sit in opposite halves (top and bottom for
"above"/"below", left and right for "left of"/"right of"), are visibly apart, and differ in
colour or shape or both. Positions and sizes are jittered a little. Edges are anti-aliased
by pixel coverage from a signed distance (a one-pixel ramp), so a shape is recognisable at
16×16.

Labels sit beside each caption, as integer tensors (`Scenes`) and as a frozen dataclass per
scene (`SceneLabel`); `parse_caption` reads a caption back into its `SceneLabel`. Object 0
is always the object named first. Regions: "centre" (kind single), the stated half (kind
position), and for a pair the halves the relation implies ("above": top, bottom).

Held-out combinations: every yellow triangle, blue circle and green square (one per colour
but red, one per shape; the README's "a red circle above a blue square" stays trainable) is kept out of split "train"; split "heldout" has at least one of them
in every scene, so a model can be asked to compose words it only learned apart. Split "all"
draws from every combination (the judge trains on it).

Same seed, same scenes, on any machine: numpy's PCG64 generator, one row of uniform draws per
scene (so the first k scenes of n are those of k), and rasterisation by IEEE-exact operations
only (+, ×, sqrt, max; no sin/cos).

Shapes used in this file:
    N: number of scenes   H = W = S: image side (16 or 32)   2: object slots (slot 1 only in pairs)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

COLOURS = ("red", "green", "blue", "yellow")
SHAPES = ("circle", "square", "triangle")
KINDS = ("single", "position", "pair")
REGIONS = ("centre", "left", "right", "top", "bottom")
POSITIONS = ("left", "right", "top", "bottom")  # the regions a position word names
RELATIONS = ("above", "below", "left of", "right of")
SPLITS = ("train", "heldout", "all")
SIZES = (16, 32)
HELDOUT_COMBOS = (("yellow", "triangle"), ("blue", "circle"), ("green", "square"))

POSITION_PHRASES = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom"}
RELATION_REGIONS = {"above": ("top", "bottom"), "below": ("bottom", "top"), "left of": ("left", "right"), "right of": ("right", "left")}
VOCABULARY = ("a", *COLOURS, *SHAPES, "on", "at", "the", "left", "right", "top", "bottom", "above", "below", "of")

RGB = np.array([(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (1.0, 1.0, 0.0)])  # (4, 3), row per COLOURS
COMBOS = tuple((c, s) for c in range(len(COLOURS)) for s in range(len(SHAPES)))  # (colour, shape) ids; id = 3c + s
HELDOUT_IDS = tuple(COMBOS.index((COLOURS.index(c), SHAPES.index(s))) for c, s in HELDOUT_COMBOS)
TRAIN_IDS = tuple(i for i in range(len(COMBOS)) if i not in HELDOUT_IDS)

# Layout, as fractions of the image side, per REGIONS entry.
ANCHOR = np.array([(0.5, 0.5), (0.22, 0.5), (0.78, 0.5), (0.5, 0.22), (0.5, 0.78)])  # (5, 2) centre (x, y)
JITTER = np.array([(0.06, 0.06), (0.02, 0.1), (0.02, 0.1), (0.1, 0.02), (0.1, 0.02)])  # (5, 2) ± uniform
RADIUS = np.array([(0.24, 0.32), (0.16, 0.2), (0.16, 0.2), (0.16, 0.2), (0.16, 0.2)])  # (5, 2) [low, high)
SQUARE_HALF_SIDE = 0.886  # × radius: the square has the area of the circle (√π / 2)


@dataclass(frozen=True)
class ObjectLabel:
    colour: str  # in COLOURS
    shape: str  # in SHAPES
    region: str  # in REGIONS


@dataclass(frozen=True)
class SceneLabel:
    """What a caption says: its kind, its objects (the one named first first) and, for a pair,
    the relation of object 0 to object 1."""

    kind: str  # in KINDS
    objects: tuple[ObjectLabel, ...]  # 1 object, or 2 for a pair
    relation: str | None = None  # in RELATIONS for a pair, else None

    def caption(self) -> str:
        """The caption that says this: the inverse of parse_caption."""
        first, second = self.objects[0], self.objects[-1]
        return _say(self.kind, first.colour, first.shape, first.region, self.relation, second.colour, second.shape)

    def same_scene(self, other: SceneLabel) -> bool:
        """Whether both describe the same image: "a red circle above a blue square" and "a blue
        square below a red circle" do."""
        return self.kind == other.kind and set(self.objects) == set(other.objects)


@dataclass(frozen=True)
class Scenes:
    """N scenes: images, captions and their labels as integer tensors (indices into COLOURS,
    SHAPES, KINDS, REGIONS, RELATIONS; -1 where there is nothing: slot 1 of a one-object scene,
    the relation of a one-object scene)."""

    images: torch.Tensor  # (N, 3, S, S) float32 in [0, 1]
    captions: list[str]  # N captions
    kind: torch.Tensor  # (N,) long
    colour: torch.Tensor  # (N, 2) long
    shape: torch.Tensor  # (N, 2) long
    region: torch.Tensor  # (N, 2) long
    relation: torch.Tensor  # (N,) long

    def __len__(self) -> int:
        return len(self.captions)

    def label(self, i: int) -> SceneLabel:
        """The labels of scene i as a SceneLabel (equal to parse_caption(self.captions[i]))."""
        count = 2 if KINDS[self.kind[i]] == "pair" else 1
        objects = tuple(
            ObjectLabel(COLOURS[self.colour[i, k]], SHAPES[self.shape[i, k]], REGIONS[self.region[i, k]]) for k in range(count)
        )
        relation = RELATIONS[self.relation[i]] if count == 2 else None
        return SceneLabel(KINDS[self.kind[i]], objects, relation)

    def labels(self) -> list[SceneLabel]:
        return [self.label(i) for i in range(len(self))]


def parse_caption(caption: str) -> SceneLabel:
    """The SceneLabel a caption states. Words are lowercased and split on whitespace.

    Raises ValueError naming the word for a word outside VOCABULARY, or the expected forms for a
    caption that is not "a <colour> <shape>", "... <position phrase>" or "... <relation> a <colour> <shape>".
    """
    words = caption.lower().split()
    unknown = [w for w in words if w not in VOCABULARY]
    if unknown:
        raise ValueError(f"unknown word {unknown[0]!r} in caption {caption!r}; the known words are: {' '.join(VOCABULARY)}")

    def thing(at: int) -> tuple[str, str] | None:
        ok = words[at : at + 1] == ["a"] and len(words) >= at + 3 and words[at + 1] in COLOURS and words[at + 2] in SHAPES
        return (words[at + 1], words[at + 2]) if ok else None

    first, rest = thing(0), " ".join(words[3:])
    if first is not None and not rest:
        return SceneLabel("single", (ObjectLabel(*first, "centre"),))
    for region, phrase in POSITION_PHRASES.items():
        if first is not None and rest == phrase:
            return SceneLabel("position", (ObjectLabel(*first, region),))
    for relation, (region0, region1) in RELATION_REGIONS.items():
        n = len(relation.split())
        second = thing(3 + n)
        if first is not None and " ".join(words[3 : 3 + n]) == relation and second is not None and len(words) == 6 + n:
            if first == second:
                raise ValueError(f"caption {caption!r}: the two objects of a pair differ in colour or shape")
            return SceneLabel("pair", (ObjectLabel(*first, region0), ObjectLabel(*second, region1)), relation)
    raise ValueError(
        f"cannot read caption {caption!r}; expected 'a <colour> <shape>', optionally followed by one of "
        f"{', '.join(repr(p) for p in POSITION_PHRASES.values())}, or by a relation "
        f"({', '.join(repr(r) for r in RELATIONS)}) and 'a <colour> <shape>'"
    )


def make_scenes(
    n: int, seed: int = 0, size: int = 16, split: str = "train", kinds: tuple[str, ...] = KINDS
) -> Scenes:
    """N = n seeded scenes: kinds drawn uniformly from `kinds`, combinations from `split`.

    The same (seed, size, split, kinds) gives the same scenes, and the first k of n are those of
    make_scenes(k, ...). Sizes 16 and 32 draw the same geometry at two resolutions.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not kinds or any(k not in KINDS for k in kinds):
        raise ValueError(f"kinds must be a non-empty tuple of {KINDS}, got {kinds!r}")
    u = np.random.default_rng(seed).random((n, 12))  # (N, 12): every random choice of scene i is row i

    def pick(column: int, k: int) -> np.ndarray:  # (N,) ints uniform in [0, k)
        return np.minimum((u[:, column] * k).astype(np.int64), k - 1)

    kind = np.array([KINDS.index(k) for k in kinds])[pick(0, len(kinds))]  # (N,)
    pair = kind == KINDS.index("pair")
    combo = _draw_combos(u, pick, split, pair)  # (N, 2)

    region = np.full((n, 2), -1)
    relation = np.where(pair, pick(5, len(RELATIONS)), -1)  # (N,)
    region[:, 0] = np.where(kind == KINDS.index("position"), 1 + pick(4, len(POSITIONS)), 0)
    for r, (region0, region1) in enumerate(RELATION_REGIONS.values()):
        region[relation == r] = (REGIONS.index(region0), REGIONS.index(region1))

    safe = np.maximum(region, 0)  # (N, 2) regions, 0 where absent (never drawn)
    centre = ANCHOR[safe] + JITTER[safe] * (2 * u[:, 6:10].reshape(n, 2, 2) - 1)  # (N, 2, 2) (x, y)
    low, high = RADIUS[safe][..., 0], RADIUS[safe][..., 1]
    radius = low + (high - low) * u[:, 10:12]  # (N, 2)

    colour, shape = np.array(COMBOS)[combo].transpose(2, 0, 1)  # (N, 2) each
    images = np.zeros((n, 3, size, size), dtype=np.float32)
    for k in (0, 1):
        drawn = np.flatnonzero(region[:, k] >= 0)
        coverage = _coverage(shape[drawn, k], centre[drawn, k] * size, radius[drawn, k] * size, size)  # (M, S, S)
        images[drawn] += RGB[colour[drawn, k]].astype(np.float32)[:, :, None, None] * coverage[:, None]
    colour[~pair, 1], shape[~pair, 1] = -1, -1

    names = lambda words, ids: [words[i] for i in ids]  # noqa: E731  (-1 gives the last word: never said)
    columns = (names(KINDS, kind), names(COLOURS, colour[:, 0]), names(SHAPES, shape[:, 0]), names(REGIONS, region[:, 0]))
    columns += (names(RELATIONS, relation), names(COLOURS, colour[:, 1]), names(SHAPES, shape[:, 1]))
    captions = [_say(*row) for row in zip(*columns)]
    as_long = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))  # noqa: E731
    return Scenes(
        images=torch.from_numpy(np.minimum(images, 1.0, out=images)),  # no overlap: only the gap's ramps add
        captions=captions,
        kind=as_long(kind),
        colour=as_long(colour),
        shape=as_long(shape),
        region=as_long(region),
        relation=as_long(relation),
    )


def _draw_combos(u: np.ndarray, pick, split: str, pair: np.ndarray) -> np.ndarray:
    """(N, 2) combination ids (into COMBOS) of slots 0 and 1; the two of a pair differ."""
    if split == "heldout":  # slot 0 held out, slot 1 anything else; swapped in half the pairs
        first = np.array(HELDOUT_IDS)[pick(1, len(HELDOUT_IDS))]
        second = (first + 1 + pick(2, len(COMBOS) - 1)) % len(COMBOS)
        swap = pair & (u[:, 3] < 0.5)
        first, second = np.where(swap, second, first), np.where(swap, first, second)
        return np.stack([first, second], axis=1)
    pool = np.array(TRAIN_IDS if split == "train" else range(len(COMBOS)))
    i = pick(1, len(pool))
    j = (i + 1 + pick(2, len(pool) - 1)) % len(pool)
    return np.stack([pool[i], pool[j]], axis=1)


def _coverage(shape: np.ndarray, centre: np.ndarray, radius: np.ndarray, size: int) -> np.ndarray:
    """How much of each pixel the shape covers, from its signed distance d (in pixels, < 0
    inside): clip(0.5 - d, 0, 1), a one-pixel anti-aliasing ramp.

    shape: (M,) ids in SHAPES   centre: (M, 2) (x, y) in pixels   radius: (M,) in pixels
    Returns (M, S, S).
    """
    coverage = np.empty((len(shape), size, size), dtype=np.float32)
    pixel = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
    for s, distance in enumerate((_circle, _square, _triangle)):
        drawn = np.flatnonzero(shape == s)
        dx = pixel[None, None, :] - centre[drawn, 0, None, None].astype(np.float32)  # (m, 1, S)
        dy = pixel[None, :, None] - centre[drawn, 1, None, None].astype(np.float32)  # (m, S, 1)
        d = distance(dx, dy, radius[drawn, None, None].astype(np.float32))  # (m, S, S)
        coverage[drawn] = np.minimum(np.maximum(0.5 - d, 0.0), 1.0)
    return coverage


def _circle(dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.sqrt(dx * dx + dy * dy) - r


def _square(dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The exact distance to a square of half-side SQUARE_HALF_SIDE · r."""
    qx, qy = np.abs(dx) - SQUARE_HALF_SIDE * r, np.abs(dy) - SQUARE_HALF_SIDE * r
    px, py = np.maximum(qx, 0), np.maximum(qy, 0)
    return np.sqrt(px * px + py * py) + np.minimum(np.maximum(qx, qy), 0)


def _triangle(dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The exact distance to the triangle with apex (0, -r) and base corners (±r, r): the
    nearest of a side and the base, signed by which side of both the point is (after Quilez,
    "2D distance functions", isosceles triangle)."""
    px, py = np.abs(dx), dy + r  # apex at the origin; the triangle is symmetric in x
    qx, qy = r, 2 * r  # (half-base, height)
    t = np.minimum(np.maximum((px * qx + py * qy) / (qx * qx + qy * qy), 0.0), 1.0)
    ax, ay = px - qx * t, py - qy * t  # from the nearest point of the side
    bx, by = px - qx * np.minimum(np.maximum(px / qx, 0.0), 1.0), py - qy  # from the nearest point of the base
    squared = np.minimum(ax * ax + ay * ay, bx * bx + by * by)
    inside = np.minimum(py * qx - px * qy, qy - py)  # > 0 inside the side and above the base
    return np.where(inside > 0, -np.sqrt(squared), np.sqrt(squared))


def _say(kind: str, colour0: str, shape0: str, region0: str, relation: str | None, colour1: str, shape1: str) -> str:
    first = f"a {colour0} {shape0}"
    if kind == "single":
        return first
    if kind == "position":
        return f"{first} {POSITION_PHRASES[region0]}"
    return f"{first} {relation} a {colour1} {shape1}"
