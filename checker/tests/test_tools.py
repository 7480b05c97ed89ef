"""The learner's tools around grading: solution (in the sandbox of conftest.py)."""

import re

from checker import cli, workspace
from checker.catalog import all_katas, find_kata


def fill(kata, code_for) -> None:
    """Fill every blank of the sandbox kata with code_for(blank): its lines, dedented."""
    text = kata.kata_path.read_text(encoding="utf-8")
    for blank in kata.blanks:
        body = "\n".join(blank.indent + line if line else "" for line in code_for(blank).rstrip().split("\n"))
        text = text.replace(f'{blank.indent}raise NotImplementedError("blank {blank.id} is not filled in yet")', body)
    kata.kata_path.write_text(text, encoding="utf-8")


def without_trailing_comments(blank) -> str:
    return re.sub(r"  # .*$", "", blank.solution, flags=re.MULTILINE)


def whole(text: str) -> str:
    return "".join(text.split())


def test_code_keys_drop_comments_and_spacing_but_not_a_hash_in_a_string():
    keys = workspace.code_keys('x = f(a,b)  # a comment\n# only a comment\n\ns = "a # b"\n')
    assert keys == ["x = f ( a , b )", "", "", 's = "a # b"', ""]
    assert workspace.code_keys("y = 2 *x\n") == workspace.code_keys("y = 2 * x  # (B, T)\n")


def test_code_without_the_references_comments_is_the_same_as_the_reference(sandbox):
    for kata in all_katas():
        fill(kata, without_trailing_comments)
        assert workspace.solution_hunks(kata) == [], kata.module


def test_solution_shows_only_the_lines_whose_code_differs(sandbox, capsys):
    kata = find_kata("00")
    fill(kata, lambda b: "return image[None]" if b.id == "00.1" else without_trailing_comments(b).replace(", ", ","))
    assert cli.main(["solution", "00", "--anyway"]) == 0
    out = capsys.readouterr().out
    marked = re.findall(r"^\s*\d*\s+([-+])\s+(.*?)\s*$", out, flags=re.MULTILINE)
    assert marked[0][1].startswith("yours:") and marked[1] == ("+", "ours")  # the key
    assert marked[2:] == [("-", "return image[None]"), ("+", "return image.unsqueeze(0)")]
    assert "std.view" not in out


def test_solution_shows_a_long_line_whole(sandbox, capsys, monkeypatch):
    kata = find_kata("00")
    long = "return image.unsqueeze(0)" + " + 0 * image.sum()" * 8  # 169 characters
    fill(kata, lambda b: long if b.id == "00.1" else b.solution)
    cli.main(["solution", "00", "--anyway"])
    out = capsys.readouterr().out
    assert whole(long) in whole(out)  # 120 columns: one above the other, wrapped
    monkeypatch.setenv("COLUMNS", "400")
    cli.main(["solution", "00", "--anyway"])
    out = capsys.readouterr().out
    assert any(long in line and "≠" in line for line in out.splitlines())  # side by side, on one line
