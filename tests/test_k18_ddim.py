"""Tests of kata 18: DDIM.

Oracles: properties of the timestep sequence over many (T, n) (length, dtype, both ends, strictly
descending, gaps that differ by at most 1); DDIM Eq. 12 and Eq. 16 written out in float64; the
schedule's ᾱ and β̃ recomputed by a plain loop over the betas; DDPM's posterior (Eq. 7), which a
step with η = 1 between consecutive timesteps must reproduce (mean and σ² = β̃_t); an oracle model
that knows x_0 and returns the true ε, with which sampling gives back x_0; spies that record the
timesteps the model is asked for and the ᾱ pairs each ddim_step is given.

ddim_step's three blanks share one function, and each test reads its blank's part of the step:
18.2's x̂_0 is the last jump (ᾱ_s = 1, η = 0: the step is x̂_0 itself), or, should σ trip there,
a jump to the same step (where σ = 0 however it is written); 18.3's σ is read twice, as the
multiple of z the step adds and from the weight √(1 − ᾱ_s − σ²) of ε, and either one right will
do; 18.4's tests compare the whole step. ddim_sample's blank runs with the reference
ddim_timesteps and ddim_step.
"""

import importlib
import inspect

import pytest
import torch
from k09_schedules import Schedule
from support import assert_close, assert_tensor, call, fail, said, schedule_by_hand, with_reference
from torch import nn


class Label(str):
    """An argument shown in a call as written: call("f", Label("Oracle")) reads f(Oracle)."""

    def __repr__(self) -> str:
        return str(self)


def make_schedule(T: int = 20) -> Schedule:
    return Schedule(torch.linspace(1e-3, 0.3, T, dtype=torch.float64))


by_hand = schedule_by_hand  # β, α, ᾱ, ᾱ_{t−1} and β̃ by a plain loop (tests/support.py)


def noised(x0: torch.Tensor, eps: torch.Tensor, alpha_bar: float) -> torch.Tensor:
    """x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε (DDPM Eq. 4), in float64, returned in float32."""
    return (alpha_bar**0.5 * x0.double() + (1 - alpha_bar) ** 0.5 * eps.double()).float()


def sigma_by_eq_16(alpha_bar_t: float, alpha_bar_prev: float, eta: float) -> float:
    """σ = η √((1 − ᾱ_s) / (1 − ᾱ_t)) √(1 − ᾱ_t / ᾱ_s)."""
    return eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)) ** 0.5 * (1 - alpha_bar_t / alpha_bar_prev) ** 0.5


def predicted_x0(x_t, eps, alpha_bar_t: float) -> torch.Tensor:
    """x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t clipped to [-1, 1] (Eq. 4 solved for x_0): float64."""
    return ((x_t.double() - (1 - alpha_bar_t) ** 0.5 * eps.double()) / alpha_bar_t**0.5).clamp(-1, 1)


def ddpm_step_by_eq_7(q: dict, t: int, x0, x_t, z) -> torch.Tensor:
    """DDPM's step from x_t (kata 15): the posterior mean μ̃_t(x_t, x0) of Eq. 7, then √β̃_t z: float64."""
    alpha_bar_t, alpha_bar_prev, beta, alpha = q["alpha_bar"][t], q["alpha_bar_prev"][t], q["beta"][t], q["alpha"][t]
    mean = (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_t) * x0.double()
            + alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t.double())  # fmt: skip
    return mean + q["variance"][t].sqrt() * z.double()


def step_by_eq_12(x_t, eps, alpha_bar_t: float, alpha_bar_prev: float, eta: float, z) -> torch.Tensor:
    """x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ + σ z, x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t clipped to [-1, 1] and
    ε̂ = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t), the noise from the clipped x̂_0 to x_t: float64."""
    x0 = predicted_x0(x_t, eps, alpha_bar_t)
    x_t, z = x_t.double(), z.double()
    eps_hat = (x_t - alpha_bar_t**0.5 * x0) / (1 - alpha_bar_t) ** 0.5
    sigma = sigma_by_eq_16(alpha_bar_t, alpha_bar_prev, eta)
    return alpha_bar_prev**0.5 * x0 + (1 - alpha_bar_prev - sigma**2) ** 0.5 * eps_hat + sigma * z


# --- 18.1: ddim_timesteps ---------------------------------------------------------------------

# a few telling cases first (a failure names one of them), then every n ≤ T up to T = 24, then large T
GRID = [(20, 6), (10, 4), (1000, 50), (7, 1)] + [(T, n) for T in range(1, 25) for n in range(1, T + 1)]
GRID += [(1000, n) for n in (1, 2, 3, 7, 333, 999, 1000)] + [(50, 20), (100, 30), (64, 10)]


def shown_steps(steps: list[int]) -> str:
    return str(steps) if len(steps) <= 12 else f"[{', '.join(map(str, steps[:5]))}, ..., {', '.join(map(str, steps[-3:]))}]"


def timesteps_of(kata, T: int, n: int) -> tuple[list[int], str]:
    """ddim_timesteps(T, n) checked to be an (n,) long tensor: as a list, and its call."""
    __tracebackhide__ = True
    where = call("ddim_timesteps", T, n)
    out = kata.ddim_timesteps(T, n)
    assert_tensor(out, shape=(n,), dtype=torch.long, call=where, name=said("the timesteps", ja="タイムステップ"))
    return out.tolist(), where


