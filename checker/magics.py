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
from checker.i18n import t

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
        raise NotebookProblem(t("magics.bad_cell_line", line=line.strip()))
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
        raise NotebookProblem(t("magics.nothing_ran", number=kata.number))
    total = len(layout.cells)
    if totals[kata.number] != total:
        raise NotebookProblem(t("magics.other_version", number=kata.number, said=totals[kata.number], total=total,
                                module=kata.module))  # fmt: skip
    missing = [str(p) for p in range(1, total + 1) if p not in mine]
    if missing:
        key = "magics.cells_not_run" if len(missing) > 1 else "magics.cell_not_run"
        raise NotebookProblem(t(key, cells=", ".join(missing), total=total, number=kata.number, module=kata.module))
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
        out.print(Text(t("magics.no_watch"), style="yellow"))
        return
    if parsed.command == "check" and parsed.impl == "katas":
        try:
            kata = find_kata(parsed.kata)
            saved = save(kata)
        except (UnknownKata, NotebookProblem) as e:
            out.print(Text(str(e), style="red"))
            return
        if saved:
            said = t("magics.held_other_work", path=shown(kata.kata_path), saved=shown(saved), number=kata.number)
            out.print(Text(said, style="yellow"))
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
            render.console().print(Text(t("magics.cell_not_kept", problem=e), style="red"))
        if not ipython.run_cell(cell).success:
            raise CellFailed()

    ipython.register_magic_function(kata, "cell", "kata")
    ipython.register_magic_function(run_kata_command, "line", "katas")
    # the commands the reports suggest ("Stuck? ..."), as they are typed here
    render.kata_command = lambda kata: f"%katas check {kata.number}"
    render.hint_command = lambda blank_id: f"%katas hint {blank_id}"
    render.console().print(Text(t("magics.loaded", root=ROOT), style="dim"))
