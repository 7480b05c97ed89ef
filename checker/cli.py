"""`katas`: the command line, a thin layer over the checker's functions.

Exit codes: 0 all graded blanks pass (or the command did its job), 1 some blank does not pass
yet, 2 a bad request (unknown kata or blank, a self-check finding), 3 the environment cannot
grade (torch or pytest-timeout missing).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from rich.text import Text

from checker import catalog, history, i18n, progress, render, report, workspace
from checker.catalog import UnknownKata, all_katas, find_blank, find_kata, shown
from checker.i18n import t
from checker.grading import (
    BROKEN,
    FAILING,
    IN_PROGRESS,
    NOT_RUN,
    NOT_STARTED,
    PASS,
    PASSING,
    NOT_GRADED_YET,
    EnvironmentProblem,
    grade,
    is_pristine,
    state_word,
    warm_grading,
)

OK, NOT_PASSING, BAD_REQUEST, NO_ENVIRONMENT = 0, 1, 2, 3


def kata_states(katas=None):
    """The state of every kata: from the cache where nothing changed, graded (in one run) where it did."""
    data = progress.load()
    results, to_grade = {}, []
    for kata in katas or all_katas():
        entry = progress.cached(kata, data)
        if entry:
            results[kata.number] = (entry["state"], sum(v == PASS for v in entry["blanks"].values()))
        elif is_pristine(kata):
            results[kata.number] = (NOT_STARTED, 0)
        else:
            to_grade.append(kata)
    if to_grade:
        graded = grade(to_grade)
        progress.record(graded)
        results.update({r.kata.number: (r.state, r.passed) for r in graded})
    return results


def cmd_status(args) -> int:
    out = render.console()
    katas = all_katas()
    states = kata_states(katas)
    rows = [(k, *states[k.number], len(k.blanks), render.kata_command(k)) for k in katas]
    out.print(render.dashboard(rows))
    out.print(render.overall(rows))
    todo = next((k for k in katas if states[k.number][0] != PASSING), None)
    if todo is None:
        out.print(Text(t("cli.all_pass"), style="bold green"))
        return OK
    out.print(Text(t("cli.next_kata", number=todo.number, title=todo.title_in(), path=shown(todo.kata_path),
                     command=render.kata_command(todo)), style="bold"))  # fmt: skip
    return OK


def earlier_kata_notes(kata) -> list[str]:
    """One note naming the earlier katas this one imports that do not pass in the learner's copy."""
    unfinished = []
    for earlier in (k for k in all_katas() if k.module in kata.earlier_katas):
        entry = progress.cached(earlier)
        state = entry["state"] if entry else (NOT_STARTED if is_pristine(earlier) else NOT_GRADED_YET)
        if state != PASSING:
            said = t(EARLIER_STATE_KEYS[state]) if state in EARLIER_STATE_KEYS else state_word(state)
            unfinished.append(t("cli.earlier_kata", number=earlier.number, module=earlier.module, state=said))
    if not unfinished:
        return []
    return [t("cli.builds_on", katas=t("cli.and").join(unfinished))]


EARLIER_STATE_KEYS = {NOT_STARTED: "state.not_started", IN_PROGRESS: "state.unfinished", FAILING: "state.failing",
                      BROKEN: "state.broken"}  # fmt: skip


def cmd_check(args) -> int:
    kata = find_kata(args.kata)
    only = [find_blank(b)[1].id for b in args.blanks] or ([find_blank(args.kata)[1].id] if "." in args.kata else [])
    strangers = [b for b in only if not b.startswith(kata.number + ".")]
    if strangers:
        raise UnknownKata(t("catalog.blank_not_in_kata", blank=strangers[0], number=kata.number))
    result = grade([kata], impl=args.impl, only_blanks=only)[0]
    if args.impl == "katas":
        if only:  # the other blanks: as last graded, where nothing changed since
            progress.with_cached_verdicts(result)
        if not only or all(b.verdict != NOT_RUN for b in result.blanks):
            progress.record([result])
    render.console().print(render.kata_report(result, earlier_kata_notes(kata) if args.impl == "katas" else []))
    if args.impl == "katas" and result.state == PASSING and history.commit_on_pass(args.commit):
        render.console().print(Text(history.commit_pass(kata, result), style="dim"))
    graded = [b for b in result.blanks if (not only or b.id in only)]
    return OK if result.state != BROKEN and all(b.verdict == PASS for b in graded) else NOT_PASSING


