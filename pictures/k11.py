"""Kata 11's picture: the sinusoidal code of every timestep as a heat map, and how alike the codes of two steps are."""

from __future__ import annotations

import torch

from pictures import plot

T, DIM = 1000, 128


def draw(mods, show) -> None:
    te = mods.time_embedding
    t = torch.arange(T)
    emb = te.timestep_embedding(t, DIM)  # (T, DIM): cosines, then sines
    odd = te.timestep_embedding(torch.tensor([0, 500, 999]), DIM + 1)  # an odd width: one more column of zeros
    torch.manual_seed(0)
    mlp = te.TimeMLP(DIM, 64)
    with torch.no_grad():
        learned = mlp(t[::10])  # (T/10, 64)

    fig = plot.figure(16, 5.4, f"timestep_embedding(t, {DIM}) for t = 0..{T - 1} ({show.whose}); an odd width ({DIM + 1}) "
                               f"ends in a column of zeros: {odd[:, -1].tolist()}")  # fmt: skip
    code, alike, mlp_ax = fig.subplots(1, 3, width_ratios=[1.3, 1, 1])
    plot.signed_heat(code, emb, "the code: cosines (columns 0..63), then sines (64..127)", limit=1.0)
    code.set_xlabel("dimension", fontsize=8)
    code.set_ylabel("t", fontsize=8)
    unit = emb / emb.norm(dim=1, keepdim=True)
    plot.heat(alike, unit[::10] @ unit[::10].T, "cosine similarity of the codes of two steps", cmap="magma")
    alike.set_xticks(range(0, T // 10, 20), range(0, T, 200), fontsize=8)
    alike.set_yticks(range(0, T // 10, 20), range(0, T, 200), fontsize=8)
    alike.set_xlabel("t", fontsize=8)
    alike.set_ylabel("t", fontsize=8)
    plot.signed_heat(mlp_ax, learned, "TimeMLP(t): linear, SiLU, linear (random weights)")
    mlp_ax.set_yticks(range(0, T // 10, 20), range(0, T, 200), fontsize=8)
    mlp_ax.set_ylabel("t", fontsize=8)
    mlp_ax.set_xlabel("output feature", fontsize=8)
    show.save(fig, "time_embedding")
