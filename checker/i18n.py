"""What a learner reads, in their language: one catalogue per language, checker/locales/LANG.toml.

    t("cli.all_pass")                           # "Every kata passes. Well done!"
    t("render.blanks_pass", passed=2, total=3)  # str.format placeholders, named

Every catalogue has the same keys and placeholders (checker/tests/test_i18n.py verifies it).
English is the default, and the fallback for a key a catalogue lacks.

The language, first found of:
1. `katas --lang LANG` (cli.main passes it to `resolve`);
2. the environment variable KATAS_LANG (grading passes the language to its pytest run this way,
   so tests/support.py's messages come out in it);
3. the saved setting (`katas language LANG` or `katas config lang LANG`: "lang" in
   .katas/settings.json);
4. the locale: LC_ALL, LC_MESSAGES or LANG naming Japanese (ja_JP.UTF-8) choose "ja";
5. English.
A language asked for (1 to 3) without a catalogue falls back to English, with one note that
cli.main prints; a locale without one is English silently.

Light on purpose: tests/support.py imports it in every grading run. It imports nothing of the
checker but, where neither --lang nor KATAS_LANG says, checker.progress for the saved setting.
"""

from __future__ import annotations

import os
import string
import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

LOCALES_DIR = Path(__file__).with_name("locales")
DEFAULT = "en"
ENV = "KATAS_LANG"
SETTING = "lang"
NAMES = {"en": "English", "ja": "日本語"}  # each language by its own name

_chosen: str | None = None  # the language of the command running now (see `using`)


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """A language's catalogue, its [section] tables flattened to dotted keys ("render.dashboard_title")."""
    path = LOCALES_DIR / f"{lang}.toml"
    if not path.exists():
        return {}
    return _flatten(tomllib.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=None)
def languages() -> tuple[str, ...]:
    """The languages with a catalogue, English first."""
    found = sorted(p.stem for p in LOCALES_DIR.glob("*.toml"))
    return (DEFAULT, *(lang for lang in found if lang != DEFAULT))


def placeholders(text: str) -> set[str]:
    """The names of a catalogue string's placeholders ({name}, {name:.3g})."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def code(value: str) -> str:
    """A language as written anywhere ("ja", "JA", "ja_JP.UTF-8", "ja-JP") as its catalogue's name ("ja")."""
    return value.strip().split(".")[0].replace("-", "_").split("_")[0].lower()


def saved() -> str:
    """The language saved in .katas/settings.json ("" if none)."""
    from checker import progress  # only here: grading runs pass KATAS_LANG and never get here

    value = progress.settings().get(SETTING)
    return value if isinstance(value, str) else ""


def from_locale() -> str:
    """The locale's language where it has a catalogue ("" if not): LC_ALL, LC_MESSAGES, LANG; on
    Windows, the user's locale ("Japanese_Japan")."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return code(value) if code(value) in languages() else ""
    if sys.platform == "win32":
        import locale

        name = (locale.getlocale()[0] or "").lower()
        return "ja" if name.startswith(("ja", "japanese")) else ""
    return ""


def resolve(asked: str | None = None) -> tuple[str, str]:
    """(the language to use, a note where the one asked for has no catalogue, else "")."""
    for value, where in ((asked, "--lang"), (os.environ.get(ENV), ENV), (None, "setting")):
        if where == "setting" and value is None:
            value = saved()
        if value:
            if code(value) in languages():
                return code(value), ""
            known = ", ".join(languages())
            return DEFAULT, catalogue(DEFAULT)["i18n.unknown"].format(lang=value, where=where, known=known)
    return from_locale() or DEFAULT, ""


def language() -> str:
    """The language of what is said now: the command's (see `using`), else as `resolve` finds it."""
    return _chosen or resolve()[0]


@contextmanager
def using(lang: str):
    """Within it, everything is said in `lang` (cli.main's command; a notebook written in a language)."""
    global _chosen
    before, _chosen = _chosen, lang
    try:
        yield
    finally:
        _chosen = before


def t(key: str, **fields) -> str:
    """The catalogue string `key` in the language now, with its placeholders filled in by `fields`.
    A key the language's catalogue lacks is said in English."""
    text = catalogue(language()).get(key)
    if text is None:
        text = catalogue(DEFAULT)[key]  # a key English lacks is a bug: KeyError
    return text.format(**fields)


def said(english: str, **others: str) -> str:
    """A kata test's own words, in the language now: the English and its translations side by side
    where the test says them (`said(f"...", ja=f"...")`); English where the language has none."""
    return others.get(language(), english)


def t_in(lang: str, key: str, **fields) -> str:
    """`t` in a given language, whatever the language now."""
    with using(lang):
        return t(key, **fields)
