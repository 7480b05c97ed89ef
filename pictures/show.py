"""`katas show NN`: run kata NN's code (yours, or ours with --reference) on a fixed, seeded example
and write its pictures under out/show/kNN_name/.

The other katas come from reference/, as in grading: a picture of kata 05 runs while kata 03 is
unfinished. Where your code stops the picture (a blank not filled in, an exception), the message
is one screen naming the kata and the blank, never a traceback; with --reference an error is ours,
and its traceback is shown.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from checker import catalog
from checker.blanks import blank_near_line, unfilled_blanks
from checker.catalog import Kata, all_katas, shown

INSTALL = 'python -m pip install -e ".[pictures]"'
UNFILLED_RE = re.compile(r"blank (?P<id>\d\d\.\d+) is not filled in yet")


class ShowProblem(Exception):
    """What stopped a picture, said for a person in a few lines."""


def missing_library() -> str | None:
    """A one-line note when matplotlib, which draws the pictures, is not installed."""
    if importlib.util.find_spec("matplotlib") is None:
        return f"The pictures need matplotlib, not installed here: {INSTALL}"
    return None


def out_root() -> Path:
    return catalog.ROOT / "out" / "show"


@dataclass
class Show:
    """What a kata's draw() gets beside the modules: where to save, the device, notes for the learner."""

    kata: Kata
    out: Path  # out/show/kNN_name/
    device: object  # torch.device
    yours: bool  # your kata file (else ours, --reference)
    quick: bool = False  # smaller budgets (the tests): the same code, fewer steps
    say: object = None  # prints a line at once (before something that takes more than a few seconds); None: silent
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def whose(self) -> str:
        """'your kata 03' or 'our kata 03', for titles."""
        return f"{'your' if self.yours else 'our'} kata {self.kata.number}"

    def note(self, text: str) -> None:
        """A line for the learner, printed with the paths when the pictures are done."""
        self.notes.append(text)

    def now(self, text: str) -> None:
        """A line printed at once: what is about to take longer than a few seconds, and about how long."""
        if self.say is not None:
            self.say(text)

    def save(self, fig, name: str) -> Path:
        """Write a matplotlib figure as out/show/kNN_name/<name>.png."""
        from pictures.plot import save

        path = save(fig, self.out / f"{name}.png")
        self.paths.append(path)
        return path

    def steps(self, full: int, quick: int) -> int:
        """A training or sampling budget: `quick` in the tests, `full` for the learner."""
        return quick if self.quick else full

    def trained(self, milestone: str):
        """The state dict of milestone `milestone`'s checkpoint where one fits (pictures/checkpoints.py), else None."""
        from pictures.checkpoints import fitting_state

        return None if self.quick else fitting_state(milestone)


def load_modules(kata: Kata, use_reference: bool) -> SimpleNamespace:
    """Every kata module, by name without its number (mods.attention is k03_attention): this kata's
    from the learner's file (or ours), every other one ours."""
    from milestones.runner import import_chain

    sources = {k.module: k.reference_path for k in all_katas()}
    if not use_reference:
        sources[kata.module] = kata.kata_path
    with tempfile.TemporaryDirectory(prefix=f"show-{kata.number}-") as tmp:
        try:
            return import_chain(sources, Path(tmp))
        except Exception as e:
            if use_reference:
                raise
            raise ShowProblem(explain(e, kata)) from e


def show(kata: Kata, use_reference: bool = False, device: str = "cpu", out: Path | None = None,
         quick: bool = False, say=None) -> Show:  # fmt: skip
    """Draw kata `kata`'s pictures; returns the Show with the paths written and the notes.
    Raises ShowProblem (a message for the learner) where the learner's code stops it."""
    import torch

    from milestones.runner import pick_device

    module = importlib.import_module(f"pictures.k{kata.number}")
    if not use_reference and not kata.kata_path.exists():
        raise ShowProblem(f"kata {kata.number}: {shown(kata.kata_path)} is missing; `nox -s reset -- {kata.number}` "
                          "writes a fresh one, or add --reference to see ours.")  # fmt: skip
    if not use_reference:  # a picture that trains before it reaches the learner's code names its blanks in NEEDS
        waiting = [b for b in unfilled_blanks(kata.kata_path.read_text(encoding="utf-8")) if b in getattr(module, "NEEDS", ())]
        if waiting:
            raise ShowProblem(not_filled_in(kata, waiting[0]))
    target = pick_device(device)
    missing = {"cuda": not torch.cuda.is_available(), "mps": not torch.backends.mps.is_available()}
    if missing.get(target.type):
        raise ShowProblem(f"There is no {target.type} device here: leave out --device (the pictures draw on the CPU).")
    mods = load_modules(kata, use_reference)
    folder = (out or out_root()) / kata.module
    result = Show(kata, folder, target, yours=not use_reference, quick=quick, say=say)
    torch.manual_seed(0)
    try:
        module.draw(mods, result)
    except Exception as e:
        if use_reference:
            raise
        raise ShowProblem(explain(e, kata)) from e
    return result


def explain(error: BaseException, kata: Kata) -> str:
    """The learner's error as a few lines: the kata, the blank (from the message or the line that
    raised it), what was raised, and what to do."""
    n = kata.number
    unfilled = UNFILLED_RE.search(str(error)) if isinstance(error, NotImplementedError) else None
    if unfilled:
        return not_filled_in(kata, unfilled["id"])
    what = f"{type(error).__name__}: {_first_line(error)}"
    line = _line_in_kata(error, kata)
    if line is None:
        return (f"kata {n}: the picture could not use what your code returned ({what}).\n"
                f"`nox -s kata-{n}` says which blank is wrong; add --reference to see ours.")  # fmt: skip
    where = f"{shown(kata.kata_path)}, line {line}"
    blank = blank_near_line(kata.kata_path.read_text(encoding="utf-8"), line)
    if blank:
        return (f"kata {n}: blank {blank} raises {what}\n  ({where})\n"
                f"`nox -s kata-{n}` says which blank is wrong ({blank}, or one it calls); add --reference to see ours.")  # fmt: skip
    return (f"kata {n}: your code raises {what}\n  ({where})\n"
            f"`nox -s kata-{n}` grades it; add --reference to see ours.")  # fmt: skip


def not_filled_in(kata: Kata, blank: str) -> str:
    return (f"kata {kata.number}: blank {blank} is not filled in yet; fill it in, "
            f"or add --reference to see ours (`nox -s show -- {kata.number} --reference`).")  # fmt: skip


def _first_line(error: BaseException, limit: int = 300) -> str:
    text = str(error).strip().split("\n")[0] or "(no message)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _line_in_kata(error: BaseException, kata: Kata) -> int | None:
    """The line of the learner's kata file that raised (the innermost frame in it), if any."""
    name = f"{kata.module}.py"
    if isinstance(error, SyntaxError) and Path(error.filename or "").name == name:
        return error.lineno
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).name == name]
    return frames[-1].lineno if frames else None
