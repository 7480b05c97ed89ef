"""Kata 09's picture: the linear and cosine schedules side by side: ᾱ, the signal-to-noise ratio, β and β̃."""

from __future__ import annotations

from pictures import plot

T = 1000


def draw(mods, show) -> None:
    sch = mods.schedules
    schedules = {"linear (DDPM §4)": sch.Schedule(sch.linear_beta_schedule(T)),
                 "cosine (Nichol & Dhariwal Eq. 17)": sch.Schedule(sch.cosine_beta_schedule(T))}  # fmt: skip
    fig = plot.figure(13, 8, f"Noise schedules, T = {T} ({show.whose})")
    (bar, snr), (beta, posterior) = fig.subplots(2, 2)
    for (name, s), colour in zip(schedules.items(), ("tab:orange", "tab:blue")):
        t = range(s.T)
        alpha_bar = s.alpha_bar.float()
        half = int((alpha_bar < 0.5).nonzero()[0])
        bar.plot(t, alpha_bar.numpy(), color=colour, label=f"{name}: half the signal left at t = {half}")
        ratio = alpha_bar / (1 - alpha_bar)
        snr.plot(t, ratio.numpy(), color=colour, label=f"{name}: below 0.01 (all but noise) from t = {int((ratio < 0.01).nonzero()[0])}")
        beta.plot(t, s.betas.float().numpy(), color=colour, label=name)
        posterior.plot(list(t)[1:], s.posterior_variance.float()[1:].numpy(), color=colour, label=name)
    bar.set_title("ᾱ_t: the share of the signal's variance left after step t", fontsize=10)
    snr.set_title("SNR_t = ᾱ_t / (1 − ᾱ_t), the signal-to-noise ratio (log scale)", fontsize=10)
    snr.set_yscale("log")
    beta.set_title("β_t: the noise added at step t (log scale; the cosine one is clipped at 0.999)", fontsize=10)
    beta.set_yscale("log")
    posterior.set_title("β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t), DDPM Eq. 7 (t ≥ 1; β̃_0 = 0)", fontsize=10)
    posterior.set_yscale("log")
    for ax in (bar, snr, beta, posterior):
        ax.set_xlabel("t", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    show.save(fig, "schedules")
