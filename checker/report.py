"""What `katas grade` writes for machines and for GitHub: results.json and a Markdown summary.

Pure functions of the grading results (grading.KataResult, one per kata, the katas not
started included: see `not_started`), so they are tested without running a grade.

results.json follows the exercism test-runner interface (version 2: `version`, `status`,
`message`, `tests` with `name`, `status`, `message`), and adds what the GitHub Classroom
autograding reporter reads (`max_score`, each test's `score`), so the reporter can take it
as a runner's result as it is:

    {
      "version": 2,
      "status": "pass" | "fail" | "error",
      "message": null,                    # a sentence where status is "error", else null
      "score": 5, "max_score": 80,        # points: 1 a blank passed, of 1 a blank
      "tests": [                          # one a blank of every kata, in kata and blank order
        {"name": "kata 01 blank 01.2: <statement>", "status": "fail",
         "message": "<the first failure, plain text, one screen>", "score": 0, "max_score": 1},
        ...
      ],
      "katas": [                          # ours: one a kata
        {"number": "01", "title": "...", "state": "failing", "points": 1, "max_points": 4,
         "open_blank": "01.2",            # the first blank that fails, else the first not passing
         "message": "<the kata's problem, or that blank's message>",
         "blanks": [{"id": "01.1", "verdict": "pass", "points": 1, "max_points": 1}, ...]},
        ...
      ],
      "fork": {...}                       # teacher mode only: see checker/teacher.py
    }

A test's status: "pass" (the blank passes); "fail" (it fails, times out, is not filled in yet,
waits for an earlier blank, or its kata is not started); "error" (its tests could not run:
the kata is broken, or the run stopped before them).

The overall status: "error" when the run as a whole could not grade (torch missing, the
upstream's grade gave no results): every test is then "error" with that message; "fail" when a
kata that was started fails or is broken (the exit code of `katas grade` is 1 then); "pass"
otherwise. So "pass" means nothing started is wrong: unfinished blanks and katas not started
are "fail" tests worth 0 points, but leave the run passing (exercism's "pass" means every
test passed; a learner's fork is graded on the work started, and the points say how far it is).
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from pathlib import Path

from checker import render
from checker.grading import (
    BROKEN,
    FAIL,
    FAILING,
    IN_PROGRESS,
    NOT_RUN,
    NOT_STARTED,
    PASS,
    PASSING,
    SHORTCUT,
    TIMEOUT,
    TODO,
    BlankResult,
    KataResult,
)
from checker.grading import state_word as said_state
from checker.i18n import t

RESULTS_NAME, SUMMARY_NAME = "results.json", "summary.md"
FORKS_CSV_NAME, FORKS_MARKDOWN_NAME = "forks.csv", "forks.md"
RESULTS_VERSION = 2  # of the exercism test-runner interface
PASS_STATUS, FAIL_STATUS, ERROR_STATUS = "pass", "fail", "error"
MAX_MESSAGE_LINES = 20  # a message fits one screen
MAX_MESSAGE_CHARS = 2000
SUMMARY_MESSAGE_LINES = 6
STATE_MARKS = {PASSING: "✅", IN_PROGRESS: "🟡", FAILING: "❌", BROKEN: "💥", NOT_STARTED: "⬜"}


def not_started(kata) -> KataResult:
    """The result of a kata nobody started (not graded: every blank as shipped)."""
    blanks = [BlankResult(b.id, kata.statement(b.id), TODO) for b in kata.blanks]
    return KataResult(kata, NOT_STARTED, blanks)


def title_of(kata) -> str:
    """The kata's title in the language now (a stand-in kata of a test may have only a `title`)."""
    return kata.title_in() if hasattr(kata, "title_in") else kata.title


def overall_status(results: list[KataResult], problem: str = "") -> str:
    if problem:
        return ERROR_STATUS
    return FAIL_STATUS if any(r.state in (FAILING, BROKEN) for r in results) else PASS_STATUS


def _clip(text: str) -> str:
    lines = text.strip("\n").split("\n")
    if len(lines) > MAX_MESSAGE_LINES:
        lines = lines[:MAX_MESSAGE_LINES] + ["..."]
    text = "\n".join(lines)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


