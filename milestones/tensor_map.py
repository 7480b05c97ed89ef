"""The Tensor Map: the shape of every tensor through the text-to-image pipeline, recorded, not written.

`katas tensor-map` (`nox -s tensor-map`) builds milestone latent's pipeline, kata 21's TextToImage
around the text tower, the conditional U-Net and the VAE, from the reference katas with untrained
weights (shapes do not depend on training), and draws one prompt while it listens: a forward hook
on every module and a wrapper around every function of the katas note what each call was given
and what it returned. The map is that record, condensed into a table:

- every call is one row, indented under the call that made it, in the order they ran, named by
  the kata whose file defines it (a torch layer: the kata whose code calls it);
- a call repeated with the same shapes is one row with its count (the U-Net runs once per DDIM
  step: "×50"); consecutive calls of one kind with the same shapes share a row (blocks.0–1);
- the calls inside are shown for the first call of each kind in OPENED only, and the layers that
  keep the shape as it is (normalisations, activations, Identity: LEFT_OUT) are left out.

The table goes into README.md between the tensor-map markers; the diagram into docs/tensor_map.png.

Shapes used in this file: B prompts (1 here, 2B = 2 inside the guided U-Net), T caption tokens,
D text width, Cz, h, w the latent, C, H, W the image.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import re
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

PROMPT = "a red circle above a blue square"
SEED = 0
README_BLOCK = "tensor-map"  # README.md's lines between <!-- tensor-map:start --> and <!-- tensor-map:end -->
PNG = Path("docs") / "tensor_map.png"
OPENED = (  # the kinds (or names) whose inner calls the map shows, the first time each runs
    "TextToImage", "TextToImage.encode_prompts", "TextEncoder", "ddim_sample", "Guided", "guided_eps",
    "ConditionalUNet", "SpatialTransformer", "cross_attn", "LatentCodec.decode", "VAE.decode",
)  # fmt: skip
LEFT_OUT = ("nn.Identity", "NoAttention", "nn.GroupNorm", "nn.LayerNorm", "LayerNorm", "nn.SiLU", "nn.GELU", "nn.Dropout")
KATA_FILE = re.compile(r"^k(\d\d)_[a-z0-9_]+$")


@dataclass
class Call:
    """One call the pipeline made: who, from which kata, what went in (argument, shape) and what came out."""

    name: str  # where it sits: "unet.down_attn.0" (a module), "codec.decode" (a method), "ddim_step" (a function)
    kind: str  # its class or function: "SpatialTransformer", "nn.Conv2d", "ddim_step", "LatentCodec.decode"
    kata: str | None  # the kata file that defines it ("k16_conditioning"); a torch layer: the one whose code calls it
    code_kata: str | None  # the kata file of the code it runs (a subclass may run its parent's forward)
    path: str | None  # the module it is or belongs to, in the pipeline ("unet"; "" the pipeline itself); None if none
    module: bool = False  # a module's forward (not a function or a method)
    inputs: list[tuple[str, str]] = field(default_factory=list)
    output: str | None = None
    children: list[Call] = field(default_factory=list)
    count: int = 1  # how many times it ran (with the same shapes)
    names: list[str] = field(default_factory=list)  # the names of the calls merged into this one

    @property
    def signature(self) -> tuple:
        return self.kind, tuple(self.inputs), self.output


@dataclass(frozen=True)
class Row:
    depth: int  # how deep in the calls: 0 for the pipeline
    name: str  # where it sits, relative to the module that calls it: "down_attn.0", "codec.decode", "ddim_step"; or ""
    owner: str  # its class: "SpatialTransformer", "nn.Conv2d", "LatentCodec"; "" for a function
    kind: str  # as Call.kind
    kata: str | None  # "k16_conditioning"
    inputs: str  # "x (2, 64, 8, 8) · context (2, 9, 64) · context_mask (2, 1, 9) bool"
    output: str  # "(2, 64, 8, 8)"
    count: int


# --- recording --------------------------------------------------------------------------------


def kata_of(module_name: str) -> str | None:
    """The kata file a Python module is ("k16_conditioning"), or None."""
    name = module_name.rsplit(".", 1)[-1]
    return name if KATA_FILE.match(name) else None


def describe(value) -> str | None:
    """A value as the map shows it: a tensor by its shape (and dtype when not float32), tokens by
    their count, a text and a whole number as they are; None for the rest (floats, which change from
    step to step, modules, generators)."""
    if isinstance(value, torch.Tensor):
        dims = ", ".join(str(d) for d in value.shape) + ("," if value.dim() == 1 else "")
        dtype = {torch.float32: "", torch.int64: " long", torch.bool: " bool"}.get(value.dtype, f" {value.dtype}")
        return f"({dims}){dtype}".replace("torch.", "")
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (list, tuple)) and value:
        if all(isinstance(v, torch.Tensor) for v in value):
            return ", ".join(describe(v) for v in value)
        if all(isinstance(v, str) for v in value):
            return f"[{', '.join(map(describe, value))}]" if len(value) == 1 else f"{len(value)} texts"
        if isinstance(value, list) and all(isinstance(v, int) for v in value):
            return f"{len(value)} token ids"
        if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
            return f"({', '.join(map(str, value))})"
        if all(isinstance(v, list) for v in value):
            return f"{len(value)} lists of ids"
    return None


def described_arguments(function, args: tuple, kwargs: dict) -> list[tuple[str, str]]:
    try:
        bound = inspect.signature(function).bind(*args, **kwargs).arguments
    except (TypeError, ValueError):
        bound = {f"arg{i}": a for i, a in enumerate(args)} | kwargs
    shown = ((name, describe(value)) for name, value in bound.items())
    return [(name, text) for name, text in shown if text is not None]


class Recorder:
    """Listens to one run of `pipeline`: forward hooks on its modules (and on any module made
    during the run, such as kata 17's Guided), wrappers around the katas' functions and methods."""

    def __init__(self, pipeline: nn.Module, modules: list[types.ModuleType]) -> None:
        self.pipeline, self.modules = pipeline, modules
        self.paths = {id(m): path for path, m in pipeline.named_modules()}
        self.root = Call("", "", None, None, None)
        self.stack = [self.root]
        self.undo: list = []

    def enter(self, call: Call) -> None:
        if call.kata is None and call.kind.startswith("nn."):  # a torch layer: the kata whose code calls it
            call.kata = self.stack[-1].code_kata
        self.stack[-1].children.append(call)
        self.stack.append(call)

    def leave(self, call: Call, output) -> None:
        call.output = describe(output)
        assert self.stack.pop() is call, "calls left in another order than they came"

    # modules: forward hooks (a module's own, with its keyword arguments; the global ones for the
    # modules made during the run: the global hooks of torch < 2.6 do not see keyword arguments)
    def module_call(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        cls = type(module)
        kata = kata_of(cls.__module__)
        kind = f"nn.{cls.__name__}" if cls.__module__.startswith("torch.nn") else cls.__name__
        path = self.paths.get(id(module))
        self.enter(Call(path or kind, kind, kata, kata_of(cls.forward.__module__), path, True,
                        described_arguments(module.forward, args, kwargs)))  # fmt: skip

    def own_pre_hook(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        self.module_call(module, args, kwargs)

    def own_hook(self, module: nn.Module, args: tuple, kwargs: dict, output) -> None:
        self.leave(self.stack[-1], output)

    def any_pre_hook(self, module: nn.Module, args: tuple) -> None:
        if id(module) not in self.paths:
            self.module_call(module, args, {})

    def any_hook(self, module: nn.Module, args: tuple, output) -> None:
        if id(module) not in self.paths:
            self.leave(self.stack[-1], output)

    # functions and methods: wrappers
    def wrap(self, function, name: str, kind: str, kata: str | None, path: str | None = None):
        @functools.wraps(function)
        def recorded(*args, **kwargs):
            call = Call(name, kind, kata, kata, path, False, described_arguments(function, args, kwargs))
            self.enter(call)
            output = function(*args, **kwargs)
            self.leave(call, output)
            return output

        return recorded

    def __enter__(self) -> Recorder:
        wrapped = {}
        for module in self.modules:  # every function of a kata, where any kata's code looks it up
            for name, value in list(vars(module).items()):
                if inspect.isfunction(value) and kata_of(value.__module__):
                    if value not in wrapped:
                        wrapped[value] = self.wrap(value, value.__name__, value.__name__, kata_of(value.__module__))
                    setattr(module, name, wrapped[value])
                    self.undo.append(functools.partial(setattr, module, name, value))
        for path, module in self.pipeline.named_modules():  # each kata module's own methods (LatentCodec.decode)
            cls = type(module)
            for name, value in vars(cls).items():
                if inspect.isfunction(value) and name != "forward" and not name.startswith("_") and kata_of(cls.__module__):
                    call_name = f"{path}.{name}" if path else name
                    object.__setattr__(module, name, self.wrap(getattr(module, name), call_name, f"{cls.__name__}.{name}",
                                                               kata_of(value.__module__), path))  # fmt: skip
                    self.undo.append(functools.partial(module.__dict__.pop, name))
            self.undo.append(module.register_forward_pre_hook(self.own_pre_hook, with_kwargs=True).remove)
            self.undo.append(module.register_forward_hook(self.own_hook, with_kwargs=True).remove)
        self.undo.append(nn.modules.module.register_module_forward_pre_hook(self.any_pre_hook).remove)
        self.undo.append(nn.modules.module.register_module_forward_hook(self.any_hook).remove)
        return self

    def __exit__(self, *exc) -> None:
        for undo in reversed(self.undo):
            undo()


def reference_chain(spec) -> types.SimpleNamespace:
    """The kata modules a milestone chains, all from reference/ (mods.pipeline is k21_pipeline)."""
    from milestones.runner import chain_of, choose_sources, import_chain

    sources = choose_sources(chain_of(spec), use_reference=True, states={})  # nothing passes: ours throughout
    with tempfile.TemporaryDirectory(prefix="tensor-map-") as tmp:
        return import_chain(sources, Path(tmp))


def vocabulary(mods) -> dict[str, int]:
    from shapes.world import VOCABULARY

    return mods.tokenizer.build_vocab([" ".join(VOCABULARY)])  # as milestone text2image's make_data


@contextlib.contextmanager
def recording(model: nn.Module, mods: types.SimpleNamespace):
    """A Recorder on `model` and the katas' functions, on one thread (a tiny model: one is the fastest, and a busy
    machine does not slow it tenfold), without gradients."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with Recorder(model, list(vars(mods).values())) as recorder, torch.no_grad():
            yield recorder
    finally:
        torch.set_num_threads(threads)


