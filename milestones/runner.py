"""What every milestone shares: the learner's chain of katas, the device, the training loop with
its progress bar, checkpoints, and the result (one line, out/<name>/result.json).

A milestone module (vit.py, caption.py, clip.py) defines `SPEC`, a `Spec` naming the katas it
needs, its figure and goal, its budget in steps, and the functions that make its data, its
model, a batch and its loss, and evaluate it (the figure, details for result.json, the PNGs).
`mods` is the chain of kata modules, by name without the number: mods.vit is k06_vit.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from checker import catalog
from checker.catalog import Kata, find_kata, shown
from checker.grading import PASSING

OUT_DIR_NAME = "out"


@dataclass(frozen=True)
class Spec:
    name: str  # "vit"
    needs: tuple[str, ...]  # the katas it imports directly ("06", "01"); those below them come along
    metric: str  # the figure's key in result.json: "accuracy"
    says: str  # the figure in words: "held-out attribute accuracy"
    goal: float  # the figure must reach this (a share in [0, 1])
    steps: int  # the training budget
    minutes: str  # what the budget takes on 2 CPU cores, said beside it
    batch_size: int = 128
    lr: float = 1e-3
    lr_decay: bool = False  # warm up over the first 5% of steps, then decay to 0 on a half cosine
    make_data: Callable = field(default=None, repr=False)  # (mods) -> data: the scenes to train on and to evaluate
    build: Callable = field(default=None, repr=False)  # (mods, data) -> nn.Module
    loss: Callable = field(default=None, repr=False)  # (mods, model, batch) -> scalar tensor
    batch: Callable = field(default=None, repr=False)  # (data, indices: (batch_size,) long, device) -> batch
    train_size: Callable = field(default=None, repr=False)  # (data) -> how many training examples
    evaluate: Callable = field(default=None, repr=False)  # (mods, model, data, out_dir, device) -> (figure, details, [PNG paths])
    step: Callable | None = field(default=None, repr=False)  # (mods, model, batch, optimizer) -> loss: the learner's own training step, if a kata has one
    pretrain: Callable | None = field(default=None, repr=False)  # (mods, model, data, device, console) -> seconds: a stage trained before the main one (e.g. the text encoder)


class MissingKatas(Exception):
    """A kata the milestone needs does not pass in the learner's copy (and --reference was not given)."""


# --- the learner's chain ----------------------------------------------------------------------


def chain_of(spec: Spec) -> list[Kata]:
    """The katas a milestone runs: the ones it needs and every kata they rest on, in order."""
    modules = set()
    for number in spec.needs:
        kata = find_kata(number)
        modules |= {kata.module, *kata.depends_on}
    return [k for k in catalog.all_katas() if k.module in modules]


def choose_sources(katas: list[Kata], use_reference: bool, states: dict[str, str]) -> dict[str, Path]:
    """The file each kata module comes from: the learner's where it passes, else the reference
    (with --reference), else MissingKatas naming what to finish first."""
    missing = [k for k in katas if states.get(k.number) != PASSING]
    if missing and not use_reference:
        names = ", ".join(f"kata {k.number} ({k.module}: {states.get(k.number, 'not graded')})" for k in missing)
        raise MissingKatas(
            f"This milestone runs your own katas end to end. Not passing yet: {names}.\n"
            f"Finish {'it' if len(missing) == 1 else 'them'} first (`nox -s {missing[0].session}`), "
            "or add --reference to use ours for what does not pass yet."
        )
    return {k.module: (k.reference_path if k in missing else k.kata_path) for k in katas}


def import_chain(sources: dict[str, Path], folder: Path) -> SimpleNamespace:
    """Import each kata module from its chosen file (copied into `folder`, put first on sys.path,
    so that `from k05_transformer import ...` inside a kata finds the same choice)."""
    for module, path in sources.items():
        shutil.copy(path, folder / f"{module}.py")
        sys.modules.pop(module, None)
    sys.path.insert(0, str(folder))
    try:
        return SimpleNamespace(**{module[4:]: importlib.import_module(module) for module in sources})
    finally:
        sys.path.remove(str(folder))