def blank_message(result: KataResult, blank: BlankResult) -> str | None:
    """What a person reads about a blank that does not pass: plain text, one screen; None if it passes."""
    if blank.verdict == PASS:
        return None
    if result.state == NOT_STARTED:
        return t("report.not_started", number=result.kata.number)
    if result.problem:
        return _clip(t("report.could_not_grade", number=result.kata.number, problem=result.problem))
    if blank.verdict == TODO:
        return t("render.not_filled_in")
    if blank.verdict == NOT_RUN:
        return render.not_run_reason(blank)
    return _clip(textwrap.dedent(render.blank_detail(blank).plain))  # the terminal's words, without colours


def blank_status(result: KataResult, blank: BlankResult) -> str:
    if blank.verdict == PASS:
        return PASS_STATUS
    if result.problem or blank.verdict == NOT_RUN:
        return ERROR_STATUS
    return FAIL_STATUS


def to_mend(result: KataResult) -> BlankResult | None:
    """The blank a person looks at first: the first that fails, else the first not passing."""
    return next((b for b in result.blanks if b.verdict in (FAIL, TIMEOUT, SHORTCUT)), None) or result.first_open_blank


def blank_test_name(result: KataResult, blank: BlankResult) -> str:
    """`kata 03 blank 03.2: <statement>`: the statement in the language of the grade, the rest as it is (a key)."""
    return f"kata {result.kata.number} blank {blank.id}: {blank.statement}"


def results_json(results: list[KataResult], problem: str = "") -> dict:
    """results.json (see the module's docstring) of every kata's result, in kata order.

    `problem`: why the run as a whole could not grade; every test is then an error with it."""
    tests, katas = [], []
    for result in results:
        blanks = []
        for blank in result.blanks:
            points = int(blank.verdict == PASS and not problem)
            if problem:
                status, message = ERROR_STATUS, problem
            else:
                status, message = blank_status(result, blank), blank_message(result, blank)
            tests.append({"name": blank_test_name(result, blank), "status": status, "message": message,
                          "score": points, "max_score": 1})  # fmt: skip
            blanks.append({"id": blank.id, "verdict": blank.verdict, "points": points, "max_points": 1})
        first = to_mend(result)
        katas.append({
            "number": result.kata.number,
            "title": title_of(result.kata),
            "state": result.state,
            "points": sum(b["points"] for b in blanks),
            "max_points": len(blanks),
            "open_blank": first.id if first and not (problem or result.problem) else None,
            "message": problem or (blank_message(result, first) if first else None),
            "blanks": blanks,
        })  # fmt: skip
    return {
        "version": RESULTS_VERSION,
        "status": overall_status(results, problem),
        "message": problem or None,
        "score": sum(t["score"] for t in tests),
        "max_score": len(tests),
        "tests": tests,
        "katas": katas,
    }