def record(prompt: str = PROMPT) -> Call:
    """One prompt drawn by milestone latent's pipeline (kata 21's TextToImage; its DDIM steps and
    guidance), untrained: the TextToImage call, with everything it called inside."""
    from milestones import latent, text2image

    mods = reference_chain(latent.SPEC)
    vocab = vocabulary(mods)
    torch.manual_seed(SEED)
    pipeline = latent.LatentModel(mods, len(vocab), max_len=16).eval().pipeline(mods, vocab)
    with recording(pipeline, mods) as recorder:
        pipeline([prompt], text2image.DDIM_STEPS, latent.GUIDANCE, SEED)
    (top,) = recorder.root.children
    return top


def record_pixel_unet(prompt: str = PROMPT) -> Call:
    """Milestone text2image's U-Net (pixel space, no VAE) in one guided DDIM step of its draw(), untrained."""
    from milestones import text2image

    mods = reference_chain(text2image.SPEC)
    vocab = vocabulary(mods)
    torch.manual_seed(SEED)
    model = text2image.TextToImageModel(mods, len(vocab), max_len=16).eval()
    with recording(model, mods) as recorder:
        text2image.draw(mods, model, vocab, [prompt], steps=1, scale=text2image.GUIDANCE, seed=SEED)
    return next(c for c in walk(recorder.root) if c.kind == "ConditionalUNet")


