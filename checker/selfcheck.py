"""The authoring self-check (`katas selfcheck`, `nox -s selfcheck`):

1. every reference file's blanks are well formed: IDs NN.1, NN.2, ... with a statement,
   a size budget and hint tiers;
2. the committed katas equal the ones generated from reference/, and the tests manifest is current;
3. the reference passes every test, and every blank has tests; no blank of it takes a shortcut
   (checker/shortcuts.py), and the table of shortcuts names only katas that exist;
4. each kata as shipped fails, every blank saying it is not filled in, the first one named first;
5. every blank has mutants (plausible wrong answers), and the tests catch every one;
6. the grader's diagnosis names each mutant (or one that gives the same output) when a learner writes it;
7. the committed notebooks equal the ones generated from the katas, in every language
   (notebooks/ and notebooks/LANG/, and the tables of them in README.md and README.LANG.md);
8. each notebook, the reference solutions in its cells, runs top to bottom and its check passes
   (skipped with `--no-notebooks`; the English ones: another language's have the same code);
9. every kata has its words in every language (checker/texts.py: reference/LANG/kNN_name.toml): a
   title, an explanation, each blank's statement and as many hints as the English, with the same
   `code spans`, statements and hints on one line each; and every catalogued mistake its name
   (tests/mutants/LANG/kNN_name.toml), with the same `code spans`, and no name of a mistake MUTANTS
   no longer has.
10. every kata has a picture (pictures/kNN.py, drawn by `katas show NN`).
"""

from __future__ import annotations

import ast

import re
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

from checker import i18n, mutation, shortcuts, texts
from checker.blanks import BlankFormatError, generate_kata, normalize, solved_kata
from checker.catalog import all_katas, shown
from checker.texts import code_spans
from checker.grading import NEEDS, NOT_STARTED, PASS, SHORTCUT, TODO, grade
from checker.manifest import SHARED_TEST_FILES, current_manifest, shipped_manifest

MIN_HINTS = 3
BUDGET_RE = re.compile(r"^about \d+ lines?$")


class Findings:
    def __init__(self, out: Console) -> None:
        self.out, self.problems = out, 0

    def ok(self, text: str) -> None:
        self.out.print(Text("  ✔ ", style="green"), text)

    def bad(self, text: str) -> None:
        self.problems += 1
        self.out.print(Text("  ✘ ", style="red"), Text(text))


def check_structure(katas, f: Findings) -> bool:
    fine = True
    for kata in katas:
        try:
            blanks = kata.blanks
        except BlankFormatError as e:
            f.bad(str(e))
            fine = False
            continue
        expected = [f"{kata.number}.{i}" for i in range(1, len(blanks) + 1)]
        if [b.id for b in blanks] != expected:
            f.bad(f"{kata.module}: blank IDs {[b.id for b in blanks]}, expected {expected}")
        for b in blanks:
            if len(b.hints) < MIN_HINTS:
                f.bad(f"{b.id}: {len(b.hints)} hints; give {MIN_HINTS} tiers (a nudge, the equation, nearly the answer)")
            if not BUDGET_RE.match(b.budget):
                f.bad(f"{b.id}: size budget '{b.budget}' should read 'about N lines'")
        if not blanks:
            f.bad(f"{kata.module}: no blanks")
    if fine:
        f.ok(f"{sum(len(k.blanks) for k in katas)} blanks in {len(katas)} katas are well formed")
    return fine


def check_generated(katas, f: Findings) -> None:
    stale = [shown(k.kata_path) for k in katas if not k.kata_path.exists()
             or normalize(k.kata_path.read_text(encoding="utf-8")) != generate_kata(k.reference_source)]  # fmt: skip
    if stale:
        f.bad(f"not what reference/ generates: {', '.join(stale)} (run `katas sync`)")
    else:
        f.ok("katas/ equals what reference/ generates")
    shipped, current = shipped_manifest(), current_manifest()
    paths = [*SHARED_TEST_FILES, *(shown(k.test_path) for k in katas)]
    stale = [p for p in paths if shipped.get(p) != current.get(p)]
    if stale:
        f.bad(f"checker/tests_manifest.json is out of date for {', '.join(stale)} (run `katas sync`)")
    else:
        f.ok("the tests manifest is current")


