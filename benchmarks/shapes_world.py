"""How fast the shapes world draws scenes, and how well the shipped judge reads them.

Prints the time to draw 10,000 scenes (16×16 and 32×32; the first call of a process, then
the median of 5 more), optionally the judge's training time (--train: trains a judge in
memory, as `python -m shapes.judge --train` does, without writing the weights), and the
shipped judge's adherence and per-attribute accuracy on 2,000 fresh scenes per kind, at
16×16 and 32×32, on split "all" and on the held-out combinations.

    python benchmarks/shapes_world.py [--train]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shapes.judge import THREADS, WEIGHTS, Judge, accuracy_table, load_judge, train_judge  # noqa: E402
from shapes.world import make_scenes  # noqa: E402


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", action="store_true", help="also time the judge's training")
    parser.add_argument("-n", type=int, default=2000, help="fresh scenes per kind for the judge's accuracy")
    args = parser.parse_args()
    torch.set_num_threads(THREADS)

    for size in (16, 32):
        first = seconds(lambda: make_scenes(10_000, seed=0, size=size))
        warm = statistics.median(seconds(lambda: make_scenes(10_000, seed=s, size=size)) for s in range(1, 6))
        print(f"make_scenes(10_000, size={size}): {first:.3f} s first call, {warm:.3f} s median of 5 more")

    if args.train:
        start = time.perf_counter()
        net = train_judge(log=None)
        print(f"judge training: {time.perf_counter() - start:.1f} s on {THREADS} thread(s)")
        print("the judge just trained:")
        print(accuracy_table(Judge(net), n=args.n))

    print(f"the shipped judge ({WEIGHTS.name}, {WEIGHTS.stat().st_size / 1024:.0f} KiB):")
    start = time.perf_counter()
    print(accuracy_table(load_judge(), n=args.n))
    print(f"(judged {12 * args.n} images in {time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