def walk(call: Call):
    yield call
    for child in call.children:
        yield from walk(child)


# --- condensing -------------------------------------------------------------------------------


def condensed(call: Call) -> Call:
    """The call with its repeats merged, all the way down: a child that ran before under the same
    name with the same shapes adds to that one's count; consecutive children of one kind with the
    same shapes share a row (blocks.0 and blocks.1)."""
    kept: list[Call] = []
    for child in map(condensed, call.children):
        earlier = next((k for k in kept if k.name == child.name and k.signature == child.signature), None)
        if earlier is not None:
            earlier.count += child.count
        elif kept and kept[-1].signature == child.signature and kept[-1].count == child.count:
            kept[-1].names.append(child.name)
        else:
            child.names = child.names or [child.name]
            kept.append(child)
    call.children = kept
    return call


def joined(names: list[str]) -> str:
    """blocks.0, blocks.1 -> blocks.0–1; q_proj, k_proj -> q_proj, k_proj."""
    numbered = [re.fullmatch(r"(.*)\.(\d+)", n) for n in names]
    if len(names) > 1 and all(numbered) and len({m.group(1) for m in numbered}) == 1:
        return f"{numbered[0].group(1)}.{numbered[0].group(2)}–{numbered[-1].group(2)}"
    return ", ".join(names)


