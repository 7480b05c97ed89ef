"""How long `nox -s kata-NN` takes, against `python -c "import torch"` on the same machine.

Works on a temporary copy of the repository with the reference solutions copied over katas/
(as if a learner had solved every kata), so your own katas are never touched. Prints the
median of several runs per kata and its ratio to the torch import: the goal is <= 2x.
Also times the dashboard: a first run that grades every kata, then a run served from cache.

    python benchmarks/kata_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 2.0


def timed(command: list[str], cwd: Path, repeat: int) -> float:
    """Median wall-clock seconds of `command` over `repeat` runs; stops if it fails."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if run.returncode != 0:
            sys.exit(f"{' '.join(command[1:])} failed (exit {run.returncode}):\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return statistics.median(times)


def solved_copy(tmp: Path) -> Path:
    copy = tmp / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".nox", ".katas", "__pycache__", "*.egg-info"))
    for path in (copy / "reference").glob("k[0-9][0-9]_*.py"):
        shutil.copy(path, copy / "katas" / path.name)
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kata-speed-") as tmp:
        repo = solved_copy(Path(tmp))
        nox = [sys.executable, "-m", "nox"]
        torch_s = timed([sys.executable, "-c", "import torch"], repo, args.repeat)
        print(f"python -c 'import torch': {torch_s:.2f} s (median of {args.repeat})")
        print(f"{'session':<12} {'seconds':>8} {'ratio':>6}")
        ratios = []
        for path in sorted((repo / "reference").glob("k[0-9][0-9]_*.py")):
            session = f"kata-{path.stem[1:3]}"
            seconds = timed([*nox, "-s", session], repo, args.repeat)
            ratios.append(seconds / torch_s)
            print(f"{session:<12} {seconds:8.2f} {seconds / torch_s:6.2f}")
        shutil.rmtree(repo / ".katas", ignore_errors=True)  # forget the grades: the first run grades all
        first = timed([*nox, "-s", "dashboard"], repo, 1)
        cached = timed([*nox, "-s", "dashboard"], repo, args.repeat)
        print(f"{'dashboard, grading all':<24} {first:6.2f} s  ratio {first / torch_s:.2f}")
        print(f"{'dashboard, from cache':<24} {cached:6.2f} s  ratio {cached / torch_s:.2f}")
        worst = max(ratios)
        print(f"worst kata ratio {worst:.2f} (goal <= {GOAL}): {'met' if worst <= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
