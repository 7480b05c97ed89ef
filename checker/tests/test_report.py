"""results.json and the Markdown summary (checker/report.py), from grading results made by hand:
no grade runs here. The JSON is checked against what its two readers use: the exercism
test-runner interface (version 2) and the GitHub Classroom autograding reporter."""

import csv
import io
import json
import re
from types import SimpleNamespace

from checker import report
from checker.catalog import find_kata
from checker.grading import (
    BROKEN,
    FAIL,
    FAILING,
    IN_PROGRESS,
    NEEDS,
    NOT_RUN,
    PASS,
    PASSING,
    TIMEOUT,
    TODO,
    BlankResult,
    KataResult,
)

SHAPE_ERROR = {"type": "AssertionError", "message": "output has shape (3, 1, 4, 5), expected (1, 3, 4, 5)\ncall: f(x)",
               "where": {"file": "katas/k00_start.py", "line": 31, "code": "return image.unsqueeze(1)"}}  # fmt: skip


def graded(number: str, verdicts: dict[str, str], state: str, problem: str = "", errors=None) -> KataResult:
    kata = find_kata(number)
    blanks = [BlankResult(b.id, b.statement, verdicts.get(b.id, TODO), error=(errors or {}).get(b.id, {}))
              for b in kata.blanks]  # fmt: skip
    return KataResult(kata, state, blanks, problem)


def sample() -> list[KataResult]:
    """Kata 00 failing at 00.1 (00.2 passes, 00.3 not filled in), 01 passing, 02 not started,
    03 broken (a syntax error), 04 in progress."""
    k01, k04 = find_kata("01"), find_kata("04")
    return [
        graded("00", {"00.1": FAIL, "00.2": PASS}, FAILING, errors={"00.1": SHAPE_ERROR}),
        graded("01", {b.id: PASS for b in k01.blanks}, PASSING),
        report.not_started(find_kata("02")),
        graded("03", {}, BROKEN, problem="katas/k03_attention.py line 40: SyntaxError: invalid syntax"),
        graded("04", {k04.blanks[0].id: PASS, k04.blanks[1].id: NEEDS}, IN_PROGRESS,
               errors={k04.blanks[1].id: {"type": "NotImplementedError", "unfilled": k04.blanks[2].id}}),
    ]  # fmt: skip