def rows_of(call: Call, depth: int = 0, within: str | None = None, opened: set | None = None) -> list[Row]:
    """The map's rows, in the order the calls ran: `call`, then (the first time a kind in OPENED
    runs) the calls inside it. `within`: the path of the module it is called in."""
    opened = set() if opened is None else opened
    if call.kind in LEFT_OUT or call.output is None:
        return []
    name = joined([n.removeprefix(f"{within}.") if within else n for n in call.names or [call.name]])
    if call.module:  # `down_attn.0` SpatialTransformer; Guided (made during the run: no name)
        owner, name = call.kind, "" if name == call.kind else name
    else:  # `codec.decode` LatentCodec; `ddim_step`
        owner = call.kind.split(".")[0] if call.path is not None else ""
    inputs = " · ".join(f"{argument} {shape}" for argument, shape in call.inputs)
    rows = [Row(depth, name, owner, call.kind, call.kata, inputs, call.output, call.count)]
    key = call.kind if call.kind in OPENED else name
    if key in OPENED and key not in opened:
        opened.add(key)
        inside = call.path if call.path is not None else within
        for child in call.children:
            rows += rows_of(child, depth + 1, inside or None, opened)
    return rows


def tensor_map(prompt: str = PROMPT) -> list[Row]:
    """The rows of the Tensor Map: one recorded run of the pipeline, condensed."""
    return rows_of(condensed(record(prompt)))


def pixel_unet_map(prompt: str = PROMPT) -> list[Row]:
    """The rows of milestone text2image's U-Net and the calls it makes (not opened further)."""
    return rows_of(condensed(record_pixel_unet(prompt)), opened={k for k in OPENED if k != "ConditionalUNet"})


# --- the table --------------------------------------------------------------------------------


def table(rows: list[Row]) -> list[str]:
    """Markdown lines: one row per call, indented under its caller, with its kata (a link to the file)."""
    lines = ["| # | call | kata | in | out |", "|---:|---|---|---|---|"]
    for i, row in enumerate(rows, start=1):
        step = " ".join(part for part in (f"`{row.name}`" if row.name else "", row.owner) if part)
        count = f" **×{row.count}**" if row.count > 1 else ""
        kata = f"[{row.kata[1:3]}](katas/{row.kata}.py)" if row.kata else "—"
        lines.append(f"| {i} | {'&emsp;' * row.depth}{step}{count} | {kata} | {row.inputs} | {row.output} |")
    return lines


def markdown(rows: list[Row], pixel_rows: list[Row]) -> str:
    """The README's block: the map of milestone latent's pipeline, and milestone text2image's U-Net folded away."""
    from milestones import latent, text2image

    return "\n".join([
        f'One prompt, "{PROMPT}" (B = 1), drawn by milestone latent\'s pipeline: {text2image.DDIM_STEPS} DDIM steps, '
        f"guidance scale {latent.GUIDANCE}, seed {SEED}; every step runs the U-Net on 2B = 2 (the prompt and the empty "
        "caption).",
        "",
        f"![The Tensor Map: the pipeline's stages and the U-Net's levels, with their shapes]({PNG.as_posix()})",
        "",
        *table(rows),
        "",
        "<details><summary>Pixel space: milestone text2image's U-Net, one DDIM step (no VAE; three levels, "
        "16×16 → 8×8 → 4×4)</summary>",
        "",
        *table(pixel_rows),
        "",
        "</details>",
    ])  # fmt: skip


