"""The judge: a small CNN that reads a shapes-world image back into words, to measure whether
a generated image shows what its prompt says ("prompt adherence").

It is kept apart from the learner's code (it imports nothing from katas/ or reference/), is
trained on real scenes only, with a fixed seed, and sees light noise, blur and dimming while
it trains, since it judges the output of diffusion models. From a 16×16 image (a 32×32 one is
average-pooled to 16×16 first) it reads:

    layout    one object in a region (centre, left, right, top, bottom), or two objects one
              above the other ("vertical") or side by side ("horizontal");
    object a  colour and shape of the one object, or of the top (left) one of a pair;
    object b  colour and shape of the bottom (right) one of a pair.

A prompt is parsed by parse_caption and compared with that reading, attribute by attribute:

    count     one object or two, as the prompt says;
    colour    the colours the prompt names are the colours seen (as a multiset: no places);
    shape     the same for shapes;
    position  only where the prompt states one: the region of a single object ("on the left"),
              or, for a pair, each named object in the place its relation gives ("a red circle
              above a blue square": the red circle on top, the blue square below it; "a blue
              square below a red circle" is the same image).

An image adheres to its prompt when every attribute the prompt states is right; the
adherence of a batch is the share of images that do. Confidence per image: the smallest,
over the heads it uses, of the largest softmax probability (about 1: a clean scene).

The weights ship in judge_weights.pt (about 0.4 MB); their sha256 is in judge_weights.sha256
and is checked on every load. `python -m shapes.judge --train` retrains them (fixed seeds, one
thread: the same bytes again on the same torch; about 25 s) and rewrites both files; `python -m
shapes.judge` reports the accuracy of the shipped weights.

Shapes used in this file:
    N: number of images   S: image side (a multiple of 16)   B: a training batch
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from shapes.world import COLOURS, KINDS, REGIONS, RELATIONS, RGB, SHAPES, ObjectLabel, SceneLabel, make_scenes, parse_caption

WEIGHTS = Path(__file__).with_name("judge_weights.pt")
LAYOUTS = (*REGIONS, "vertical", "horizontal")  # one object in a region, or a pair: top/bottom, left/right
HEADS = {"layout": len(LAYOUTS), "colour_a": len(COLOURS), "shape_a": len(SHAPES), "colour_b": len(COLOURS), "shape_b": len(SHAPES)}
ATTRIBUTES = ("count", "colour", "shape", "position")
SIDE = 16  # the judge reads 16×16 images
TRAIN_SEED = 1_000_000  # training scenes use seeds from here on; evaluate with seeds below it
THREADS = 1  # training runs on one thread: it repeats bit for bit, and a busy machine does not slow it 4×


class JudgeNet(nn.Module):
    """Four 3×3 convolutions with batch norm (16×16 → 8×8 → 4×4), a hidden layer, and one linear
    head per entry of HEADS. The 4×4 map is flattened, not pooled: where things are matters."""

    def __init__(self, width: int = 16, hidden: int = 128) -> None:
        super().__init__()

        def conv(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

        w = width
        self.features = nn.Sequential(
            *conv(3, w), *conv(w, 2 * w, stride=2), *conv(2 * w, 2 * w), *conv(2 * w, 2 * w, stride=2),  # (N, 2w, 4, 4)
            nn.Flatten(), nn.Linear(2 * w * 16, hidden), nn.ReLU(),
        )
        self.heads = nn.Linear(hidden, sum(HEADS.values()))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x: (N, 3, 16, 16) in [0, 1]  →  {head: (N, classes) logits}."""
        logits = self.heads(self.features(x))  # (N, 21)
        return dict(zip(HEADS, logits.split(list(HEADS.values()), dim=1)))


@dataclass(frozen=True)
class Reading:
    """What the judge sees in N images."""

    labels: list[SceneLabel]  # N readings: kind "single" (centred), "position" or "pair"
    confidence: torch.Tensor  # (N,) float in (0, 1]

    @property
    def captions(self) -> list[str]:
        return [label.caption() for label in self.labels]


@dataclass(frozen=True)
class JudgeReport:
    """How well N images show their N prompts."""

    adherence: float  # share of images where every attribute the prompt states is right
    accuracy: dict[str, float]  # per ATTRIBUTES entry, over the images whose prompt states it (nan: none does)
    ok: torch.Tensor  # (N,) bool: image i adheres to prompt i
    correct: dict[str, torch.Tensor]  # per attribute, (N,) bool; True where the prompt does not state it
    confidence: torch.Tensor  # (N,) float, as Reading.confidence
    readings: list[str]  # N captions of what the judge saw