def check_reference_passes(katas, f: Findings) -> None:
    before = f.problems
    for result in grade(katas, impl="reference"):
        for b in result.blanks:
            if b.tests_run == 0:
                f.bad(f"{b.id}: no test is marked @pytest.mark.blank('{b.id}')")
            elif b.verdict == SHORTCUT:
                pass  # said by check_no_shortcuts
            elif b.verdict != PASS:
                f.bad(f"{b.id}: the reference fails {b.test}: {b.error.get('type')}: {b.error.get('message', '')}")
        if result.problem:
            f.bad(f"{result.kata.module}: {result.problem}")
    if f.problems == before:
        f.ok(f"the reference passes every test of {len(katas)} katas")


def check_no_shortcuts(katas, f: Findings) -> None:
    """The reference's blanks use nothing their kata forbids: a learner who solves it our way passes."""
    before = f.problems
    for kata in katas:
        for blank_id, messages in shortcuts.violations(kata, solved_kata(kata.reference_source)).items():
            for message in messages:
                f.bad(f"kata {kata.number}, the reference's blank {blank_id} takes a shortcut: {message}")
    unknown = sorted(set(shortcuts.SHORTCUTS) - {k.number for k in all_katas()})
    if unknown:
        f.bad(f"checker/shortcuts.py's SHORTCUTS names katas that do not exist: {', '.join(unknown)}")
    if f.problems == before:
        f.ok(f"no blank of the reference takes a shortcut ({len(katas)} katas)")


def check_shipped_fails(katas, f: Findings) -> None:
    with tempfile.TemporaryDirectory(prefix="pristine-") as tmp:
        for kata in katas:
            (Path(tmp) / f"{kata.module}.py").write_text(generate_kata(kata.reference_source), encoding="utf-8")
        results = grade(katas, impl=tmp)
    fine = True
    for result in results:
        wrong = [b.id for b in result.blanks if b.verdict not in (TODO, NEEDS)]
        first = result.first_open_blank
        if result.state != NOT_STARTED or wrong or first is None or first.id != result.kata.blanks[0].id:
            fine = False
            f.bad(f"kata {result.kata.number} as shipped: state {result.state}; blanks not failing as unfilled: {wrong}")
    if fine:
        f.ok("every kata as shipped fails, naming its first blank")


def check_mutants(katas, f: Findings) -> tuple[int, int]:
    jobs = []
    for kata in katas:
        mutants = mutation.load_mutants(kata)
        ids = {b.id for b in kata.blanks}
        for blank in sorted(ids - set(mutants)):
            f.bad(f"{blank}: no mutants in {shown(kata.mutants_path)}")
        for blank in sorted(set(mutants) - ids):
            f.bad(f"{shown(kata.mutants_path)}: mutants for unknown blank {blank}")
        jobs += [j for j in mutation.jobs_for(kata) if j.blank in ids]
    results = mutation.run_all(jobs)
    for r in results:
        if not r.caught:
            f.bad(f"{r.job.blank} mutant survived: {r.job.why!r}: {r.message}")
    caught = sum(r.caught for r in results)
    if caught == len(results):
        f.ok(f"{caught} of {len(results)} mutants caught")
    named = [r for r in results if r.caught and r.job.why in r.diagnosis]
    for r in results:
        if r.caught and r.job.why not in r.diagnosis:
            f.bad(f"{r.job.blank} mutant {r.job.why!r} is caught but not diagnosed"
                  + (f" (named instead: {r.diagnosis})" if r.diagnosis else "") + f": {r.message.splitlines()[0]}")
    if len(named) == caught:
        f.ok(f"the diagnosis names each of the {caught} caught mutants")
    return caught, len(results)


