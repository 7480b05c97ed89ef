"""Every kata as a notebook (notebooks/kNN_*.ipynb), generated from its kata file with jupytext.

A kata's notebook holds, in order: the kata's explanation (its module docstring, as Markdown),
how to work in the notebook, a setup cell (in Colab it clones the katas and installs them,
keeping Colab's PyTorch; inside a checkout it uses that checkout), then the kata's code cut into
cells (checker/cells.py), each under a heading naming its function or class and its blanks and
each starting with `%%kata NN i/n`, then a check cell and a hint cell (checker/magics.py).

`katas sync` writes them; the self-check makes sure they are what the katas generate, and runs
each one top to bottom, with the reference solutions in its cells, in a copy of the repository.
Generation needs jupytext and nbformat, execution nbclient and ipykernel: the `notebooks`
extra. Grading needs none of them.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from checker import i18n, progress
from checker.blanks import TODO_RE, normalize, solved_kata
from checker.catalog import ROOT, Kata, all_katas
from checker.cells import split
from checker.i18n import t, t_in

NOTEBOOKS_DIR = ROOT / "notebooks"  # English; another language's beside them, in notebooks/LANG/
REPOSITORY = "text2image-katas/text2image-katas"  # upstream, on GitHub
COLAB_URL = "https://colab.research.google.com/github/" + REPOSITORY + "/blob/main/{path}"
NEEDS = "jupytext, nbformat, nbclient and ipykernel (python -m pip install -e \".[notebooks]\")"

SETUP = """\
{comment}
import importlib.util, os, subprocess, sys
from pathlib import Path

def is_kata_repository(folder):
    return all((folder / part).exists() for part in ("reference", "katas", "tests/support.py"))

