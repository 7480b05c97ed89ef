"""The katas in a notebook: an IPython extension, loaded by each kata notebook's setup cell
(`%load_ext checker.magics`).

    %%kata 03 2/5      the first line of each code cell of kata 03: the cell runs as usual, and
                       its code is kept as cell 2 of the kata's 5 (running it again replaces it)
    %katas check 03    writes the kept cells to katas/k03_attention.py and grades that file: the
                       same report, progress record and dashboard as `katas check 03`
    %katas hint 03.2   any other `katas` command, as in a terminal (`%katas` alone: the dashboard)

So a notebook's work is the kata file's work: the check writes the cells into the file (backing
up first any other work there), and the terminal, the dashboard and CI see what the notebook did.
Grading never imports this module; it needs IPython, which every notebook has.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from rich.text import Text

from checker import cli, render, workspace
from checker.blanks import normalize
from checker.catalog import REFERENCE_DIR, ROOT, Kata, UnknownKata, find_kata, shown
from checker.cells import split

CELL_RE = re.compile(r"^\s*(?P<kata>\S+)\s+(?P<position>\d+)/(?P<total>\d+)\s*$")

kept: dict[str, dict[int, str]] = {}  # kata number -> {cell position: its code, as last run}
totals: dict[str, int] = {}  # kata number -> how many code cells its notebook says it has
written: dict[str, str] = {}  # kata number -> the text this notebook last wrote to the kata file


class NotebookProblem(Exception):
    """Something in the notebook keeps its cells from being checked: said in one message."""


class CellFailed(Exception):
    """A kept cell raised: IPython has shown its traceback already, so this one shows nothing
    (a notebook run by nbclient still stops there, as it would without the magic)."""

    def _render_traceback_(self) -> list[str]:
        return []


def keep(kata_number: str, position: int, total: int, code: str) -> None:
    kept.setdefault(kata_number, {})[position] = code
    totals[kata_number] = total


def cell_place(line: str) -> tuple[str, int, int]:
    """(kata number, position, total) from a `%%kata NN i/n` line."""
    m = CELL_RE.match(line)
    if not m or not 1 <= int(m["position"]) <= int(m["total"]):
        raise NotebookProblem(f"`%%kata {line.strip()}`: expected `%%kata NN i/n` (kata NN, its code cell i of n).")
    return find_kata(m["kata"]).number, int(m["position"]), int(m["total"])


def forget() -> None:
    """Drop every kept cell (a fresh kernel, or a test)."""
    kept.clear()
    totals.clear()
    written.clear()


def assembled(kata: Kata) -> str:
    """The kata file made of the notebook's kept cells, in the kata's own layout."""
    layout = split(workspace.pristine(kata))
    mine = kept.get(kata.number, {})
    if not mine:
        raise NotebookProblem(f"No code cell of kata {kata.number} has run in this notebook yet: run every cell "
                              "from the top (Run all), then check again.")  # fmt: skip
    total = len(layout.cells)
    if totals[kata.number] != total:
        raise NotebookProblem(f"This notebook's cells say kata {kata.number} has {totals[kata.number]} code cells, "
                              f"but it has {total}: the notebook is from another version of the kata. Take a fresh "
                              f"one (notebooks/{kata.module}.ipynb) and copy your code into it.")  # fmt: skip
    missing = [str(p) for p in range(1, total + 1) if p not in mine]
    if missing:
        raise NotebookProblem(f"Code cell{'s' if len(missing) > 1 else ''} {', '.join(missing)} of {total} of kata "
                              f"{kata.number} ha{'ve' if len(missing) > 1 else 's'} not run since this notebook "
                              "started: run every cell from the top (Run all), then check again. (A cell deleted by "
                              f"mistake is in a fresh copy of the notebook, notebooks/{kata.module}.ipynb.)")  # fmt: skip
    return layout.assemble([mine[p] for p in range(1, total + 1)])


def save(kata: Kata) -> Path | None:
    """Write the notebook's cells to the kata file. Work there that this notebook did not write
    (the terminal's, an older session's) is backed up first: returns the backup's path."""
    text = assembled(kata)
    path = kata.kata_path
    current = normalize(path.read_text(encoding="utf-8")) if path.exists() else None
    theirs = current is not None and current not in (text, written.get(kata.number))
    saved = workspace.write_kata(kata, text, keep_backup=theirs and workspace.has_learner_work(path))
    written[kata.number] = text
    return saved


def run_kata_command(line: str) -> None:
    """`%katas ARGS`: the `katas` command, with `check` first saving the notebook's cells of the kata."""
    out = render.console()
    args = shlex.split(line)
    try:
        parsed = cli.build_parser().parse_args(args)
    except SystemExit:  # argparse said what is wrong already
        return
    if parsed.command == "watch":
        out.print(Text("`watch` is for a terminal: in a notebook, run the check cell again after a change.",
                       style="yellow"))  # fmt: skip
        return
    if parsed.command == "check" and parsed.impl == "katas":
        try:
            kata = find_kata(parsed.kata)
            saved = save(kata)
        except (UnknownKata, NotebookProblem) as e:
            out.print(Text(str(e), style="red"))
            return
        if saved:
            out.print(Text(f"{shown(kata.kata_path)} held other work of yours: kept as {shown(saved)} "
                           f"(`%katas restore {kata.number}` puts it back).", style="yellow"))  # fmt: skip
    cli.main(args)


def load_ipython_extension(ipython) -> None:
    """`%load_ext checker.magics`: register %%kata and %katas; earlier katas import from reference/,
    as they do in grading, so being stuck on kata 03 never blocks kata 04."""
    if str(REFERENCE_DIR) not in sys.path:
        sys.path.append(str(REFERENCE_DIR))

    def kata(line: str, cell: str) -> None:
        try:
            keep(*cell_place(line), cell)
        except (NotebookProblem, UnknownKata) as e:
            render.console().print(Text(f"{e} The cell ran, but the check will not see it.", style="red"))
        if not ipython.run_cell(cell).success:
            raise CellFailed()

    ipython.register_magic_function(kata, "cell", "kata")
    ipython.register_magic_function(run_kata_command, "line", "katas")
    # the commands the reports suggest ("Stuck? ..."), as they are typed here
    render.kata_command = lambda kata: f"%katas check {kata.number}"
    render.hint_command = lambda blank_id: f"%katas hint {blank_id}"
    render.console().print(Text(f"Katas in {ROOT}. Run the code cells, then the check cell at the end.", style="dim"))
