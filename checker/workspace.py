"""Changes to the learner's files: generate, reset, restore tests. Every one backs up first.

Nothing here overwrites work a learner did without copying it to .katas/backups/ first.
"""

from __future__ import annotations

import difflib
import io
import subprocess
import tokenize
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from checker import i18n, progress
from checker.blanks import (
    TODO_LINE_RE,
    TODO_RE,
    docstring_lines,
    docstring_span,
    normalize,
    solved_kata,
    todo_line,
    unfilled_blanks,
)
from checker.catalog import KATAS_DIR, ROOT, Kata, all_katas, shown
from checker.manifest import fingerprint, shipped_manifest, write_manifest

SKIPPED_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}


def pristine(kata: Kata, lang: str | None = None) -> str:
    """The kata as shipped, its words in `lang` (default: the learner's language, English where it
    has no translation). What `katas sync` commits is the English one."""
    return kata.generated(lang)


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
        text = pristine(kata, "en")
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


@dataclass(frozen=True)
class Block:
    """Consecutive lines of the learner's file (from line `start`) and the matching lines of ours."""

    changed: bool
    start: int
    mine: list[str]
    ours: list[str]


def code_keys(text: str) -> list[str]:
    """Each line's code, comments dropped and spacing normalised: "" for a blank or comment-only line.
    Tokens, not text: a `#` inside a string is not a comment. An unreadable file is compared as text."""
    lines = text.split("\n")
    keys: list[list[str]] = [[] for _ in lines]
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type not in SKIPPED_TOKENS:
                for row, part in enumerate(tok.string.split("\n"), start=tok.start[0] - 1):
                    keys[row].append(part)
    except (tokenize.TokenError, SyntaxError):
        return [" ".join(line.split()) for line in lines]
    return [" ".join(" ".join(k).split()) for k in keys]


def compare_code(mine: str, ours: str, context: int = 2) -> list[list[Block]]:
    """Hunks of the lines whose code differs (comments and spacing aside), with `context` equal
    code lines around each. A hunk is a list of blocks, each changed or not."""
    mine_lines, ours_lines = mine.split("\n"), ours.split("\n")
    mine_keys, ours_keys = code_keys(mine), code_keys(ours)
    mine_code = [i for i, key in enumerate(mine_keys) if key]  # only the lines with code are compared
    ours_code = [j for j, key in enumerate(ours_keys) if key]
    matcher = difflib.SequenceMatcher(
        None, [mine_keys[i] for i in mine_code], [ours_keys[j] for j in ours_code], autojunk=False
    )
    hunks = []
    for group in matcher.get_grouped_opcodes(context):
        _, i, _, j, _ = group[0]
        m, o = (mine_code + [len(mine_lines)])[i], (ours_code + [len(ours_lines)])[j]  # the next line, each side
        blocks = []

        def block_until(changed: bool, m_end: int, o_end: int) -> None:
            nonlocal m, o
            if m_end > m or o_end > o:
                blocks.append(Block(changed, m + 1, mine_lines[m:m_end], ours_lines[o:o_end]))
            m, o = m_end, o_end

        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for a, b in zip(mine_code[i1:i2], ours_code[j1:j2]):
                    block_until(False, a, b)  # the comments and blank lines before the pair
                    block_until(False, a + 1, b + 1)
            else:  # the comments before the first changed line, then the changed lines (none on one side)
                block_until(False, mine_code[i1] if i1 < i2 else m, ours_code[j1] if j1 < j2 else o)
                block_until(True, mine_code[i2 - 1] + 1 if i1 < i2 else m, ours_code[j2 - 1] + 1 if j1 < j2 else o)
        hunks.append(blocks)
    return hunks


def solution_hunks(kata: Kata) -> list[list[Block]]:
    """Where the learner's code differs from the kata solved with the reference solutions (in the
    language the learner's file is in: its explanation is a string, and compared as code)."""
    mine = normalize(kata.kata_path.read_text(encoding="utf-8"))
    return compare_code(mine, solved_kata(kata.reference_source, kata.texts(language_of(kata, mine))))


# --- the learner's katas in another language --------------------------------------------------


