"""Kata 10's picture: the forward process: one scene noised to several t in one go, under both schedules."""

from __future__ import annotations

import torch

from pictures import plot
from shapes.world import make_scenes

T = 1000
STEPS = (0, 50, 100, 200, 300, 400, 500, 600, 800, 999)


def draw(mods, show) -> None:
    fwd, sch = mods.forward, mods.schedules
    scenes = make_scenes(3, seed=4, kinds=("pair",))
    x0 = fwd.to_model_range(scenes.images[2:3])  # (1, 3, 16, 16) in [-1, 1]: a green triangle above a red circle
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))  # the same ε for every t
    schedules = {"linear": sch.Schedule(sch.linear_beta_schedule(T)), "cosine": sch.Schedule(sch.cosine_beta_schedule(T))}

    fig = plot.figure(16, 4.6, f"q_sample: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, one ε for every t, shown with to_image_range "
                               f"(clamped to [0, 1]) ({show.whose}): '{scenes.captions[2]}'")  # fmt: skip
    axes = fig.subplots(len(schedules), len(STEPS))
    for row, (name, schedule) in enumerate(schedules.items()):
        t = torch.tensor(STEPS)
        x_t = fwd.q_sample(x0.expand(len(STEPS), -1, -1, -1), t, noise.expand(len(STEPS), -1, -1, -1), schedule)
        images = fwd.to_image_range(x_t)
        alpha_bar = fwd.extract(schedule.alpha_bar, t, x_t.shape).flatten()
        for k, ax in enumerate(axes[row]):
            plot.image(ax, images[k], f"t = {STEPS[k]}, ᾱ = {float(alpha_bar[k]):.3f}", fontsize=7.5, wrap=30)
        axes[row][0].set_ylabel(name, fontsize=10)
    show.save(fig, "forward")
