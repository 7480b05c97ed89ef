"""Kata 18's picture: DDIM against DDPM, side by side: the same model and the same starting noise,
sampled in T steps (DDPM, kata 15) and in 50 and 10 (your DDIM, η = 0 and 1), with the time each took."""

from __future__ import annotations

import time

import torch

from milestones import text2image
from pictures import plot
from pictures.checkpoints import milestone_model, run_first
from pictures.ideal import IdealDenoiser
from shapes.world import make_scenes

PROMPTS = ("a red circle above a blue square", "a green triangle on the left", "a yellow square", "a blue triangle")
METHODS = (("DDIM", 50, 0.0), ("DDIM", 50, 1.0), ("DDIM", 10, 0.0))  # besides DDPM's T steps


def draw(mods, show) -> None:
    model = milestone_model("text2image", mods, show)
    if model is not None:
        prompts, B, tok = list(PROMPTS), len(PROMPTS), mods.tokenizer
        tokens = tok.pad_batch([tok.encode(p, model.vocab) for p in prompts + [""] * B]).to(show.device)
        context, mask = model.encode(mods, tokens)
        denoiser = mods.guidance.Guided(model.ema_unet, context[B:], mask[B:], text2image.GUIDANCE)
        schedule, context, mask = model.schedule, context[:B], mask[:B]
        rows = prompts
        about = f"milestone text2image's model, guidance {text2image.GUIDANCE:g} at every step (as the milestone draws)"
        show.now(f"Sampling {B} prompts with DDPM's {schedule.T} steps and with DDIM: about 1-2 minutes on 2 CPU cores.")
    else:
        T = show.steps(text2image.T, 100)
        schedule = mods.schedules.Schedule(mods.schedules.cosine_beta_schedule(T))
        data = make_scenes(64, seed=1)
        denoiser = IdealDenoiser(mods.forward.to_model_range(data.images), schedule).to(show.device)
        context = mask = None
        rows = [f"sample {k + 1}" for k in range(4)]
        about = f"the ideal denoiser of 64 scenes (no training: it knows the data), T = {T}"
        show.note(f"No text2image checkpoint fits: the ideal denoiser of 64 scenes stands in for a trained U-Net. "
                  f"{run_first('text2image')}")  # fmt: skip
    shape = (len(rows), 3, 16, 16)
    columns, titles = [], []
    start = time.perf_counter()
    x, _ = mods.ddpm.ddpm_sample(denoiser, shape, schedule, torch.Generator().manual_seed(0), context, mask)
    columns.append(x)
    titles.append(f"DDPM, {schedule.T} steps\n{time.perf_counter() - start:.1f} s")
    for name, steps, eta in METHODS:
        start = time.perf_counter()
        x = mods.ddim.ddim_sample(denoiser, shape, schedule, steps, eta, torch.Generator().manual_seed(0), context, mask)
        columns.append(x)
        titles.append(f"{name}, {steps} steps, η = {eta:g}\n{time.perf_counter() - start:.1f} s")

    fig = plot.figure(2.2 * len(columns) + 2.4, 1.9 * len(rows) + 1.2,
                      f"ddim_sample ({show.whose}) against DDPM (kata 15): the same model, the same x_T (seed 0).\n{about}")
    axes = fig.subplots(len(rows), len(columns), squeeze=False)
    for j, (images, title) in enumerate(zip(columns, titles)):
        images = mods.forward.to_image_range(images.cpu())
        for i in range(len(rows)):
            plot.image(axes[i][j], images[i], title if i == 0 else None, fontsize=9, wrap=40)
    for i, row in enumerate(rows):
        axes[i][0].set_ylabel(row, fontsize=8, rotation=0, ha="right", va="center")
    show.save(fig, "ddim_vs_ddpm")