@pytest.mark.blank("18.1")
def test_18_1_from_T_minus_1_down_to_0(kata):
    for T, n in GRID:
        steps, where = timesteps_of(kata, T, n)
        if steps[0] != T - 1:
            fail(said(f"the timesteps {shown_steps(steps)} start at {steps[0]}: sampling starts from pure noise, "
                      f"at the last step T − 1 = {T - 1} (timesteps are 0-based, in [0, T))",
                      ja=f"タイムステップ {shown_steps(steps)} が {steps[0]} から始まっています。サンプリングは純粋な"
                         f"ノイズ、つまり最後のステップ T − 1 = {T - 1} から始まります（タイムステップは 0 始まりで "
                         "[0, T) の範囲です）"), where)  # fmt: skip
        if n > 1 and steps[-1] != 0:
            fail(said(f"the timesteps {shown_steps(steps)} end at {steps[-1]}: the last jump is from t = 0, the step "
                      "that makes the image",
                      ja=f"タイムステップ {shown_steps(steps)} が {steps[-1]} で終わっています。最後のジャンプは、画像を"
                         "作るステップ t = 0 からです"), where)  # fmt: skip
        if any(a <= b for a, b in zip(steps, steps[1:])):
            fail(said(f"the timesteps {shown_steps(steps)} are not strictly descending: each is a different step, from "
                      "the noisiest down to 0",
                      ja=f"タイムステップ {shown_steps(steps)} が狭義単調減少になっていません。どれも異なるステップで、"
                         "最もノイズの多いものから 0 まで下がっていきます"), where)  # fmt: skip


@pytest.mark.blank("18.1")
def test_18_1_evenly_spread(kata):
    for T, n in GRID:
        steps, where = timesteps_of(kata, T, n)
        gaps = [a - b for a, b in zip(steps, steps[1:])]
        if gaps and max(gaps) - min(gaps) > 1:
            fail(said(f"the timesteps {shown_steps(steps)} have gaps from {min(gaps)} to {max(gaps)}: spread evenly "
                      f"(gaps of (T − 1)/(n − 1) = {(T - 1) / (n - 1):.4g}, rounded), they differ by at most 1",
                      ja=f"タイムステップ {shown_steps(steps)} の間隔が {min(gaps)} から {max(gaps)} までばらついて"
                         f"います。均等に広げれば（間隔は (T − 1)/(n − 1) = {(T - 1) / (n - 1):.4g} を丸めたもの）、"
                         "間隔の差は高々 1 です"), where)  # fmt: skip


@pytest.mark.blank("18.1")
@pytest.mark.parametrize("T", [1, 2, 7, 50])
def test_18_1_every_step_and_a_single_step(kata, T):
    steps, where = timesteps_of(kata, T, T)
    if steps != list(range(T - 1, -1, -1)):
        fail(said(f"with n = T the timesteps are {shown_steps(steps)}: every step, T − 1 down to 0",
                  ja=f"n = T のときのタイムステップが {shown_steps(steps)} になっています。T − 1 から 0 まで、すべての"
                     "ステップです"), where)  # fmt: skip
    steps, where = timesteps_of(kata, T, 1)
    if steps != [T - 1]:
        fail(said(f"with n = 1 the timesteps are {steps}: one jump, from pure noise, [T − 1] = [{T - 1}]",
                  ja=f"n = 1 のときのタイムステップが {steps} になっています。純粋なノイズからの 1 回のジャンプ、"
                     f"[T − 1] = [{T - 1}] です"), where)  # fmt: skip


# --- 18.2: ddim_step's x̂_0 --------------------------------------------------------------------

# (B, C, H, W), ᾱ_t: from the noisiest steps to nearly clean; some ᾱ_t as 0-d float64 tensors (schedule.alpha_bar[t])
STEP_CASES = [((2, 3, 4, 4), 0.02), ((1, 1, 4, 4), 0.5), ((3, 2, 3, 3), torch.tensor(0.97, dtype=torch.float64)),
              ((2, 1, 2, 6), torch.tensor(0.2, dtype=torch.float64))]  # fmt: skip


def check_predicted_x0(kata, x_t, eps, alpha_bar_t, expected: torch.Tensor, name: str, where: str, seed) -> None:
    """x̂_0 read from the last jump (ᾱ_s = 1, η = 0, z = 0: the step is x̂_0 itself). Should that be wrong, it
    is read again from a jump to the same step (ᾱ_s = ᾱ_t: √ᾱ_t x̂_0 + √(1 − ᾱ_t) ε), whose σ is 0 even
    for a σ that divides by 1 − ᾱ_s; either right means blank 18.2 is, and blanks 18.3–18.4 answer
    for the rest in their own tests."""
    __tracebackhide__ = True
    zeros = torch.zeros_like(x_t)  # z = 0: whatever blank 18.4 does with z adds nothing
    out = kata.ddim_step(x_t, eps, alpha_bar_t, 1.0, 0.0, zeros)
    assert_tensor(out, shape=expected.shape, dtype=torch.float32, call=where, seed=seed, name="x_s")
    if torch.allclose(out, expected, atol=1e-4, rtol=1e-4):
        return
    a = float(alpha_bar_t)
    again = kata.ddim_step(x_t, eps, alpha_bar_t, alpha_bar_t, 0.0, zeros)
    if torch.allclose((again.double() - (1 - a) ** 0.5 * eps.double()) / a**0.5, expected.double(), atol=1e-4):
        return
    if out.isnan().any():
        fail(said("the last jump (ᾱ_s = 1, η = 0) gave NaN: if x̂_0 is finite, σ (blank 18.3) may divide by 1 − ᾱ_s, "
                  "which is 0 there: Eq. 16 has 1 − ᾱ_t below and 1 − ᾱ_s above",
                  ja="最後のジャンプ（ᾱ_s = 1、η = 0）が NaN になりました。x̂_0 が有限なら、σ（空欄 18.3）が "
                     "1 − ᾱ_s で割っているのかもしれません。ここではそれが 0 です。Eq. 16 では 1 − ᾱ_t が分母、"
                     "1 − ᾱ_s が分子です"), where, seed)  # fmt: skip
    assert_close(out, expected, call=where, seed=seed, atol=1e-4, name=name)