here = Path.cwd().resolve()
root = next((f for f in (here, *here.parents, here / "text2image-katas") if is_kata_repository(f)), None)
if root is None:
    root = here / "text2image-katas"
    print(f"{fetching}")
    url = "https://github.com/{repository}"
    subprocess.run(["git", "clone", "--quiet", "--depth", "1", url, str(root)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", str(root)], check=True)
    importlib.invalidate_caches()  # this running Python sees what pip just installed
if not all(importlib.util.find_spec(name) for name in ("rich", "pytest_timeout")):
    raise SystemExit({missing})
os.chdir(root)
os.environ["KATAS_ROOT"] = str(root)
{language}sys.path.insert(0, str(root))
%load_ext checker.magics"""


class NotebookToolsMissing(RuntimeError):
    """jupytext, nbformat, nbclient or ipykernel is not installed."""


def _jupytext():
    try:
        import jupytext
    except ImportError as e:
        raise NotebookToolsMissing(f"notebooks need {NEEDS}") from e
    return jupytext


def notebook_folder(lang: str = "en") -> Path:
    return NOTEBOOKS_DIR if lang == "en" else NOTEBOOKS_DIR / lang


def notebook_path(kata: Kata, lang: str = "en") -> Path:
    return notebook_folder(lang) / f"{kata.module}.ipynb"


def colab_url(kata: Kata, lang: str = "en") -> str:
    return COLAB_URL.format(path=notebook_path(kata, lang).relative_to(ROOT).as_posix())


def setup_cell(lang: str = "en") -> str:
    """The setup cell, its comments and messages in `lang` (in another language than English it also
    sets KATAS_LANG, so the katas speak the notebook's language)."""
    with i18n.using(lang):
        comment = "\n".join(f"# {line}" for line in t("notebook.setup_comment").split("\n"))
        parts = t("notebook.setup_missing").split("\n")
        language = f'os.environ["KATAS_LANG"] = "{lang}"  # {t("notebook.setup_language")}\n' if lang != "en" else ""
        fetching = t("notebook.setup_fetching")
    # the message's lines as Python strings, an f-string where it has a placeholder (and the first)
    lines = [f'{"f" if i == 0 or "{" in part else ""}"{part}{" " if i < len(parts) - 1 else ""}"'
             for i, part in enumerate(parts)]  # fmt: skip
    missing = ("\n" + " " * len("    raise SystemExit(")).join(lines)
    return SETUP.format(comment=comment, fetching=fetching, repository=REPOSITORY, missing=missing, language=language)


# --- Markdown ---------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Prose as Markdown: `<pad>` stays visible (not an HTML tag); code spans are left alone."""
    parts = text.split("`")
    return "`".join(re.sub(r"<(?=[A-Za-z/])", "&lt;", part) if i % 2 == 0 else part for i, part in enumerate(parts))


LIST_ITEM_RE = re.compile(r"^(\s*)([-*]|\d+\.)\s+")


def docstring_markdown(docstring: str) -> str:
    """A kata's docstring as Markdown: its first line a heading, its indented blocks (equations,
    shape letters, diagrams) code blocks, the rest prose."""
    title, *rest = docstring.strip("\n").split("\n")
    lines = [f"# {title.rstrip('.')}"]
    code_indent = None  # the indentation of the code block we are in, if any
    prose_indent = 0  # where the text of the last prose line starts (after a list marker)
    for line in rest:
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip() or (code_indent is not None and indent >= code_indent):
            lines.append(line)  # a blank line, or the code block goes on
            continue
        if indent >= prose_indent + 4:  # indented under the prose: a code block, after a blank line
            code_indent = indent
            lines += [""] if lines[-1].strip() else []
            lines.append(line)
            continue
        if code_indent is not None and lines[-1].strip():
            lines.append("")  # the prose after a code block, set apart from it
        code_indent = None
        item = LIST_ITEM_RE.match(line)
        prose_indent = item.end() if item else indent
        lines.append(escape(line))
    return "\n".join(lines).rstrip("\n")


def cell_heading(kata: Kata, code: str, lang: str = "en") -> str | None:
    """The Markdown above a code cell: its function or class, what it does, and its blanks (in `lang`)."""
    tree = ast.parse(code)
    defined = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    if not defined:
        return None  # the imports and constants
    node = defined[0]
    lines = [f"### `{node.name}`"]
    summary = (ast.get_docstring(node) or "").strip().split("\n")[0]
    if summary:
        lines.append(escape(summary))
    blanks = {b.id: b for b in kata.blanks}
    ids = [m["id"] for m in map(TODO_RE.match, code.split("\n")) if m and m["id"] in blanks]
    if ids:
        lines.append("")
    words = kata.texts(lang)
    for blank_id in ids:
        budget = words.budgets.get(blank_id) or blanks[blank_id].budget
        statement = escape(kata.statement(blank_id, lang))
        lines.append(t_in(lang, "notebook.blank_line", blank=blank_id, budget=budget, statement=statement))
    return "\n".join(lines)


# --- the notebook -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown" or "code"
    name: str  # its stable id in the notebook
    source: str


def cells_of(kata: Kata, kata_text: str, lang: str = "en") -> list[Cell]:
    """The notebook's cells for a kata file's text (the kata as shipped, or solved), its own words in `lang`."""
    layout = split(kata_text)
    total = len(layout.cells)
    fill = {"number": kata.number, "module": kata.module, "total": total}
    cells = [
        Cell("markdown", "explanation", docstring_markdown(layout.docstring)),
        Cell("markdown", "how-to", t_in(lang, "notebook.how_to", **fill)),
        Cell("code", "setup", setup_cell(lang)),
    ]
    for position, code in enumerate(layout.cells, start=1):
        heading = cell_heading(kata, code, lang)
        if heading:
            cells.append(Cell("markdown", f"about-{position}", heading))
        cells.append(Cell("code", f"code-{position}", f"%%kata {kata.number} {position}/{total}\n{code}"))
    cells += [
        Cell("markdown", "check-title", t_in(lang, "notebook.check", **fill)),
        Cell("code", "check", f"%katas check {kata.number}"),
        Cell("markdown", "hint-title", t_in(lang, "notebook.hint", ids=", ".join(b.id for b in kata.blanks))),
        Cell("code", "hint", f"%katas hint {kata.blanks[0].id}"),
    ]
    return cells


def percent_text(cells: list[Cell]) -> str:
    """The cells in jupytext's percent format (magics commented, as jupytext writes them)."""
    parts = []
    for cell in cells:
        if cell.kind == "markdown":
            body = "\n".join(f"# {line}" if line else "#" for line in cell.source.split("\n"))
            parts.append(f"# %% [markdown]\n{body}")
        else:
            body = "\n".join(f"# {line}" if line.startswith("%") else line for line in cell.source.split("\n"))
            parts.append(f"# %%\n{body}")
    return "\n\n".join(parts) + "\n"


def cells_digest(cells) -> str:
    """A hash of the cells' kinds and sources (not outputs): tells a notebook someone edited."""
    h = hashlib.sha256()
    for kind, source in cells:
        h.update(f"{kind}\0{source}\0".encode())
    return h.hexdigest()[:16]


def notebook_text(kata: Kata, kata_text: str | None = None, lang: str = "en") -> str:
    """The .ipynb of a kata (as shipped in `lang`, or of `kata_text`): no outputs, no execution counts,
    stable cell ids and metadata, so generating it again gives the same bytes."""
    jupytext = _jupytext()
    cells = cells_of(kata, kata_text if kata_text is not None else kata.generated(lang), lang)
    nb = jupytext.reads(percent_text(cells), fmt="py:percent")
    if [(c.cell_type, c.source) for c in nb.cells] != [(c.kind, c.source) for c in cells]:
        raise ValueError(f"jupytext read the cells of kata {kata.number} differently from how they were written")
    for cell, ours in zip(nb.cells, cells):
        cell.id = f"k{kata.number}-{ours.name}"
        cell.metadata = {}
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "katas": {"kata": kata.number, "cells": cells_digest((c.kind, c.source) for c in cells)},
    }
    if lang != "en":
        nb.metadata["katas"]["lang"] = lang
    return jupytext.writes(nb, fmt="ipynb").rstrip("\n") + "\n"


def has_notebook_work(path: Path) -> bool:
    """A notebook whose cells differ from those it was generated with (outputs aside): someone
    worked in it. One that cannot be read counts as work too."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
                 for c in nb["cells"]]  # fmt: skip
        return cells_digest(cells) != nb["metadata"]["katas"]["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return True


def stale_notebooks(katas: list[Kata] | None = None, lang: str = "en") -> list[Kata]:
    """The katas whose notebook (in `lang`) is missing or not what their kata generates."""
    def current(kata: Kata) -> bool:
        path = notebook_path(kata, lang)
        return path.exists() and normalize(path.read_text(encoding="utf-8")) == notebook_text(kata, lang=lang)

    return [k for k in katas or all_katas() if not current(k)]


def write_notebooks(katas: list[Kata] | None = None, lang: str = "en") -> list[tuple[Kata, Path | None]]:
    """Write each kata's notebook (in `lang`) where it is missing or out of date. A notebook someone
    worked in is copied to .katas/backups/ first: returns (kata, backup or None) for each one written."""
    written = []
    for kata in katas or all_katas():
        path, text = notebook_path(kata, lang), notebook_text(kata, lang=lang)
        current = normalize(path.read_text(encoding="utf-8")) if path.exists() else None
        if current == text:
            continue
        saved = progress.backup(path) if current is not None and has_notebook_work(path) else None
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        written.append((kata, saved))
    return written


README_PATH = ROOT / "README.md"
TABLE_START = "<!-- the kata notebooks: written by `katas sync`, from the katas -->"
TABLE_END = "<!-- end of the kata notebooks -->"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def readme_path(lang: str = "en") -> Path:
    """README.md; another language's README.LANG.md beside it."""
    return README_PATH if lang == "en" else README_PATH.with_name(f"README.{lang}.md")


def readme_table(katas: list[Kata] | None = None, lang: str = "en") -> str:
    """The README's table of notebooks (in `lang`): each kata's, and its "Open in Colab" link."""
    rows = [t_in(lang, "notebook.table_header"), "|---:|---|---|---|"]
    for kata in katas or all_katas():
        path = notebook_path(kata, lang)
        title = escape(kata.title_in(lang)).replace("|", "&#124;")
        rows.append(f"| {kata.number} | {title} | [{path.name}]({path.relative_to(ROOT).as_posix()}) | "
                    f"[![Open in Colab]({COLAB_BADGE})]({colab_url(kata, lang)}) |")  # fmt: skip
    return "\n".join(rows)


def readme_with_table(readme: str, lang: str = "en") -> str:
    """The README with its notebook table (between the two markers) as the katas make it."""
    before, start, rest = readme.partition(TABLE_START)
    _, end, after = rest.partition(TABLE_END)
    if not start or not end:
        name = readme_path(lang).name
        raise ValueError(f"{name} has no '{TABLE_START}' ... '{TABLE_END}' markers for the notebook table")
    return f"{before}{TABLE_START}\n{readme_table(lang=lang)}\n{TABLE_END}{after}"


def write_readme_table(lang: str = "en") -> bool:
    """Bring the README's notebook table (README.LANG.md's, for another language) up to date; True if it changed."""
    path = readme_path(lang)
    readme = normalize(path.read_text(encoding="utf-8"))
    updated = readme_with_table(readme, lang)
    if updated != readme:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(updated)
    return updated != readme


def stale_notebook_files(katas: list[Kata] | None = None, lang: str = "en") -> list[Path]:
    """Notebooks (in `lang`) that no kata generates any more."""
    wanted = {notebook_path(k, lang) for k in katas or all_katas()}
    return sorted(set(notebook_folder(lang).glob("k[0-9][0-9]_*.ipynb")) - wanted)


# --- running them -----------------------------------------------------------------------------

COPIED = ("checker", "reference", "katas", "tests", "pyproject.toml")  # what a notebook's kernel reads or writes
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
KERNEL_TIMEOUT_S = 120  # per cell


@dataclass(frozen=True)
class Execution:
    kata: Kata
    problem: str  # "" when it ran top to bottom and its check passed
    seconds: float


QUIET = logging.getLogger("katas.notebooks")  # nbclient's own log: its debug lines (every kernel message)
QUIET.setLevel(logging.WARNING)  # flooded the self-check's output under nox, whose logging shows them
logging.getLogger("traitlets").setLevel(logging.WARNING)  # the kernel manager's, the same debug lines


def execute_solved(kata: Kata) -> Execution:
    """Run the kata's notebook, the reference solutions in its cells, top to bottom, in a fresh
    copy of the repository (its check writes katas/ and .katas/ there, not here)."""
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    except ImportError as e:
        raise NotebookToolsMissing(f"running notebooks needs {NEEDS}") from e
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"notebook-{kata.number}-") as tmp:
        root = Path(tmp)
        for name in COPIED:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, root / name, ignore=IGNORED)
            else:
                shutil.copy2(ROOT / name, root / name)
        (root / "notebooks").mkdir()
        nb = nbformat.reads(notebook_text(kata, solved_kata(kata.reference_source)), as_version=4)  # English
        env = {k: v for k, v in os.environ.items() if k != "KATAS_ROOT"}
        client = NotebookClient(nb, timeout=KERNEL_TIMEOUT_S, kernel_name="python3", log=QUIET,
                                resources={"metadata": {"path": str(root / "notebooks")}})  # fmt: skip
        log = root / "kernel.log"  # the kernel's own messages (its cells' output is in the notebook)
        try:
            with open(log, "w", encoding="utf-8") as stderr:
                client.execute(env=env, stderr=stderr)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
            errors = [(c.id, o) for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
            if errors:  # the first one: a %%kata cell's own error comes before the magic's
                cell, error = errors[0]
                said = f"cell {cell} failed: {error['ename']}: {error['evalue']}"
            else:
                said = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
            return Execution(kata, said, time.perf_counter() - start)
        problem = _check_cell_problem(root, kata)
    return Execution(kata, problem, time.perf_counter() - start)


def _check_cell_problem(root: Path, kata: Kata) -> str:
    """What the check cell recorded in the copy: "" when the kata passes there."""
    try:
        entry = json.loads((root / ".katas" / "progress.json").read_text(encoding="utf-8"))["katas"][kata.number]
    except (OSError, ValueError, KeyError):
        return "its check cell recorded no grade"
    if entry["state"] != "passing":
        return (f"its check cell graded the reference solutions '{entry['state']}' "
                f"({entry['passed']}/{entry['total']} blanks)")
    return ""


def execute_all(katas: list[Kata], workers: int = 2) -> list[Execution]:
    """Run the notebooks, `workers` at a time (each its own kernel and copy of the repository)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(execute_solved, katas))
