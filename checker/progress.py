"""The learner's progress, kept in .katas/progress.json (commit it: your progress lives in git).

Each kata's last result is keyed by a hash of everything that decides it (see
grading.grading_hash), so the dashboard re-grades only what changed. Hint tiers seen are
kept here too. Writes are atomic: a crash never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path

from checker.catalog import STATE_DIR
from checker.grading import NOT_RUN, grading_hash, kata_state

PROGRESS_PATH = STATE_DIR / "progress.json"
BACKUP_DIR = STATE_DIR / "backups"
BACKUP_STAMP = "%Y%m%d-%H%M%S-%f"  # in a backup's name: k03_attention.20250301-142501-123456.py


def load() -> dict:
    try:
        data = json.loads(PROGRESS_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data.setdefault("katas", {})
    data.setdefault("hints", {})
    return data


def save(data: dict) -> None:
    STATE_DIR.mkdir(exist_ok=True)
    tmp = PROGRESS_PATH.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, PROGRESS_PATH)


def record(results) -> None:
    """Remember full-kata grades (a grade of some blanks only is not a kata's state)."""
    data = load()
    for r in results:
        data["katas"][r.kata.number] = {
            "hash": grading_hash(r.kata),
            "state": r.state,
            "blanks": {b.id: b.verdict for b in r.blanks},
            "graded": datetime.now().isoformat(timespec="seconds"),
        }
    save(data)


def cached(kata, data: dict | None = None) -> dict | None:
    """The stored result of this kata if nothing that decides it changed since."""
    entry = (data or load())["katas"].get(kata.number)
    if entry and entry.get("hash") == grading_hash(kata):
        return entry
    return None


def with_cached_verdicts(result) -> None:
    """Blanks a run did not grade take their verdicts from the last full grade, where nothing that
    decides them changed since; the kata's state is then that of all its blanks."""
    entry = cached(result.kata)
    if entry is None:
        return
    for blank in result.blanks:
        if blank.verdict == NOT_RUN and not blank.error and blank.id in entry["blanks"]:
            blank.verdict, blank.cached = entry["blanks"][blank.id], True
    result.state = kata_state(result.blanks, result.problem)


def backup(path: Path) -> Path:
    """Copy a learner's file to .katas/backups/ with a timestamp, before anything replaces it."""
    BACKUP_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime(BACKUP_STAMP)
    target = BACKUP_DIR / f"{path.stem}.{stamp}{path.suffix}"
    shutil.copy2(path, target)
    return target


def backups(path: Path) -> list[Path]:
    """The backups of a file, newest first."""
    return sorted(BACKUP_DIR.glob(f"{path.stem}.*{path.suffix}"), reverse=True)


def backup_time(backup: Path) -> datetime | None:
    """When a backup was made, read from its name (None if the name does not say)."""
    try:
        return datetime.strptime(backup.stem.rsplit(".", 1)[-1], BACKUP_STAMP)
    except ValueError:
        return None