@pytest.mark.blank("18.2")
@pytest.mark.parametrize("seed, case", list(enumerate(STEP_CASES)))
def test_18_2_the_last_jump_lands_on_the_predicted_x0(kata, seed, case):
    shape, alpha_bar_t = case
    torch.manual_seed(seed)
    x0, eps = torch.rand(shape) * 1.8 - 0.9, torch.randn(shape)  # x0 inside [-1, 1]: the clip changes nothing
    x_t = noised(x0, eps, float(alpha_bar_t))
    where = call("ddim_step", x_t, eps, alpha_bar_t, 1.0, eta=0.0, noise=Label("zeros"))
    where += said("    (x_t made from x0 and eps by Eq. 4; the last jump: the step is x̂_0)",
                  ja="    （x_t は x0 と eps から Eq. 4 で作ったもの。最後のジャンプなので、ステップは x̂_0 そのもの）")
    check_predicted_x0(kata, x_t, eps, alpha_bar_t, x0, where=where, seed=seed,
                       name=said("x_s of the last jump (ᾱ_s = 1: x̂_0 itself, Eq. 4 solved for x_0 gives back the x0 "
                                 "that made x_t)",
                                 ja="最後のジャンプの x_s（ᾱ_s = 1 なので x̂_0 そのもの。Eq. 4 を x_0 について解けば、"
                                    "x_t を作った x0 に戻るはず）"))  # fmt: skip


@pytest.mark.blank("18.2")
@pytest.mark.parametrize("seed, alpha_bar_t", [(0, 0.1), (1, 0.6)])
def test_18_2_clips_the_predicted_x0_to_minus_one_one(kata, seed, alpha_bar_t):
    torch.manual_seed(seed)
    x_t, eps = torch.randn(3, 2, 4, 4) * 2, torch.randn(3, 2, 4, 4) * 2  # guesses far outside [-1, 1]
    where = call("ddim_step", x_t, eps, alpha_bar_t, 1.0, eta=0.0, noise=Label("zeros")) + said(
        "    (the step is x̂_0)", ja="    （ステップは x̂_0 そのもの）")
    out = kata.ddim_step(x_t, eps, alpha_bar_t, 1.0, 0.0, torch.zeros(3, 2, 4, 4))
    assert_tensor(out, shape=(3, 2, 4, 4), dtype=torch.float32, call=where, seed=seed, name="x_s")
    if out.min() < -1 or out.max() > 1:
        fail(said(f"the last jump gave values from {out.min().item():.3g} to {out.max().item():.3g}: clip x̂_0 to "
                  "[-1, 1], the range of the images",
                  ja=f"最後のジャンプの値が {out.min().item():.3g} から {out.max().item():.3g} まであります。x̂_0 を"
                     "画像の範囲である [-1, 1] にクリップしてください"), where, seed)  # fmt: skip
    expected = step_by_eq_12(x_t, eps, alpha_bar_t, 1.0, 0.0, torch.zeros(3, 2, 4, 4)).float()
    check_predicted_x0(kata, x_t, eps, alpha_bar_t, expected, where=where, seed=seed,
                       name=said("x̂_0 ((x_t − √(1 − ᾱ_t) ε) / √ᾱ_t, clipped to [-1, 1])",
                                 ja="x̂_0（(x_t − √(1 − ᾱ_t) ε) / √ᾱ_t を [-1, 1] にクリップしたもの）"))  # fmt: skip


@pytest.mark.blank("18.2")
def test_18_2_latents_are_not_clipped_when_clip_x0_is_false(kata):
    torch.manual_seed(2)
    x0, eps = torch.randn(2, 4, 3, 3) * 3, torch.randn(2, 4, 3, 3)  # latents: well outside [-1, 1]
    x_t = noised(x0, eps, 0.5)
    where = call("ddim_step", x_t, eps, 0.5, 1.0, eta=0.0, noise=Label("zeros"), clip_x0=False)
    where += said("    (x_t made from latents x0 by Eq. 4; the last jump: the step is x̂_0)",
                  ja="    （x_t は潜在表現 x0 から Eq. 4 で作ったもの。最後のジャンプなので、ステップは x̂_0 そのもの）")
    out = kata.ddim_step(x_t, eps, 0.5, 1.0, 0.0, torch.zeros_like(x_t), clip_x0=False)
    assert_tensor(out, shape=x0.shape, dtype=torch.float32, call=where, seed=2, name="x_s")
    if out.min() >= -1 and out.max() <= 1:
        fail(said("the last jump gave values inside [-1, 1] although clip_x0 is False: clip x̂_0 only when clip_x0 is "
                  "True (latents, kata 20, are not images)",
                  ja="clip_x0 が False なのに、最後のジャンプの値が [-1, 1] に収まっています。x̂_0 をクリップするのは "
                     "clip_x0 が True のときだけです（kata 20 の潜在表現は画像ではありません）"), where, 2)  # fmt: skip
    assert_close(out, x0, call=where, seed=2, atol=1e-4,
                 name=said("x_s of the last jump (x̂_0, not clipped)", ja="最後のジャンプの x_s（クリップしていない x̂_0）"))


# --- 18.3: σ ----------------------------------------------------------------------------------

# ᾱ_t < ᾱ_s (a jump to a less noisy step), η
SIGMA_CASES = [(0.4, 0.45, 1.0), (0.3, 0.6, 1.0), (0.05, 0.5, 0.5), (0.9, 0.99, 1.0), (0.2, 0.25, 0.3)]