def check_exercism_v2(data: dict) -> None:
    """The fields and values the exercism test-runner interface (version 2) requires."""
    assert data["version"] == 2
    assert data["status"] in ("pass", "fail", "error")
    assert (data["message"] is None) == (data["status"] != "error")
    assert isinstance(data["tests"], list)
    for test in data["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert test["status"] in ("pass", "fail", "error")
        assert test["message"] is None or isinstance(test["message"], str)


def check_classroom_reporter(data: dict) -> None:
    """What the Classroom reporter reads: the run's status and max_score, each test's name, status,
    message and score. Its two totals (the sum of the scores; the share of tests passed times
    max_score) must agree, or the check run and the log would say different points."""
    assert isinstance(data["max_score"], int) and data["max_score"] == len(data["tests"])
    total = sum(t["score"] for t in data["tests"])
    passed = sum(t["status"] == "pass" for t in data["tests"])
    assert total == passed == data["score"]
    assert passed / len(data["tests"]) * data["max_score"] == total
    for test in data["tests"]:
        assert test["score"] in (0, 1) and test["max_score"] == 1
        assert (test["status"] == "pass") == (test["score"] == 1)
        if test["status"] != "pass":
            assert test["message"], f"{test['name']} does not pass and says nothing"


def test_results_json_has_one_test_a_blank_and_one_entry_a_kata():
    results = sample()
    data = json.loads(json.dumps(report.results_json(results)))  # what the file holds
    check_exercism_v2(data)
    check_classroom_reporter(data)
    assert [t["name"].split(":")[0] for t in data["tests"]] == [
        f"kata {r.kata.number} blank {b.id}" for r in results for b in r.blanks
    ]
    assert data["tests"][0]["name"] == f"kata 00 blank 00.1: {find_kata('00').blanks[0].statement}"
    assert [k["number"] for k in data["katas"]] == ["00", "01", "02", "03", "04"]
    assert [(k["points"], k["max_points"]) for k in data["katas"]] == [
        (1, 3), (len(find_kata("01").blanks),) * 2, (0, 4), (0, 6), (1, 5)
    ]  # fmt: skip
    assert data["katas"][0]["blanks"][:2] == [
        {"id": "00.1", "verdict": FAIL, "points": 0, "max_points": 1},
        {"id": "00.2", "verdict": PASS, "points": 1, "max_points": 1},
    ]


def test_each_blank_says_what_went_wrong_in_plain_text():
    data = report.results_json(sample())
    by_name = {t["name"].split(":")[0]: t for t in data["tests"]}
    first = by_name["kata 00 blank 00.1"]
    assert first["status"] == "fail"
    assert first["message"].startswith("output has shape (3, 1, 4, 5), expected (1, 3, 4, 5)")
    assert "at katas/k00_start.py:31: return image.unsqueeze(1)" in first["message"]
    assert "\x1b" not in first["message"] and not first["message"].startswith(" ")  # no colours, no indent
    assert by_name["kata 00 blank 00.2"] | {"message": None} == by_name["kata 00 blank 00.2"]  # passes: no message
    assert by_name["kata 00 blank 00.3"]["message"] == "not filled in yet"
    assert by_name["kata 02 blank 02.1"]["message"] == "kata 02 is not started: every blank is as shipped"
    broken = by_name["kata 03 blank 03.1"]
    assert broken["status"] == "error" and "SyntaxError: invalid syntax" in broken["message"]
    k04 = find_kata("04").blanks
    assert by_name[f"kata 04 blank {k04[1].id}"]["message"] == f"needs blank {k04[2].id} first (not filled in yet)"
    kata00 = data["katas"][0]
    assert kata00["open_blank"] == "00.1" and kata00["message"] == first["message"]
    assert data["katas"][3]["open_blank"] is None and "SyntaxError" in data["katas"][3]["message"]


def test_a_long_message_is_cut_to_one_screen():
    error = {"type": "AssertionError", "message": "\n".join(f"line {i}" for i in range(200))}
    data = report.results_json([graded("00", {"00.1": FAIL}, FAILING, errors={"00.1": error})])
    message = data["tests"][0]["message"]
    assert len(message.split("\n")) <= report.MAX_MESSAGE_LINES + 1 and len(message) <= report.MAX_MESSAGE_CHARS
    assert message.startswith("line 0")


def test_a_timeout_and_a_blank_not_run_say_so():
    timeout = {"type": "Failed", "message": "Timeout (10.0s) from pytest-timeout.", "timeout": True}
    stopped = {"type": "StoppedAtLoop", "message": "not run to the end: it reaches line 9 of k00_start.py, "
               "where a test of blank 00.1 timed out", "stopped": True}  # fmt: skip
    result = graded("00", {"00.1": TIMEOUT, "00.2": NOT_RUN}, FAILING, errors={"00.1": timeout, "00.2": stopped})
    data = report.results_json([result])
    assert data["tests"][0]["status"] == "fail" and "timed out (10.0s)" in data["tests"][0]["message"]
    assert data["tests"][1]["status"] == "error"
    assert data["tests"][1]["message"].startswith("not run: it reaches line 9 of k00_start.py")


def test_the_overall_status_comes_from_the_katas_started():
    results = sample()
    assert report.results_json(results)["status"] == "fail"  # 00 fails, 03 is broken
    assert report.results_json([results[1], results[2], results[4]])["status"] == "pass"  # passing, not started, in progress
    assert report.results_json([results[3]])["status"] == "fail"  # broken alone fails the run
    assert report.results_json([results[2]])["status"] == "pass"  # nothing started: nothing wrong


def test_a_run_that_could_not_grade_is_an_error_with_its_reason_on_every_test():
    problem = "torch, pytest-timeout not installed for /usr/bin/python3."
    data = report.results_json([report.not_started(find_kata(n)) for n in ("00", "01")], problem=problem)
    check_exercism_v2(data)
    check_classroom_reporter(data)
    assert data["status"] == "error" and data["message"] == problem and data["score"] == 0
    assert {t["status"] for t in data["tests"]} == {"error"} and {t["message"] for t in data["tests"]} == {problem}
    assert "The grade could not run" in report.summary_markdown(data)


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of each row of the first Markdown table (header and separator included)."""
    lines = [line for line in markdown.split("\n") if line.startswith("|")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])] for line in lines]


def test_summary_is_a_table_of_every_kata_then_totals_then_what_to_mend():
    data = report.results_json(sample())
    markdown = report.summary_markdown(data)
    rows = table_rows(markdown)
    assert rows[0] == ["kata", "title", "blanks passed", "state"]
    assert all(len(row) == 4 for row in rows)
    body = rows[2:]
    assert [row[0] for row in body] == ["00", "01", "02", "03", "04"]
    assert body[0] == ["00", find_kata("00").title, "1/3", "❌ failing"]
    assert body[2][2:] == ["0/4", "⬜ not started"] and body[3][3] == "💥 broken"
    totals = f"**{data['score']}/{data['max_score']} blanks** · 1/5 katas passing · 1 in progress · 1 failing · 1 broken"
    assert totals in markdown
    mend = markdown.split("### To mend", 1)[1]
    assert "**Kata 00 · Start here: shapes and broadcasting** (failing), blank 00.1:" in mend
    assert "output has shape (3, 1, 4, 5)" in mend
    assert "**Kata 03 · " in mend and "(broken), the kata:" in mend and "SyntaxError" in mend
    assert "Kata 04" not in mend and "Kata 01" not in mend  # in progress, passing: nothing to mend


def test_summary_cells_and_code_blocks_hold_any_text():
    kata = SimpleNamespace(number="99", title="pipes | and\nnewlines", blanks=[])
    blanks = [BlankResult("99.1", "a | b", FAIL, error={"type": "AssertionError", "message": "```\nboom | `x`"})]
    data = report.results_json([KataResult(kata, FAILING, blanks)])
    markdown = report.summary_markdown(data)
    assert "| 99 | pipes \\| and newlines | 0/1 | ❌ failing |" in markdown
    assert "````text\n```\nboom | `x`" in markdown  # a fence longer than any run of backticks inside


def test_teacher_mode_summary_says_canonical_and_lists_the_changed_files():
    data = report.results_json(sample()[:2])
    data["fork"] = {"path": "/forks/alice", "upstream": "https://example.org/katas.git", "canonical": True,
                    "changed": [{"path": "tests/test_k00_start.py", "change": "edited"},
                                {"path": "checker/tests_manifest.json", "change": "edited"}]}  # fmt: skip
    markdown = report.summary_markdown(data)
    assert "Canonical grade of the katas of `/forks/alice`" in markdown
    assert "`https://example.org/katas.git`" in markdown
    assert "- `tests/test_k00_start.py` (edited)\n- `checker/tests_manifest.json` (edited)" in markdown
    data["fork"]["changed"] = []
    assert "The fork changed no file outside `katas/`." in report.summary_markdown(data)


def test_forks_table_has_a_row_a_fork_and_an_error_row_for_one_that_could_not_be_graded():
    alice = report.results_json(sample()[:3])
    alice["fork"] = {"changed": [{"path": "noxfile.py", "change": "edited"}]}
    bob = report.results_json([sample()[1], report.not_started(find_kata("00"))])
    bob["fork"] = {"changed": []}
    rows = [report.fork_row("alice", alice), report.fork_row("bob", bob),
            report.fork_row("carol", None, "/forks/carol has no katas/ folder")]  # fmt: skip
    table = list(csv.DictReader(io.StringIO(report.forks_csv(rows))))
    assert [r["fork"] for r in table] == ["alice", "bob", "carol"]
    n01 = len(find_kata("01").blanks)
    assert (table[0]["k00"], table[0]["k01"], table[0]["k02"]) == ("1", str(n01), "0")
    assert table[0]["total"] == str(1 + n01) and table[0]["max"] == str(3 + n01 + 4)
    assert table[0]["states"] == "1 passing, 1 failing, 1 not started" and table[0]["changed_files"] == "1"
    assert table[1]["k02"] == "" and table[1]["changed_files"] == "0"  # bob's results have no kata 02
    assert table[2]["error"] == "/forks/carol has no katas/ folder" and table[2]["total"] == "0"
    markdown = report.forks_markdown(rows, "/upstream")
    md_rows = table_rows(markdown)
    assert md_rows[0] == ["fork", "00", "01", "02", "total", "states", "changed files"]
    assert md_rows[2] == ["alice", "1/3", f"{n01}/{n01}", "0/4", f"{1 + n01}/{7 + n01}",
                          "1 passing, 1 failing, 1 not started", "1"]  # fmt: skip
    assert md_rows[4][-2] == "error: /forks/carol has no katas/ folder"
    assert all(len(row) == len(md_rows[0]) for row in md_rows)
