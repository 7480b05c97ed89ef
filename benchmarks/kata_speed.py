"""How long `nox -s kata-NN` takes, against `python -c "import torch"` on the same machine.

Works on a temporary copy of the repository with the reference solutions copied over katas/
(as if a learner had solved every kata), so your own katas are never touched. Each run is
paired with a torch import right before it; prints the medians: the goal is a ratio <= 2.
Also times:
- a kata with a catalogued mistake in three blanks (the grader runs the mistakes to name them);
- the dashboard: a first run that grades every kata, then a run served from cache;
- `watch`: from saving kata 03 to its verdict on the screen (goal <= 0.5 s);
- the whole test suite, `nox -s reference` (goal <= 60 s at 22 katas).

    python benchmarks/kata_speed.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from checker.blanks import apply_answers  # noqa: E402

GOAL = 2.0
WATCH_GOAL_S = 0.5
SUITE_GOAL_S = 60
MISTAKES = {  # kata 03 with three catalogued mistakes (tests/mutants/k03_attention.py)
    "03.1": "x = x - x.amax(dim=dim)",
    "03.4": "scores = q @ k.transpose(-2, -1)",
    "03.6": "weights = softmax(scores, dim=-2)\nout = weights @ v",
}


def timed(command: list[str], cwd: Path, repeat: int, exit_code: int = 0) -> float:
    """Median wall-clock seconds of `command` over `repeat` runs; stops if it exits otherwise."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if run.returncode != exit_code:
            sys.exit(f"{' '.join(command[1:])} failed (exit {run.returncode}):\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return statistics.median(times)


def solved_copy(tmp: Path) -> Path:
    copy = tmp / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".nox", ".katas", "__pycache__", "*.egg-info"))
    for path in (copy / "reference").glob("k[0-9][0-9]_*.py"):
        shutil.copy(path, copy / "katas" / path.name)
    return copy


def paired(command: list[str], baseline: list[str], cwd: Path, repeat: int, exit_code: int = 0) -> tuple[float, float]:
    """Median seconds of `command` and median of its ratio to `baseline`, each run of the
    command paired with a run of the baseline right before it (drift on a shared machine cancels)."""
    seconds, ratios = [], []
    for _ in range(repeat):
        base = timed(baseline, cwd, 1)
        took = timed(command, cwd, 1, exit_code)
        seconds.append(took)
        ratios.append(took / base)
    return statistics.median(seconds), statistics.median(ratios)


def write_mistakes(repo: Path) -> None:
    source = (repo / "reference" / "k03_attention.py").read_text(encoding="utf-8")
    (repo / "katas" / "k03_attention.py").write_text(apply_answers(source, MISTAKES), encoding="utf-8")


def watch_latency(repo: Path, repeat: int) -> float:
    """Median seconds from saving katas/k03_attention.py to the end of `watch`'s new report."""
    command = [sys.executable, "-m", "checker.cli", "watch", "03"]
    proc = subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, COLUMNS="200"))  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def next_report(timeout: float = 60) -> None:
        while "Watching" not in lines.get(timeout=timeout):
            pass

    path = repo / "katas" / "k03_attention.py"
    times = []
    try:
        next_report()
        for i in range(repeat):
            time.sleep(0.5)
            start = time.perf_counter()
            path.write_text(path.read_text(encoding="utf-8") + f"# saved again ({i})\n", encoding="utf-8")
            next_report()
            times.append(time.perf_counter() - start)
    finally:
        proc.terminate()
        proc.wait()
    return statistics.median(times)


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

        watch = watch_latency(repo, args.repeat)
        print(f"watch 03, save to verdict: {watch:.2f} s (median of {args.repeat}; goal <= {WATCH_GOAL_S} s): "
              f"{'met' if watch <= WATCH_GOAL_S else 'NOT met'}")  # fmt: skip

        write_mistakes(repo)
        seconds, ratio = paired([*nox, "-s", "kata-03"], torch_import, repo, args.repeat, exit_code=1)
        print(f"{'kata-03, 3 mistakes named':<26} {seconds:8.2f} {ratio:6.2f}   (a failing kata)")

        start = time.perf_counter()
        subprocess.run([*nox, "-s", "reference"], cwd=repo, capture_output=True, check=True)
        suite, katas = time.perf_counter() - start, len(ratios)
        print(f"test suite (nox -s reference): {suite:.1f} s for {katas} katas (goal <= {SUITE_GOAL_S} s at 22 katas)")


if __name__ == "__main__":
    main()