class Judge:
    """A trained JudgeNet that reads images and checks prompts against them."""

    def __init__(self, net: JudgeNet) -> None:
        self.net = net.eval()

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """images: (N, 3, S, S) in [0, 1]  →  ({head: (N,) class}, (N,) confidence)."""
        x = to_judge_size(images)
        probs = {head: [] for head in HEADS}
        for chunk in x.split(1024):
            for head, logits in self.net(chunk).items():
                probs[head].append(logits.softmax(dim=1))
        probs = {head: torch.cat(p) for head, p in probs.items()}  # {head: (N, classes)}
        classes = {head: p.argmax(dim=1) for head, p in probs.items()}
        best = torch.stack([p.amax(dim=1) for p in probs.values()], dim=1)  # (N, 5)
        pair = classes["layout"] >= len(REGIONS)
        confidence = torch.where(pair, best.amin(dim=1), best[:, :3].amin(dim=1))  # heads b only for a pair
        return classes, confidence

    def read(self, images: torch.Tensor) -> Reading:
        """images: (N, 3, S, S) in [0, 1]  →  what they show, as SceneLabels."""
        classes, confidence = self.predict(images)
        rows = zip(*(classes[head].tolist() for head in HEADS))
        return Reading([_label(*row) for row in rows], confidence)


def _label(layout: int, colour_a: int, shape_a: int, colour_b: int, shape_b: int) -> SceneLabel:
    if layout < len(REGIONS):
        kind = "single" if REGIONS[layout] == "centre" else "position"
        return SceneLabel(kind, (ObjectLabel(COLOURS[colour_a], SHAPES[shape_a], REGIONS[layout]),))
    (a, b), relation = (("top", "bottom"), "above") if LAYOUTS[layout] == "vertical" else (("left", "right"), "left of")
    objects = (ObjectLabel(COLOURS[colour_a], SHAPES[shape_a], a), ObjectLabel(COLOURS[colour_b], SHAPES[shape_b], b))
    return SceneLabel("pair", objects, relation)


