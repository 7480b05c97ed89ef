"""Kata 14's picture: a small U-Net trained for a few hundred steps on shapes with your train_step:
the loss as it goes, the EMA copy's loss beside it, and the loss at each t before and after."""

from __future__ import annotations

import copy
import time

import torch

from milestones.runner import adamw
from pictures import plot
from shapes.world import make_scenes

T = 250  # as milestone ddpm
STEPS = 300
BATCH = 16


def loss_at(mods, model, x0: torch.Tensor, schedule, t: int, noise: torch.Tensor) -> float:
    with torch.no_grad():
        return float(mods.training.diffusion_loss(model, x0, schedule, torch.full((len(x0),), t), noise))


def draw(mods, show) -> None:
    tr = mods.training
    steps = show.steps(STEPS, 12)
    scenes = make_scenes(2048 + 32, seed=1, kinds=("single", "position"))
    images = mods.forward.to_model_range(scenes.images)
    train, held = images[:2048], images[2048:]
    schedule = mods.schedules.Schedule(mods.schedules.cosine_beta_schedule(T))
    torch.manual_seed(0)
    unet = mods.unet.UNet(mods.unet.UNetConfig(channels=(16, 32), attention=(False, False), time_dim=64))
    untrained = copy.deepcopy(unet)
    ema = tr.EMA(unet, decay=0.98)
    optimizer = adamw(unet, 2e-3)
    generator = torch.Generator().manual_seed(0)
    held_noise = torch.randn(held.shape, generator=generator)
    held_t = tr.sample_timesteps(len(held), T, generator)

    show.now(f"Training a small U-Net ({sum(p.numel() for p in unet.parameters()):,} weights) for {steps} steps with "
             "your train_step: about 10-30 s on 2 CPU cores.")  # fmt: skip
    start = time.perf_counter()
    losses, checks = [], []
    for step in range(steps):
        batch = train[torch.randint(0, len(train), (BATCH,), generator=generator)]
        losses.append(tr.train_step(unet, optimizer, batch, schedule, ema=ema))
        if step % 20 == 0 or step == steps - 1:
            with torch.no_grad():
                checks.append((step, float(tr.diffusion_loss(unet, held, schedule, held_t, held_noise)),
                               float(tr.diffusion_loss(ema.model, held, schedule, held_t, held_noise))))  # fmt: skip
    seconds = time.perf_counter() - start

    fig = plot.figure(15, 5, f"train_step, diffusion_loss and EMA ({show.whose}): a {sum(p.numel() for p in unet.parameters()):,}"
                             f"-weight U-Net, {steps} steps of {BATCH} scenes in {seconds:.0f} s, T = {T} (cosine)")  # fmt: skip
    curve, by_t, drawn = fig.subplots(1, 3, width_ratios=[1.6, 1.2, 0.8])
    curve.plot(losses, color="tab:blue", alpha=0.3, linewidth=0.8, label="the batch's loss (train_step's return)")
    window = 20
    if len(losses) >= window:
        smooth = torch.tensor(losses).unfold(0, window, 1).mean(dim=1)
        curve.plot(range(window - 1, len(losses)), smooth.numpy(), color="tab:blue", label=f"its mean over {window} steps")
    steps_at, raw, averaged = zip(*checks)
    curve.plot(steps_at, raw, "o-", color="tab:orange", markersize=3, label="held-out scenes: the model")
    curve.plot(steps_at, averaged, "s-", color="tab:green", markersize=3, label="held-out scenes: its EMA copy (decay 0.98)")
    curve.set_title("the ε-prediction loss, ‖ε − ε_θ(x_t, t)‖² averaged", fontsize=9)
    curve.set_xlabel("step", fontsize=8)
    curve.set_yscale("log")
    curve.legend(fontsize=7)
    curve.grid(alpha=0.3)

    ts = list(range(0, T, 25)) + [T - 1]
    noise = torch.randn(held.shape, generator=torch.Generator().manual_seed(1))
    by_t.plot(ts, [loss_at(mods, untrained, held, schedule, t, noise) for t in ts], "o-", markersize=3, label="before training")
    by_t.plot(ts, [loss_at(mods, ema.model, held, schedule, t, noise) for t in ts], "o-", markersize=3,
              label=f"after {steps} steps (EMA)")  # fmt: skip
    by_t.set_title("the loss at each t (held-out scenes):\nhardest at small t, where the noise is faint", fontsize=9)
    by_t.set_xlabel("t", fontsize=8)
    by_t.set_yscale("log")
    by_t.legend(fontsize=7)
    by_t.grid(alpha=0.3)

    drawn_t = tr.sample_timesteps(20_000, T, torch.Generator().manual_seed(2))
    drawn.hist(drawn_t.numpy(), bins=25, color="grey")
    drawn.set_title(f"sample_timesteps: 20,000 draws\n({drawn_t.dtype}), uniform over 0..{T - 1}", fontsize=9)
    drawn.set_xlabel("t", fontsize=8)
    show.save(fig, "training")
