"""`katas`: the command line, a thin layer over the checker's functions.

Exit codes: 0 all graded blanks pass (or the command did its job), 1 some blank does not pass
yet, 2 a bad request (unknown kata or blank, a self-check finding), 3 the environment cannot
grade (torch or pytest-timeout missing).
"""

from __future__ import annotations

import argparse
import sys

from rich.text import Text

from checker import catalog, history, progress, render, workspace
from checker.catalog import UnknownKata, all_katas, find_blank, find_kata, shown
from checker.grading import (
    BROKEN,
    FAILING,
    IN_PROGRESS,
    NOT_RUN,
    NOT_STARTED,
    PASS,
    PASSING,
    EnvironmentProblem,
    grade,
    is_pristine,
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
        out.print(Text("Every kata passes. Well done!", style="bold green"))
        return OK
    out.print(
        Text(f"Next: kata {todo.number}, {todo.title}: open {shown(todo.kata_path)} and run "
             f"`{render.kata_command(todo)}`", style="bold")  # fmt: skip
    )
    return OK


def earlier_kata_notes(kata) -> list[str]:
    """One note naming the earlier katas this one imports that do not pass in the learner's copy."""
    unfinished = []
    for earlier in (k for k in all_katas() if k.module in kata.earlier_katas):
        entry = progress.cached(earlier)
        state = entry["state"] if entry else (NOT_STARTED if is_pristine(earlier) else "not graded yet")
        if state != PASSING:
            unfinished.append(f"kata {earlier.number} ({earlier.module}: {EARLIER_STATE_WORDS.get(state, state)})")
    if not unfinished:
        return []
    return [
        f"this kata builds on {' and '.join(unfinished)} in your copy: "
        "its tests use the reference versions, so you can carry on here."
    ]


EARLIER_STATE_WORDS = {NOT_STARTED: "not started", IN_PROGRESS: "unfinished", FAILING: "failing", BROKEN: "broken"}


def cmd_check(args) -> int:
    kata = find_kata(args.kata)
    only = [find_blank(b)[1].id for b in args.blanks] or ([find_blank(args.kata)[1].id] if "." in args.kata else [])
    strangers = [b for b in only if not b.startswith(kata.number + ".")]
    if strangers:
        raise UnknownKata(f"blank {strangers[0]} is not in kata {kata.number}")
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
        out.print(f"Blank {blank.id} has no hints.")
        return OK
    seen = progress.hints().get(blank.id, 0)
    tier = min(args.tier or seen + 1, len(blank.hints))
    progress.save_hint_tier(blank.id, tier)
    out.print(Text(f"Blank {blank.id} ({blank.budget}): {blank.statement}", style="bold"))
    for i, hint in enumerate(blank.hints[:tier], start=1):
        out.print(Text(f"  hint {i} of {len(blank.hints)}: ", style="cyan"), Text(hint, style="" if i == tier else "dim"))
    if tier < len(blank.hints):
        out.print(Text(f"Ask again (`{render.hint_command(blank.id)}`) for a stronger hint.", style="dim"))
    else:
        out.print(Text(f"That was the last hint. `nox -s solution -- {kata.number}` shows ours once yours passes.",
                       style="dim"))  # fmt: skip
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
        out.print(Text(f"Watching {shown(kata.kata_path)}: save it to grade again; Ctrl-C stops.", style="dim"))

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
        out.print(f"Kata {kata.number} is back to its fresh form. Your version is kept as {shown(saved)}")
    else:
        out.print(f"Kata {kata.number} was already in its fresh form; nothing to back up.")
    return OK


def cmd_solution(args) -> int:
    kata = find_kata(args.kata)
    out = render.console()
    state = PASSING if args.anyway else kata_states([kata])[kata.number][0]  # --anyway: no need to grade
    if state != PASSING:
        out.print(
            f"Kata {kata.number} is {state}: the reference solution opens once yours passes "
            f"(`{render.kata_command(kata)}`). A teacher can add --anyway."
        )
        return NOT_PASSING
    hunks = workspace.solution_hunks(kata)
    if not hunks:
        out.print("Yours is the same as the reference: the same code, line for line (comments aside).")
    else:
        out.print(Text(f"Where your code differs from ours, kata {kata.number} (comments aside):", style="bold"))
        out.print(render.code_comparison(hunks, shown(kata.kata_path), out.width))
    return OK


def cmd_restore(args) -> int:
    kata = find_kata(args.kata)
    out = render.console()
    again = f"nox -s restore -- {kata.number}"
    saved = workspace.backups(kata)
    if not saved:
        out.print(Text(f"Kata {kata.number} has no backups in {shown(progress.BACKUP_DIR)}: `nox -s reset -- "
                       f"{kata.number}` makes one before it starts the kata over.", style="red"))  # fmt: skip
        return BAD_REQUEST
    if args.list:
        out.print(render.backup_list(kata, saved))
        out.print(Text(f"`{again}` puts back the newest; `{again} NAME` the one named.", style="dim"))
        return OK
    backup = workspace.find_backup(kata, args.backup)
    if backup is None:
        out.print(Text(f"Kata {kata.number} has no backup named {args.backup}: `{again} --list` lists them.",
                       style="red"))  # fmt: skip
        return BAD_REQUEST
    current = workspace.restore(kata, backup)
    when = progress.backup_time(backup)
    made = f" (made {when:%Y-%m-%d %H:%M:%S})" if when else ""
    out.print(f"Kata {kata.number} is back as it was in {shown(backup)}{made}.")
    if current:
        out.print(f"Your current version is kept as {shown(current)}: `{again}` brings it back.")
    else:
        out.print("Your current version was the same as that backup: nothing else to keep.")
    return OK


def cmd_restore_tests(args) -> int:
    restored = workspace.restore_tests()
    out = render.console()
    for relpath, saved in restored:
        out.print(f"restored {relpath}" + (f" (your copy: {shown(saved)})" if saved else ""))
    if not restored:
        out.print("The tests are as shipped; nothing to restore.")
    return OK


def cmd_grade(args) -> int:
    """Grade every started kata (CI on a learner's fork): fails where a started kata is wrong."""
    results = grade([k for k in all_katas() if not is_pristine(k)])
    progress.record(results)
    out = render.console()
    for result in results:
        out.print(render.kata_report(result))
    cmd_status(args)
    return NOT_PASSING if any(r.state in (FAILING, BROKEN) for r in results) else OK


def cmd_history(args) -> int:
    """When each kata first passed and after how many grading runs, read from git."""
    out = render.console()
    try:
        passes = history.first_passes()
    except history.NoHistory as e:
        out.print(Text(f"History is unavailable: {e}.", style="yellow"))
        return OK
    titles = {k.number: k.title for k in all_katas()}
    out.print(render.history_table(passes, titles))
    if not passes:
        out.print("No kata passes in the committed record yet.")
    return OK


def cmd_config(args) -> int:
    """Settings kept in .katas/settings.json: today one, commit-on-pass."""
    out = render.console()
    if args.value is not None:
        progress.save_setting(history.COMMIT_SETTING, args.value == "on")
    on = bool(progress.settings().get(history.COMMIT_SETTING))
    out.print(f"commit-on-pass: {'on' if on else 'off'} (after a kata passes, commit it and the progress record "
              "with a conventional message)")  # fmt: skip
    return OK


def cmd_milestone(args) -> int:
    """Train the learner's own chain of katas for real and report the figure against its goal."""
    import importlib

    from milestones import MILESTONES

    if args.name not in MILESTONES:
        raise UnknownKata(f"no milestone '{args.name}'; the milestones are {', '.join(MILESTONES)}")
    from milestones.runner import MissingKatas, out_dir, run

    spec = importlib.import_module(MILESTONES[args.name][0]).SPEC
    out = render.console()
    out.print(Text(f"Milestone {spec.name} (after kata {MILESTONES[args.name][1]}): {MILESTONES[args.name][2]}.", style="bold"))
    out.print(Text(f"Budget: {args.steps or spec.steps} steps ({spec.minutes} on 2 CPU cores); "
                   f"goal: {spec.says} ≥ {spec.goal:.0%}.", style="dim"))  # fmt: skip
    try:
        result = run(spec, use_reference=args.reference, device=args.device, steps=args.steps, retrain=args.retrain,
                     console=out)  # fmt: skip
    except MissingKatas as e:
        out.print(Text(str(e), style="red"))
        return NOT_PASSING
    for png in result.pngs:
        out.print(f"wrote {shown(png)}")
    out.print(f"wrote {shown(out_dir(spec.name) / 'result.json')}")
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
        said = f"{unknown[0]!r} is not a word the shapes world has" if unknown else "say what to draw"
        out.print(Text(f"{said}. The words it knows: {' '.join(VOCABULARY)}.\n"
                       'For example: katas generate "a red circle above a blue square"', style="red"))  # fmt: skip
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
        out.print(Text(f"Training the model of milestone {name} first ({spec.steps} steps, {spec.minutes} on 2 CPU "
                       "cores); the checkpoint is kept, so the next prompt draws at once.", style="dim"))  # fmt: skip
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
    out.print(f"{args.n} image{'s' if args.n > 1 else ''} of {prompt!r} by the model of milestone {name} "
              f"({'checkpoint reused' if model.reused else f'trained {model.steps} steps'}, DDIM {args.steps} steps, "
              f"guidance {'as the milestone' if args.guidance is None else f'{args.guidance:g}'}, seed {args.seed}):")  # fmt: skip
    out.print(shown(path))
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
        out.print(f"wrote {shown(path)}")
    return OK


def cmd_sync(args) -> int:
    out = render.console()
    for kata, saved in workspace.generate([find_kata(k) for k in args.katas] or None):
        note = f" (the old file had your work: kept as {shown(saved)})" if saved else ""
        out.print(f"wrote {shown(kata.kata_path)}{note}")
    for path in workspace.stale_katas():
        out.print(f"note: {path.name} has no reference file any more; remove it if it is obsolete")
    out.print("katas/ and checker/tests_manifest.json are up to date with reference/ and tests/.")
    return OK


def cmd_selfcheck(args) -> int:
    from checker import selfcheck

    only = [find_kata(k) for k in args.katas]
    return OK if selfcheck.run(render.console(), mutants=not args.no_mutants, only=only) else BAD_REQUEST


def rebuild_untrusted_record() -> None:
    """A hand-edited or damaged progress record is never trusted: it is kept as a backup, said so
    in one line, and rebuilt by grading every started kata again."""
    why = progress.problem()
    if not why:
        return
    saved = progress.set_aside()
    render.console().print(Text(f"{shown(progress.PROGRESS_PATH)} cannot be trusted: {why}. Kept as {shown(saved)}; "
                                "rebuilding it by grading your katas again.", style="yellow"))  # fmt: skip
    kata_states()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="katas", description="Grade your katas, track progress, get hints.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("status", help="the progress dashboard (the default)").set_defaults(run=cmd_status)
    p = sub.add_parser("check", help="grade one kata: `katas check 03`, or one blank: `katas check 03.2`")
    p.add_argument("kata")
    p.add_argument("blanks", nargs="*", help="only these blanks")
    p.add_argument("--impl", default="katas", help="'katas' (yours), 'reference', or a folder")
    p.add_argument("--commit", action="store_true", help="after a pass, commit the kata and the progress record")
    p.set_defaults(run=cmd_check)
    p = sub.add_parser("hint", help="the next hint for a blank: `katas hint 03.2`")
    p.add_argument("blank")
    p.add_argument("--tier", type=int, help="show hints up to this tier")
    p.set_defaults(run=cmd_hint)
    p = sub.add_parser("watch", help="grade a kata again on every save")
    p.add_argument("kata")
    p.add_argument("--commit", action="store_true", help="after a pass, commit the kata and the progress record")
    p.set_defaults(run=cmd_watch)
    p = sub.add_parser("reset", help="a fresh copy of a kata (yours is backed up in .katas/backups/)")
    p.add_argument("kata")
    p.set_defaults(run=cmd_reset)
    p = sub.add_parser("restore", help="put back a kata from its backups: `katas restore 03` (the latest)")
    p.add_argument("kata")
    p.add_argument("backup", nargs="?", help="the backup's name or path (default: the latest)")
    p.add_argument("--list", action="store_true", help="list the kata's backups, newest first")
    p.set_defaults(run=cmd_restore)
    p = sub.add_parser("solution", help="where your code differs from the reference, once yours passes")
    p.add_argument("kata")
    p.add_argument("--anyway", action="store_true", help="show it before yours passes (teachers)")
    p.set_defaults(run=cmd_solution)
    sub.add_parser("restore-tests", help="undo edits to the tests (your copies are backed up)").set_defaults(
        run=cmd_restore_tests
    )
    sub.add_parser("grade", help="grade every kata (CI on your fork)").set_defaults(run=cmd_grade)
    sub.add_parser("history", help="when each kata first passed, read from git").set_defaults(run=cmd_history)
    p = sub.add_parser("config", help="settings: `katas config commit-on-pass on` commits each pass")
    p.add_argument("setting", nargs="?", choices=["commit-on-pass"], help="the setting to change")
    p.add_argument("value", nargs="?", choices=["on", "off"])
    p.set_defaults(run=cmd_config)
    p = sub.add_parser("milestone", help="train your own katas end to end: `katas milestone vit`")
    p.add_argument("name", help="vit, caption, clip, ddpm, text2image or latent")
    p.add_argument("--reference", action="store_true", help="use ours for the katas that do not pass yet")
    p.add_argument("--device", default="auto", help="auto (a GPU where there is one), cpu, cuda or mps")
    p.add_argument("--steps", type=int, help="the training budget (default: the milestone's own)")
    p.add_argument("--retrain", action="store_true", help="train again even if a checkpoint fits")
    p.set_defaults(run=cmd_milestone)
    p = sub.add_parser("generate", help='draw a prompt with your model: `katas generate "a red circle above a blue square"`')
    p.add_argument("prompt", nargs="*", help="what to draw, in the shapes world's words")
    p.add_argument("-n", type=int, default=8, help="how many images (default 8)")
    p.add_argument("--steps", type=int, default=50, help="DDIM steps (default 50)")
    p.add_argument("--guidance", type=float, help="classifier-free guidance scale (default: the milestone's, 4 or 1.25)")
    p.add_argument("--seed", type=int, default=0, help="the same seed draws the same images (default 0)")
    p.add_argument("--device", default="auto", help="auto (a GPU where there is one), cpu, cuda or mps")
    p.add_argument("--latent", action="store_true", help="use the latent model (milestone latent, after kata 21)")
    p.add_argument("--reference", action="store_true", help="use ours for the katas that do not pass yet")
    p.add_argument("--retrain", action="store_true", help="train again even if a checkpoint fits")
    p.set_defaults(run=cmd_generate)
    p = sub.add_parser("show", help="pictures of a kata: `katas show 03` runs your code on an example, writes PNGs")
    p.add_argument("kata")
    p.add_argument("--reference", action="store_true", help="draw with our code of the kata instead of yours")
    p.add_argument("--device", default="cpu", help="cpu (the default: the examples are small), auto, cuda or mps")
    p.set_defaults(run=cmd_show)
    p = sub.add_parser("sync", help="maintainers: rewrite katas/ and the tests manifest from reference/ and tests/")
    p.add_argument("katas", nargs="*", help="only these katas (default: all)")
    p.set_defaults(run=cmd_sync)
    p = sub.add_parser("selfcheck", help="maintainers: check the authoring (katas, tests, mutants)")
    p.add_argument("katas", nargs="*", help="only these katas (default: all)")
    p.add_argument("--no-mutants", action="store_true", help="skip the mutant runs")
    p.set_defaults(run=cmd_selfcheck)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run = getattr(args, "run", cmd_status)
    if catalog.ROOT != catalog.INSTALLED_ROOT:
        render.console().print(Text(f"Kata repository: {catalog.ROOT} (the one you are in; the `katas` command "
                                    f"was installed from {catalog.INSTALLED_ROOT})", style="dim"))  # fmt: skip
    try:
        if run not in (cmd_sync, cmd_selfcheck, cmd_config):
            rebuild_untrusted_record()
        return run(args)
    except UnknownKata as e:
        render.console().print(Text(str(e), style="red"))
        return BAD_REQUEST
    except EnvironmentProblem as e:
        render.console().print(Text(str(e), style="red"))
        return NO_ENVIRONMENT


if __name__ == "__main__":
    sys.exit(main())