def check_sigma(kata, alpha_bar_t: float, alpha_bar_prev: float, eta: float, sigma: float, where: str, seed) -> None:
    """σ read off the step: x0 inside [-1, 1] and x_t made from it, so x̂_0 = x0 and the step is
    √ᾱ_s x0 + d ε + c z, linear in ε and z. c (from z against z = 0) is σ, and d (from a second ε
    with the same x0) is √(1 − ᾱ_s − σ²): either one equal to Eq. 16's means σ is right (an error
    in the other is blank 18.4's, which its own tests name)."""
    __tracebackhide__ = True
    shape = (2, 3, 4, 4)
    x0, eps, other_eps, z = torch.rand(shape) * 1.8 - 0.9, torch.randn(shape), torch.randn(shape), torch.randn(shape)
    x_t, other_x_t = noised(x0, eps, alpha_bar_t), noised(x0, other_eps, alpha_bar_t)
    outs = []
    for args in [(x_t, eps, torch.zeros(shape)), (x_t, eps, z), (other_x_t, other_eps, torch.zeros(shape))]:
        torch.manual_seed(seed)  # a step that draws its own z (blank 18.4's mistake) draws the same one each time
        outs.append(kata.ddim_step(args[0], args[1], alpha_bar_t, alpha_bar_prev, eta, args[2]))
        assert_tensor(outs[-1], shape=shape, dtype=torch.float32, call=where, seed=seed, name="x_s")
    base, with_z, other = outs
    if any(out.isnan().any() for out in (base, with_z, other)):
        fail(said("x_s has NaN: a square root of a negative number. With ᾱ_s > ᾱ_t (a jump to a less noisy step) "
                  "1 − ᾱ_t/ᾱ_s is positive, and Eq. 16's σ² stays below 1 − ᾱ_s (in √(1 − ᾱ_s − σ²), blank 18.4)",
                  ja="x_s に NaN があります: 負の数の平方根です。ᾱ_s > ᾱ_t（ノイズの少ないステップへのジャンプ）なら "
                     "1 − ᾱ_t/ᾱ_s は正で、Eq. 16 の σ² は 1 − ᾱ_s を下回ります（√(1 − ᾱ_s − σ²) の中、空欄 18.4）"),
             where, seed)  # fmt: skip
    views = []  # σ as each term shows it, where the step is that multiple of z or of ε
    added, moved = (with_z - base).double(), (other - base).double()  # (B, C, H, W) each
    direction = (other_eps - eps).double()
    c = ((added * z).sum() / (z * z).sum()).item()  # the least-squares c in added ≈ c · z
    if (added - c * z).abs().max() < 1e-4:
        views.append(c)
    d = ((moved * direction).sum() / (direction * direction).sum()).item()
    if (moved - d * direction).abs().max() < 1e-4 and 1 - alpha_bar_prev - d**2 > -1e-6:
        views.append(max(1 - alpha_bar_prev - d**2, 0.0) ** 0.5)
    if not any(abs(view - sigma) < 1e-4 for view in views):
        expected_d = (1 - alpha_bar_prev - sigma**2) ** 0.5
        fail(said(f"σ should be {sigma:.4g} (Eq. 16: η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s)); the step added "
                  f"{c:.4g} · z (σ z: expected {sigma:.4g} · z) and weighted ε by {d:.4g} (√(1 − ᾱ_s − σ²): expected "
                  f"{expected_d:.4g})",
                  ja=f"σ は {sigma:.4g} のはずです（Eq. 16: η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s)）。ステップは "
                     f"{c:.4g} · z を足し（σ z: 期待される値は {sigma:.4g} · z）、ε に {d:.4g} の重みを掛けています"
                     f"（√(1 − ᾱ_s − σ²): 期待される値は {expected_d:.4g}）"), where, seed)  # fmt: skip


@pytest.mark.blank("18.3")
@pytest.mark.parametrize("seed, case", list(enumerate(SIGMA_CASES)))
def test_18_3_sigma_is_eq_16(kata, seed, case):
    alpha_bar_t, alpha_bar_prev, eta = case
    torch.manual_seed(seed)
    where = call("ddim_step", Label("x_t"), Label("eps"), alpha_bar_t, alpha_bar_prev, eta=eta, noise=Label("z"))
    check_sigma(kata, alpha_bar_t, alpha_bar_prev, eta, sigma_by_eq_16(alpha_bar_t, alpha_bar_prev, eta), where, seed)


@pytest.mark.blank("18.3")
@pytest.mark.parametrize("seed, t", list(enumerate([19, 10, 1])))
def test_18_3_eta_1_between_consecutive_steps_is_ddpms_variance(kata, seed, t):
    torch.manual_seed(seed)
    q = by_hand(make_schedule())
    alpha_bar_t, alpha_bar_prev = q["alpha_bar"][t].item(), q["alpha_bar_prev"][t].item()
    where = (call("ddim_step", Label("x_t"), Label("eps"), alpha_bar_t, alpha_bar_prev, eta=1.0, noise=Label("z"))
             + said(f"    (ᾱ_t and ᾱ_{{t−1}} of a schedule at t = {t}: σ² must be β̃_t = "
                    f"{q['variance'][t].item():.4g})",
                    ja=f"    （スケジュールの t = {t} での ᾱ_t と ᾱ_{{t−1}}。σ² は β̃_t = {q['variance'][t].item():.4g} "
                       "になるはず）"))  # fmt: skip
    check_sigma(kata, alpha_bar_t, alpha_bar_prev, 1.0, q["variance"][t].sqrt().item(), where, seed)