def cmd_hint(args) -> int:
    kata, blank = find_blank(args.blank)
    out = render.console()
    if not blank.hints:
        out.print(t("cli.no_hints", blank=blank.id))
        return OK
    words = kata.texts()
    hints = words.hints.get(blank.id, ())
    statement = words.statements.get(blank.id) or blank.statement
    if len(hints) != len(blank.hints):  # no translation of them (yet): the English ones
        hints = blank.hints
        out.print(Text(t("cli.hints_in_english", blank=blank.id, language=i18n.NAMES.get(words.lang, words.lang)),
                       style="dim"))  # fmt: skip
    seen = progress.hints().get(blank.id, 0)
    tier = min(args.tier or seen + 1, len(hints))
    progress.save_hint_tier(blank.id, tier)
    budget = words.budgets.get(blank.id) or blank.budget
    out.print(Text(t("cli.hint_heading", blank=blank.id, budget=budget, statement=statement), style="bold"))
    for i, hint in enumerate(hints[:tier], start=1):
        tier_said = Text(f"  {t('cli.hint_tier', i=i, n=len(hints))} ", style="cyan")
        out.print(tier_said, Text(hint, style="" if i == tier else "dim"))
    if tier < len(hints):
        out.print(Text(t("cli.ask_again", command=render.hint_command(blank.id)), style="dim"))
    else:
        out.print(Text(t("cli.last_hint", number=kata.number), style="dim"))
    return OK


def cmd_watch(args) -> int:
    import logging

    from watchfiles import watch

    logging.getLogger("watchfiles").setLevel(logging.ERROR)  # its lines (changes seen, Ctrl-C caught) are noise here

    kata = find_kata(args.kata)
    out = render.console()

    def regrade():
        result = grade([kata])[0]
        progress.record([result])
        out.clear()
        out.print(render.kata_report(result, earlier_kata_notes(kata)))
        if result.state == PASSING and history.commit_on_pass(args.commit):
            out.print(Text(history.commit_pass(kata, result), style="dim"))
        out.print(Text(t("cli.watching", path=shown(kata.kata_path)), style="dim"))

    with warm_grading():  # torch and pytest imported once, for every re-grade
        try:
            regrade()
            for _ in watch(kata.kata_path.parent, watch_filter=lambda _, path: path.endswith(kata.kata_path.name),
                           debounce=300, raise_interrupt=False):  # fmt: skip
                regrade()
        except KeyboardInterrupt:
            pass
    return OK


def cmd_reset(args) -> int:
    kata = find_kata(args.kata)
    saved = workspace.reset(kata)
    out = render.console()
    if saved:
        out.print(t("cli.reset_done", number=kata.number, path=shown(saved)))
    else:
        out.print(t("cli.reset_nothing", number=kata.number))
    return OK


def cmd_solution(args) -> int:
    kata = find_kata(args.kata)
    out = render.console()
    state = PASSING if args.anyway else kata_states([kata])[kata.number][0]  # --anyway: no need to grade
    if state != PASSING:
        out.print(t("cli.solution_locked", number=kata.number, state=state_word(state),
                    command=render.kata_command(kata)))  # fmt: skip
        return NOT_PASSING
    hunks = workspace.solution_hunks(kata)
    if not hunks:
        out.print(t("cli.solution_same"))
    else:
        out.print(Text(t("cli.solution_differs", number=kata.number), style="bold"))
        out.print(render.code_comparison(hunks, shown(kata.kata_path), out.width))
    return OK


def cmd_restore(args) -> int:
    kata = find_kata(args.kata)
    out = render.console()
    again = f"nox -s restore -- {kata.number}"
    saved = workspace.backups(kata)
    if not saved:
        out.print(Text(t("cli.no_backups", number=kata.number, folder=shown(progress.BACKUP_DIR)), style="red"))
        return BAD_REQUEST
    if args.list:
        out.print(render.backup_list(kata, saved))
        out.print(Text(t("cli.backups_how", again=again), style="dim"))
        return OK
    backup = workspace.find_backup(kata, args.backup)
    if backup is None:
        out.print(Text(t("cli.no_backup_named", number=kata.number, name=args.backup, again=again), style="red"))
        return BAD_REQUEST
    current = workspace.restore(kata, backup)
    when = progress.backup_time(backup)
    made = t("cli.backup_made", when=f"{when:%Y-%m-%d %H:%M:%S}") if when else ""
    out.print(t("cli.restored", number=kata.number, path=shown(backup), made=made))
    if current:
        out.print(t("cli.current_kept", path=shown(current), again=again))
    else:
        out.print(t("cli.current_same"))
    return OK