# --- Markdown ---------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text inside a Markdown table cell: no line breaks, no column separators."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code_block(text: str) -> str:
    """`text` verbatim in a fenced block, whatever backticks it holds."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _first_lines(text: str, n: int = SUMMARY_MESSAGE_LINES) -> str:
    lines = text.strip("\n").split("\n")
    return "\n".join(lines[:n] + (["..."] if len(lines) > n else []))


def state_word(state: str) -> str:
    return f"{STATE_MARKS.get(state, '')} {said_state(state)}".strip()


def totals_line(data: dict) -> str:
    katas = data["katas"]
    count = {state: sum(k["state"] == state for k in katas) for state in STATE_MARKS}
    parts = [t("report.totals_blanks", score=data["score"], max=data["max_score"]),
             t("report.totals_katas", passing=count[PASSING], katas=len(katas))]  # fmt: skip
    parts += [t("report.totals_state", n=count[s], state=said_state(s)) for s in (IN_PROGRESS, FAILING, BROKEN)
              if count[s]]  # fmt: skip
    return " · ".join(parts)


def fork_section(fork: dict) -> list[str]:
    """Teacher mode: whose katas were graded with what, and what else the fork changed."""
    lines = [f"Canonical grade of the katas of `{fork['path']}`: graded with the upstream's tests and checker "
             f"(`{fork['upstream']}`); nothing else of the fork was used.", ""]  # fmt: skip
    changed = fork["changed"]
    if not changed:
        lines.append("The fork changed no file outside `katas/`.")
    else:
        lines.append(f"Files the fork changed outside its kata files ({len(changed)}), not used in this grade:")
        lines += [f"- `{c['path']}` ({c['change']})" for c in changed]
    return [*lines, ""]


def summary_markdown(data: dict, title: str | None = None) -> str:
    """The job summary: a table of every kata, the totals, then each failing kata's first open blank."""
    lines = [f"## {title or t('report.title')}", ""]
    if data.get("fork"):
        lines += fork_section(data["fork"])
    if data["status"] == ERROR_STATUS:
        lines += [t("report.could_not_run"), "", _code_block(_first_lines(data["message"], 12)), ""]
    lines += [t("report.header"), "|---:|---|---:|---|"]
    for k in data["katas"]:
        lines.append(f"| {k['number']} | {_cell(k['title'])} | {k['points']}/{k['max_points']} | {state_word(k['state'])} |")
    lines += ["", totals_line(data), ""]
    wrong = [k for k in data["katas"] if k["state"] in (FAILING, BROKEN)]
    if wrong and data["status"] != ERROR_STATUS:
        lines += [t("report.to_mend"), ""]
        for k in wrong:
            where = t("report.blank", blank=k["open_blank"]) if k["open_blank"] else t("report.the_kata")
            heading = t("report.mend_heading", number=k["number"], title=_cell(k["title"]),
                        state=said_state(k["state"]), where=where)  # fmt: skip
            lines += [heading, ""]
            lines += [_code_block(_first_lines(k["message"] or "")), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write(data: dict, folder: Path) -> tuple[Path, Path]:
    """results.json and summary.md of `data` in `folder` (made if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    results, summary = folder / RESULTS_NAME, folder / SUMMARY_NAME
    results.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    summary.write_text(summary_markdown(data), encoding="utf-8")
    return results, summary


# --- batch: one row a fork --------------------------------------------------------------------


def fork_row(name: str, data: dict | None, error: str = "") -> dict:
    """One fork's row of the batch table, from its results.json (None where it could not be graded)."""
    if data is None or data["status"] == ERROR_STATUS:
        why = error or (data or {}).get("message") or "not graded"
        return {"fork": name, "points": {}, "score": 0, "max_score": (data or {}).get("max_score", 0),
                "states": "", "changed": None, "error": why.strip().split("\n")[0]}  # fmt: skip
    states = {}
    for k in data["katas"]:
        states[k["state"]] = states.get(k["state"], 0) + 1
    order = [PASSING, IN_PROGRESS, FAILING, BROKEN, NOT_STARTED]
    return {
        "fork": name,
        "points": {k["number"]: (k["points"], k["max_points"]) for k in data["katas"]},
        "score": data["score"],
        "max_score": data["max_score"],
        "states": ", ".join(f"{states[s]} {s}" for s in order if s in states),
        "changed": len(data.get("fork", {}).get("changed", [])),
        "error": "",
    }


def _kata_numbers(rows: list[dict]) -> list[str]:
    return sorted({number for row in rows for number in row["points"]})


def forks_csv(rows: list[dict]) -> str:
    """The batch table as CSV: fork, points of each kata (kNN), total, max, states, changed files, error."""
    numbers = _kata_numbers(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["fork", *(f"k{n}" for n in numbers), "total", "max", "states", "changed_files", "error"])
    for row in rows:
        points = [row["points"][n][0] if n in row["points"] else "" for n in numbers]
        changed = "" if row["changed"] is None else row["changed"]
        writer.writerow([row["fork"], *points, row["score"], row["max_score"], row["states"], changed, row["error"]])
    return out.getvalue()


def forks_markdown(rows: list[dict], upstream: str) -> str:
    """The batch table in Markdown: one row a fork, points a kata, total, states, changed files."""
    numbers = _kata_numbers(rows)
    lines = ["## text2image katas: forks graded against the upstream", "",
             f"Graded with the tests and checker of `{upstream}`; only each fork's `katas/k*.py` were used.", "",
             "| fork | " + " | ".join(numbers) + " | total | states | changed files |",
             "|---|" + "---:|" * len(numbers) + "---:|---|---:|"]  # fmt: skip
    for row in rows:
        if row["error"]:
            cells = [""] * len(numbers) + ["", f"error: {_cell(row['error'])}", ""]
        else:
            cells = [f"{row['points'][n][0]}/{row['points'][n][1]}" if n in row["points"] else "" for n in numbers]
            cells += [f"{row['score']}/{row['max_score']}", row["states"], str(row["changed"])]
        lines.append(f"| {_cell(row['fork'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
