"""The blank format: how a reference file marks its blanks, and how a kata is generated from it.

A reference file marks each blank like this (the indentation is the blank's own):

    # BLANK 03.1 (about 2 lines): subtract each row's max, then exponentiate.
    # HINT: a nudge: what the idea is.
    # HINT: the equation.
    # HINT: nearly the answer.
    m = x.amax(dim=dim, keepdim=True)
    e = (x - m).exp()
    # END BLANK 03.1

and the learner's kata gets, in its place:

    # TODO 03.1 (about 2 lines): subtract each row's max, then exponentiate.
    raise NotImplementedError("blank 03.1 is not filled in yet")

A kata can be generated in another language (`texts`, a checker.texts.KataTexts): its module
docstring and its TODO lines' statements and budgets are then that language's; the code, and
each TODO line's `# TODO NN.M` that grading finds the blanks by, stay as they are.

Nothing here imports torch: the checker must stay quick.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checker.texts import KataTexts

BLANK_RE = re.compile(r"^(?P<indent>[ ]*)# BLANK (?P<id>\d\d\.\d+) \((?P<budget>[^)]+)\): (?P<statement>\S.*)$")
HINT_RE = re.compile(r"^[ ]*# HINT: (?P<hint>\S.*)$")
END_RE = re.compile(r"^[ ]*# END BLANK (?P<id>\d\d\.\d+)\s*$")
TODO_RE = re.compile(r"^[ ]*# TODO (?P<id>\d\d\.\d+)\b")
TODO_LINE_RE = re.compile(r"^(?P<indent>[ ]*)# TODO (?P<id>\d\d\.\d+) \((?P<budget>[^)]+)\): (?P<statement>.*)$")
UNFILLED_RE = re.compile(r'raise NotImplementedError\("blank (?P<id>\d\d\.\d+) is not filled in yet"\)')
DEF_RE = re.compile(r"^[ ]*(def|class) ")


class BlankFormatError(ValueError):
    """A reference file whose blank markers are malformed."""


@dataclass(frozen=True)
class Blank:
    id: str  # "03.1"
    statement: str  # one line: what goes there
    budget: str  # "about 2 lines"
    hints: tuple[str, ...]  # tiers, from a nudge to nearly the answer
    solution: str  # the reference lines, dedented
    indent: str
    first_line: int  # 1-based line of the BLANK marker in the reference file
    last_line: int  # 1-based line of the END marker

    @property
    def kata_number(self) -> str:
        return self.id.split(".")[0]


def normalize(text: str) -> str:
    """Line endings as LF, so a checkout on Windows compares and hashes equal."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_blanks(reference: str, filename: str = "<reference>") -> list[Blank]:
    """Every blank marked in a reference file, in file order."""
    lines = normalize(reference).split("\n")
    blanks: list[Blank] = []
    i = 0
    while i < len(lines):
        stray = END_RE.match(lines[i]) or HINT_RE.match(lines[i])
        if stray:
            raise BlankFormatError(f"{filename}:{i + 1}: '{lines[i].strip()}' outside a blank")
        m = BLANK_RE.match(lines[i])
        if not m:
            if "# BLANK" in lines[i] or "# END BLANK" in lines[i]:
                raise BlankFormatError(
                    f"{filename}:{i + 1}: malformed marker; expected '# BLANK NN.M (budget): statement'"
                )
            i += 1
            continue
        start, bid = i, m["id"]
        i += 1
        hints = []
        while i < len(lines) and HINT_RE.match(lines[i]):
            hints.append(HINT_RE.match(lines[i])["hint"])
            i += 1
        body_start = i
        while i < len(lines) and not END_RE.match(lines[i]):
            if BLANK_RE.match(lines[i]):
                raise BlankFormatError(f"{filename}:{start + 1}: blank {bid} has no '# END BLANK {bid}' before the next blank")
            i += 1
        if i == len(lines):
            raise BlankFormatError(f"{filename}:{start + 1}: blank {bid} has no '# END BLANK {bid}'")
        if END_RE.match(lines[i])["id"] != bid:
            raise BlankFormatError(f"{filename}:{i + 1}: END BLANK names another blank than {bid}")
        body = "\n".join(lines[body_start:i])
        if not body.strip():
            raise BlankFormatError(f"{filename}:{start + 1}: blank {bid} has no solution lines")
        blanks.append(
            Blank(
                id=bid,
                statement=m["statement"].strip(),
                budget=m["budget"].strip(),
                hints=tuple(hints),
                solution=textwrap.dedent(body),
                indent=m["indent"],
                first_line=start + 1,
                last_line=i + 1,
            )
        )
        i += 1
    return blanks


def unfilled_line(blank_id: str) -> str:
    return f'raise NotImplementedError("blank {blank_id} is not filled in yet")'