def _docstring_block(kata: Kata, lang: str) -> list[str]:
    """The kata's module docstring as generated in `lang` (English where it has no translation)."""
    words = kata.texts(lang)
    if lang == "en" or not (words.title and words.explanation):
        text = kata.generated("en")
        first, end = docstring_span(text)
        return text.split("\n")[first:end]
    return docstring_lines(kata.number, words.title, words.explanation)


def language_of(kata: Kata, text: str) -> str:
    """The language a kata file's words are in: the one whose explanation and TODO lines it holds most
    of (the learner's language on a tie, or where it holds none)."""
    lines = normalize(text).split("\n")
    blanks = {b.id: b for b in kata.blanks}
    now = i18n.language()
    score = {}
    for lang in i18n.languages():
        block = _docstring_block(kata, lang)
        found = int(lines[: len(block)] == block)
        for line in lines:
            m = TODO_LINE_RE.match(line)
            if m and m["id"] in blanks:
                found += line.lstrip(" ") == todo_line(blanks[m["id"]], kata.texts(lang)).lstrip(" ")
        score[lang] = found
    best = max(score.values())
    return now if score.get(now) == best else next(lang for lang, n in score.items() if n == best)


@dataclass(frozen=True)
class Switched:
    changed: bool  # the file was rewritten
    backup: Path | None  # where the learner's version went before
    kept_explanation: bool  # its explanation was not one we wrote (the learner's own): left as it was


def relabel(kata: Kata, text: str, lang: str) -> tuple[str, bool]:
    """A learner's kata file with our words in `lang`: the explanation (the module docstring) and each
    blank's TODO line, where they are ours in some language; every other line as it is. Returns the
    text and whether the explanation was left as it was (the learner's own)."""
    lines = normalize(text).split("\n")
    blanks = {b.id: b for b in kata.blanks}
    for i, line in enumerate(lines):
        m = TODO_LINE_RE.match(line)
        if m and m["id"] in blanks:
            ours = {todo_line(blanks[m["id"]], kata.texts(other)).lstrip(" ") for other in i18n.languages()}
            if line.lstrip(" ") in ours:
                lines[i] = m["indent"] + todo_line(blanks[m["id"]], kata.texts(lang)).lstrip(" ")
    known = [_docstring_block(kata, other) for other in i18n.languages()]
    block = next((b for b in known if lines[: len(b)] == b), None)
    if block is not None:
        lines[: len(block)] = _docstring_block(kata, lang)
    return "\n".join(lines), block is None and docstring_span("\n".join(lines)) is not None


def switch_language(kata: Kata, lang: str) -> Switched:
    """Rewrite the learner's kata file's explanation and TODO lines in `lang`, in place, keeping every line
    of their code. The file is backed up first where it changes."""
    path = kata.kata_path
    if not path.exists():
        return Switched(False, None, False)
    text = normalize(path.read_text(encoding="utf-8"))
    new, kept = relabel(kata, text, lang)
    if new == text:
        return Switched(False, None, kept)
    saved = progress.backup(path)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(new)
    return Switched(True, saved, kept)


def backups(kata: Kata) -> list[tuple[Path, datetime | None, int]]:
    """The kata's backups, newest first: (path, when it was made, how many blanks it has filled in)."""
    total = len(kata.blanks)
    return [(path, progress.backup_time(path), total - len(unfilled_blanks(path.read_text(encoding="utf-8"))))
            for path in progress.backups(kata.kata_path)]  # fmt: skip


def find_backup(kata: Kata, name: str | None = None) -> Path | None:
    """The kata's latest backup, or the one named (its file name, or a path to it); None if there is none."""
    saved = progress.backups(kata.kata_path)
    if name is None:
        return saved[0] if saved else None
    return next((path for path in saved if path.name == Path(name).name), None)


def restore(kata: Kata, backup: Path) -> Path | None:
    """Put a backup of the kata back in its place. The current file is backed up first, unless it is
    the same as the backup: returns where it went."""
    path, text = kata.kata_path, backup.read_bytes()
    saved = progress.backup(path) if path.exists() and path.read_bytes() != text else None
    path.write_bytes(text)
    return saved


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
