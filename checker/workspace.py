"""Changes to the learner's files: generate, reset, restore tests. Every one backs up first.

Nothing here overwrites work a learner did without copying it to .katas/backups/ first.
"""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path

from checker import progress
from checker.blanks import TODO_RE, generate_kata, normalize, solved_kata, unfilled_blanks
from checker.catalog import KATAS_DIR, ROOT, Kata, all_katas, shown
from checker.manifest import fingerprint, shipped_manifest, write_manifest


def pristine(kata: Kata) -> str:
    return generate_kata(kata.reference_source)


def has_learner_work(path: Path) -> bool:
    """A kata file with a blank filled in (or its TODO lines gone): a learner has worked in it."""
    if not path.exists():
        return False
    text = normalize(path.read_text(encoding="utf-8"))
    todo_ids = {m["id"] for m in map(TODO_RE.match, text.split("\n")) if m}
    return not todo_ids or bool(todo_ids - set(unfilled_blanks(text)))


def write_kata(kata: Kata, text: str, keep_backup: bool = True) -> Path | None:
    """Write a kata file, first backing up what was there if it differs. Returns the backup's path."""
    path = kata.kata_path
    saved = None
    if keep_backup and path.exists() and normalize(path.read_text(encoding="utf-8")) != text:
        saved = progress.backup(path)
    path.parent.mkdir(exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return saved


def generate(katas: list[Kata] | None = None) -> list[tuple[Kata, Path | None]]:
    """Maintainers: regenerate katas/ from reference/ and the tests manifest. Learner work is backed up."""
    written = []
    for kata in katas or all_katas():
        text = pristine(kata)
        current = normalize(kata.kata_path.read_text(encoding="utf-8")) if kata.kata_path.exists() else None
        if current != text:
            written.append((kata, write_kata(kata, text, keep_backup=has_learner_work(kata.kata_path))))
    write_manifest()
    return written


def stale_katas() -> list[Path]:
    """Files in katas/ that no reference file generates any more."""
    return sorted(set(KATAS_DIR.glob("k[0-9][0-9]_*.py")) - {k.kata_path for k in all_katas()})


def reset(kata: Kata) -> Path | None:
    """Put the kata back to its pristine form; the learner's version goes to .katas/backups/."""
    return write_kata(kata, pristine(kata))


def solution_diff(kata: Kata) -> str:
    """A unified diff from the learner's file to the kata solved with the reference solutions."""
    mine = normalize(kata.kata_path.read_text(encoding="utf-8")).splitlines(keepends=True)
    ours = solved_kata(kata.reference_source).splitlines(keepends=True)
    return "".join(difflib.unified_diff(mine, ours, f"yours: {shown(kata.kata_path)}",
                                        f"reference: {shown(kata.reference_path)}", n=2))  # fmt: skip


def restore_tests() -> list[tuple[str, Path | None]]:
    """Put edited test files back from git (HEAD), backing up the edited copies."""
    shipped = shipped_manifest()
    restored = []
    for relpath, digest in shipped.items():
        if fingerprint(relpath) == digest:
            continue
        path = ROOT / relpath
        saved = progress.backup(path) if path.exists() else None
        show = subprocess.run(["git", "show", f"HEAD:{relpath}"], cwd=ROOT, capture_output=True, text=True)
        if show.returncode != 0:
            raise RuntimeError(f"could not restore {relpath} from git: {show.stderr.strip()}")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(normalize(show.stdout))
        restored.append((relpath, saved))
    return restored