@pytest.mark.blank("18.3")
@pytest.mark.parametrize("seed, case", list(enumerate(SIGMA_CASES[:3])))
def test_18_3_eta_0_adds_no_noise(kata, seed, case):
    alpha_bar_t, alpha_bar_prev, _ = case
    torch.manual_seed(seed)
    where = call("ddim_step", Label("x_t"), Label("eps"), alpha_bar_t, alpha_bar_prev, eta=0.0, noise=Label("z"))
    where += said("    (η = 0: σ = 0, the same x_s whatever z is)", ja="    （η = 0 なので σ = 0。z が何であっても x_s は同じ）")
    check_sigma(kata, alpha_bar_t, alpha_bar_prev, 0.0, 0.0, where, seed)


# --- 18.4: the step ---------------------------------------------------------------------------

EQ_12_CASES = [((2, 3, 4, 4), 0.3, 0.6, 0.0), ((1, 2, 3, 5), 0.05, 0.5, 0.5), ((3, 1, 4, 4), 0.02, 0.3, 1.0),
               ((2, 2, 2, 2), 0.7, 1.0, 1.0), ((2, 1, 3, 3), 0.4, 0.45, 1.0)]  # fmt: skip


@pytest.mark.blank("18.4")
@pytest.mark.parametrize("seed, case", list(enumerate(EQ_12_CASES)))
def test_18_4_step_is_eq_12(kata, seed, case):
    shape, alpha_bar_t, alpha_bar_prev, eta = case
    torch.manual_seed(seed)
    x0, eps, z = torch.rand(shape) * 1.8 - 0.9, torch.randn(shape), torch.randn(shape)
    x_t = noised(x0, eps, alpha_bar_t)
    where = call("ddim_step", x_t, eps, alpha_bar_t, alpha_bar_prev, eta=eta, noise=z)
    out = kata.ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev, eta, z)
    assert_tensor(out, shape=shape, dtype=torch.float32, call=where, seed=seed, name="x_s")
    assert_close(out, step_by_eq_12(x_t, eps, alpha_bar_t, alpha_bar_prev, eta, z).float(), call=where, seed=seed,
                 name=said("x_s (√ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε + σ z: where x_0 is, the direction to x_t, fresh noise)",
                           ja="x_s（√ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε + σ z: x_0 の位置、x_t への方向、新しいノイズ）"))  # fmt: skip


@pytest.mark.blank("18.4")
@pytest.mark.parametrize("seed, t", list(enumerate([19, 10, 1, 0])))
def test_18_4_eta_1_between_consecutive_steps_is_ddpms_posterior(kata, seed, t):
    torch.manual_seed(seed)
    q = by_hand(make_schedule())
    alpha_bar_t, alpha_bar_prev = q["alpha_bar"][t].item(), q["alpha_bar_prev"][t].item()
    x0, eps, z = torch.rand(2, 1, 4, 4) * 1.8 - 0.9, torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4)
    x_t = noised(x0, eps, alpha_bar_t)
    where = (call("ddim_step", x_t, eps, alpha_bar_t, alpha_bar_prev, eta=1.0, noise=z)
             + said(f"    (ᾱ_t and ᾱ_{{t−1}} of a schedule at t = {t}; x_t made from x0 and eps)",
                    ja=f"    （スケジュールの t = {t} での ᾱ_t と ᾱ_{{t−1}}。x_t は x0 と eps から作ったもの）"))  # fmt: skip
    out = kata.ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev, 1.0, z)
    assert_tensor(out, shape=(2, 1, 4, 4), dtype=torch.float32, call=where, seed=seed, name="x_{t−1}")
    expected = ddpm_step_by_eq_7(q, t, x0, x_t, z).float()
    assert_close(out, expected, call=where, seed=seed, atol=1e-5,
                 name=said("x_{t−1} (with η = 1 one step of DDIM is DDPM's: μ̃_t(x_t, x0) + √β̃_t z)",
                           ja="x_{t−1}（η = 1 なら DDIM の 1 ステップは DDPM のものと同じ: μ̃_t(x_t, x0) + √β̃_t z）"))  # fmt: skip


# x̂_0 far outside [-1, 1], as a briefly trained model predicts at high noise: (ᾱ_t, ᾱ_s, η)
CLIPPED_CASES = [(0.02, 0.3, 0.0), (0.3, 0.6, 0.0), (0.05, 0.5, 0.5), (0.4, 0.45, 1.0)]


@pytest.mark.blank("18.4")
@pytest.mark.parametrize("seed, case", list(enumerate(CLIPPED_CASES)))
def test_18_4_the_direction_starts_at_the_clipped_x0(kata, seed, case):
    alpha_bar_t, alpha_bar_prev, eta = case
    torch.manual_seed(seed)
    x_t, eps, z = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4) * 3, torch.randn(2, 3, 4, 4)  # x̂_0 up to ±20
    where = call("ddim_step", x_t, eps, alpha_bar_t, alpha_bar_prev, eta=eta, noise=z)
    where += said("    (x̂_0 far outside [-1, 1]: the clip moves it)", ja="    （x̂_0 が [-1, 1] の大きく外にあり、クリップで動く）")
    out = kata.ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev, eta, z)
    assert_tensor(out, shape=x_t.shape, dtype=torch.float32, call=where, seed=seed, name="x_s")
    expected = step_by_eq_12(x_t, eps, alpha_bar_t, alpha_bar_prev, eta, z).float()
    if torch.allclose(out, expected, atol=1e-4, rtol=1e-4):
        return
    x0 = predicted_x0(x_t, eps, alpha_bar_t)
    sigma = sigma_by_eq_16(alpha_bar_t, alpha_bar_prev, eta)
    with_eps = alpha_bar_prev**0.5 * x0 + (1 - alpha_bar_prev - sigma**2) ** 0.5 * eps.double() + sigma * z.double()
    if torch.allclose(out, with_eps.float(), atol=1e-4, rtol=1e-4):
        fail(said("the step used the model's ε in the direction term, but the clip moved x̂_0: the direction to x_t "
                  "starts at the clipped x̂_0, ε̂ = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t). With ε, the step points back at the "
                  "unclipped x̂_0, and samples drift to saturated colours",
                  ja="方向の項にモデルの ε をそのまま使っていますが、クリップで x̂_0 が動いています。x_t への方向は"
                     "クリップ後の x̂_0 から始まります: ε̂ = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t)。ε のままだと、ステップは"
                     "クリップ前の x̂_0 を指し直し、サンプルが飽和した色へ流れていきます"), where, seed)  # fmt: skip
    assert_close(out, expected, call=where, seed=seed, atol=1e-4,
                 name=said("x_s (√ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ + σ z, ε̂ = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t))",
                           ja="x_s（√ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ + σ z、ε̂ = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t)）"))  # fmt: skip