def _replace_blanks(reference: str, body_for) -> str:
    """The reference text with each blank's marker block replaced by body_for(blank)."""
    lines = normalize(reference).split("\n")
    out: list[str] = []
    cursor = 0
    for blank in parse_blanks(reference):
        out.extend(lines[cursor : blank.first_line - 1])
        out.extend(body_for(blank))
        cursor = blank.last_line
    out.extend(lines[cursor:])
    return "\n".join(out)


def todo_line(blank: Blank, texts: KataTexts | None = None) -> str:
    """The blank's TODO line (its statement and budget in the language of `texts`, where it has them)."""
    statement = (texts.statements.get(blank.id) if texts else None) or blank.statement
    budget = (texts.budgets.get(blank.id) if texts else None) or blank.budget
    return f"{blank.indent}# TODO {blank.id} ({budget}): {statement}"


def _indented(blank: Blank, code: str) -> list[str]:
    return [blank.indent + line if line else line for line in code.rstrip("\n").split("\n")]


def docstring_span(text: str) -> tuple[int, int] | None:
    """The 0-based lines [first, end) of a file's module docstring, where it is a plain \"\"\"...\"\"\" block
    standing on lines of its own (every kata's is); None otherwise, or where the file does not parse."""
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError):
        return None
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):  # fmt: skip
        return None
    first, end = body[0].lineno - 1, body[0].end_lineno
    lines = text.split("\n")
    if not (lines[first].startswith('"""') and lines[end - 1].rstrip().endswith('"""')):
        return None
    return first, end


def docstring_lines(number: str, title: str, explanation: str) -> list[str]:
    """A kata's module docstring, as source lines: 'Kata NN: title', a blank line, the explanation."""
    body = f"Kata {number}: {title}\n\n{explanation}\n".replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""{body}"""'.split("\n")


def with_docstring(text: str, texts: KataTexts | None) -> str:
    """A kata (or reference) file with its module docstring in the language of `texts`, where they have
    a title and an explanation (as it is otherwise)."""
    span = docstring_span(text)
    if texts is None or texts.lang == "en" or not (texts.title and texts.explanation) or span is None:
        return text
    lines = text.split("\n")
    number = re.match(r'^"""Kata (\d\d)', lines[span[0]])
    if not number:
        return text
    docstring = docstring_lines(number[1], texts.title, texts.explanation)
    return "\n".join([*lines[: span[0]], *docstring, *lines[span[1] :]])


def generate_kata(reference: str, texts: KataTexts | None = None) -> str:
    """The learner's kata: every blank replaced by its TODO line and an error that names it.
    With `texts`, the docstring and the TODO lines' words are in their language."""
    reference = with_docstring(normalize(reference), texts)
    return _replace_blanks(reference, lambda blank: [todo_line(blank, texts), blank.indent + unfilled_line(blank.id)])


def solved_kata(reference: str, texts: KataTexts | None = None) -> str:
    """The kata with every blank filled in by the reference solution: what a learner who
    solved it like we did would have (hints and markers gone, TODO lines kept)."""
    reference = with_docstring(normalize(reference), texts)
    return _replace_blanks(reference, lambda blank: [todo_line(blank, texts), *_indented(blank, blank.solution)])


def apply_mutant(reference: str, blank_id: str, code: str) -> str:
    """The solved kata with one blank's solution replaced by `code` (a learner's wrong answer)."""
    return apply_answers(reference, {blank_id: code})


def apply_answers(reference: str, answers: dict[str, str]) -> str:
    """The solved kata with the solutions of some blanks replaced: {blank ID: code}."""
    answers = {blank_id: textwrap.dedent(code).strip("\n") for blank_id, code in answers.items()}
    unknown = set(answers) - {b.id for b in parse_blanks(reference)}
    if unknown:
        raise BlankFormatError(f"no blank {', '.join(sorted(unknown))} in this reference file")

    def body(blank: Blank) -> list[str]:
        return [todo_line(blank), *_indented(blank, answers.get(blank.id, blank.solution))]

    return _replace_blanks(reference, body)


def unfilled_blanks(kata_source: str) -> list[str]:
    """IDs of the blanks in a learner's file that still raise their 'not filled in' error."""
    return [m["id"] for m in UNFILLED_RE.finditer(normalize(kata_source))]


def blank_near_line(kata_source: str, lineno: int) -> str | None:
    """The blank whose TODO comment is the nearest above `lineno` in the same function, if any."""
    lines = normalize(kata_source).split("\n")
    for i in range(min(lineno, len(lines)) - 1, -1, -1):
        m = TODO_RE.match(lines[i])
        if m:
            return m["id"]
        if DEF_RE.match(lines[i]):
            return None
    return None