def check_translations(katas, f: Findings) -> None:
    """Each kata's words in every language but English: all there, and the same code spans as the English."""
    for lang in i18n.languages()[1:]:
        before = f.problems
        for kata in katas:
            english, words = kata.texts("en"), kata.texts(lang)
            where = f"kata {kata.number} ({shown(kata.translation_path(lang))})"
            if words.problem:
                f.bad(f"{where} cannot be read: {words.problem}")
                continue
            if not kata.translation_path(lang).exists():
                f.bad(f"{where} is missing: no {lang} title, explanation, or statement and hints of "
                      f"{', '.join(b.id for b in kata.blanks)}")  # fmt: skip
                continue
            for gap in words.missing(kata.blanks):
                f.bad(f"{where}: no {lang} {gap}")
            texts = [("title", english.title, words.title), ("explanation", english.explanation, words.explanation)]
            for b in kata.blanks:
                texts.append((f"{b.id} statement", b.statement, words.statements.get(b.id, "")))
                pairs = zip(b.hints, words.hints.get(b.id, ()))
                texts += [(f"{b.id} hint {i}", en, said) for i, (en, said) in enumerate(pairs, start=1)]
            for what, en, said in texts:
                if said and code_spans(en) != code_spans(said):
                    only_en = sorted(set(code_spans(en)) - set(code_spans(said)))
                    only_there = sorted(set(code_spans(said)) - set(code_spans(en)))
                    f.bad(f"{where}: the {what}'s code spans differ from the English: English only {only_en}, "
                          f"{lang} only {only_there}")  # fmt: skip
                if what != "explanation" and "\n" in said:
                    f.bad(f"{where}: the {lang} {what} is more than one line")
            extra = sorted((set(words.statements) | set(words.hints)) - {b.id for b in kata.blanks})
            if extra:
                f.bad(f"{where}: blanks the reference does not have: {', '.join(extra)}")
        if f.problems == before:
            f.ok(f"every kata has its {lang} words: title, explanation, each blank's statement and hints "
                 f"({len(katas)} katas)")  # fmt: skip
        before, named = f.problems, sum(check_mistake_names(kata, lang, f) for kata in katas)
        if f.problems == before:
            f.ok(f"every catalogued mistake has its {lang} name ({named} mistakes of {len(katas)} katas)")
        before, said_count = f.problems, 0
        for kata in katas:
            found, untranslated = kata_test_messages(kata.test_path, lang)
            said_count += found
            for line, what in untranslated:
                f.bad(f"{shown(kata.test_path)}:{line}: {what} has no {lang} words: write it as said(english, {lang}=...)")
        if f.problems == before:
            f.ok(f"every message of the kata tests has its {lang} words ({said_count} in {len(katas)} test files)")


MESSAGE_CALLS = {"fail"}  # support.fail and pytest.fail: their first argument is what a learner reads
LABELLED_CALLS = {"assert_tensor", "assert_close"}  # their name= label is said in support's messages


WORD = re.compile(r"[A-Za-z]{3,}")


def words_in(label: ast.expr) -> bool:
    """Whether a name= label holds words to translate: text with a space and a word of three
    letters or more in it ("the mask"; not "out", nor a formula such as "μ̃ (√ᾱ_t x0 + …)")."""
    if isinstance(label, ast.JoinedStr):
        text = "".join(str(v.value) for v in label.values if isinstance(v, ast.Constant))
    elif isinstance(label, ast.Constant):
        text = str(label.value)
    else:
        return False  # a variable
    return " " in text and bool(WORD.search(text))


def kata_test_messages(test_path, lang: str) -> tuple[int, list[tuple[int, str]]]:
    """The messages a kata's tests say themselves, read from their syntax tree: how many are said
    with said(..., LANG=...), and where one is not (line, what). A one-word name= label (an
    identifier such as "out", or a formula) needs no translation: one with words does (words_in)."""
    tree = ast.parse(test_path.read_text(encoding="utf-8"))
    translated, missing = 0, []

    def is_said(node) -> bool:
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "said"
                and any(k.arg == lang for k in node.keywords))  # fmt: skip

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in MESSAGE_CALLS and node.args:
            if is_said(node.args[0]):
                translated += 1
            else:
                missing.append((node.lineno, f"{name}(...)'s message"))
        if name in LABELLED_CALLS:
            for keyword in node.keywords:
                label = keyword.value
                if keyword.arg != "name":
                    continue
                if is_said(label):
                    translated += 1
                elif words_in(label):
                    missing.append((node.lineno, f"the label name={ast.unparse(label)}"))
    return translated, missing