def to_judge_size(images: torch.Tensor) -> torch.Tensor:
    """images: (N, 3, S, S) in [0, 1], S a multiple of 16  →  (N, 3, 16, 16) float32, average-pooled,
    clamped to [0, 1] (a sampler may overshoot a little)."""
    if images.dim() != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3] or images.shape[2] % SIDE:
        raise ValueError(f"the judge reads images (N, 3, S, S) with S a multiple of {SIDE}, got shape {tuple(images.shape)}")
    if not torch.isfinite(images).all():
        raise ValueError("the judge got images with NaN or inf values")
    if images.numel() and images.median() < -0.5:  # mostly black background: about 0 in [0, 1], -1 in [-1, 1]
        raise ValueError("the judge reads images in [0, 1], these look like [-1, 1] (median < -0.5): map them back first")
    x = images.detach().float().cpu().clamp(0, 1)
    return F.avg_pool2d(x, images.shape[2] // SIDE) if images.shape[2] != SIDE else x


def compare(prompt: SceneLabel, seen: SceneLabel) -> dict[str, bool | None]:
    """Each attribute of ATTRIBUTES: right (True), wrong (False), or not stated by the prompt (None)."""
    count = len(prompt.objects) == len(seen.objects)
    colour = sorted(o.colour for o in prompt.objects) == sorted(o.colour for o in seen.objects)
    shape = sorted(o.shape for o in prompt.objects) == sorted(o.shape for o in seen.objects)
    if prompt.kind == "single":
        position = None
    elif prompt.kind == "position":
        position = count and prompt.objects[0].region == seen.objects[0].region
    else:
        position = prompt.same_scene(seen)
    return {"count": count, "colour": colour, "shape": shape, "position": position}


def judge_prompts(images: torch.Tensor, prompts: list[str], judge: Judge | None = None) -> JudgeReport:
    """How well images (N, 3, S, S) in [0, 1] show prompts (N captions); the shipped judge by default."""
    if len(prompts) != images.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {len(prompts)} prompts")
    judge = judge or load_judge()
    reading = judge.read(images)
    verdicts = [compare(parse_caption(p), seen) for p, seen in zip(prompts, reading.labels)]
    correct = {a: torch.tensor([v[a] is not False for v in verdicts], dtype=torch.bool) for a in ATTRIBUTES}
    stated = {a: torch.tensor([v[a] is not None for v in verdicts], dtype=torch.bool) for a in ATTRIBUTES}
    ok = torch.stack(list(correct.values())).all(dim=0)  # (N,)
    accuracy = {a: correct[a][stated[a]].float().mean().item() if stated[a].any() else math.nan for a in ATTRIBUTES}
    adherence = ok.float().mean().item() if len(prompts) else math.nan
    return JudgeReport(adherence, accuracy, ok, correct, reading.confidence, reading.captions)


# --- weights ------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hash_path(path: Path) -> Path:
    return path.with_suffix(".sha256")


def load_judge(path: str | Path = WEIGHTS, sha256: str | None = None) -> Judge:
    """The judge with the weights at `path`, after checking their sha256 (by default the one
    written beside them, in judge_weights.sha256). Raises ValueError on a mismatch. Loaded
    once per content: the file is read and hashed on every call, the network built once."""
    path = Path(path)
    expected = sha256 or hash_path(path).read_text().split()[0]
    data = path.read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise ValueError(
            f"the judge's weights {path} have sha256 {got}, expected {expected}: the file is damaged or was changed. "
            "Restore it (git checkout shapes/judge_weights.pt) or retrain: python -m shapes.judge --train"
        )
    if got not in _loaded:
        checkpoint = torch.load(io.BytesIO(data), weights_only=True)
        net = JudgeNet(**checkpoint["config"])
        net.load_state_dict(checkpoint["state_dict"])
        _loaded[got] = Judge(net)
    return _loaded[got]


_loaded: dict[str, Judge] = {}  # sha256 of a weights file: its judge


def save_judge(net: JudgeNet, path: str | Path = WEIGHTS, config: dict | None = None) -> str:
    """Write the weights and their sha256 (to judge_weights.sha256 beside them); returns the sha256.
    Bytes depend only on the weights: torch.save to memory names the archive the same every time."""
    buffer = io.BytesIO()
    torch.save({"config": config or {}, "state_dict": net.state_dict()}, buffer)
    path = Path(path)
    path.write_bytes(buffer.getvalue())
    digest = sha256_of(path)
    hash_path(path).write_text(f"{digest}  {path.name}\n")
    return digest


# --- training -----------------------------------------------------------------------------


def targets(scenes) -> dict[str, torch.Tensor]:
    """{head: (N,) class} of scenes; -100 (ignored by cross_entropy) for heads b without a pair.
    Object a is the one object, or the top (left) one of a pair."""
    pair = scenes.kind == KINDS.index("pair")
    vertical = (scenes.relation == RELATIONS.index("above")) | (scenes.relation == RELATIONS.index("below"))
    layout = torch.where(pair, torch.where(vertical, LAYOUTS.index("vertical"), LAYOUTS.index("horizontal")), scenes.region[:, 0])
    first_is_a = (scenes.region[:, 0] == REGIONS.index("top")) | (scenes.region[:, 0] == REGIONS.index("left")) | ~pair
    a, b = torch.where(first_is_a, 0, 1), torch.where(first_is_a, 1, 0)  # (N,) slot of object a, of object b
    rows = torch.arange(len(scenes))
    ignore = torch.tensor(-100)
    return {
        "layout": layout,
        "colour_a": scenes.colour[rows, a],
        "shape_a": scenes.shape[rows, a],
        "colour_b": torch.where(pair, scenes.colour[rows, b], ignore),
        "shape_b": torch.where(pair, scenes.shape[rows, b], ignore),
    }


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """x: (B, 3, 16, 16) → the same scenes, dimmed, blurred and noised a little, in [0, 1]."""
    B = x.shape[0]
    u = torch.rand(B, 4, 1, 1, 1, generator=generator)  # (B, 4, 1, 1, 1) per-image strengths
    kernel = torch.tensor([1.0, 2.0, 1.0]) / 4
    kernel = (kernel[:, None] * kernel[None, :]).expand(3, 1, 3, 3)  # (3, 1, 3, 3) a 3×3 binomial blur
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=3)
    x = torch.lerp(x, blurred, u[:, 0] * (u[:, 1] < 0.5))  # half the images, up to a full blur
    x = x * (0.7 + 0.35 * u[:, 2])
    noise = torch.randn(x.shape, generator=generator)
    return (x + 0.1 * u[:, 3] * noise).clamp(0, 1)


