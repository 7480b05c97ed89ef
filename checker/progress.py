"""The learner's progress: a record that travels in git.

Two files, both meant to be committed:
- `.katas/progress.json`, the machine-readable record: each kata's last full grade, keyed by a
  hash of everything that decides it (grading.grading_hash, so the dashboard re-grades only
  what changed), stamped with the time, the hash of the kata file and the hash of its tests,
  when it first passed and after how many grading runs. A digest over the entries tells a
  hand-edited or damaged record (a merge conflict, a truncated file) from one the checker
  wrote: such a record is never trusted; it is kept as a backup and rebuilt by re-grading.
- `PROGRESS.md` at the repository's root, the same record as a Markdown table that renders on
  GitHub: kata, title, blanks passed, state, first passed on. A pass whose kata file or tests
  changed since is marked stale until it is graded again.

Hint tiers seen live apart, in `.katas/hints.json`, so a damaged record does not take them
along. Every write is atomic: a crash never leaves a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

from checker import catalog
from checker.blanks import normalize
from checker.i18n import t
from checker.catalog import ROOT, STATE_DIR, TESTS_DIR
from checker.grading import (
    NOT_GRADED_YET,
    NOT_RUN,
    NOT_STARTED,
    PASS,
    PASSING,
    grading_hash,
    is_pristine,
    kata_state,
    state_word,
)

PROGRESS_PATH = STATE_DIR / "progress.json"
RECORD_PATH = ROOT / "PROGRESS.md"
HINTS_PATH = STATE_DIR / "hints.json"
SETTINGS_PATH = STATE_DIR / "settings.json"
BACKUP_DIR = STATE_DIR / "backups"
BACKUP_STAMP = "%Y%m%d-%H%M%S-%f"  # in a backup's name: k03_attention.20250301-142501-123456.py
FORMAT = 2  # of progress.json; 1 had no digest, no stamps and kept the hints inside


# --- files ------------------------------------------------------------------------------------


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _digest(katas: dict) -> str:
    return hashlib.sha256(json.dumps(katas, sort_keys=True).encode()).hexdigest()[:16]


def file_hash(*paths: Path) -> str:
    """A short hash of files' text (line endings aside, so Windows and Linux checkouts agree)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode())
        h.update(normalize(path.read_text(encoding="utf-8")).encode() if path.exists() else b"<missing>")
    return h.hexdigest()[:16]


def kata_file_hash(kata) -> str:
    return file_hash(kata.kata_path)


def tests_hash(kata) -> str:
    """The tests a kata's grade runs: its own test file and the shared test support."""
    return file_hash(kata.test_path, TESTS_DIR / "support.py", TESTS_DIR / "conftest.py")


# --- the record -------------------------------------------------------------------------------


def _read() -> tuple[dict | None, str]:
    """The record on disk, read once, and why it cannot be trusted: (record, "") where it can,
    (None, why) where it cannot, (None, "") where there is none yet."""
    if not PROGRESS_PATH.exists():
        return None, ""
    try:
        data = _read_json(PROGRESS_PATH)
    except (OSError, ValueError) as e:
        return None, t("progress.not_json", type=e.__class__.__name__, error=str(e).splitlines()[0])
    if not isinstance(data, dict) or not isinstance(data.get("katas"), dict):
        return None, t("progress.not_a_record")
    if data.get("format", 1) != 1 and data.get("digest") != _digest(data["katas"]):
        return None, t("progress.digest")
    return data, ""  # format 1, the earlier one, is read as it is and upgraded on the next write


def problem() -> str:
    """Why the record on disk cannot be trusted ("" if it can, or if there is none yet)."""
    return _read()[1]


def set_aside() -> Path | None:
    """Keep an untrusted record as a backup and start a fresh one (hints are in their own file)."""
    if not PROGRESS_PATH.exists():
        return None
    saved = backup(PROGRESS_PATH)
    _salvage_old_hints(PROGRESS_PATH)
    PROGRESS_PATH.unlink()
    return saved


def load() -> dict:
    """The record: {"katas": {number: entry}}; empty where there is none or it cannot be trusted."""
    data, _ = _read()
    return {"katas": data["katas"] if data else {}}