def check_mistake_names(kata, lang: str, f: Findings) -> int:
    """Each of the kata's catalogued mistakes named in `lang`, with the English name's code spans, and
    no name of a mistake MUTANTS does not have. Returns how many mistakes it has."""
    mutants = mutation.load_mutants(kata)
    path = kata.mistakes_path(lang)
    names = texts.read_mistakes(path, lang)
    where = f"kata {kata.number} ({shown(path)})"
    count = sum(len(mistakes) for mistakes in mutants.values())
    if names.problem:
        f.bad(f"{where} cannot be read: {names.problem}")
        return count
    if count and not path.exists():
        f.bad(f"{where} is missing: no {lang} names of the {count} catalogued mistakes of "
              f"{', '.join(mutants)}")  # fmt: skip
        return count
    for blank_id, mistakes in mutants.items():
        for english in mistakes:
            said = names.name(blank_id, english)
            if not said:
                f.bad(f"{where}: no {lang} name of {blank_id}'s mistake {english!r}")
            elif code_spans(said) != code_spans(english):
                f.bad(f"{where}: the {lang} name of {blank_id}'s mistake {english!r} has other code spans: {said!r}")
    for blank_id, said in names.names.items():
        for english in said:
            if english not in mutants.get(blank_id, {}):
                f.bad(f"{where}: a {lang} name of {blank_id}'s mistake {english!r}, which "
                      f"{shown(kata.mutants_path)} does not have")  # fmt: skip
    return count


def check_notebooks(katas, f: Findings, execute: bool = True) -> None:
    from checker import notebooks

    for lang in i18n.languages():
        try:
            stale = notebooks.stale_notebooks(katas, lang)
        except notebooks.NotebookToolsMissing as e:
            f.bad(f"the notebooks cannot be checked: {e}")
            return
        folder = shown(notebooks.notebook_folder(lang))
        if stale:
            f.bad(f"not what the katas generate: {', '.join(shown(notebooks.notebook_path(k, lang)) for k in stale)} "
                  "(run `katas sync`)")  # fmt: skip
        else:
            f.ok(f"{folder}/ equals what the katas generate")
        path = notebooks.readme_path(lang)
        if not path.exists():
            f.bad(f"{path.name} is missing: it holds the table of the notebooks in {folder}/")
            continue
        readme = normalize(path.read_text(encoding="utf-8"))
        try:
            current = notebooks.readme_with_table(readme, lang) == readme
        except ValueError as e:
            f.bad(str(e))
        else:
            if current:
                f.ok(f"{path.name} links every kata's notebook in {folder}/ (Open in Colab)")
            else:
                f.bad(f"{path.name}'s table of notebooks is out of date (run `katas sync`)")
    if not execute:
        return
    started = time.perf_counter()
    try:
        runs = notebooks.execute_all(katas)
    except notebooks.NotebookToolsMissing as e:
        f.bad(f"the notebooks cannot be run: {e}")
        return
    for run in runs:
        if run.problem:
            f.bad(f"{shown(notebooks.notebook_path(run.kata))} with the reference filled in: {run.problem}")
    if not any(run.problem for run in runs):
        f.ok(f"{len(runs)} notebooks run top to bottom with the reference filled in, and their checks pass "
             f"({time.perf_counter() - started:.0f} s)")  # fmt: skip


def check_pictures(katas, f: Findings) -> None:
    """Every kata has its picture: pictures/kNN.py with draw(mods, show) (read, not imported: no matplotlib here)."""
    from pictures import has_picture, picture_path

    missing = [k for k in katas if not has_picture(k.number)]
    for kata in missing:
        f.bad(f"kata {kata.number} has no picture: add {shown(picture_path(kata.number))} with draw(mods, show) "
              "(see pictures/__init__.py)")  # fmt: skip
    if not missing:
        f.ok(f"{len(katas)} katas, each with its picture (`katas show NN`)")


def run(out: Console, mutants: bool = True, only: list | None = None, notebooks: bool = True) -> bool:
    katas = only or all_katas()
    f = Findings(out)
    out.print(Text("Self-check", style="bold"))
    if check_structure(katas, f):
        check_translations(katas, f)
        check_pictures(katas, f)
        check_generated(katas, f)
        check_reference_passes(katas, f)
        check_no_shortcuts(katas, f)
        check_shipped_fails(katas, f)
        if mutants:
            check_mutants(katas, f)
        check_notebooks(katas, f, execute=notebooks)
    out.print(Text(f"{f.problems} problems", style="red bold") if f.problems else Text("all good", style="green bold"))
    return f.problems == 0
