"""How results look in a terminal: one screen per kata, one table for the dashboard."""

from __future__ import annotations

from itertools import zip_longest

from rich.cells import cell_len
from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from checker.catalog import shown
from checker.i18n import t
from checker.texts import mistake_name
from checker.grading import (
    BROKEN,
    FAIL,
    FAILING,
    IN_PROGRESS,
    NEEDS,
    NOT_RUN,
    NOT_STARTED,
    PASS,
    PASSING,
    SHORTCUT,
    TIMEOUT,
    TODO,
    KataResult,
    state_word,
)

MARKS = {PASS: ("✔", "green"), TODO: ("·", "dim"), NEEDS: ("·", "dim"), FAIL: ("✘", "red"),
         SHORTCUT: ("⊘", "red"), TIMEOUT: ("⧗", "red"), NOT_RUN: ("-", "dim")}  # fmt: skip
STATE_STYLES = {PASSING: "green", IN_PROGRESS: "yellow", FAILING: "red", BROKEN: "red bold", NOT_STARTED: "dim"}
MAX_DETAIL_LINES = 9


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def kata_command(kata) -> str:
    return f"nox -s {kata.session}"


def hint_command(blank_id: str) -> str:
    return f"nox -s hint -- {blank_id}"


def _indent(text: str, pad: str = "      ", style: str = "") -> Text:
    lines = text.rstrip().split("\n")
    if len(lines) > MAX_DETAIL_LINES:
        lines = lines[:MAX_DETAIL_LINES] + ["..."]
    return Text("\n".join(pad + line for line in lines) + "\n", style=style)


def blank_detail(blank, said_above: list[str] = ()) -> Text:
    """The lines under a blank that did not pass: what went wrong, and where."""
    error = blank.error
    if blank.verdict in (PASS, TODO, NOT_RUN) or blank.cached:
        return Text("")
    if blank.verdict == NEEDS:
        return Text(f"      {t('render.needs_first', blank=error['unfilled'])}\n", style="dim")
    if blank.verdict == SHORTCUT:  # one line per finding; what the tests said does not matter
        own = [line for line in blank.shortcuts if line not in said_above]
        return Text("".join(f"      {t('render.shortcut', line=line)}\n" for line in own), style="red")
    if blank.verdict == TIMEOUT:
        limit = error.get("message", "").removeprefix("Timeout").split(" from")[0].strip(" ()")
        head = t("render.timed_out", limit=limit)
        if error.get("type") == "Crashed":
            head = t("render.crashed")
        text = Text(f"      {head}\n", style="red")
    elif error.get("type") in ("AssertionError", "KataLoadError"):
        text = _indent(error.get("message", ""))
    else:
        text = _indent(f"{error.get('type')}: {error.get('message', '')}")
    where = error.get("where")
    if where:
        at = t("render.at", file=where["file"], line=where["line"], code=where["code"])
        text.append(f"      {at}\n", style="cyan")
    if blank.diagnosis:
        names = t("render.or").join(t("render.quoted", text=mistake_name(blank.id, why)) for why in blank.diagnosis)
        text.append(f"      {t('render.known_mistake', names=names)}\n", style="yellow")
    if blank.test:
        text.append(f"      {t('render.test', test=blank.test)}\n", style="dim")
    return text


def not_run_reason(blank) -> str:
    if blank.error.get("stopped"):  # it reached the line where an earlier test timed out
        return t("render.not_run", why=blank.error["message"].removeprefix(t("plugin.stopped_prefix")))
    return t("render.not_graded_in_this_run")


def kata_report(result: KataResult, notes: list[str] = ()) -> Text:
    kata = result.kata
    out = Text()
    out.append(t("render.kata_heading", number=kata.number, title=kata.title_in()), style="bold")
    out.append(f"   {t('render.blanks_pass', passed=result.passed, total=len(result.blanks))}   ")
    out.append(state_word(result.state), style=STATE_STYLES[result.state])
    out.append("\n")
    if result.problem:
        out.append(_indent(result.problem, "  ", style="red"))
    else:
        shared = kata_shortcuts(result)
        for line in shared:
            out.append(f"  {MARKS[SHORTCUT][0]} {t('render.shortcut', line=line)}\n", style="red")
        for blank in result.blanks:
            mark, style = MARKS[blank.verdict]
            shared_only = blank.shortcuts and set(blank.shortcuts) <= set(shared)
            refused = t("render.see_above") if shared_only else t("render.a_shortcut")
            said = {TODO: t("render.not_filled_in"), NOT_RUN: not_run_reason(blank),
                    SHORTCUT: t("render.refused", what=refused)}.get(blank.verdict)  # fmt: skip
            label = f"  {t('render.aside', text=said)}" if said else ""
            label += f"  {t('render.aside', text=t('render.from_last_grade'))}" if blank.cached else ""
            out.append(f"  {mark} {blank.id}  ", style=style)
            out.append(blank.statement + label + "\n", style="dim" if blank.verdict in (TODO, NEEDS, NOT_RUN) else "")
            out.append(blank_detail(blank, shared))
    for note in notes:
        out.append(f"  {t('render.note', note=note)}\n", style="yellow")
    out.append(next_step(result))
    return out


def kata_shortcuts(result: KataResult) -> list[str]:
    """The shortcuts every blank shares (taken outside the blanks, they refuse them all): said once."""
    lists = [b.shortcuts for b in result.blanks]
    if len(lists) < 2 or not all(lists):
        return []
    return [line for line in lists[0] if all(line in other for other in lists[1:])]