# --- the diagram ------------------------------------------------------------------------------

PARTS = (  # the course's parts, by kata number: (first, last, colour, what)
    (1, 8, "#cfe2f3", "katas 01–08: tokens, Transformer, CLIP"),
    (9, 15, "#fce5cd", "09–15: schedules, U-Net, sampling"),
    (16, 18, "#d9ead3", "16–18: conditioning, guidance, DDIM"),
    (19, 21, "#e6d9f0", "19–21: VAE, latents, the pipeline"),
)
LANE = ("TextToImage.encode_prompts", "TextEncoder", "ddim_sample", "LatentCodec.decode", "to_image_range")


def colour_of(kata: str | None) -> str:
    number = int(kata[1:3]) if kata else 0
    return next((colour for first, last, colour, _ in PARTS if first <= number <= last), "#eeeeee")


def spatial(shape: str) -> int | None:
    """H of a (B, C, H, W) shape as the map writes it, else None."""
    dims = re.match(r"\(([\d, ]+)\)", shape)
    sizes = [int(d) for d in dims.group(1).split(",") if d.strip()] if dims else []
    return sizes[2] if len(sizes) == 4 else None


def children_of(rows: list[Row], index: int) -> list[Row]:
    """The rows directly inside rows[index]."""
    inside = []
    for row in rows[index + 1 :]:
        if row.depth <= rows[index].depth:
            break
        if row.depth == rows[index].depth + 1:
            inside.append(row)
    return inside


