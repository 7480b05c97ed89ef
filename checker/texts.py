"""A kata's own words in a language: its title, explanation, and each blank's statement and hints.

English is the original, in the reference file itself (reference/kNN_name.py: the module
docstring, the `# BLANK` and `# HINT` lines). Another language's words lie beside it, in
reference/LANG/kNN_name.toml (the format: AUTHORING.md, "The katas in Japanese"):

    title = "..."                 # the docstring's first line, without "Kata NN:"
    explanation = \"\"\"...\"\"\"       # the rest of the docstring
    [blanks."03.1"]
    statement = "..."             # one line
    hints = ["...", "...", "..."]  # as many tiers as the English

What a translation lacks is said in English (`KataTexts.missing` lists it); the self-check
requires every kata to have all of it (checker/selfcheck.py, check_translations).

The names of a kata's catalogued mistakes (the keys of MUTANTS in tests/mutants/kNN_name.py,
which the diagnosis names) lie in tests/mutants/LANG/kNN_name.toml:

    [mistakes."03.4"]
    "forgets the √D" = "√D で割り忘れ"   # the English name, exactly as in MUTANTS = its name in LANG

`mistake_name` says one in a language, English where there is none.

Nothing here imports torch.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from checker import i18n
from checker.blanks import Blank

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

TITLE_RE = re.compile(r"^Kata \d\d\s*[:·-]\s*")
BUDGET_RE = re.compile(r"^about (?P<n>\d+) lines?$")
CODE_SPAN_RE = re.compile(r"`[^`]+`")


@dataclass(frozen=True)
class KataTexts:
    """A kata's words in one language; "" (or no entry) where the translation has none."""

    lang: str
    title: str = ""
    explanation: str = ""  # the docstring after its first line, without the blank lines around it
    statements: dict[str, str] = field(default_factory=dict)  # blank ID -> its one-line statement
    hints: dict[str, tuple[str, ...]] = field(default_factory=dict)  # blank ID -> its hint tiers
    budgets: dict[str, str] = field(default_factory=dict)  # blank ID -> "about 2 lines", in this language
    source: Path | None = None  # the file they come from (None: the reference itself)
    problem: str = ""  # why that file could not be read ("" if it could, or if there is none)

    def missing(self, blanks: list[Blank]) -> list[str]:
        """What this translation lacks for a kata with these blanks, in words ([] when nothing)."""
        gaps = [what for what in ("title", "explanation") if not getattr(self, what).strip()]
        for blank in blanks:
            if not self.statements.get(blank.id, "").strip():
                gaps.append(f"{blank.id} statement")
            if len(self.hints.get(blank.id, ())) != len(blank.hints):
                gaps.append(f"{blank.id} hints ({len(self.hints.get(blank.id, ()))} of {len(blank.hints)})")
        return gaps


def docstring_parts(reference: str) -> tuple[str, str]:
    """(title, explanation) of a reference file's module docstring."""
    doc = ast.get_docstring(ast.parse(reference)) or ""
    first, _, rest = doc.strip().partition("\n")
    return TITLE_RE.sub("", first).rstrip("."), rest.strip("\n")


def english(reference: str, blanks: list[Blank]) -> KataTexts:
    """The original words, read from the reference file."""
    title, explanation = docstring_parts(reference)
    return KataTexts(
        "en",
        title,
        explanation,
        {b.id: b.statement for b in blanks},
        {b.id: b.hints for b in blanks},
        {b.id: b.budget for b in blanks},
    )


def budget_in(lang: str, budget: str) -> str:
    """A blank's size budget ("about 2 lines") in `lang`; as it is where it does not read so."""
    m = BUDGET_RE.match(budget)
    return i18n.t_in(lang, "kata.budget", n=int(m["n"])) if m and lang != "en" else budget


