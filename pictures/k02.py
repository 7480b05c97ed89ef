"""Kata 02's picture: the sinusoidal positional encoding as a heat map, its clocks, and how alike positions are."""

from __future__ import annotations

from pictures import plot

T, D = 64, 64


def draw(mods, show) -> None:
    emb = mods.embeddings
    pe = emb.sinusoidal_positions(T, D)  # (T, D)
    freqs = emb.sinusoid_frequencies(D)  # (D/2,)

    fig = plot.figure(13, 4.6, f"sinusoidal_positions({T}, {D}), Vaswani et al. §3.5 ({show.whose}): entries in "
                               f"[{float(pe.min()):.2f}, {float(pe.max()):.2f}], rates from {float(freqs[0]):.3g} to "
                               f"{float(freqs[-1]):.3g} rad/position")  # fmt: skip
    heat_ax, clocks, alike = fig.subplots(1, 3, width_ratios=[1.1, 1.2, 1])
    plot.signed_heat(heat_ax, pe, "PE[pos, dim]: sin in even dims, cos in odd ones", limit=1.0)
    heat_ax.set_xlabel("dimension", fontsize=8)
    heat_ax.set_ylabel("position", fontsize=8)

    for dim in (6, 12, 20, 32):
        clocks.plot(pe[:, dim].numpy(), label=f"dim {dim}: rate {freqs[dim // 2]:.3g} rad/position", linewidth=1.3)
    clocks.set_title("each pair of dims is a clock at its own rate (sinusoid_frequencies)", fontsize=9)
    clocks.set_xlabel("position", fontsize=8)
    clocks.legend(fontsize=7, loc="lower left")
    clocks.set_ylim(-1.6, 1.1)

    similarity = pe @ pe.T / (D / 2)  # (T, T): 1 on the diagonal
    plot.heat(alike, similarity, "PE · PEᵀ / (D/2): nearby positions look alike", cmap="magma")
    alike.set_xlabel("position", fontsize=8)
    alike.set_ylabel("position", fontsize=8)
    show.save(fig, "positions")