def cmd_restore_tests(args) -> int:
    restored = workspace.restore_tests()
    out = render.console()
    for relpath, saved in restored:
        out.print(t("cli.tests_restored", path=relpath) + (t("cli.your_copy", path=shown(saved)) if saved else ""))
    if not restored:
        out.print(t("cli.tests_as_shipped"))
    return OK


def cmd_grade(args) -> int:
    """Grade every started kata from scratch (CI on a learner's fork): fails where a started kata is
    wrong. Writes results.json and summary.md (checker/report.py) to --out (default out/grade/).
    With --against UPSTREAM: the canonical grade of a fork's kata files (cmd_grade_against)."""
    folder = Path(args.out).resolve() if args.out else catalog.ROOT / "out" / "grade"
    if args.against:
        return cmd_grade_against(args, folder)
    if args.forks:
        raise UnknownKata(t("cli.forks_need_against"))
    katas = all_katas()
    try:  # never from the cache: every started kata is graded again
        results = grade([k for k in katas if not is_pristine(k)])
    except EnvironmentProblem as e:  # a results.json that says why, then the usual message and exit code
        report.write(report.results_json([report.not_started(k) for k in katas], problem=str(e)), folder)
        raise
    progress.record(results)
    graded = {r.kata.number: r for r in results}
    everything = [graded.get(k.number) or report.not_started(k) for k in katas]
    out = render.console()
    for result in results:
        out.print(render.kata_report(result))
    rows = [(r.kata, r.state, r.passed, len(r.blanks), render.kata_command(r.kata)) for r in everything]
    out.print(render.dashboard(rows))
    out.print(render.overall(rows))
    data = report.results_json(everything)
    for path in report.write(data, folder):
        out.print(t("cli.wrote", path=shown(path)))
    return NOT_PASSING if data["status"] == report.FAIL_STATUS else OK


def cmd_grade_against(args, folder: Path) -> int:
    """Teacher mode (checker/teacher.py): the canonical grade of this repository's kata files (exit code
    as `katas grade`), or of each FORK's (a batch: 0 once its table is written). 2: no upstream."""
    from checker import teacher

    out = render.console()
    with tempfile.TemporaryDirectory(prefix="katas-against-") as scratch:
        try:
            upstream, label = teacher.resolve_upstream(args.against, Path(scratch))
        except teacher.TeacherError as e:
            out.print(Text(str(e), style="red"))
            return BAD_REQUEST
        if args.forks:
            teacher.grade_batch(upstream, label, [Path(f) for f in args.forks], folder, out)
            return OK
        graded = teacher.grade_current(upstream, label, catalog.ROOT, folder, out)
    status = graded.data["status"] if graded.data else report.ERROR_STATUS
    if status == report.ERROR_STATUS:
        return NO_ENVIRONMENT if graded.code == NO_ENVIRONMENT else BAD_REQUEST
    return NOT_PASSING if status == report.FAIL_STATUS else OK


def cmd_history(args) -> int:
    """When each kata first passed and after how many grading runs, read from git."""
    out = render.console()
    try:
        passes = history.first_passes()
    except history.NoHistory as e:
        out.print(Text(t("cli.no_history", why=e), style="yellow"))
        return OK
    titles = {k.number: k.title_in() for k in all_katas()}
    out.print(render.history_table(passes, titles))
    if not passes:
        out.print(t("cli.no_passes_yet"))
    return OK