def beside(path: Path, lang: str) -> Path:
    """A file's words in a language, in a folder beside it: reference/k03_attention.py ->
    reference/ja/k03_attention.toml, tests/mutants/k03_attention.py -> tests/mutants/ja/k03_attention.toml"""
    return path.parent / lang / f"{path.stem}.toml"


def translation_path(reference_path: Path, lang: str) -> Path:
    return beside(reference_path, lang)


def load_toml(path: Path) -> tuple[dict | None, str]:
    """A translation file: (its tables, "") where it reads, (None, why) where it cannot, (None, "") where there is none."""
    if not path.exists():
        return None, ""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), ""
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        return None, f"{type(e).__name__}: {e}"


def read(path: Path, lang: str, blanks: list[Blank]) -> KataTexts:
    """A translation file's words (empty where there is no file, with `problem` where it cannot be read)."""
    data, problem = load_toml(path)
    if data is None:
        return KataTexts(lang, source=path, problem=problem)
    entries = data.get("blanks", {})
    entries = entries if isinstance(entries, dict) else {}
    statements, hints = {}, {}
    for blank_id, entry in entries.items():
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("statement"), str) and entry["statement"].strip():
            statements[blank_id] = entry["statement"].strip()
        if isinstance(entry.get("hints"), list):
            hints[blank_id] = tuple(str(h).strip() for h in entry["hints"])
    budgets = {b.id: budget_in(lang, b.budget) for b in blanks if b.id in statements}  # with the words it goes with
    title = data["title"].strip() if isinstance(data.get("title"), str) else ""
    explanation = data["explanation"].strip("\n").rstrip() if isinstance(data.get("explanation"), str) else ""
    return KataTexts(lang, title, explanation, statements, hints, budgets, path)


def code_spans(text: str) -> list[str]:
    """The `code spans` of a text, sorted: a translation keeps the same ones."""
    return sorted(CODE_SPAN_RE.findall(text))


# --- the catalogued mistakes' names ---------------------------------------------------------------


@dataclass(frozen=True)
class MistakeNames:
    """A kata's catalogued mistakes named in one language."""

    lang: str
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # blank ID -> {English name: name in lang}
    source: Path | None = None  # the file they come from
    problem: str = ""  # why that file could not be read ("" if it could, or if there is none)

    def name(self, blank_id: str, english: str) -> str:
        """The mistake `english` of `blank_id` in this language ("" where it has no name)."""
        return self.names.get(blank_id, {}).get(english, "")


def mistakes_path(mutants_path: Path, lang: str) -> Path:
    return beside(mutants_path, lang)


def read_mistakes(path: Path, lang: str) -> MistakeNames:
    """A file of mistakes' names (empty where there is no file, with `problem` where it cannot be read)."""
    data, problem = load_toml(path)
    if data is None:
        return MistakeNames(lang, source=path, problem=problem)
    tables = data.get("mistakes", {})
    names = {}
    for blank_id, table in (tables.items() if isinstance(tables, dict) else ()):
        if isinstance(table, dict):
            names[blank_id] = {en: said.strip() for en, said in table.items() if isinstance(said, str) and said.strip()}
    return MistakeNames(lang, names, path)


@lru_cache(maxsize=64)
def _read_mistakes_once(path: Path, lang: str, stamp: int) -> MistakeNames:
    return read_mistakes(path, lang)


def mistake_name(blank_id: str, name: str, lang: str | None = None) -> str:
    """A catalogued mistake of blank `blank_id` ("03.4"), named `name` in MUTANTS, in `lang` (default:
    the language now); `name` itself in English, or where the language has no name for it."""
    lang = lang or i18n.language()
    if lang == i18n.DEFAULT:
        return name
    from checker import catalog  # here: catalog imports this module

    try:
        kata = catalog.find_kata(blank_id)
    except LookupError:
        return name
    path = kata.mistakes_path(lang)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return name
    return _read_mistakes_once(path, lang, stamp).name(blank_id, name) or name