def save(data: dict) -> None:
    """Write the record, its digest, and PROGRESS.md beside it."""
    old, _ = _read()
    if old and old.get("format", 1) == 1:
        _salvage_old_hints(PROGRESS_PATH)
    katas = data["katas"]
    body = {"format": FORMAT, "digest": _digest(katas), "katas": katas}
    _write_atomic(PROGRESS_PATH, json.dumps(body, indent=2, sort_keys=True) + "\n")
    write_markdown(katas)


def record(results) -> None:
    """Remember full-kata grades (a grade of some blanks only is not a kata's state), stamped."""
    data = load()
    now = datetime.now().isoformat(timespec="seconds")
    for r in results:
        before = data["katas"].get(r.kata.number, {})
        runs = before.get("runs", 0) + 1
        entry = {
            "hash": grading_hash(r.kata),
            "state": r.state,
            "blanks": {b.id: b.verdict for b in r.blanks},
            "passed": sum(b.verdict == PASS for b in r.blanks),
            "total": len(r.blanks),
            "graded": now,
            "kata_file": kata_file_hash(r.kata),
            "tests": tests_hash(r.kata),
            "runs": runs,
            "first_passed": before.get("first_passed"),
            "runs_to_pass": before.get("runs_to_pass"),
        }
        if r.state == PASSING and not entry["first_passed"]:
            entry["first_passed"], entry["runs_to_pass"] = now, runs
        data["katas"][r.kata.number] = entry
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


def stale(kata, entry: dict) -> str:
    """Why a stored grade no longer speaks for the files ("" while it does)."""
    changed = []
    if entry.get("kata_file") != kata_file_hash(kata):
        changed.append(t("progress.kata_file"))
    if entry.get("tests") != tests_hash(kata):
        changed.append(t("progress.tests"))
    return t("progress.changed_since", what=t("cli.and").join(changed)) if changed else ""


# --- PROGRESS.md ------------------------------------------------------------------------------


def markdown(katas: dict) -> str:
    """The record as a Markdown table, one row per kata (in the language now)."""
    lines = [
        t("progress.md_title"),
        "",
        t("progress.md_written_by"),
        t("progress.md_stale"),
        "",
        t("progress.md_header"),
        "|---:|---|---:|---|---|",
    ]
    passing = passed = total = 0
    for kata in catalog.all_katas():
        entry = katas.get(kata.number)
        n = len(kata.blanks)
        if entry:
            state, done = state_word(entry["state"]), entry.get("passed", 0)
            why = stale(kata, entry)
            if why:
                state = t("progress.md_stale_state", state=state, why=why)
            passing += entry["state"] == PASSING and not why
        else:
            state, done = state_word(NOT_STARTED if is_pristine(kata) else NOT_GRADED_YET), 0
        first = (entry or {}).get("first_passed") or ""
        lines.append(f"| {kata.number} | {kata.title_in()} | {done}/{n} | {state} | {first.replace('T', ' ')} |")
        passed, total = passed + done, total + n
    lines += ["", t("progress.md_totals", passed=passed, total=total, passing=passing, katas=len(catalog.all_katas()))]
    return "\n".join(lines) + "\n"


def write_markdown(katas: dict) -> None:
    _write_atomic(RECORD_PATH, markdown(katas))


# --- hints and settings -----------------------------------------------------------------------


def hints() -> dict[str, int]:
    """The highest hint tier seen for each blank."""
    try:
        data = _read_json(HINTS_PATH)
        return {k: int(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError, TypeError):
        return {}


def save_hint_tier(blank_id: str, tier: int) -> None:
    seen = hints()
    seen[blank_id] = max(seen.get(blank_id, 0), tier)
    _write_atomic(HINTS_PATH, json.dumps(seen, indent=2, sort_keys=True) + "\n")


def _salvage_old_hints(path: Path) -> None:
    """Hint tiers kept inside a record of the earlier format move to their own file."""
    try:
        old = _read_json(path).get("hints") or {}
    except (OSError, ValueError, AttributeError):
        return
    for blank_id, tier in old.items():
        if isinstance(tier, int):
            save_hint_tier(blank_id, tier)


def settings() -> dict:
    try:
        data = _read_json(SETTINGS_PATH)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save_setting(key: str, value) -> None:
    data = settings()
    data[key] = value
    _write_atomic(SETTINGS_PATH, json.dumps(data, indent=2, sort_keys=True) + "\n")


# --- backups ----------------------------------------------------------------------------------


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