def cmd_config(args) -> int:
    """Settings kept in .katas/settings.json: commit-on-pass (on, off) and lang (the language)."""
    out = render.console()
    if args.setting == "lang" and args.value is not None:
        if i18n.code(args.value) not in i18n.languages():
            raise UnknownKata(t("cli.unknown_language", lang=args.value, known=", ".join(i18n.languages())))
        progress.save_setting(i18n.SETTING, i18n.code(args.value))
    elif args.setting == "commit-on-pass" and args.value is not None:
        if args.value not in ("on", "off"):
            raise UnknownKata(t("cli.on_or_off", value=args.value))
        progress.save_setting(history.COMMIT_SETTING, args.value == "on")
    if args.setting in (None, "commit-on-pass"):
        on = bool(progress.settings().get(history.COMMIT_SETTING))
        out.print(t("cli.config_commit", value="on" if on else "off"))
    if args.setting in (None, "lang"):
        lang = i18n.code(i18n.saved()) if i18n.saved() else ""
        with i18n.using(lang if lang in i18n.languages() else i18n.language()):
            out.print(t("cli.config_lang", value=lang or "-"))
    return OK


def cmd_language(args) -> int:
    """The language of the messages, hints and kata files: `katas language ja` switches the learner's katas
    (their explanation and TODO lines, in place; their code stays) and saves it as the setting."""
    out = render.console()
    if args.lang is None:
        now = i18n.language()
        known = ", ".join(f"{code} ({i18n.NAMES.get(code, code)})" for code in i18n.languages())
        out.print(t("cli.language_now", name=i18n.NAMES.get(now, now), lang=now, known=known))
        return OK
    lang = i18n.code(args.lang)
    if lang not in i18n.languages():
        raise UnknownKata(t("cli.unknown_language", lang=args.lang, known=", ".join(i18n.languages())))
    progress.save_setting(i18n.SETTING, lang)
    with i18n.using(lang):
        untranslated = []
        for kata in all_katas():
            switched = workspace.switch_language(kata, lang)
            if switched.changed:
                note = t("cli.language_backup", path=shown(switched.backup)) if switched.backup else ""
                out.print(t("cli.language_rewrote", path=shown(kata.kata_path), note=note))
            if switched.kept_explanation:
                out.print(Text(t("cli.language_kept_explanation", path=shown(kata.kata_path)), style="yellow"))
            if lang != "en" and kata.texts(lang).missing(kata.blanks):
                untranslated.append(kata.number)
        if untranslated:
            out.print(Text(t("cli.language_untranslated", katas=", ".join(untranslated)), style="dim"))
        out.print(Text(t("cli.language_saved", name=i18n.NAMES.get(lang, lang)), style="bold"))
        overridden = os.environ.get(i18n.ENV)
        if overridden and i18n.code(overridden) != lang:
            out.print(Text(t("cli.language_overridden", env=i18n.ENV, value=overridden), style="yellow"))
    return OK


def cmd_milestone(args) -> int:
    """Train the learner's own chain of katas for real and report the figure against its goal."""
    import importlib

    from milestones import MILESTONES

    if args.name not in MILESTONES:
        raise UnknownKata(t("cli.no_milestone", name=args.name, known=", ".join(MILESTONES)))
    from milestones.runner import MissingKatas, out_dir, run

    spec = importlib.import_module(MILESTONES[args.name][0]).SPEC
    out = render.console()
    _, after, shows = MILESTONES[args.name]
    out.print(Text(t("cli.milestone_heading", name=spec.name, after=after, shows=shows), style="bold"))
    out.print(Text(t("cli.milestone_budget", steps=args.steps or spec.steps, minutes=spec.minutes, says=spec.says,
                     goal=f"{spec.goal:.0%}"), style="dim"))  # fmt: skip
    try:
        result = run(spec, use_reference=args.reference, device=args.device, steps=args.steps, retrain=args.retrain,
                     console=out)  # fmt: skip
    except MissingKatas as e:
        out.print(Text(str(e), style="red"))
        return NOT_PASSING
    for png in result.pngs:
        out.print(t("cli.wrote", path=shown(png)))
    out.print(t("cli.wrote", path=shown(out_dir(spec.name) / "result.json")))
    out.print(result.line())
    return OK if result.passed else NOT_PASSING


