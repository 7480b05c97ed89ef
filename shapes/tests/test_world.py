"""The shapes world: seeded, in range, captions that say what the labels and the pixels show,
and a held-out split that never leaks into training."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from shapes.world import (
    COLOURS,
    HELDOUT_COMBOS,
    KINDS,
    REGIONS,
    RGB,
    SHAPES,
    SPLITS,
    VOCABULARY,
    SceneLabel,
    make_scenes,
    parse_caption,
)

# sha256 of make_scenes(64, seed=0)'s images (float32 bytes) and captions, as drawn when the
# world was written. A change means every seeded data set of the course changed.
GOLDEN = "40a08a2cc12dbd09e17399c3e1f6db3c4085d225f6a4dab9aef498c0a845f9f5"  # since the held-out combinations became yellow triangle, blue circle, green square


def fingerprint(scenes) -> str:
    digest = hashlib.sha256(scenes.images.numpy().tobytes())
    digest.update("\n".join(scenes.captions).encode())
    return digest.hexdigest()


def objects(scenes, i: int) -> range:
    return range(2 if KINDS[scenes.kind[i]] == "pair" else 1)


def region_mask(region: str, size: int) -> torch.Tensor:
    """(S, S) bool: the part of the image where an object of `region` lies."""
    mask, h = torch.zeros(size, size, dtype=torch.bool), size // 2
    parts = {"centre": np.s_[:, :], "left": np.s_[:, :h], "right": np.s_[:, h:], "top": np.s_[:h, :], "bottom": np.s_[h:, :]}
    mask[parts[region]] = True
    return mask


@pytest.mark.parametrize("size", [16, 32])
@pytest.mark.parametrize("split", SPLITS)
def test_same_seed_same_scenes_other_seed_other_scenes(size, split):
    a, b = make_scenes(200, seed=3, size=size, split=split), make_scenes(200, seed=3, size=size, split=split)
    assert torch.equal(a.images, b.images) and a.captions == b.captions, f"make_scenes(200, seed=3, size={size}, split={split!r}) differs between two calls"
    for name in ("kind", "colour", "shape", "region", "relation"):
        assert torch.equal(getattr(a, name), getattr(b, name)), f"labels {name!r} differ between two calls with seed 3"
    c = make_scenes(200, seed=4, size=size, split=split)
    assert not torch.equal(a.images, c.images) and a.captions != c.captions, "seeds 3 and 4 gave the same scenes"


def test_first_scenes_do_not_depend_on_n():
    few, many = make_scenes(20, seed=5), make_scenes(300, seed=5)
    assert torch.equal(few.images, many.images[:20]) and few.captions == many.captions[:20]


def test_golden_scenes_are_the_same_on_every_machine():
    got = fingerprint(make_scenes(64, seed=0))
    assert got == GOLDEN, f"make_scenes(64, seed=0) changed: sha256 {got}, expected {GOLDEN}"


@pytest.mark.parametrize("size", [16, 32])
@pytest.mark.parametrize("n", [0, 1, 7, 300])
def test_shapes_dtypes_and_ranges(size, n):
    s = make_scenes(n, seed=1, size=size)
    assert s.images.shape == (n, 3, size, size) and s.images.dtype == torch.float32
    assert len(s) == len(s.captions) == n
    for name, shape in (("kind", (n,)), ("colour", (n, 2)), ("shape", (n, 2)), ("region", (n, 2)), ("relation", (n,))):
        assert getattr(s, name).shape == shape and getattr(s, name).dtype == torch.long, f"labels {name!r}: {getattr(s, name).shape}"
    if n:
        assert s.images.min() >= 0 and s.images.max() <= 1, f"images in [{s.images.min()}, {s.images.max()}], expected [0, 1]"
        assert s.images.amax(dim=(1, 2, 3)).min() > 0.99, "a scene without a fully lit pixel"
        pair = s.kind == KINDS.index("pair")
        assert (s.colour[~pair, 1] == -1).all() and (s.relation[~pair] == -1).all() and (s.relation[pair] >= 0).all()


@pytest.mark.parametrize("kinds", [("single",), ("position",), ("pair",), ("single", "pair"), KINDS])
def test_kinds_are_the_ones_asked_for_and_all_appear(kinds):
    s = make_scenes(300, seed=2, kinds=kinds)
    assert {KINDS[k] for k in s.kind.tolist()} == set(kinds)


@pytest.mark.parametrize("split", SPLITS)
def test_every_caption_parses_back_to_its_labels(split):
    s = make_scenes(600, seed=11, split=split)
    for i, caption in enumerate(s.captions):
        label = s.label(i)
        assert parse_caption(caption) == label, f"parse_caption({caption!r}) = {parse_caption(caption)}, labels say {label}"
        assert label.caption() == caption
        assert set(caption.split()) <= set(VOCABULARY), f"{caption!r} uses a word outside VOCABULARY"


def test_pair_objects_differ_in_colour_or_shape():
    s = make_scenes(2000, seed=12, split="all", kinds=("pair",))
    same = (s.colour[:, 0] == s.colour[:, 1]) & (s.shape[:, 0] == s.shape[:, 1])
    assert not same.any(), f"{int(same.sum())} pairs of identical objects, e.g. {s.captions[int(same.nonzero()[0])]!r}"


def test_heldout_combinations_never_in_train_and_in_every_heldout_scene():
    heldout = {(COLOURS.index(c), SHAPES.index(s)) for c, s in HELDOUT_COMBOS}
    assert ("yellow", "triangle") in HELDOUT_COMBOS
    for split, seed in (("train", 0), ("train", 1), ("heldout", 0), ("all", 0)):
        s = make_scenes(3000, seed=seed, split=split)
        combos = [{(c, sh) for c, sh in zip(s.colour[i].tolist(), s.shape[i].tolist()) if c >= 0} for i in range(len(s))]
        leaked = [s.captions[i] for i, c in enumerate(combos) if c & heldout]
        if split == "train":
            assert not leaked, f"split 'train' (seed {seed}) holds held-out combinations: {leaked[:3]}"
        elif split == "heldout":
            assert len(leaked) == len(s), f"{len(s) - len(leaked)} 'heldout' scenes without a held-out combination"
        else:
            assert set().union(*combos) == {(c, sh) for c in range(len(COLOURS)) for sh in range(len(SHAPES))}


def test_heldout_pairs_put_the_heldout_object_in_either_slot():
    s = make_scenes(500, seed=0, split="heldout", kinds=("pair",))
    heldout = {(COLOURS.index(c), SHAPES.index(sh)) for c, sh in HELDOUT_COMBOS}
    first = [(c, sh) in heldout for c, sh in zip(s.colour[:, 0].tolist(), s.shape[:, 0].tolist())]
    assert 0.3 < np.mean(first) < 0.85


@pytest.mark.parametrize("size", [16, 32])
def test_pixels_show_the_stated_colour_in_the_stated_region(size):
    s = make_scenes(400, seed=21, size=size, split="all")
    lit = s.images.amax(dim=1) > 0.5  # (N, S, S)
    for i in range(len(s)):
        for k in objects(s, i):
            region = REGIONS[s.region[i, k]]
            mask = lit[i] & region_mask(region, size)
            pixels = s.images[i][:, mask]  # (3, P)
            colour = (pixels / pixels.amax(dim=0)).mean(dim=1)  # hue, brightness divided out
            expected = torch.tensor(RGB[s.colour[i, k]], dtype=torch.float32)
            assert mask.sum() >= 6, f"scene {i} {s.captions[i]!r}: object {k} has {int(mask.sum())} lit pixels in the {region}"
            assert torch.allclose(colour, expected, atol=0.02), f"scene {i} {s.captions[i]!r}: object {k} looks {colour.tolist()}"
        if KINDS[s.kind[i]] != "pair":
            assert (lit[i] & ~region_mask(REGIONS[s.region[i, 0]], size)).sum() == 0, f"{s.captions[i]!r}: lit outside its region"


@pytest.mark.parametrize("size", [16, 32])
def test_pixels_put_objects_where_position_and_relation_say(size):
    s = make_scenes(400, seed=22, size=size, split="all")
    mass = s.images.sum(dim=1)  # (N, S, S)
    coord = torch.arange(size) + 0.5
    for i in range(len(s)):
        if KINDS[s.kind[i]] == "pair":  # the object "above" is higher: its half holds its colour
            halves = [mass[i] * region_mask(REGIONS[s.region[i, k]], size) for k in (0, 1)]
            y0, y1 = ((h.sum(1) * coord).sum() / h.sum() for h in halves)
            x0, x1 = ((h.sum(0) * coord).sum() / h.sum() for h in halves)
            relation = {"top": y0 < y1 - size / 4, "bottom": y0 > y1 + size / 4, "left": x0 < x1 - size / 4, "right": x0 > x1 + size / 4}
            assert relation[REGIONS[s.region[i, 0]]], f"{s.captions[i]!r}: centres ({x0:.1f}, {y0:.1f}) and ({x1:.1f}, {y1:.1f})"
            continue
        y = (mass[i].sum(1) * coord).sum() / mass[i].sum() / size  # centre of mass, as a fraction of the side
        x = (mass[i].sum(0) * coord).sum() / mass[i].sum() / size
        where = {"centre": abs(x - 0.5) < 0.1 and abs(y - 0.5) < 0.2,  # a triangle is bottom-heavy
                  "left": x < 0.4, "right": x > 0.6, "top": y < 0.4, "bottom": y > 0.6}
        assert where[REGIONS[s.region[i, 0]]], f"{s.captions[i]!r}: centre of mass at ({x:.2f}, {y:.2f}) of the image"


def test_pixels_show_the_stated_shape():
    """Lit pixels over their bounding box: 1 for a square, about π/4 for a circle, 1/2 for a triangle."""
    size = 32
    s = make_scenes(300, seed=23, size=size, split="all")
    lit = s.images.amax(dim=1) > 0.5
    for i in range(len(s)):
        for k in objects(s, i):
            ys, xs = (lit[i] & region_mask(REGIONS[s.region[i, k]], size)).nonzero(as_tuple=True)
            fill = len(ys) / ((ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)).item()
            seen = "triangle" if fill < 0.64 else "circle" if fill < 0.95 else "square"
            assert seen == SHAPES[s.shape[i, k]], f"scene {i} {s.captions[i]!r}: object {k} fills {fill:.2f} of its box"


def test_objects_of_a_pair_are_apart():
    """A dark line (all pixels < 0.1) separates the halves of every pair at 16×16."""
    s = make_scenes(1000, seed=24, kinds=("pair",))
    for i in range(len(s)):
        vertical = REGIONS[s.region[i, 0]] in ("top", "bottom")
        profile = s.images[i].amax(dim=0).amax(dim=1 if vertical else 0)  # (S,) brightest pixel per row (or column)
        assert profile[5:11].min() < 0.1, f"{s.captions[i]!r}: no dark {'row' if vertical else 'column'} between the objects"


def test_parse_caption_reads_each_form():
    assert parse_caption("a red circle") == SceneLabel("single", (parse_caption("a red circle").objects[0],))
    label = parse_caption("A Blue  square at the top")
    assert (label.kind, label.objects[0].colour, label.objects[0].shape, label.objects[0].region) == ("position", "blue", "square", "top")
    label = parse_caption("a green triangle right of a yellow circle")
    assert label.kind == "pair" and label.relation == "right of"
    assert [(o.colour, o.shape, o.region) for o in label.objects] == [("green", "triangle", "right"), ("yellow", "circle", "left")]


def test_same_scene_said_two_ways():
    a, b = parse_caption("a red circle above a blue square"), parse_caption("a blue square below a red circle")
    assert a != b and a.same_scene(b)
    assert not a.same_scene(parse_caption("a red circle below a blue square"))
    assert not a.same_scene(parse_caption("a red circle left of a blue square"))


def test_parse_caption_rejects_an_unknown_word_listing_the_known_ones():
    with pytest.raises(ValueError, match="'purple'") as error:
        parse_caption("a purple circle")
    assert all(word in str(error.value) for word in VOCABULARY)


@pytest.mark.parametrize(
    "caption",
    ["", "red circle", "a circle red", "a red circle on the top", "a red circle above", "a red circle above a red circle",
     "a red circle a blue square", "a red circle left a blue square", "a red circle on the left of a blue square"],
)
def test_parse_caption_rejects_a_malformed_caption(caption):
    with pytest.raises(ValueError, match="caption"):
        parse_caption(caption)


@pytest.mark.parametrize("kwargs", [dict(size=20), dict(split="test"), dict(kinds=()), dict(kinds=("many",))])
def test_bad_arguments_say_what_is_allowed(kwargs):
    with pytest.raises(ValueError, match="must be"):
        make_scenes(4, **kwargs)
