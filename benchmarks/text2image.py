"""Text-to-image figures with the reference: adherence per prompt group, guidance, DDIM against DDPM.

Uses the checkpoint of milestone text2image (or latent) under out/<name>/, training it first with
the milestone's budget if there is none that fits (run `python benchmarks/milestones.py
text2image` to retrain from scratch and time it). Then, on the prompts kept out of training:

- adherence per group (single-object, two-object, unseen combinations) at several guidance scales;
- DDIM with 50 steps against DDPM with every one of the T steps (kata 15, through the guided
  U-Net): adherence and sampling seconds, on the same prompts.

    python benchmarks/text2image.py [text2image|latent] [--scales 1,3,4,5,7] [--ddpm-prompts 64]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from rich.console import Console  # noqa: E402

from checker import catalog  # noqa: E402
from milestones import GENERATORS, MILESTONES, draw, text2image  # noqa: E402
from milestones.prompts import GROUPS, PromptSet, judge_groups, judged_prompts  # noqa: E402
from milestones.runner import trained  # noqa: E402
from shapes.judge import judge_prompts  # noqa: E402


def ddpm_images(t, prompts: list[str], scale: float, seed: int = 0) -> torch.Tensor:
    """The pixel-space model sampled with kata 15's ddpm_sample (all T steps) and the milestone's guidance."""
    mods, model = t.mods, t.model
    B = len(prompts)
    tokens = mods.tokenizer.pad_batch([mods.tokenizer.encode(p, t.data.vocab) for p in prompts + [""] * B])
    context, mask = model.encode(mods, tokens)
    guided = mods.guidance.Guided(model.ema_unet, context[B:], mask[B:], scale)  # the milestone's guidance
    sys.path.insert(0, str(catalog.REFERENCE_DIR))  # kata 15 is not in this milestone's chain: the reference's
    ddpm_sample = importlib.import_module("k15_ddpm").ddpm_sample
    x, _ = ddpm_sample(guided, (B, 3, 16, 16), model.schedule, torch.Generator().manual_seed(seed), context[:B], mask[:B])
    return mods.forward.to_image_range(x).clamp(0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", nargs="?", default="text2image", choices=GENERATORS)
    parser.add_argument("--scales", default="1,3,4,5,7")
    parser.add_argument("--ddpm-prompts", type=int, default=64, help="prompts for the DDIM-against-DDPM comparison (0: skip)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    console = Console(highlight=False)
    spec = importlib.import_module(MILESTONES[args.name][0]).SPEC
    t = trained(spec, use_reference=True, device=args.device, console=console, states={})
    prompts = judged_prompts()
    console.print(f"model: milestone {args.name}, {t.steps} steps, trained in {t.seconds:.0f} s "
                  f"({'checkpoint reused' if t.reused else 'trained now'}); {torch.get_num_threads()} threads")  # fmt: skip
    console.print(f"prompts kept out of training: {', '.join(f'{g} {len(getattr(prompts, g))}' for g in GROUPS)}")
    console.print(f"\n{'guidance':>8} " + " ".join(f"{g:>8}" for g in GROUPS) + f" {'seconds':>8}")
    for scale in [float(s) for s in args.scales.split(",") if s]:  # --scales "" skips the sweep
        start = time.perf_counter()
        images = draw(args.name, t, prompts.all(), 50, scale, 0)
        seconds = time.perf_counter() - start
        reports = judge_groups(images, prompts)
        console.print(f"{scale:8g} " + " ".join(f"{reports[g].adherence:8.1%}" for g in GROUPS) + f" {seconds:8.1f}")
    if args.ddpm_prompts and args.name == "text2image":
        n = args.ddpm_prompts
        subset = PromptSet(prompts.single[: n // 2], prompts.pair[: n - n // 2], [])
        chosen = subset.all()
        start = time.perf_counter()
        ddim = draw(args.name, t, chosen, 50, 4.0, 0)
        ddim_s = time.perf_counter() - start
        start = time.perf_counter()
        ddpm = ddpm_images(t, chosen, 4.0)
        ddpm_s = time.perf_counter() - start
        a, b = judge_prompts(ddim, chosen).adherence, judge_prompts(ddpm, chosen).adherence
        console.print(f"\n{len(chosen)} prompts (half single, half pair), guidance 4:")
        console.print(f"  DDIM 50 steps:  adherence {a:6.1%}  {ddim_s:7.1f} s")
        console.print(f"  DDPM {t.model.schedule.T} steps: adherence {b:6.1%}  {ddpm_s:7.1f} s  ({ddpm_s / ddim_s:.1f}× slower, "
                      f"{(a - b) * 100:+.1f} points for DDIM)")  # fmt: skip


if __name__ == "__main__":
    main()