def next_step(result: KataResult) -> Text:
    kata = result.kata
    path = shown(result.path or kata.kata_path)
    if kata_shortcuts(result) and result.state != BROKEN:
        return Text(t("render.next_take_out", path=path, command=kata_command(kata)) + "\n", style="bold")
    if result.state == PASSING:
        return Text(t("render.next_passes", number=kata.number) + "\n", style="green")
    if result.state == BROKEN:
        return Text(t("render.next_mend", command=kata_command(kata)) + "\n", style="bold")
    blank = result.first_open_blank
    if blank is None:  # only some blanks were graded, and they all pass
        return Text(t("render.next_those_pass", command=kata_command(kata)) + "\n", style="green")
    target = blank.error["unfilled"] if blank.verdict == NEEDS else blank.id  # the blank it waits for
    key = "render.next_fill_in" if blank.verdict in (TODO, NEEDS) else "render.next_fix"
    return Text(t(key, blank=target, path=path, command=kata_command(kata), hint=hint_command(target)) + "\n",
                style="bold")  # fmt: skip


def dashboard(rows: list[tuple]) -> Table:
    """rows: (kata, state, passed, total, command) for each kata."""
    table = Table(title=t("render.dashboard_title"), title_justify="left", expand=False)
    table.add_column(t("render.column_kata"), justify="right")
    table.add_column(t("render.column_title"))
    table.add_column(t("render.column_blanks"), justify="right")
    table.add_column(t("render.column_state"))
    table.add_column(t("render.column_grade_it_with"))
    for kata, state, passed, total, command in rows:
        said = Text(state_word(state), style=STATE_STYLES[state])
        table.add_row(kata.number, kata.title_in(), f"{passed}/{total}", said, command)
    return table


def history_table(passes: list, titles: dict[str, str]) -> Table:
    """passes: history.FirstPass of each kata that passed in a committed record."""
    table = Table(title=t("render.history_title"), title_justify="left", expand=False)
    table.add_column(t("render.column_kata"), justify="right")
    table.add_column(t("render.column_title"))
    table.add_column(t("render.column_first_passed_on"))
    table.add_column(t("render.column_commit"))
    table.add_column(t("render.column_grading_runs"), justify="right")
    for p in passes:
        table.add_row(p.number, titles.get(p.number, ""), p.passed_on.replace("T", " ")[:19], p.commit,
                      "?" if p.runs is None else str(p.runs))  # fmt: skip
    return table


def overall(rows: list[tuple]) -> Table:
    passed = sum(r[2] for r in rows)
    total = sum(r[3] for r in rows)
    katas_done = sum(r[1] == PASSING for r in rows)
    grid = Table.grid(padding=(0, 1))
    grid.add_row(
        ProgressBar(total=max(total, 1), completed=passed, width=40),
        Text(t("render.overall", passed=passed, total=total, done=katas_done, katas=len(rows))),
    )
    return grid


def code_comparison(hunks: list, mine_name: str, width: int) -> Table:
    """Where the learner's code differs from ours (workspace.compare_code's hunks), in whole lines:
    side by side (yours | ours) where both fit in `width`, else one above the other, wrapped."""
    blocks = [block for hunk in hunks for block in hunk]
    yours, ours_heading = t("render.yours", name=mine_name), t("render.ours")
    widest = max(map(cell_len, [yours, *(line for block in blocks for line in block.mine + block.ours)]))
    numbers = len(str(max(block.start + len(block.mine) for block in blocks)))
    side_by_side = width >= numbers + 2 * widest + 5
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", style="dim", no_wrap=True)  # your line numbers
    if side_by_side:
        table.add_column(no_wrap=True)
        table.add_column(style="dim", no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_row("", Text(yours, style="bold"), "│", Text(ours_heading, style="bold"))
    else:
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")  # a long line wraps; nothing is cut
        table.add_row("", Text("-", style="red"), Text(yours, style="bold"))
        table.add_row("", Text("+", style="green"), Text(ours_heading, style="bold"))
    for n, hunk in enumerate(hunks):
        if n:
            table.add_row("⋮")
        for block in hunk:
            mine_style, ours_style = ("red", "green") if block.changed else ("", "")
            if side_by_side:
                bar = Text("≠", style="bold") if block.changed else "│"  # marked without colours too
                for k, (mine, ours) in enumerate(zip_longest(block.mine, block.ours)):
                    table.add_row(str(block.start + k) if mine is not None else "", Text(mine or "", mine_style),
                                  bar, Text(ours or "", ours_style))  # fmt: skip
                continue
            mark = "-" if block.changed else " "
            for k, mine in enumerate(block.mine):
                table.add_row(str(block.start + k), Text(mark, mine_style), Text(mine, mine_style))
            for ours in block.ours if block.changed else ():
                table.add_row("", Text("+", ours_style), Text(ours, ours_style))
    return table


def backup_list(kata, backups: list[tuple]) -> Table:
    """backups: (path, time made, blanks filled in) of each backup of the kata, newest first."""
    folder = shown(backups[0][0].parent) if backups else ""
    table = Table(title=t("render.backups_title", number=kata.number, folder=folder), title_justify="left", box=None)
    table.add_column(t("render.column_made"), no_wrap=True)
    table.add_column(t("render.column_name"), overflow="fold")
    table.add_column(t("render.column_blanks_filled"), justify="right", no_wrap=True)
    for path, when, filled in backups:
        table.add_row(f"{when:%Y-%m-%d %H:%M:%S}" if when else "?", path.name, f"{filled}/{len(kata.blanks)}")
    return table
