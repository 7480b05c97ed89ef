"""The learner's tools around grading: solution, restore, watch (in the sandbox of conftest.py)."""

import logging
import re

import watchfiles

from checker import cli, workspace
from checker.blanks import generate_kata
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


def test_restore_puts_back_the_latest_backup_and_keeps_the_current_file(sandbox, capsys):
    kata = find_kata("00")
    fresh = kata.kata_path.read_text()
    fill(kata, lambda b: b.solution)
    mine = kata.kata_path.read_text()
    cli.main(["reset", "00"])
    assert cli.main(["restore", "00"]) == 0
    assert kata.kata_path.read_text() == mine
    assert "Your current version is kept as" in capsys.readouterr().out
    assert max((sandbox / ".katas" / "backups").iterdir()).read_text() == fresh  # the newest
    assert cli.main(["restore", "00"]) == 0  # the latest is now the file it replaced: back again
    assert kata.kata_path.read_text() == fresh


def test_restore_a_named_backup_and_list_them_newest_first(sandbox, capsys):
    kata = find_kata("00")
    fill(kata, lambda b: b.solution)
    first = workspace.reset(kata)
    fill(kata, lambda b: "return image[None]" if b.id == "00.1" else "pass")
    second = workspace.reset(kata)
    assert cli.main(["restore", "00", "--list"]) == 0
    out = capsys.readouterr().out
    assert out.index(second.name) < out.index(first.name)
    assert re.search(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+{re.escape(first.name)}\s+3/3", out)
    assert cli.main(["restore", "00", str(first)]) == 0  # a path
    assert kata.kata_path.read_text() == first.read_text()
    assert cli.main(["restore", "00", second.name]) == 0  # a name
    assert kata.kata_path.read_text() == second.read_text()


def test_restore_keeps_no_copy_of_a_file_equal_to_the_backup(sandbox, capsys):
    kata = find_kata("00")
    fill(kata, lambda b: b.solution)
    saved = workspace.reset(kata)
    cli.main(["restore", "00"])
    backups = list(saved.parent.iterdir())
    assert cli.main(["restore", "00", saved.name]) == 0
    assert list(saved.parent.iterdir()) == backups
    assert "same as that backup" in capsys.readouterr().out


def test_restore_without_a_backup_or_of_an_unknown_kata_exits_2(sandbox, capsys):
    assert cli.main(["restore", "00"]) == cli.BAD_REQUEST
    assert "Kata 00 has no backups" in capsys.readouterr().out
    fill(find_kata("00"), lambda b: b.solution)
    cli.main(["reset", "00"])
    assert cli.main(["restore", "00", "k00_start.nope.py"]) == cli.BAD_REQUEST
    assert "no backup named k00_start.nope.py" in capsys.readouterr().out
    assert cli.main(["restore", "99"]) == cli.BAD_REQUEST
    assert cli.main(["restore", "01"]) == cli.BAD_REQUEST  # kata 00's backups are not kata 01's
    assert find_kata("01").kata_path.read_text() == generate_kata(find_kata("01").reference_source)


def test_watch_keeps_watchfiles_own_log_lines_out(sandbox, monkeypatch, capsys, request):
    request.addfinalizer(lambda: logging.getLogger("watchfiles").setLevel(logging.NOTSET))
    monkeypatch.setattr(watchfiles, "watch", lambda *args, **kwargs: iter(()))  # no change: it stops at once
    assert cli.main(["watch", "00"]) == 0
    assert "Watching" in capsys.readouterr().out
    assert not logging.getLogger("watchfiles.main").isEnabledFor(logging.WARNING)