def cmd_generate(args) -> int:
    """Draw a prompt with the learner's own text-to-image model (trained once, then reused)."""
    import importlib

    from milestones import MILESTONES, draw
    from milestones.runner import MissingKatas, out_dir, trained
    from shapes.world import VOCABULARY, parse_caption

    out = render.console()
    prompt = " ".join(args.prompt).strip()
    unknown = [w for w in prompt.lower().split() if w not in VOCABULARY]
    if not prompt or unknown:
        said = t("cli.generate_unknown_word", word=repr(unknown[0])) if unknown else t("cli.generate_say_what")
        out.print(Text(t("cli.generate_words", said=said, words=" ".join(VOCABULARY)), style="red"))
        return BAD_REQUEST
    try:
        parse_caption(prompt)
    except ValueError as e:
        out.print(Text(str(e), style="red"))
        return BAD_REQUEST
    name = "latent" if args.latent else "text2image"
    module = importlib.import_module(MILESTONES[name][0])
    spec = module.SPEC
    checkpoint = out_dir(name) / "checkpoint.pt"
    if args.retrain or not checkpoint.exists():
        out.print(Text(t("cli.generate_training", name=name, steps=spec.steps, minutes=spec.minutes), style="dim"))
    try:
        model = trained(spec, use_reference=args.reference, device=args.device, retrain=args.retrain, console=out)
    except MissingKatas as e:
        out.print(Text(str(e), style="red"))
        return NOT_PASSING
    images = draw(name, model, [prompt] * args.n, steps=args.steps, scale=args.guidance, seed=args.seed)
    slug = "_".join(prompt.lower().split())
    path = out_dir("generate") / f"{slug}_seed{args.seed}.png"
    from shapes.grid import save_grid

    save_grid(images, [prompt] * args.n if args.n <= 8 else None, path)
    how = t("cli.generate_reused") if model.reused else t("cli.generate_trained", steps=model.steps)
    guidance = t("cli.generate_as_milestone") if args.guidance is None else f"{args.guidance:g}"
    key = "cli.generate_drew" if args.n > 1 else "cli.generate_drew_one"
    out.print(t(key, n=args.n, prompt=repr(prompt), name=name, how=how, steps=args.steps, guidance=guidance,
                seed=args.seed))  # fmt: skip
    out.print(shown(path))
    return OK


def cmd_tensor_map(args) -> int:
    """Maintainers: the Tensor Map, recorded from the reference pipeline, into README.md and docs/tensor_map.png."""
    from milestones import tensor_map

    out = render.console()
    changed, png = tensor_map.make(catalog.ROOT, out)
    out.print(f"README.md: the Tensor Map {'rewritten' if changed else 'was up to date'}")
    if png:
        out.print(f"wrote {shown(png)}")
    return OK


def cmd_demo(args) -> int:
    """Maintainers: the README's demo grid, drawn by the reference text-to-image model, and the judge's reading."""
    from milestones import demo

    out = render.console()
    made = demo.make(catalog.ROOT, out)
    out.print(f"wrote {shown(made.png)} ({'checkpoint reused' if made.reused else 'model trained now'}); the judge reads "
              f"{sum(made.right)} of {len(made.right)} images as their prompt; README.md's demo block is up to date")  # fmt: skip
    return OK


def cmd_show(args) -> int:
    """Pictures of a kata: its code (the learner's, or ours with --reference) on a fixed example, as PNGs."""
    from pictures.show import ShowProblem, missing_library, show

    kata = find_kata(args.kata)
    out = render.console()
    missing = missing_library()
    if missing:
        out.print(Text(missing, style="yellow"))
        return OK
    try:
        result = show(kata, use_reference=args.reference, device=args.device,
                      say=lambda line: out.print(Text(line, style="dim")))  # fmt: skip
    except ShowProblem as e:
        out.print(Text(str(e), style="red"))
        return NOT_PASSING
    for note in result.notes:
        out.print(Text(note, style="dim"))
    for path in result.paths:
        out.print(t("cli.wrote", path=shown(path)))
    return OK


def cmd_sync(args) -> int:
    out = render.console()
    for kata, saved in workspace.generate([find_kata(k) for k in args.katas] or None):
        note = f" (the old file had your work: kept as {shown(saved)})" if saved else ""
        out.print(f"wrote {shown(kata.kata_path)}{note}")
    for path in workspace.stale_katas():
        out.print(f"note: {path.name} has no reference file any more; remove it if it is obsolete")
    out.print("katas/ and checker/tests_manifest.json are up to date with reference/ and tests/.")
    return sync_notebooks([find_kata(k) for k in args.katas] or None)