@pytest.mark.blank("18.4")
@pytest.mark.parametrize("seed, t", list(enumerate([19, 5])))
def test_18_4_eta_1_is_ddpms_step_even_when_the_clip_moves_x0(kata, seed, t):
    torch.manual_seed(seed)
    q = by_hand(make_schedule())
    alpha_bar_t, alpha_bar_prev = q["alpha_bar"][t].item(), q["alpha_bar_prev"][t].item()
    x_t, eps, z = torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4) * 3, torch.randn(2, 1, 4, 4)
    where = (call("ddim_step", x_t, eps, alpha_bar_t, alpha_bar_prev, eta=1.0, noise=z)
             + said(f"    (ᾱ_t and ᾱ_{{t−1}} of a schedule at t = {t}; x̂_0 far outside [-1, 1])",
                    ja=f"    （スケジュールの t = {t} での ᾱ_t と ᾱ_{{t−1}}。x̂_0 は [-1, 1] の大きく外）"))  # fmt: skip
    out = kata.ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev, 1.0, z)
    assert_tensor(out, shape=(2, 1, 4, 4), dtype=torch.float32, call=where, seed=seed, name="x_{t−1}")
    # kata 15's p_sample, written out: x̂_0 clipped, then DDPM's step from it and x_t
    expected = ddpm_step_by_eq_7(q, t, predicted_x0(x_t, eps, alpha_bar_t), x_t, z).float()
    assert_close(out, expected, call=where, seed=seed, atol=1e-4,
                 name=said("x_{t−1} (η = 1 between consecutive steps: DDPM's μ̃_t(x_t, clipped x̂_0) + √β̃_t z, "
                           "which needs the direction from the clipped x̂_0, ε̂)",
                           ja="x_{t−1}（連続するステップ間で η = 1: DDPM の μ̃_t(x_t, クリップした x̂_0) + √β̃_t z。"
                              "そのためにはクリップ後の x̂_0 からの方向 ε̂ が必要）"))  # fmt: skip


@pytest.mark.blank("18.4")
def test_18_4_draws_the_noise_when_none_is_given(kata):
    x_t, eps = torch.randn(2, 2, 8, 8), torch.randn(2, 2, 8, 8)
    where = call("ddim_step", x_t, eps, 0.3, 0.6)
    out = kata.ddim_step(x_t, eps, 0.3, 0.6)  # η = 0: nothing to draw
    assert_tensor(out, shape=(2, 2, 8, 8), dtype=torch.float32, call=where, seed=0, name="x_s")
    expected = step_by_eq_12(x_t, eps, 0.3, 0.6, 0.0, torch.zeros(2, 2, 8, 8)).float()
    assert_close(out, expected, call=where, seed=0,
                 name=said("x_s with η = 0 and noise=None (σ = 0)", ja="η = 0、noise=None のときの x_s（σ = 0）"))
    where = call("ddim_step", x_t, eps, 0.3, 0.6, eta=1.0, noise=None)
    out = kata.ddim_step(x_t, eps, 0.3, 0.6, 1.0)
    assert_tensor(out, shape=(2, 2, 8, 8), dtype=torch.float32, call=where, seed=0, name="x_s")
    mean = step_by_eq_12(x_t, eps, 0.3, 0.6, 1.0, torch.zeros(2, 2, 8, 8))
    z = (out.double() - mean) / sigma_by_eq_16(0.3, 0.6, 1.0)  # the z it drew: (2, 2, 8, 8)
    if not 0.8 < z.std().item() < 1.2 or abs(z.mean().item()) > 0.2:
        fail(said(f"with noise=None and η > 0 the step should draw z ~ N(0, I) (torch.randn_like(x_t)) and add σ z; "
                  f"the z it added has mean {z.mean().item():.3g} and std {z.std().item():.3g}",
                  ja=f"noise=None かつ η > 0 のとき、ステップは z ~ N(0, I) を引いて（torch.randn_like(x_t)）σ z を"
                     f"足すはずです。足された z は平均 {z.mean().item():.3g}、標準偏差 {z.std().item():.3g} です"),
             where, 0)  # fmt: skip


# --- 18.5: ddim_sample ------------------------------------------------------------------------


