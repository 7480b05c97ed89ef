"""Kata 15's picture: DDPM's denoising trajectory, from pure noise to scenes, with milestone ddpm's
U-Net, or, where no checkpoint fits, with the ideal denoiser of 64 scenes (pictures/ideal.py)."""

from __future__ import annotations

import time

import torch

from milestones import ddpm as ddpm_milestone
from pictures import plot
from pictures.checkpoints import run_first
from pictures.ideal import IdealDenoiser
from shapes.world import make_scenes

SAMPLES = 6


def draw(mods, show) -> None:
    state = show.trained("ddpm")
    if state is not None:
        model = ddpm_milestone.build(mods, None)
        model.load_state_dict(state)
        denoiser, schedule = model.ema_unet.to(show.device).eval(), model.schedule
        whose_model = "milestone ddpm's U-Net"
        show.now(f"Sampling {SAMPLES} scenes in {schedule.T} DDPM steps with milestone ddpm's U-Net: about 10 s.")
    else:
        schedule = mods.schedules.Schedule(mods.schedules.cosine_beta_schedule(ddpm_milestone.T))
        data = make_scenes(64, seed=1, kinds=ddpm_milestone.KINDS)
        denoiser = IdealDenoiser(mods.forward.to_model_range(data.images), schedule).to(show.device)
        whose_model = "the ideal denoiser of 64 scenes (no training: it knows the data)"
        show.note(f"No ddpm checkpoint fits: the ideal denoiser of 64 scenes stands in for a trained U-Net. {run_first('ddpm')}")
    keep = schedule.T // 10
    start = time.perf_counter()
    _, trajectory = mods.ddpm.ddpm_sample(denoiser, (SAMPLES, 3, 16, 16), schedule, torch.Generator().manual_seed(0),
                                          keep_every=keep)  # fmt: skip
    seconds = time.perf_counter() - start
    kept = [t for t in range(schedule.T - 1, -1, -1) if t % keep == 0 or t == schedule.T - 1]  # as ddpm_sample keeps
    labels = [f"t = {t}" for t in kept] + ["the sample"]

    fig = plot.figure(1.25 * len(trajectory) + 1, 1.35 * SAMPLES + 0.8,
                      f"ddpm_sample ({show.whose}) with {whose_model}: x_t every {keep} of {schedule.T} steps, "
                      f"{seconds:.1f} s; shown with to_image_range (clamped to [0, 1])")  # fmt: skip
    axes = fig.subplots(SAMPLES, len(trajectory))
    for k, x in enumerate(trajectory):
        images = mods.forward.to_image_range(x)
        for i in range(SAMPLES):
            plot.image(axes[i][k], images[i], labels[k] if i == 0 else None)
    show.save(fig, "trajectory")