def sync_notebooks(katas) -> int:
    """notebooks/kNN_*.ipynb from the katas, and notebooks/LANG/ in each other language (`katas sync`
    writes them after the katas), with the table of them in README.md (README.LANG.md)."""
    from checker import notebooks

    out = render.console()
    for lang in i18n.languages():
        try:
            written = notebooks.write_notebooks(katas, lang)
        except notebooks.NotebookToolsMissing as e:
            out.print(Text(f"notebooks/ not written: {e}", style="red"))
            return BAD_REQUEST
        for kata, saved in written:
            note = f" (the old one had your work: kept as {shown(saved)})" if saved else ""
            out.print(f"wrote {shown(notebooks.notebook_path(kata, lang))}{note}")
        for path in notebooks.stale_notebook_files(lang=lang):
            out.print(f"note: {shown(path)} has no kata any more; remove it if it is obsolete")
        readme = notebooks.readme_path(lang)
        if not readme.exists():
            out.print(Text(f"{readme.name} is missing: no table of the {lang} notebooks written", style="red"))
        elif notebooks.write_readme_table(lang):
            out.print(f"wrote the table of notebooks in {readme.name}")
    out.print("notebooks/ and the READMEs' tables of them are up to date with katas/.")
    return OK


def cmd_selfcheck(args) -> int:
    from checker import selfcheck

    only = [find_kata(k) for k in args.katas]
    fine = selfcheck.run(render.console(), mutants=not args.no_mutants, only=only, notebooks=not args.no_notebooks)
    return OK if fine else BAD_REQUEST


def rebuild_untrusted_record(regrade: bool = True) -> None:
    """A hand-edited or damaged progress record is never trusted: it is kept as a backup, said so
    in one line, and rebuilt by grading every started kata again."""
    why = progress.problem()
    if not why:
        return
    saved = progress.set_aside()
    said = t("cli.untrusted_record", path=shown(progress.PROGRESS_PATH), why=why, saved=shown(saved))
    render.console().print(Text(said, style="yellow"))
    if regrade:
        kata_states()