def draw(rows: list[Row], path: Path) -> Path:
    """The diagram: the pipeline's stages left to right, and below them the U-Net each DDIM step runs,
    as a U (one row of boxes per resolution), each box with its output shape, coloured by the part of
    the course its kata belongs to. Everything in it is read from the rows."""
    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # nox logs everything: not matplotlib's font search
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Patch

    fig = plt.figure(figsize=(17, 9.4), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 17)
    ax.set_ylim(0, 9.4)
    ax.axis("off")
    mono = {"family": "monospace"}

    def box(x, y, w, h, title, subtitle, shape, kata, size=9.0):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor=colour_of(kata), edgecolor="#555555", linewidth=0.8))  # fmt: skip
        ax.text(x, y + h * 0.24, title, ha="center", va="center", fontsize=size, fontweight="bold", **mono)
        ax.text(x, y, subtitle, ha="center", va="center", fontsize=size - 1, color="#333333")
        ax.text(x, y - h * 0.26, shape, ha="center", va="center", fontsize=size, **mono)

    def arrow(points, colour="#333333", dashed=False):
        (x0, y0), (x1, y1) = points[-2], points[-1]
        if len(points) > 2:
            ax.plot(*zip(*points[:-1]), color=colour, lw=1.1, linestyle="--" if dashed else "-")
        ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.1, shrinkA=0, shrinkB=0,
                                                            linestyle="--" if dashed else "-"))  # fmt: skip

    def first_shape(text: str) -> str:
        return text.split("), ")[0] + (")" if "), " in text else "")

    top = rows[0]
    prompt = top.inputs.split(" · ")[0].split(" ", 1)[1].strip("[]")
    ax.text(0.3, 9.0, f"The Tensor Map: {prompt} → image {top.output}", fontsize=15, fontweight="bold", va="center")
    ax.text(0.3, 8.6, "every shape recorded with forward hooks on the reference katas (milestone latent's pipeline, untrained "
            "weights): B = 1 prompt; the U-Net runs on 2B = 2, the prompt and the empty caption, for guidance",
            fontsize=10, va="center", color="#444444")  # fmt: skip

    # the lane: the pipeline's stages, left to right
    index = {row.kind: i for i, row in enumerate(rows)}
    guided = rows[index["Guided"]]
    tokens = rows[index["pad_batch"]]
    lane = [  # (row, title, what it is, its output, the kata that colours it)
        (tokens, "tokenize", "encode, pad_batch (01)", f"tokens {tokens.output}", tokens.kata),
        (rows[index["TextEncoder"]], "text_encoder", "TextEncoder (05), CLIP's tower (08)",
         f"features {first_shape(rows[index['TextEncoder']].output)}", rows[index["TextEncoder"]].kata),
        (rows[index["ddim_sample"]], "ddim_sample", f"Guided (17) + ddim_step (18), ×{guided.count}",
         f"z {rows[index['ddim_sample']].output}", rows[index["ddim_sample"]].kata),
        (rows[index["LatentCodec.decode"]], "codec.decode", "LatentCodec (20), VAE decoder (19)",
         f"x {rows[index['LatentCodec.decode']].output}", rows[index["LatentCodec.decode"]].kata),
        (rows[index["to_image_range"]], "to_image_range", "[-1, 1] → [0, 1] (10)",
         f"image {rows[index['to_image_range']].output}", rows[index["to_image_range"]].kata),
    ]  # fmt: skip
    lane_y, lane_w, lane_h = 7.45, 2.75, 1.05
    gap = (16.4 - len(lane) * lane_w) / (len(lane) - 1)
    lane_x = [0.3 + lane_w / 2 + k * (lane_w + gap) for k in range(len(lane))]
    for k, (row, title, what, shape, kata) in enumerate(lane):
        box(lane_x[k], lane_y, lane_w, lane_h, title, what, shape, kata, size=9.5)
        if k:
            arrow([(lane_x[k - 1] + lane_w / 2, lane_y), (lane_x[k] - lane_w / 2, lane_y)])

    # the U-Net, run inside every guided step: one box per call, one row of boxes per resolution
    unet_at = index["ConditionalUNet"]
    unet = rows[unet_at]
    inside = [r for r in children_of(rows, unet_at) if spatial(r.output)]
    resampling = [r for r in inside if r.kind in ("Downsample", "Upsample")]
    boxes = [r for r in inside if r not in resampling]
    levels = sorted({spatial(r.output) for r in boxes}, reverse=True)
    row_y = {size: 4.55 - 2.0 * k for k, size in enumerate(levels)}
    slot, bw, bh = 15.6 / len(boxes), 15.6 / len(boxes) - 0.1, 1.0
    place = {id(r): (0.7 + slot * (k + 0.5), row_y[spatial(r.output)]) for k, r in enumerate(boxes)}
    frame_bottom, frame_top = min(row_y.values()) - 1.25, max(row_y.values()) + 1.65
    ax.add_patch(FancyBboxPatch((0.3, frame_bottom), 16.4, frame_top - frame_bottom, boxstyle="round,pad=0,rounding_size=0.15",
                                facecolor="none", edgecolor="#93c47d", linewidth=2))  # fmt: skip
    ax.text(0.5, frame_top - 0.3, f"{unet.name} {unet.owner} (kata {unet.kata[1:3]}), at each of the {guided.count} steps: "
            f"{unet.inputs.split(' · ')[0]} → ε {unet.output}", fontsize=11, fontweight="bold", va="center")  # fmt: skip
    ddim_x = lane_x[2]
    arrow([(ddim_x, lane_y - lane_h / 2), (ddim_x, frame_top)])
    # the text tokens: one line from the text encoder to every SpatialTransformer's cross-attention
    attention = [r for r in boxes if r.kind == "SpatialTransformer"]
    context = attention[0].inputs.split(" · ")[1]
    bus_y, blue = frame_top - 0.75, "#3d85c6"
    text_x = lane_x[1]
    ax.plot([text_x, text_x], [lane_y - lane_h / 2, bus_y], color=blue, lw=1.3)
    bus = [place[id(r)][0] for r in attention] + [text_x]
    ax.plot([min(bus), max(bus)], [bus_y, bus_y], color=blue, lw=1.3)
    ax.text(text_x + 0.1, bus_y + 0.07, f"{context}: the text tokens, read by the cross-attention of every SpatialTransformer",
            fontsize=9, color=blue, va="bottom", **mono)  # fmt: skip
    for r in attention:
        x, y = place[id(r)]
        arrow([(x, bus_y), (x, y + bh / 2)], colour=blue)
    for r in boxes:
        x, y = place[id(r)]
        what = f"{r.owner.replace('SpatialTransformer', 'SpatialTransf.')} ({r.kata[1:3]})"
        box(x, y, bw, bh, r.name, what, r.output, r.kata, size=8.5)
    for before, after in zip(boxes, boxes[1:]):  # in the order they run; a level change goes through Down/Upsample
        (x0, y0), (x1, y1) = place[id(before)], place[id(after)]
        if y0 == y1:
            arrow([(x0 + bw / 2, y0), (x1 - bw / 2, y1)])
            continue
        (change,) = [r for r in resampling if rows.index(before) < rows.index(r) < rows.index(after)]
        arrow([(x0, y0 - bh / 2 if y1 < y0 else y0 + bh / 2), (x1, y1 + bh / 2 if y1 < y0 else y1 - bh / 2)])
        down = y1 < y0  # the label beside the box on the lower row, on its outer side
        x, y = (x1 - bw / 2 - 0.1, y1) if down else (x0 + bw / 2 + 0.1, y0)
        ax.text(x, y, f"{change.name} {change.owner} ({change.kata[1:3]})\n→ {change.output}", fontsize=8.5, va="center",
                ha="right" if down else "left", **mono)  # fmt: skip
    # skip connections: the last box of the down path at a level to the first ResBlock of the up path there
    low = [k for k, r in enumerate(boxes) if spatial(r.output) == levels[-1]]
    for size in levels[:-1]:
        down = [r for r in boxes[: low[0]] if spatial(r.output) == size]
        up = [r for r in boxes[low[-1] + 1 :] if spatial(r.output) == size and r.kind == "ResBlock"]
        if down and up:
            (x0, y0), (x1, _) = place[id(down[-1])], place[id(up[0])]
            skip_y = y0 - bh / 2 - 0.45
            arrow([(x0 - 0.15, y0 - bh / 2), (x0 - 0.15, skip_y), (x1 - 0.15, skip_y), (x1 - 0.15, y0 - bh / 2)],
                  colour="#888888", dashed=True)  # fmt: skip
            ax.text((x0 + x1) / 2, skip_y, f"skip connection: {down[-1].output}, torch.cat → {up[0].inputs.split(' · ')[0]}",
                    fontsize=8.5, color="#666666", ha="center", va="center", zorder=5,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5}, **mono)  # fmt: skip
    time = rows[index["TimeMLP"]]
    ax.text(0.5, frame_bottom + 0.3, f"{time.name} {time.owner} ({time.kata[1:3]}): {time.inputs} → temb {time.output}, "
            "added inside every ResBlock", fontsize=9, color="#444444", va="center", **mono)  # fmt: skip
    handles = [Patch(facecolor=c, edgecolor="#555555", label=what) for _, _, c, what in PARTS]
    ax.legend(handles=handles, loc="lower center", ncol=4, fontsize=9.5, frameon=False, bbox_to_anchor=(0.5, 0.0),
              title="colour: the part of the course (a torch layer: the kata that calls it); the number in brackets: the kata",
              title_fontsize=9.5)  # fmt: skip
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


def make(root: Path, console) -> tuple[bool, Path | None]:
    """`katas tensor-map`: record the map, write README.md's block and the diagram (where matplotlib is installed).
    Returns (whether the README changed, the PNG's path or None)."""
    from rich.text import Text

    from milestones.readme import write_block

    rows = tensor_map()
    changed = write_block(root / "README.md", README_BLOCK, markdown(rows, pixel_unet_map()))
    try:
        png = draw(rows, root / PNG)
    except ImportError as e:
        console.print(Text(f"No diagram: it needs matplotlib ({e}); python -m pip install -e \".[pictures]\" adds it.",
                           style="yellow"))  # fmt: skip
        png = None
    return changed, png
