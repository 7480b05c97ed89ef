"""How long `nox -s kata-NN` takes, against `python -c "import torch"` on the same machine.

Works on a temporary copy of the repository with the reference solutions copied over katas/
(as if a learner had solved every kata), so your own katas are never touched. Each run is
paired with a torch import right before it; prints the medians: the goal is a ratio <= 2.
Also times the dashboard: a first run that grades every kata, then a run served from cache.

    python benchmarks/kata_speed.py [--repeat 5]
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


def paired(command: list[str], baseline: list[str], cwd: Path, repeat: int) -> tuple[float, float]:
    """Median seconds of `command` and median of its ratio to `baseline`, each run of the
    command paired with a run of the baseline right before it (drift on a shared machine cancels)."""
    seconds, ratios = [], []
    for _ in range(repeat):
        base = timed(baseline, cwd, 1)
        took = timed(command, cwd, 1)
        seconds.append(took)
        ratios.append(took / base)
    return statistics.median(seconds), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kata-speed-") as tmp:
        repo = solved_copy(Path(tmp))
        nox = [sys.executable, "-m", "nox"]
        torch_import = [sys.executable, "-c", "import torch"]
        print(f"python -c 'import torch': {timed(torch_import, repo, args.repeat):.2f} s (median of {args.repeat})")
        print(f"{'command':<26} {'seconds':>8} {'ratio':>6}   (medians of {args.repeat} runs, each paired with a torch import)")
        ratios = []
        for path in sorted((repo / "reference").glob("k[0-9][0-9]_*.py")):
            session = f"kata-{path.stem[1:3]}"
            seconds, ratio = paired([*nox, "-s", session], torch_import, repo, args.repeat)
            ratios.append(ratio)
            print(f"{'nox -s ' + session:<26} {seconds:8.2f} {ratio:6.2f}")
        cached = paired([*nox, "-s", "dashboard"], torch_import, repo, args.repeat)
        shutil.rmtree(repo / ".katas", ignore_errors=True)  # forget the grades: the next run grades every kata
        first = paired([*nox, "-s", "dashboard"], torch_import, repo, 1)
        print(f"{'nox (dashboard), all new':<26} {first[0]:8.2f} {first[1]:6.2f}")
        print(f"{'nox (dashboard), cached':<26} {cached[0]:8.2f} {cached[1]:6.2f}")
        worst = max(ratios)
        print(f"worst kata ratio {worst:.2f} (goal <= {GOAL}): {'met' if worst <= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