class StepSpy(nn.Module):
    """Predicts ε = 0 and records the step t of each call, checking that t is a (B,) long tensor
    holding one step for the whole batch, and the prompt it is given."""

    def __init__(self, T: int, where: str = "") -> None:
        super().__init__()
        self.T, self.where = T, where
        self.dummy = nn.Parameter(torch.zeros(()))  # ddim_sample reads the device of the parameters
        self.steps, self.contexts = [], []

    def forward(self, x, t, context=None, context_mask=None):
        __tracebackhide__ = True
        if not isinstance(t, torch.Tensor) or t.shape != (x.shape[0],) or t.dtype != torch.long:
            fail(said(f"the model was given t = {t!r}: give it t_batch, the (B,) long tensor of this step, as in "
                      "training",
                      ja=f"モデルに t = {t!r} が渡されています。学習時と同じく、このステップの (B,) の long テンソル"
                         "である t_batch を渡してください"), self.where)  # fmt: skip
        step = int(t[0])
        if step < 0 or step >= self.T or not (t == step).all():
            fail(said(f"the model was asked for the steps {t.tolist()} with T = {self.T}: one step in [0, T) for the "
                      f"whole batch (after the steps {self.steps})",
                      ja=f"T = {self.T} のモデルにステップ {t.tolist()} を求めています（ステップ {self.steps} のあと）。"
                         "求めるのは、バッチ全体で 1 つの、[0, T) の範囲のステップです"), self.where)  # fmt: skip
        self.steps.append(step)
        self.contexts.append((context, context_mask))
        return torch.zeros_like(x)


# (T, n, the timesteps: linspace(T − 1, 0, n) rounded, written out)
SEQUENCES = [(10, 4, [9, 6, 3, 0]), (20, 6, [19, 15, 11, 8, 4, 0]), (7, 7, [6, 5, 4, 3, 2, 1, 0]), (5, 1, [4])]


@pytest.mark.blank("18.5")
@pytest.mark.parametrize("T, n, expected", SEQUENCES)
def test_18_5_asks_the_model_for_each_timestep_in_order(kata, monkeypatch, T, n, expected):
    with_reference(monkeypatch, kata, "ddim_timesteps", "ddim_step")  # grade 18.5 alone
    context, mask = torch.randn(2, 5, 4), torch.ones(2, 1, 5, dtype=torch.bool)
    where = call("ddim_sample", Label(said("a model that records its steps", ja="ステップを記録するモデル")),
                 (2, 1, 3, 3), Label(f"Schedule(T={T})"), steps=n, context=context, context_mask=mask)  # fmt: skip
    model = StepSpy(T, where)
    samples = kata.ddim_sample(model, (2, 1, 3, 3), make_schedule(T), n, generator=torch.Generator().manual_seed(0),
                               context=context, context_mask=mask)  # fmt: skip
    assert_tensor(samples, shape=(2, 1, 3, 3), dtype=torch.float32, call=where, name="samples")
    if model.steps != expected:
        fail(said(f"the model was asked for the steps {model.steps}, in that order; expected {expected}: "
                  f"ddim_timesteps({T}, {n}), each once, the noisiest first",
                  ja=f"モデルに求めたステップは順に {model.steps} でした。期待されるのは {expected} です: "
                     f"ddim_timesteps({T}, {n}) の各ステップを 1 回ずつ、最もノイズの多いものから"), where)  # fmt: skip
    if any(c is not context or m is not mask for c, m in model.contexts):
        fail(said("the model was not given the prompt: pass context and context_mask on to it",
                  ja="モデルにプロンプトが渡されていません。context と context_mask をそのままモデルに渡してください"),
             where)  # fmt: skip


class JumpRecorder:
    """ddim_step (the reference's) that records the ᾱ_t, ᾱ_s, η and noise of each call."""

    def __init__(self) -> None:
        self.step = importlib.import_module("k18_ddim").ddim_step
        self.signature = inspect.signature(self.step)
        self.calls = []

    def __call__(self, *args, **kwargs):
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        self.calls.append((float(a["alpha_bar_t"]), float(a["alpha_bar_prev"]), a["eta"], a["noise"]))
        self.clip_x0 = [*getattr(self, "clip_x0", []), a["clip_x0"]]
        return self.step(*args, **kwargs)


def named_alpha_bar(value: float, alpha_bar: torch.Tensor) -> str:
    """ᾱ_k for the k whose ᾱ the value is, or the number itself."""
    if value == 1.0:
        return "1.0"
    close = (alpha_bar - value).abs() < 1e-12
    return f"ᾱ_{int(close.nonzero()[0])}" if close.any() else f"{value:.4g}"