# --- device, checkpoint, result ---------------------------------------------------------------


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(name)


def milestone_code(spec: Spec) -> list[Path]:
    """The milestone's own module and every milestones module it imports, directly or not (its
    data, model and stages: what training makes). Not milestones/__init__.py: drawing only."""
    folder = Path(__file__).parent
    found, todo = set(), [Path(sys.modules[spec.build.__module__].__file__).resolve()]
    while todo:
        path = todo.pop()
        if path in found or not path.exists():
            continue
        found.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "milestones":
                todo += [folder / f"{alias.name}.py" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("milestones."):
                todo.append(folder / f"{node.module.split('.')[1]}.py")
    return sorted(found)


def checkpoint_key(spec: Spec, sources: dict[str, Path], steps: int) -> str:
    """Changes with anything that changes what training makes: the code of each kata used, the
    milestone's code (milestone_code), the budget and learning rate. Not with comments or docstrings."""
    h = hashlib.sha256(f"{spec.name} {steps} {spec.batch_size} {spec.lr} {spec.lr_decay}".encode())
    for module, path in sorted(sources.items()):
        h.update(module.encode() + code_of(path.read_text(encoding="utf-8")).encode())
    for path in milestone_code(spec):
        h.update(path.name.encode() + code_of(path.read_text(encoding="utf-8")).encode())
    return h.hexdigest()[:16]


def code_of(source: str) -> str:
    """What a file does, without its words: its syntax tree with comments and docstrings left
    out, so mending a hint or an explanation does not throw a trained model away."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):  # fmt: skip
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def out_dir(name: str) -> Path:
    return catalog.ROOT / OUT_DIR_NAME / name


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Result:
    spec: Spec
    figure: float
    steps: int
    seconds: float
    device: str
    sources: dict[str, str]  # module: "yours" or "reference"
    reused: bool
    details: dict
    pngs: list[Path]

    @property
    def passed(self) -> bool:
        return self.figure >= self.spec.goal

    def as_json(self) -> dict:
        return {
            "milestone": self.spec.name,
            "metric": self.spec.metric,
            self.spec.metric: round(self.figure, 4),
            "goal": self.spec.goal,
            "passed": self.passed,
            "steps": self.steps,
            "seconds": round(self.seconds, 1),
            "device": self.device,
            "katas": self.sources,
            "checkpoint_reused": self.reused,
            "details": self.details,
            "pngs": [shown(p) for p in self.pngs],
        }

    def line(self) -> Text:
        mark, style = ("✔", "green") if self.passed else ("✘", "red")
        trained = "checkpoint reused" if self.reused else f"trained {self.steps} steps in {self.seconds:.0f} s"
        return Text(f"{mark} milestone {self.spec.name}: {self.spec.says} {self.figure:.1%} (goal ≥ {self.spec.goal:.0%}), "
                    f"{trained} on {self.device}", style=f"bold {style}")  # fmt: skip


def lr_factor(step: int, steps: int) -> float:
    """The learning rate's factor at a step (Spec.lr_decay): a linear warm-up over the first 5%
    of the steps, then a half cosine down to 0 at the last."""
    warmup = max(1, steps // 20)
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def adamw(model: torch.nn.Module, lr: float) -> torch.optim.AdamW:
    """AdamW (weight decay 0.01), fused into one kernel where this PyTorch and device have it: on 2 CPU
    cores that takes milestone ddpm's optimizer step from about 12 ms to 3, and its whole step from 191 to 165."""
    try:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, fused=True)
    except (RuntimeError, ValueError, TypeError):  # no fused kernel for this device or this PyTorch
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)


