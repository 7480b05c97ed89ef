"""The milestones in full, with the reference: each one's figure against its goal, and its time.

Trains from scratch (--retrain) on this machine's CPU unless --device says otherwise, writes
the PNGs and result.json under out/<milestone>/ as a learner's run would, and prints a table.

    python benchmarks/milestones.py [vit caption clip] [--device cpu] [--steps N]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from rich.console import Console  # noqa: E402

from milestones import MILESTONES  # noqa: E402
from milestones.runner import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", default=list(MILESTONES))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, help="override every milestone's budget")
    args = parser.parse_args()
    console = Console(highlight=False)
    rows = []
    for name in args.names:
        spec = importlib.import_module(MILESTONES[name][0]).SPEC
        start = time.perf_counter()
        result = run(spec, use_reference=True, device=args.device, steps=args.steps, retrain=True, console=console,
                     states={})  # fmt: skip
        total = time.perf_counter() - start
        console.print(result.line())
        rows.append((name, spec, result, total))
    console.print(f"\n{torch.get_num_threads()} torch threads, device {args.device}")
    console.print(f"{'milestone':<10} {'figure':>8} {'goal':>6} {'steps':>6} {'train s':>8} {'total s':>8}  details")
    for name, spec, result, total in rows:
        console.print(f"{name:<10} {result.figure:8.1%} {spec.goal:6.0%} {result.steps:6d} {result.seconds:8.1f} "
                      f"{total:8.1f}  {result.details}")  # fmt: skip


if __name__ == "__main__":
    main()