@pytest.mark.blank("18.5")
@pytest.mark.parametrize("T, n, timesteps", SEQUENCES[:2])
def test_18_5_jumps_to_the_next_timestep_then_to_alpha_bar_1(kata, monkeypatch, T, n, timesteps):
    with_reference(monkeypatch, kata, "ddim_timesteps")
    recorder = JumpRecorder()
    monkeypatch.setattr(kata, "ddim_step", recorder)
    schedule, shape, eta = make_schedule(T), (2, 1, 3, 3), 0.5
    alpha_bar = by_hand(schedule)["alpha_bar"]
    where = call("ddim_sample", Label(said("a model that predicts ε = 0", ja="ε = 0 を予測するモデル")), shape,
                 Label(f"Schedule(T={T})"), steps=n, eta=eta,
                 generator=Label("Generator().manual_seed(0)"))  # fmt: skip
    kata.ddim_sample(StepSpy(T, where), shape, schedule, n, eta, generator=torch.Generator().manual_seed(0))
    if len(recorder.calls) != n:
        fail(said(f"ddim_step was called {len(recorder.calls)} times; expected {n}: one jump per timestep",
                  ja=f"ddim_step が {len(recorder.calls)} 回呼び出されています。期待されるのは {n} 回です: "
                     "タイムステップごとに 1 回のジャンプ"), where)  # fmt: skip
    generator = torch.Generator().manual_seed(0)
    draws = [torch.randn(shape, generator=generator) for _ in range(n + 1)]  # x_{T−1}, then each step's noise
    targets = timesteps[1:] + [None]  # where each jump lands: the next timestep, then ᾱ = 1
    for i, (t, s, (got_t, got_s, got_eta, got_noise)) in enumerate(zip(timesteps, targets, recorder.calls)):
        expected_t, expected_s = alpha_bar[t].item(), 1.0 if s is None else alpha_bar[s].item()
        goal = (said("1.0: after t = 0 the image is x̂_0", ja="1.0（t = 0 のあとの画像は x̂_0）") if s is None
                else said(f"ᾱ_{s}, the next timestep in the list", ja=f"ᾱ_{s}（リストの次のタイムステップ）"))  # fmt: skip
        if abs(got_t - expected_t) > 1e-9 or abs(got_s - expected_s) > 1e-9:
            fail(said(f"the jump from t = {t} was given ᾱ_t = {named_alpha_bar(got_t, alpha_bar)} and ᾱ_s = "
                      f"{named_alpha_bar(got_s, alpha_bar)}; expected ᾱ_t = ᾱ_{t} and ᾱ_s = {goal} "
                      f"(timesteps {timesteps})",
                      ja=f"t = {t} からのジャンプに ᾱ_t = {named_alpha_bar(got_t, alpha_bar)}、ᾱ_s = "
                         f"{named_alpha_bar(got_s, alpha_bar)} が渡されています。期待されるのは ᾱ_t = ᾱ_{t}、"
                         f"ᾱ_s = {goal} です（タイムステップ {timesteps}）"), where)  # fmt: skip
        if got_eta != eta:
            fail(said(f"ddim_step was given η = {got_eta!r}; pass on ddim_sample's eta ({eta})",
                      ja=f"ddim_step に η = {got_eta!r} が渡されています。ddim_sample の eta（{eta}）をそのまま渡して"
                         "ください"), where)  # fmt: skip
        if got_noise is None or not torch.equal(got_noise, draws[i + 1]):
            fail(said(f"the jump from t = {t} was not given this step's `noise` (drawn from the generator): pass it "
                      "on, so that a seeded run can be repeated",
                      ja=f"t = {t} からのジャンプに、このステップの `noise`（ジェネレータから引いたもの）が渡されて"
                         "いません。シードを固定した実行を再現できるように、それを渡してください"), where)  # fmt: skip


class OracleEps(nn.Module):
    """Knows x0: returns the true noise ε = (x_t − √ᾱ_t x0) / √(1 − ᾱ_t) (Eq. 4 solved for ε)."""

    def __init__(self, x0: torch.Tensor, schedule: Schedule) -> None:
        super().__init__()
        self.x0, self.alpha_bar = x0.double(), by_hand(schedule)["alpha_bar"]
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x, t, context=None, context_mask=None):
        alpha_bar = self.alpha_bar[t].view(-1, 1, 1, 1)
        return ((x.double() - alpha_bar.sqrt() * self.x0) / (1 - alpha_bar).sqrt()).float()


@pytest.mark.blank("18.5")
@pytest.mark.parametrize("seed, eta", [(0, 0.0), (1, 1.0)])
def test_18_5_the_true_noise_gives_back_x0(kata, monkeypatch, seed, eta):
    with_reference(monkeypatch, kata, "ddim_timesteps", "ddim_step")
    torch.manual_seed(seed)
    schedule = make_schedule(50)
    x0 = torch.rand(2, 1, 4, 4) * 1.8 - 0.9
    where = call("ddim_sample", Label(said("a model that returns the true ε of x0", ja="x0 の真の ε を返すモデル")),
                 (2, 1, 4, 4), Label("Schedule(T=50)"), steps=10, eta=eta,
                 generator=Label(f"Generator().manual_seed({seed})"))  # fmt: skip
    samples = kata.ddim_sample(OracleEps(x0, schedule), (2, 1, 4, 4), schedule, 10, eta,
                               generator=torch.Generator().manual_seed(seed))  # fmt: skip
    assert_tensor(samples, shape=(2, 1, 4, 4), dtype=torch.float32, call=where, seed=seed, name="samples")
    assert_close(samples, x0, call=where, seed=seed, atol=1e-4,
                 name=said("samples (the last jump, to ᾱ = 1, lands on x̂_0: the x0 whose noise the model knows)",
                           ja="samples（ᾱ = 1 への最後のジャンプは x̂_0、つまりモデルがそのノイズを知っている x0 に"
                              "たどり着くはず）"))  # fmt: skip


@pytest.mark.blank("18.5")
def test_18_5_passes_clip_x0_on_to_each_jump(kata, monkeypatch):
    with_reference(monkeypatch, kata, "ddim_timesteps")
    recorder = JumpRecorder()
    monkeypatch.setattr(kata, "ddim_step", recorder)
    schedule, shape = make_schedule(20), (2, 1, 3, 3)
    where = call("ddim_sample", Label(said("a model that predicts ε = 0", ja="ε = 0 を予測するモデル")), shape,
                 Label("Schedule(T=20)"), steps=4, generator=Label("Generator().manual_seed(0)"),
                 clip_x0=False)  # fmt: skip
    kata.ddim_sample(StepSpy(20, where), shape, schedule, 4, generator=torch.Generator().manual_seed(0), clip_x0=False)
    if any(flag is not False for flag in getattr(recorder, "clip_x0", [True])):
        fail(said(f"ddim_step was given clip_x0 = {recorder.clip_x0}; pass on ddim_sample's clip_x0 (False here: "
                  "latents are not clipped)",
                  ja=f"ddim_step に clip_x0 = {recorder.clip_x0} が渡されています。ddim_sample の clip_x0 をそのまま"
                     "渡してください（ここでは False: 潜在表現はクリップしません）"), where)  # fmt: skip
