"""Where things are: the repository's katas, their reference files, tests and mutants."""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from checker import i18n, texts
from checker.blanks import Blank, generate_kata, normalize, parse_blanks
from checker.i18n import t

INSTALLED_ROOT = Path(__file__).resolve().parents[1]  # the repository this checker's code is in


def is_kata_repository(folder: Path) -> bool:
    return (folder / "reference").is_dir() and (folder / "katas").is_dir() and (folder / "tests" / "support.py").is_file()


def find_root() -> Path:
    """The kata repository to work on: $KATAS_ROOT, else the current folder or the nearest parent
    that is one (a learner may have installed the checker from another clone), else this checker's own."""
    if os.environ.get("KATAS_ROOT"):
        return Path(os.environ["KATAS_ROOT"]).resolve()
    here = Path.cwd().resolve()
    return next((f for f in (here, *here.parents) if is_kata_repository(f)), INSTALLED_ROOT)


ROOT = find_root()
KATAS_DIR = ROOT / "katas"
REFERENCE_DIR = ROOT / "reference"
TESTS_DIR = ROOT / "tests"
MUTANTS_DIR = TESTS_DIR / "mutants"
STATE_DIR = ROOT / ".katas"

MODULE_RE = re.compile(r"^k(\d\d)_[a-z0-9_]+$")


@dataclass(frozen=True)
class Kata:
    number: str  # "03"
    module: str  # "k03_attention"

    @property
    def reference_path(self) -> Path:
        return REFERENCE_DIR / f"{self.module}.py"

    @property
    def kata_path(self) -> Path:
        return KATAS_DIR / f"{self.module}.py"

    @property
    def test_path(self) -> Path:
        return TESTS_DIR / f"test_{self.module}.py"

    @property
    def mutants_path(self) -> Path:
        return MUTANTS_DIR / f"{self.module}.py"

    @property
    def session(self) -> str:
        return f"kata-{self.number}"

    @cached_property
    def reference_source(self) -> str:
        return normalize(self.reference_path.read_text(encoding="utf-8"))

    @cached_property
    def blanks(self) -> list[Blank]:
        return parse_blanks(self.reference_source, str(self.reference_path.relative_to(ROOT)))

    @cached_property
    def title(self) -> str:
        """The first line of the reference module's docstring, without 'Kata NN:'."""
        doc = ast.get_docstring(ast.parse(self.reference_source)) or self.module
        return re.sub(r"^Kata \d\d\s*[:·-]\s*", "", doc.strip().split("\n")[0]).rstrip(".")

    # --- its words in a language (checker/texts.py): English is the reference's own ------------

    @cached_property
    def _texts(self) -> dict[str, texts.KataTexts]:
        return {}

    def texts(self, lang: str | None = None) -> texts.KataTexts:
        """The kata's words in `lang` (default: the language now), as far as its translation has them."""
        lang = lang or i18n.language()
        if lang not in self._texts:
            if lang == "en":
                self._texts[lang] = texts.english(self.reference_source, self.blanks)
            else:
                self._texts[lang] = texts.read(self.translation_path(lang), lang, self.blanks)
        return self._texts[lang]

    def translation_path(self, lang: str) -> Path:
        return texts.translation_path(self.reference_path, lang)

    def mistakes_path(self, lang: str) -> Path:
        """Where its catalogued mistakes are named in `lang` (tests/mutants/LANG/kNN_name.toml)."""
        return texts.mistakes_path(self.mutants_path, lang)

    def title_in(self, lang: str | None = None) -> str:
        """The title in `lang` (default: the language now), English where it has no translation."""
        return self.texts(lang).title or self.title

    def statement(self, blank_id: str, lang: str | None = None) -> str:
        """A blank's statement in `lang` (default: the language now), English where it has no translation."""
        return self.texts(lang).statements.get(blank_id) or self.texts("en").statements[blank_id]

    def generated(self, lang: str | None = None) -> str:
        """The kata as shipped, its words in `lang` (default: the language now) where it has them."""
        return generate_kata(self.reference_source, self.texts(lang))

    @cached_property
    def depends_on(self) -> list[str]:
        """Every earlier kata this one rests on, directly or through another (for the grading hash)."""
        found, todo = set(), list(self.earlier_katas)
        while todo:
            module = todo.pop()
            if module not in found and (REFERENCE_DIR / f"{module}.py").exists():
                found.add(module)
                todo += Kata(module[1:3], module).earlier_katas
        return sorted(found)

    @cached_property
    def earlier_katas(self) -> list[str]:
        """Modules of earlier katas this kata imports (their reference versions serve its tests)."""
        found = []
        for node in ast.walk(ast.parse(self.reference_source)):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            found += [n for n in names if MODULE_RE.match(n) and n != self.module]
        return sorted(set(found))


def shown(path: Path) -> str:
    """`path` as shown to a person: relative to the repository where it lies inside it."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()


def impl_folder(impl: str) -> Path:
    """The folder an implementation name stands for: 'katas' (the learner's), 'reference', or a path."""
    return {"katas": KATAS_DIR, "reference": REFERENCE_DIR}.get(impl, Path(impl)).resolve()


def all_katas() -> list[Kata]:
    katas = []
    for path in sorted(REFERENCE_DIR.glob("k[0-9][0-9]_*.py")):
        m = MODULE_RE.match(path.stem)
        if m:
            katas.append(Kata(number=m[1], module=path.stem))
    return katas


class UnknownKata(LookupError):
    pass


def find_kata(name: str) -> Kata:
    """A kata by number ('3', '03', 'kata-03'), module ('k03_attention') or blank ID ('03.2')."""
    key = name.strip().lower().removeprefix("kata-").removeprefix("kata").split(".")[0]
    for kata in all_katas():
        if key in (kata.number, kata.module, kata.number.lstrip("0") or "0"):
            return kata
    known = ", ".join(k.number for k in all_katas())
    raise UnknownKata(t("catalog.no_kata", name=name, known=known))


def find_blank(blank_id: str) -> tuple[Kata, Blank]:
    kata = find_kata(blank_id)
    for blank in kata.blanks:
        if blank.id == blank_id:
            return kata, blank
    ids = ", ".join(b.id for b in kata.blanks)
    raise UnknownKata(t("catalog.no_blank", number=kata.number, blank=blank_id, ids=ids))