def train_judge(steps: int = 600, batch: int = 128, seed: int = 0, log=print) -> JudgeNet:
    """A JudgeNet trained on fresh scenes of every kind and combination (split "all"), a quarter
    of them drawn at 32×32 and pooled to 16×16, with `augment`; AdamW, one-cycle learning rate
    (10% warm-up, then a cosine decay)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = JudgeNet()
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps, pct_start=0.1)
    chunk = 50  # steps per draw of scenes
    for step in range(steps):
        if step % chunk == 0:
            size = 32 if (step // chunk) % 4 == 3 else 16
            scenes = make_scenes(chunk * batch, seed=TRAIN_SEED + seed * 10_000 + step // chunk, size=size, split="all")
            images, labels = to_judge_size(scenes.images), targets(scenes)
        part = slice((step % chunk) * batch, (step % chunk + 1) * batch)
        logits = net(augment(images[part], generator))
        loss = sum(F.cross_entropy(logits[h], labels[h][part], ignore_index=-100) for h in HEADS)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if log and (step % 250 == 0 or step == steps - 1):
            log(f"step {step:5d}/{steps}  loss {loss.item():.4f}")
    return net.eval()


# --- evaluation ---------------------------------------------------------------------------


def evaluate(judge: Judge, n: int = 2000, seed: int = 424_242, size: int = 16, split: str = "all") -> dict[str, JudgeReport]:
    """{kind: JudgeReport} of the judge on n fresh real scenes of each kind, prompted with their own captions."""
    reports = {}
    for kind in KINDS:
        scenes = make_scenes(n, seed=seed, size=size, split=split, kinds=(kind,))
        reports[kind] = judge_prompts(scenes.images, scenes.captions, judge)
    return reports


def accuracy_table(judge: Judge, n: int = 2000, seed: int = 424_242) -> str:
    """The judge's adherence and per-attribute accuracy on n fresh real scenes per kind, at
    16×16 and 32×32, on splits "all" and "heldout", as lines of text."""
    lines = []
    for size in (16, 32):
        for split in ("all", "heldout"):
            lines.append(f"{size}×{size}, split {split!r}, {n} fresh scenes per kind (seed {seed}):")
            for kind, report in evaluate(judge, n, seed, size, split).items():
                accuracy = "  ".join(f"{a} {100 * v:6.2f}%" for a, v in report.accuracy.items() if not math.isnan(v))
                lines.append(f"  {kind:9s} adherence {100 * report.adherence:6.2f}%   {accuracy}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shapes.judge", description="Retrain (--train) or evaluate the judge.")
    parser.add_argument("--train", action="store_true", help=f"retrain and rewrite {WEIGHTS.name} and its sha256")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    if args.train:
        torch.set_num_threads(THREADS)
        start = time.perf_counter()
        net = train_judge(steps=args.steps)
        print(f"trained in {time.perf_counter() - start:.1f} s on {THREADS} threads")
        digest = save_judge(net, args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB), sha256 {digest}")
    print(accuracy_table(load_judge(args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# --- clean scenes -------------------------------------------------------------------------

CLEAN_CONFIDENCE = 0.9  # real scenes: 99.9% above 0.98
CLEAN_PALETTE_SHARE = 0.85  # real scenes: 99.9% above 0.859; σ = 0.15 noise: median 0.82; two scenes blended: 0.74


def palette_share(images: torch.Tensor) -> torch.Tensor:
    """The share of each image's pixels within 0.25 (in every channel) of black or of a scene colour.

    images: (N, 3, S, S) in [0, 1]  →  (N,)."""
    palette = torch.cat([torch.zeros(1, 3), torch.as_tensor(RGB, dtype=torch.float32)])  # (5, 3)
    pixels = images.detach().float().cpu().permute(0, 2, 3, 1).reshape(images.shape[0], -1, 1, 3)  # (N, S·S, 1, 3)
    distance = (pixels - palette[None, None]).abs().amax(dim=-1).amin(dim=-1)  # (N, S·S)
    return (distance < 0.25).float().mean(dim=1)


def clean_scenes(images: torch.Tensor, judge: Judge | None = None) -> torch.Tensor:
    """Which images are clean, recognisable scenes: the judge reads them with confidence ≥ 0.9,
    and ≥ 85% of their pixels are black or a scene colour (no smudges, no blends, no noise).

    images: (N, 3, S, S) in [0, 1]  →  (N,) bool. Real scenes pass 99.8% of the time."""
    judge = judge or load_judge()
    confident = judge.read(images).confidence >= CLEAN_CONFIDENCE
    return confident & (palette_share(images) >= CLEAN_PALETTE_SHARE)