def train(spec: Spec, mods, model: torch.nn.Module, data, steps: int, device: torch.device, console: Console) -> float:
    """AdamW for `steps` steps on random batches, with a progress bar; returns the seconds it took."""
    generator = torch.Generator().manual_seed(0)
    optimizer = adamw(model, spec.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, steps)) if spec.lr_decay else None
    n = spec.train_size(data)
    model.train()
    start = time.perf_counter()
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("loss {task.fields[loss]}")]  # fmt: skip
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"training {spec.name}", total=steps, loss="-")
        for step in range(steps):
            batch = spec.batch(data, torch.randint(0, n, (spec.batch_size,), generator=generator), device)
            if spec.step is not None:
                loss = spec.step(mods, model, batch, optimizer)
            else:
                loss = spec.loss(mods, model, batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                loss = loss.item()
            if schedule is not None:
                schedule.step()
            if not math.isfinite(loss):
                raise FloatingPointError(f"the loss became {loss} at step {step}: training diverged")
            if step % 10 == 0 or step == steps - 1:
                bar.update(task, completed=step + 1, loss=f"{loss:.3f}")
    model.eval()
    return time.perf_counter() - start


@dataclass
class Trained:
    """A milestone's model, trained now or loaded from its checkpoint, with what made it."""

    mods: SimpleNamespace
    model: torch.nn.Module
    data: object
    sources: dict[str, Path]
    device: torch.device
    steps: int
    seconds: float
    reused: bool

    @property
    def used(self) -> dict[str, str]:
        return {module: ("reference" if path.parent == catalog.REFERENCE_DIR else "yours") for module, path in self.sources.items()}


def trained(spec: Spec, use_reference: bool = False, device: str = "auto", steps: int | None = None,
            retrain: bool = False, console: Console | None = None, states: dict[str, str] | None = None) -> Trained:  # fmt: skip
    """The milestone's model: its checkpoint where one fits (the same katas' code, the same budget), else trained now."""
    console = console or Console(highlight=False)
    steps = spec.steps if steps is None else steps
    katas = chain_of(spec)
    if states is None:
        from checker.cli import kata_states

        states = {number: state for number, (state, _) in kata_states(katas).items()}
    sources = choose_sources(katas, use_reference, states)
    target = pick_device(device)
    folder = out_dir(spec.name)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory(prefix=f"milestone-{spec.name}-") as tmp:
        mods = import_chain(sources, Path(tmp))
    data = spec.make_data(mods)
    model = spec.build(mods, data).to(target)
    key = checkpoint_key(spec, sources, steps)
    checkpoint = folder / "checkpoint.pt"
    saved = torch.load(checkpoint, map_location=target, weights_only=True) if checkpoint.exists() else None
    reused = bool(saved) and saved.get("key") == key and not retrain
    if reused:
        model.load_state_dict(saved["state_dict"])
        seconds = saved["seconds"]
        model.eval()
    else:
        seconds = spec.pretrain(mods, model, data, target, console) if spec.pretrain else 0.0
        seconds += train(spec, mods, model, data, steps, target, console)
        torch.save({"key": key, "state_dict": model.state_dict(), "seconds": seconds}, checkpoint)
    return Trained(mods, model, data, sources, target, steps, seconds, reused)


def run(spec: Spec, use_reference: bool = False, device: str = "auto", steps: int | None = None,
        retrain: bool = False, console: Console | None = None, states: dict[str, str] | None = None) -> Result:  # fmt: skip
    """Run a milestone end to end. `states`: each kata's state (by number); graded if not given."""
    t = trained(spec, use_reference, device, steps, retrain, console, states)
    folder = out_dir(spec.name)
    with torch.no_grad():
        figure, details, pngs = spec.evaluate(t.mods, t.model, t.data, folder, t.device)
    result = Result(spec, figure, t.steps, t.seconds, str(t.device), t.used, t.reused, details, pngs)
    (folder / "result.json").write_text(json.dumps(result.as_json(), indent=2) + "\n", encoding="utf-8")
    return result
