"""Kata 17's picture: a guidance-scale sweep: the same prompts and noise at g = 0, 1, 2, 4, 7, with
milestone text2image's model, or, where none fits, with the ideal denoiser of 64 scenes, whose
prompt is a prior over the scenes (pictures/ideal.py)."""

from __future__ import annotations

import torch

from milestones import text2image
from pictures import plot
from pictures.checkpoints import milestone_model, run_first
from pictures.ideal import IdealDenoiser, log_prior
from shapes.world import make_scenes

SCALES = (0.0, 1.0, 2.0, 4.0, 7.0)
PROMPTS = ("a red circle above a blue square", "a green triangle on the left", "a yellow square")
SEEDS = 2  # images per prompt (two starting noises)


def draw(mods, show) -> None:
    model = milestone_model("text2image", mods, show)
    if model is not None:
        prompts = list(PROMPTS)
        show.now(f"Drawing {len(prompts)} prompts at {len(SCALES)} guidance scales, twice, with milestone text2image's "
                 f"model (DDIM {text2image.DDIM_STEPS} steps): about 30-60 s on 2 CPU cores.")  # fmt: skip
        columns = [torch.cat([text2image.draw(mods, model, model.vocab, prompts, text2image.DDIM_STEPS, g, seed=seed)
                              for seed in range(SEEDS)]) for g in SCALES]  # fmt: skip
        rows = [f"{p}\n(seed {seed})" for seed in range(SEEDS) for p in prompts]
        about = (f"milestone text2image's model, DDIM {text2image.DDIM_STEPS} steps, your Guided at every step, "
                 "as the milestone draws")  # fmt: skip
    else:
        rows, columns, about = ideal_sweep(mods, show)
        show.note(f"No text2image checkpoint fits: the ideal denoiser of 64 scenes stands in for a trained U-Net. "
                  f"{run_first('text2image')}")  # fmt: skip
    fig = plot.figure(1.6 * len(SCALES) + 2.6, 1.45 * len(rows) + 1.0,
                      f"classifier_free_guidance ({show.whose}): ε_∅ + g (ε_c − ε_∅), the same noise in every column.\n"
                      f"{about}")  # fmt: skip
    axes = fig.subplots(len(rows), len(SCALES), squeeze=False)
    for j, (g, images) in enumerate(zip(SCALES, columns)):
        for i in range(len(rows)):
            plot.image(axes[i][j], images[i], f"g = {g:g}" if i == 0 else None, fontsize=9)
    for i, row in enumerate(rows):
        axes[i][0].set_ylabel(row, fontsize=7.5, rotation=0, ha="right", va="center")
    show.save(fig, "guidance_sweep")


def ideal_sweep(mods, show):
    """The sweep with the ideal denoiser: the prompt says which of 64 scenes it means, the empty caption all of them."""
    schedule = mods.schedules.Schedule(mods.schedules.cosine_beta_schedule(text2image.T))
    data = make_scenes(64, seed=1)
    ideal = IdealDenoiser(mods.forward.to_model_range(data.images), schedule).to(show.device)
    chosen = [data.captions[int((data.kind == k).nonzero()[0])] for k in range(3)]  # the first scene of each kind
    prompts = [p for p in chosen for _ in range(SEEDS)]
    context = log_prior(prompts, data.labels()).to(show.device)  # (B, 1, 64)
    empty = log_prior([""] * len(prompts), data.labels()).to(show.device)
    columns = []
    for g in SCALES:
        guided = mods.guidance.Guided(ideal, empty, None, g)
        x = mods.ddim.ddim_sample(guided, (len(prompts), 3, 16, 16), schedule, 50, 0.0, torch.Generator().manual_seed(0),
                                  context)  # fmt: skip
        columns.append(mods.forward.to_image_range(x.cpu()))
    return prompts, columns, "the ideal denoiser of 64 scenes (no training; its prompt: which scenes it means), DDIM 50 steps"
