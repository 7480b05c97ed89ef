"""The README's demo: a grid of prompts drawn by the reference text-to-image model, and what the judge reads in it.

`katas demo` (`nox -s demo`) takes milestone text2image's model trained on the reference katas
(its checkpoint, out/text2image/checkpoint.pt, where one fits; else it trains it first, as
`katas generate` does), draws PROMPTS with the milestone's DDIM steps and guidance from SEED, on one CPU
thread so that the same seed gives the same PNG, writes docs/demo.png (each prompt under its
image) and the judge's reading between the demo markers of README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

SEED = 0
PNG = Path("docs") / "demo.png"
README_BLOCK = "demo"  # README.md's lines between <!-- demo:start --> and <!-- demo:end -->
COLUMNS = 6
GROUPS = (  # (what the prompts are, the prompts): chosen before the model drew them, kept whatever it draws
    ("one object", ("a red circle", "a blue square", "a green triangle", "a yellow square")),
    ("one object, placed", ("a red triangle on the left", "a blue square at the top")),
    ("two objects and a relation", ("a red circle above a blue square", "a green triangle left of a yellow circle",
                                    "a blue square below a red triangle", "a red square above a green circle")),
    ("a colour and shape never trained on", ("a yellow triangle", "a blue circle on the right")),
)  # fmt: skip
PROMPTS = tuple(p for _, prompts in GROUPS for p in prompts)


@dataclass(frozen=True)
class Demo:
    png: Path
    right: list[bool]  # per prompt: the judge reads the image as its prompt
    readings: list[str]  # per prompt: what the judge reads
    reused: bool  # the model came from its checkpoint

    def markdown(self) -> str:
        """The README's block: the picture, the command, and the judge's reading, group by group."""
        from milestones import text2image

        lines = [
            f"![{len(PROMPTS)} prompts drawn by the reference model of milestone text2image]({PNG.as_posix()})",
            "",
            f"`python -m nox -s demo` (or `katas demo`) draws it: milestone text2image's model trained on the reference "
            f"katas, {text2image.DDIM_STEPS} DDIM steps, guidance {text2image.GUIDANCE:g}, seed {SEED}; the same seed draws "
            "the same picture.",
            f"The judge (shapes/judge.py) reads **{sum(self.right)} of {len(PROMPTS)}** images as their prompt:",
            "",
        ]
        start = 0
        for what, prompts in GROUPS:
            right = self.right[start : start + len(prompts)]
            misses = [f'"{p}" (it reads "{r}")' for p, ok, r in zip(prompts, right, self.readings[start:]) if not ok]
            lines.append(f"- {what}: {sum(right)} of {len(prompts)}" + (f"; not {', '.join(misses)}" if misses else ""))
            start += len(prompts)
        return "\n".join(lines)


def draw_demo(model, path: Path) -> Demo:
    """Draw PROMPTS with `model` (runner.trained's answer for milestone text2image), write the grid, judge it."""
    from milestones import draw, text2image
    from shapes.grid import save_grid
    from shapes.judge import judge_prompts

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same arithmetic in the same order on every run: the same PNG
    try:
        images = draw("text2image", model, list(PROMPTS), steps=text2image.DDIM_STEPS, scale=None, seed=SEED)
    finally:
        torch.set_num_threads(threads)
    save_grid(images, list(PROMPTS), path, ncol=COLUMNS)
    report = judge_prompts(images, list(PROMPTS))
    return Demo(path, report.ok.tolist(), report.readings, model.reused)


def make(root: Path, console) -> Demo:
    """`katas demo`: the reference model (from its checkpoint where one fits), the grid in docs/, the README's block."""
    from rich.text import Text

    from milestones import text2image
    from milestones.readme import write_block
    from milestones.runner import out_dir, trained

    if not (out_dir("text2image") / "checkpoint.pt").exists():
        console.print(Text(f"Training the model of milestone text2image first ({text2image.SPEC.minutes} on 2 CPU cores); "
                           "the checkpoint is kept for the next time.", style="dim"))  # fmt: skip
    model = trained(text2image.SPEC, use_reference=True, device="cpu", states={}, console=console)  # states {}: ours, all
    demo = draw_demo(model, root / PNG)
    write_block(root / "README.md", README_BLOCK, demo.markdown())
    return demo
