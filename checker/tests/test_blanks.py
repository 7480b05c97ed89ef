"""The blank format: parsing, generating a kata, applying a mutant, finding a blank by line."""

import textwrap

import pytest

from checker.blanks import (
    BlankFormatError,
    apply_mutant,
    blank_near_line,
    generate_kata,
    parse_blanks,
    solved_kata,
    unfilled_blanks,
)

REFERENCE = textwrap.dedent(
    '''\
    """Kata 09: Example."""

    def f(x):
        """doc"""
        # BLANK 09.1 (about 2 lines): double x and add one.
        # HINT: nudge
        # HINT: equation
        # HINT: answer
        y = 2 * x
        return y + 1
        # END BLANK 09.1


    def g(x):
        if x:
            # BLANK 09.2 (about 1 line): negate.
            # HINT: only one
            return -x
            # END BLANK 09.2
        return 0
    '''
)


def test_parse_blanks_reads_ids_statements_budgets_hints_and_solutions():
    first, second = parse_blanks(REFERENCE)
    assert (first.id, first.budget, first.statement) == ("09.1", "about 2 lines", "double x and add one.")
    assert first.hints == ("nudge", "equation", "answer")
    assert first.solution == "y = 2 * x\nreturn y + 1"
    assert (second.id, second.indent, second.hints) == ("09.2", " " * 8, ("only one",))


def test_generated_kata_keeps_the_statement_and_raises_an_error_naming_the_blank():
    kata = generate_kata(REFERENCE)
    assert "# TODO 09.1 (about 2 lines): double x and add one." in kata
    assert '        raise NotImplementedError("blank 09.2 is not filled in yet")' in kata
    assert "HINT" not in kata and "y = 2 * x" not in kata and "END BLANK" not in kata
    namespace = {}
    exec(compile(kata, "kata", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="blank 09.1"):
        namespace["f"](1)
    assert namespace["g"](0) == 0  # code outside the blanks runs as written


def test_unfilled_blanks_lists_the_blanks_still_raising():
    kata = generate_kata(REFERENCE)
    assert unfilled_blanks(kata) == ["09.1", "09.2"]
    filled = kata.replace('raise NotImplementedError("blank 09.1 is not filled in yet")', "return 2 * x + 1")
    assert unfilled_blanks(filled) == ["09.2"]


def test_solved_kata_is_the_kata_with_the_reference_solutions_filled_in():
    plain = solved_kata(REFERENCE)
    assert "BLANK" not in plain and "HINT" not in plain and "# TODO 09.1 (about 2 lines)" in plain
    namespace = {}
    exec(plain, namespace)
    assert namespace["f"](3) == 7 and namespace["g"](2) == -2


def test_apply_mutant_replaces_one_blank_with_indentation():
    mutated = apply_mutant(REFERENCE, "09.2", "return x")
    namespace = {}
    exec(mutated, namespace)
    assert namespace["g"](2) == 2 and namespace["f"](3) == 7
    with pytest.raises(BlankFormatError):
        apply_mutant(REFERENCE, "09.7", "return x")


@pytest.mark.parametrize(
    "broken, problem",
    [
        (REFERENCE.replace("# END BLANK 09.1", ""), "has no '# END BLANK 09.1'"),
        (REFERENCE.replace("# END BLANK 09.2", "# END BLANK 09.3"), "names another blank"),
        (REFERENCE.replace("# BLANK 09.1 (about 2 lines):", "# BLANK 09.1:"), "malformed marker"),
        (REFERENCE.replace("    y = 2 * x\n    return y + 1\n", ""), "no solution lines"),
        (REFERENCE + "# HINT: stray\n", "outside a blank"),
    ],
)
def test_malformed_markers_are_reported_with_their_line(broken, problem):
    with pytest.raises(BlankFormatError, match=problem):
        parse_blanks(broken, "ref.py")


def test_blank_near_line_finds_the_todo_above_within_the_function():
    kata = generate_kata(REFERENCE).split("\n")
    raise_line = next(i for i, line in enumerate(kata) if "blank 09.1" in line) + 1
    assert blank_near_line("\n".join(kata), raise_line) == "09.1"
    def_g = next(i for i, line in enumerate(kata) if line.startswith("def g")) + 1
    assert blank_near_line("\n".join(kata), def_g + 1) is None


def test_windows_line_endings_generate_the_same_kata():
    assert generate_kata(REFERENCE.replace("\n", "\r\n")) == generate_kata(REFERENCE)