def build_parser() -> argparse.ArgumentParser:
    lang = argparse.ArgumentParser(add_help=False)  # --lang, before the command or after it
    lang.add_argument("--lang", default=argparse.SUPPRESS, metavar="LANG", help=t("help.lang"))
    parser = argparse.ArgumentParser(prog="katas", description=t("help.katas"), parents=[lang])
    sub = parser.add_subparsers(dest="command")

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[lang], **kwargs)

    command("status", help=t("help.status")).set_defaults(run=cmd_status)
    p = command("check", help=t("help.check"))
    p.add_argument("kata")
    p.add_argument("blanks", nargs="*", help=t("help.check_blanks"))
    p.add_argument("--impl", default="katas", help=t("help.check_impl"))
    p.add_argument("--commit", action="store_true", help=t("help.commit"))
    p.set_defaults(run=cmd_check)
    p = command("hint", help=t("help.hint"))
    p.add_argument("blank")
    p.add_argument("--tier", type=int, help=t("help.hint_tier"))
    p.set_defaults(run=cmd_hint)
    p = command("watch", help=t("help.watch"))
    p.add_argument("kata")
    p.add_argument("--commit", action="store_true", help=t("help.commit"))
    p.set_defaults(run=cmd_watch)
    p = command("reset", help=t("help.reset"))
    p.add_argument("kata")
    p.set_defaults(run=cmd_reset)
    p = command("restore", help=t("help.restore"))
    p.add_argument("kata")
    p.add_argument("backup", nargs="?", help=t("help.restore_backup"))
    p.add_argument("--list", action="store_true", help=t("help.restore_list"))
    p.set_defaults(run=cmd_restore)
    p = command("solution", help=t("help.solution"))
    p.add_argument("kata")
    p.add_argument("--anyway", action="store_true", help=t("help.solution_anyway"))
    p.set_defaults(run=cmd_solution)
    command("restore-tests", help=t("help.restore_tests")).set_defaults(run=cmd_restore_tests)
    p = command("grade", help=t("help.grade"))
    p.add_argument("forks", nargs="*", metavar="FORK", help=t("help.grade_forks"))
    p.add_argument("--out", metavar="DIR", help=t("help.grade_out"))
    p.add_argument("--against", metavar="UPSTREAM", help=t("help.grade_against"))
    p.set_defaults(run=cmd_grade)
    command("history", help=t("help.history")).set_defaults(run=cmd_history)
    p = command("config", help=t("help.config"))
    p.add_argument("setting", nargs="?", choices=["commit-on-pass", "lang"], help=t("help.config_setting"))
    p.add_argument("value", nargs="?", help=t("help.config_value"))
    p.set_defaults(run=cmd_config)
    p = command("language", help=t("help.language"))
    p.add_argument("lang", nargs="?", metavar="LANG", help=t("help.language_lang"))
    p.set_defaults(run=cmd_language)
    p = command("milestone", help=t("help.milestone"))
    p.add_argument("name", help=t("help.milestone_name"))
    p.add_argument("--reference", action="store_true", help=t("help.reference"))
    p.add_argument("--device", default="auto", help=t("help.device"))
    p.add_argument("--steps", type=int, help=t("help.milestone_steps"))
    p.add_argument("--retrain", action="store_true", help=t("help.retrain"))
    p.set_defaults(run=cmd_milestone)
    p = command("generate", help=t("help.generate"))
    p.add_argument("prompt", nargs="*", help=t("help.generate_prompt"))
    p.add_argument("-n", type=int, default=8, help=t("help.generate_n"))
    p.add_argument("--steps", type=int, default=50, help=t("help.generate_steps"))
    p.add_argument("--guidance", type=float, help=t("help.generate_guidance"))
    p.add_argument("--seed", type=int, default=0, help=t("help.generate_seed"))
    p.add_argument("--device", default="auto", help=t("help.device"))
    p.add_argument("--latent", action="store_true", help=t("help.generate_latent"))
    p.add_argument("--reference", action="store_true", help=t("help.reference"))
    p.add_argument("--retrain", action="store_true", help=t("help.retrain"))
    p.set_defaults(run=cmd_generate)
    command("tensor-map", help=t("help.tensor_map")).set_defaults(run=cmd_tensor_map)
    command("demo", help=t("help.demo")).set_defaults(run=cmd_demo)
    p = command("show", help=t("help.show"))
    p.add_argument("kata")
    p.add_argument("--reference", action="store_true", help=t("help.show_reference"))
    p.add_argument("--device", default="cpu", help=t("help.show_device"))
    p.set_defaults(run=cmd_show)
    p = command("sync", help=t("help.sync"))
    p.add_argument("katas", nargs="*", help=t("help.only_these_katas"))
    p.set_defaults(run=cmd_sync)
    p = command("selfcheck", help=t("help.selfcheck"))
    p.add_argument("katas", nargs="*", help=t("help.only_these_katas"))
    p.add_argument("--no-mutants", action="store_true", help=t("help.no_mutants"))
    p.add_argument("--no-notebooks", action="store_true", help=t("help.no_notebooks"))
    p.set_defaults(run=cmd_selfcheck)
    return parser


def asked_language(argv: list[str]) -> str | None:
    """The language `--lang LANG` (or `--lang=LANG`) asks for, wherever it stands in the command line:
    the parser's own help is said in it, so it is known before the parser is built."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    lang, note = i18n.resolve(asked_language(argv))
    with i18n.using(lang):
        if note:
            render.console().print(Text(note, style="yellow"))
        return _run(build_parser().parse_args(argv))


def _run(args: argparse.Namespace) -> int:
    run = getattr(args, "run", cmd_status)
    if catalog.ROOT != catalog.INSTALLED_ROOT:
        said = t("cli.repository", root=catalog.ROOT, installed=catalog.INSTALLED_ROOT)
        render.console().print(Text(said, style="dim"))
    try:
        if run not in (cmd_sync, cmd_selfcheck, cmd_config, cmd_language):
            rebuild_untrusted_record(regrade=run is not cmd_grade)  # grade re-grades every started kata anyway
        return run(args)
    except UnknownKata as e:
        render.console().print(Text(str(e), style="red"))
        return BAD_REQUEST
    except EnvironmentProblem as e:
        render.console().print(Text(str(e), style="red"))
        return NO_ENVIRONMENT


if __name__ == "__main__":
    sys.exit(main())
