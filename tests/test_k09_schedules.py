"""Tests of kata 09: noise schedules. Oracles: plain Python loops in float64 over the equations
(DDPM §4's evenly spaced β, Nichol & Dhariwal Eq. 17 with math.cos at each t, β_t = 1 − ᾱ(t+1)/ᾱ(t)
clipped, α = 1 − β, ᾱ as a running product, β̃ by DDPM Eq. 7 with ᾱ_{-1} = 1), and properties
(ᾱ strictly decreasing in (0, 1]; ᾱ_{t-1} > ᾱ_t; β̃_0 = 0 and 0 < β̃_t ≤ β_t). Tolerances are
float64's: a value computed in float32 somewhere is named as such. Nothing here is trained
through (the schedule is a table of constants), so there is no gradient check.

Each blank is graded alone: 09.3 runs with the reference cosine_alpha_bar; the Schedule is
built from betas the test computes itself; 09.5 is checked against the Schedule's own alpha_bar
(shifted), and 09.6 against Eq. 7 of its own betas, alpha_bar and alpha_bar_prev, so a slip in
09.4 fails 09.4 alone.
"""

import math

import pytest
import torch
from support import assert_close, assert_tensor, call, fail, said, with_reference

F64 = torch.float64
ATOL, RTOL = 1e-15, 1e-11  # float64: a float32 step leaves errors of ~1e-8


def assert_float64_close(actual, expected, where, name="output", seed=None):
    """dtype float64 (said plainly), values to float64 precision; a float32 rounding is named."""
    __tracebackhide__ = True
    assert_tensor(actual, shape=expected.shape, call=where, seed=seed, name=name)
    if actual.dtype != F64:
        fail(said(f"{name} has dtype {actual.dtype}, expected torch.float64: schedules are computed and kept in "
                  "float64 (ᾱ is a product of up to 1000 factors; float32 loses its digits)",
                  ja=f"{name} の dtype が {actual.dtype} です（期待される dtype は torch.float64）。スケジュールは "
                  "float64 で計算して保持します（ᾱ は最大 1000 個の因子の積なので、float32 では桁が失われます）"),
             where, seed)  # fmt: skip
    error = (actual.detach() - expected).abs()
    close = error <= ATOL + RTOL * expected.abs()
    if not close.all() and (error <= 1e-12 + 1e-6 * expected.abs()).all():
        i = int((~close).flatten().nonzero()[0])
        got, want = actual.flatten()[i].item(), expected.flatten()[i].item()
        fail(said(f"{name} is float64 but only float32-precise: at index {i} it is {got!r}, expected {want!r} "
                  f"(relative error {abs(got - want) / abs(want):.2g}): "
                  "part of it was computed in float32 (a tensor made without dtype=torch.float64?) and converted after",
                  ja=f"{name} は float64 ですが、精度が float32 程度しかありません: インデックス {i} で {got!r}、"
                  f"期待される値は {want!r} です（相対誤差 {abs(got - want) / abs(want):.2g}）。一部が float32 で"
                  "計算され、あとから変換されています（dtype=torch.float64 を付けずにテンソルを作っていませんか？）"),
             where, seed)  # fmt: skip
    assert_close(actual, expected, call=where, seed=seed, atol=ATOL, rtol=RTOL, name=name)


def kwargs_call(name, T, defaults, **kwargs):
    """(the keyword arguments that differ from the defaults, the call a message names)."""
    given = {k: v for k, v in kwargs.items() if defaults[k] != v}
    return given, call(name, T, **given)


# --- 09.1: linear schedule ----------------------------------------------------------------------

# (T, beta_start, beta_end): DDPM's, a short one, other ends (not the defaults), the smallest T
LINEAR_CASES = [(1000, 1e-4, 0.02), (10, 1e-4, 0.02), (7, 0.001, 0.3), (2, 0.05, 0.1)]


def linear_by_loop(T, beta_start, beta_end):
    """β_t = beta_start + (beta_end − beta_start) · t / (T − 1), t = 0 .. T-1, in float64."""
    return torch.tensor([beta_start + (beta_end - beta_start) * t / (T - 1) for t in range(T)], dtype=F64)


@pytest.mark.blank("09.1")
@pytest.mark.parametrize("case", LINEAR_CASES, ids=[f"T={c[0]}" for c in LINEAR_CASES])
def test_09_1_linear_betas(kata, case):
    T, beta_start, beta_end = case
    given, where = kwargs_call("linear_beta_schedule", T, {"beta_start": 1e-4, "beta_end": 0.02},
                               beta_start=beta_start, beta_end=beta_end)  # fmt: skip
    betas = kata.linear_beta_schedule(T, **given)
    expected = linear_by_loop(T, beta_start, beta_end)
    assert_tensor(betas, shape=(T,), call=where, name="betas")
    first_right, last_wrong = abs(betas[0].item() - beta_start) < 1e-12, abs(betas[-1].item() - beta_end) > 1e-12
    if betas.dtype == F64 and first_right and last_wrong:
        fail(said(f"betas[-1] (t = T-1 = {T - 1}) is {betas[-1].item():.6g}, expected beta_end = {beta_end:g}: "
                  "both ends are included (torch.arange and a step of (end − start)/T stop one step short)",
                  ja=f"betas[-1]（t = T-1 = {T - 1}）が {betas[-1].item():.6g} です。期待される値は beta_end = "
                  f"{beta_end:g} です: 両端とも含めます（torch.arange や刻み (end − start)/T では 1 ステップ手前で"
                  "止まってしまいます）"),
             where)  # fmt: skip
    assert_float64_close(betas, expected, where, name="betas")


# --- 09.2: cosine ᾱ(t) ---------------------------------------------------------------------------


def cosine_alpha_bar_by_loop(t, T, s):
    """ᾱ(t) = f(t) / f(0), f(t) = cos²((t/T + s) / (1 + s) · π/2), element by element with math.cos."""
    f = lambda u: math.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    return torch.tensor([f(u) / f(0) for u in t.flatten().tolist()], dtype=F64).view(t.shape)


# (T, s, t): every integer step of a long and a short schedule, another s, fractional times of any shape
COSINE_CASES = [
    (1000, 0.008, torch.arange(1001, dtype=F64)),
    (10, 0.008, torch.arange(11, dtype=F64)),
    (50, 0.02, torch.arange(51, dtype=F64)),
    (4, 0.008, torch.tensor([[0.5, 1.25, 3.999], [0.0, 2.0, 4.0]], dtype=F64)),
]


@pytest.mark.blank("09.2")
@pytest.mark.parametrize("case", COSINE_CASES, ids=["T=1000", "T=10", "s=0.02", "fractional t"])
def test_09_2_cosine_alpha_bar(kata, case):
    T, s, t = case
    t = t.clone()
    where = call("cosine_alpha_bar", t, T, **({} if s == 0.008 else {"s": s}))
    alpha_bar = kata.cosine_alpha_bar(t, T, **({} if s == 0.008 else {"s": s}))
    expected = cosine_alpha_bar_by_loop(t, T, s)
    assert_tensor(alpha_bar, shape=t.shape, call=where, name="ᾱ(t)")
    at_zero = (t == 0) & ((alpha_bar.detach() - 1).abs() > 1e-6)  # closer to 1: float32 rounding, named below
    if alpha_bar.dtype == F64 and at_zero.any():
        f0 = math.cos(s / (1 + s) * math.pi / 2) ** 2
        value = alpha_bar[at_zero][0].item()
        hint = (said(f": that is f(0) = {f0:.6g}; divide f(t) by f(0) so that ᾱ(0) = 1",
                     ja=f": これは f(0) = {f0:.6g} です。ᾱ(0) = 1 となるよう f(t) を f(0) で割ってください")
                if abs(value - f0) < 1e-9
                else said(": f(0) is the formula at t = 0, and ᾱ(t) = f(t) / f(0)",
                          ja=": f(0) は t = 0 での式の値で、ᾱ(t) = f(t) / f(0) です"))  # fmt: skip
        fail(said(f"ᾱ(0) is {value:.6g}, expected exactly 1 (no noise before the first step){hint}",
                  ja=f"ᾱ(0) が {value:.6g} です。ちょうど 1 になるはずです（最初のステップの前にはノイズがありません）{hint}"),
             where)  # fmt: skip
    assert_float64_close(alpha_bar, expected, where, name="ᾱ(t)")


# --- 09.3: cosine betas --------------------------------------------------------------------------


def cosine_betas_by_loop(T, s, max_beta):
    """β_t = min(1 − ᾱ(t+1) / ᾱ(t), max_beta) for t = 0 .. T-1, with math.cos."""
    f = lambda u: math.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    return torch.tensor([min(1 - (f(t + 1) / f(0)) / (f(t) / f(0)), max_beta) for t in range(T)], dtype=F64)


# (T, s, max_beta): the milestone's schedule, short ones, another s, a low clip that cuts many steps
COSINE_BETA_CASES = [(1000, 0.008, 0.999), (10, 0.008, 0.999), (1, 0.008, 0.999), (6, 0.02, 0.999),
                     (12, 0.008, 0.3)]  # fmt: skip


@pytest.mark.blank("09.3")
@pytest.mark.parametrize("case", COSINE_BETA_CASES, ids=["T=1000", "T=10", "T=1", "s=0.02", "max_beta=0.3"])
def test_09_3_cosine_betas_clipped(kata, monkeypatch, case):
    T, s, max_beta = case
    with_reference(monkeypatch, kata, "cosine_alpha_bar")  # graded alone: blank 09.2 is not involved
    given, where = kwargs_call("cosine_beta_schedule", T, {"s": 0.008, "max_beta": 0.999}, s=s, max_beta=max_beta)
    betas = kata.cosine_beta_schedule(T, **given)
    expected = cosine_betas_by_loop(T, s, max_beta)
    assert_tensor(betas, shape=(T,), call=where, name="betas")
    if betas.dtype == F64 and (betas < 0).any():
        i = int((betas < 0).nonzero()[0])
        fail(said(f"betas[{i}] is {betas[i].item():.4g}: a variance cannot be negative. β_t = 1 − ᾱ(t+1)/ᾱ(t), "
                  "and ᾱ decreases, so the ratio is below 1 (is it the other way up?)",
                  ja=f"betas[{i}] が {betas[i].item():.4g} です: 分散は負になりえません。β_t = 1 − ᾱ(t+1)/ᾱ(t) で、"
                  "ᾱ は減少するので比は 1 未満です（分子と分母が逆になっていませんか？）"), where)  # fmt: skip
    if betas.dtype == F64 and T > 1 and (betas >= max_beta).all():
        fail(said(f"every β is at least max_beta = {max_beta:g} (betas[0] is {betas[0].item():.6g}): the clip raised "
                  "the small ones; clip from above only, clamp(max=max_beta)",
                  ja=f"すべての β が max_beta = {max_beta:g} 以上です（betas[0] は {betas[0].item():.6g}）: clip が"
                  "小さい値まで引き上げています。上からだけ clip してください: clamp(max=max_beta)"), where)  # fmt: skip
    if betas.dtype == F64 and (betas > max_beta).any():
        i = int((betas > max_beta).nonzero()[0])
        fail(said(f"betas[{i}] is {betas[i].item():.6g}, above max_beta = {max_beta:g}: clip the betas at max_beta "
                  "(ᾱ(T) is ~0, so the last β is ~1 and a sampler would divide by 1 − β ≈ 0)",
                  ja=f"betas[{i}] が {betas[i].item():.6g} で、max_beta = {max_beta:g} を超えています: betas を "
                  "max_beta で clip してください（ᾱ(T) は ~0 なので最後の β は ~1 になり、サンプラーが 1 − β ≈ 0 で"
                  "割ることになります）"), where)  # fmt: skip
    assert_float64_close(betas, expected, where, name="betas")


# --- 09.4, 09.5, 09.6: Schedule ------------------------------------------------------------------


def random_betas(T, seed):
    torch.manual_seed(seed)
    return torch.rand(T, dtype=F64) * 0.4 + 0.05


# (name, betas): DDPM's linear and a cosine schedule (computed here, not by the kata), random
# betas, T = 1, float32 betas (the Schedule keeps float64 whatever it is given)
SCHEDULE_CASES = [
    ("linear, T = 1000", linear_by_loop(1000, 1e-4, 0.02)),
    ("cosine, T = 100", cosine_betas_by_loop(100, 0.008, 0.999)),
    ("random, T = 7", random_betas(7, 1)),
    ("T = 1", torch.tensor([0.3], dtype=F64)),
    ("float32 betas, T = 5", random_betas(5, 2).float()),
]


def schedule_of(kata, case):
    name, betas = case
    betas = betas.clone()
    return kata.Schedule(betas), betas, call("Schedule", betas) + f"  ({name})"


def alpha_bar_by_loop(betas):
    """ᾱ_t = (1 − β_0)(1 − β_1)⋯(1 − β_t): a running product, in float64."""
    out, product = [], 1.0
    for beta in betas.tolist():
        product *= 1 - beta
        out.append(product)
    return torch.tensor(out, dtype=F64)


@pytest.mark.blank("09.4")
@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=[c[0] for c in SCHEDULE_CASES])
def test_09_4_alphas_and_alpha_bar(kata, case):
    schedule, betas, where = schedule_of(kata, case)
    given = case[1]
    if not torch.equal(betas, given) or not torch.equal(schedule.betas.detach().to(given.dtype), given):
        fail(said("the betas changed while the Schedule was built (the caller's tensor, or self.betas): an in-place "
                  "operation does this (`self.betas.neg_()`, `betas *= ...`); write `1 - self.betas` to make a new "
                  "tensor",
                  ja="Schedule を作る間に betas が変わっています（呼び出し側のテンソル、または self.betas）: "
                  "インプレース演算（`self.betas.neg_()`、`betas *= ...`）がこれを起こします。`1 - self.betas` "
                  "と書けば新しいテンソルになります"), where)  # fmt: skip
    expected_alphas = torch.tensor([1 - b for b in betas.tolist()], dtype=F64)
    assert_float64_close(schedule.alphas, expected_alphas, where, name="alphas (α_t = 1 − β_t)")
    expected = alpha_bar_by_loop(betas)
    alpha_bar = schedule.alpha_bar
    assert_tensor(alpha_bar, shape=expected.shape, call=where, name="alpha_bar")
    if alpha_bar.dtype == F64 and len(betas) > 1 and (alpha_bar > 1).any():
        i = int((alpha_bar > 1).nonzero()[0])
        fail(said(f"alpha_bar[{i}] is {alpha_bar[i].item():.4g}, above 1: ᾱ_t is the product α_0 · α_1 ⋯ α_t "
                  "(each step keeps a fraction of the signal), not a sum",
                  ja=f"alpha_bar[{i}] が {alpha_bar[i].item():.4g} で、1 を超えています: ᾱ_t は和ではなく積 "
                  "α_0 · α_1 ⋯ α_t です（各ステップで信号の一部が残ります）"), where)  # fmt: skip
    assert_float64_close(alpha_bar, expected, where, name="alpha_bar (ᾱ_t = α_0 · α_1 ⋯ α_t)")


@pytest.mark.blank("09.4")
@pytest.mark.parametrize("case", SCHEDULE_CASES[:3], ids=[c[0] for c in SCHEDULE_CASES[:3]])
def test_09_4_alpha_bar_decreases_within_0_1(kata, case):
    schedule, betas, where = schedule_of(kata, case)
    alpha_bar = schedule.alpha_bar.detach()
    outside = (alpha_bar <= 0) | (alpha_bar > 1)
    if outside.any():
        i = int(outside.nonzero()[0])
        fail(said(f"alpha_bar[{i}] is {alpha_bar[i].item():.4g}, outside (0, 1]: ᾱ_t is the fraction of the "
                  f"signal's variance left after steps 0..t",
                  ja=f"alpha_bar[{i}] が {alpha_bar[i].item():.4g} で、(0, 1] の外にあります: ᾱ_t はステップ 0..t "
                  "のあとに残る信号の分散の割合です"), where)  # fmt: skip
    rising = alpha_bar[1:] >= alpha_bar[:-1]
    if rising.any():
        i = int(rising.nonzero()[0]) + 1
        fail(said(f"alpha_bar[{i}] = {alpha_bar[i].item():.6g} is not below alpha_bar[{i - 1}] = "
                  f"{alpha_bar[i - 1].item():.6g}: each step removes signal, so ᾱ decreases strictly",
                  ja=f"alpha_bar[{i}] = {alpha_bar[i].item():.6g} が alpha_bar[{i - 1}] = "
                  f"{alpha_bar[i - 1].item():.6g} より小さくなっていません: 各ステップで信号が減るので、ᾱ は"
                  "狭義単調に減少します"), where)  # fmt: skip


@pytest.mark.blank("09.5")
@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=[c[0] for c in SCHEDULE_CASES])
def test_09_5_alpha_bar_prev_is_shifted(kata, case):
    schedule, betas, where = schedule_of(kata, case)
    own = schedule.alpha_bar.detach().to(F64)  # the Schedule's own ᾱ (blank 09.4), whatever it is
    T = len(betas)
    expected = torch.tensor([1.0] + own.tolist()[:-1], dtype=F64)  # ᾱ_{t-1}, with ᾱ_{-1} = 1
    prev = schedule.alpha_bar_prev
    assert_tensor(prev, shape=(T,), call=where, name="alpha_bar_prev")
    if prev.dtype == F64 and T > 2 and torch.equal(prev, own):
        fail(said("alpha_bar_prev is alpha_bar itself: alpha_bar_prev[t] is ᾱ_{t-1}, the value one step earlier "
                  "(shift alpha_bar one place to the right, with a 1 in front)",
                  ja="alpha_bar_prev が alpha_bar そのものです: alpha_bar_prev[t] は 1 ステップ前の値 ᾱ_{t-1} です"
                  "（alpha_bar を右に 1 つずらし、先頭に 1 を置きます）"), where)  # fmt: skip
    if prev.dtype == F64 and T > 2 and torch.allclose(prev[:-1], own[1:]):
        fail(said("alpha_bar_prev[t] is ᾱ_{t+1}: the shift goes the wrong way (the step before t is t − 1)",
                  ja="alpha_bar_prev[t] が ᾱ_{t+1} になっています: ずらす向きが逆です（t の前のステップは t − 1 です）"),
             where)  # fmt: skip
    if prev.dtype == F64 and prev[0].item() != 1:
        fail(said(f"alpha_bar_prev[0] is {prev[0].item():.6g}, expected 1: before the first step (t = 0) no noise "
                  "has been added, all the signal is there (ᾱ_{-1} = 1)",
                  ja=f"alpha_bar_prev[0] が {prev[0].item():.6g} です。期待される値は 1 です: 最初のステップ（t = 0）"
                  "の前にはまだノイズが加わっておらず、信号がすべて残っています（ᾱ_{-1} = 1）"), where)  # fmt: skip
    name = said("alpha_bar_prev (ᾱ_{t-1}: 1, then alpha_bar[:-1])",
                ja="alpha_bar_prev（ᾱ_{t-1}: 先頭に 1、続いて alpha_bar[:-1]）")
    assert_float64_close(prev, expected, where, name=name)


def posterior_by_loop(betas, alpha_bar, alpha_bar_prev):
    """β̃_t = β_t (1 − ᾱ_{t-1}) / (1 − ᾱ_t), DDPM Eq. 7, in float64."""
    return torch.tensor([b * (1 - p) / (1 - a) for b, a, p in zip(betas.tolist(), alpha_bar.tolist(),
                                                                   alpha_bar_prev.tolist())], dtype=F64)  # fmt: skip


@pytest.mark.blank("09.6")
@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=[c[0] for c in SCHEDULE_CASES])
def test_09_6_posterior_variance(kata, case):
    schedule, betas, where = schedule_of(kata, case)
    beta = betas.double()
    # Eq. 7 of the Schedule's own ᾱ and ᾱ_{t-1} (blanks 09.4 and 09.5, whatever they are)
    own_bar, own_prev = schedule.alpha_bar.detach().double(), schedule.alpha_bar_prev.detach().double()
    expected = posterior_by_loop(beta, own_bar, own_prev)
    variance = schedule.posterior_variance
    assert_tensor(variance, shape=beta.shape, call=where, name="posterior_variance")
    # the properties of β̃, where ᾱ and ᾱ_{t-1} are right: β̃_0 = 0 and 0 < β̃_t ≤ β_t after
    true_bar = alpha_bar_by_loop(beta)
    true_prev = torch.cat([torch.ones(1, dtype=F64), true_bar[:-1]])
    if variance.dtype == F64 and torch.allclose(own_bar, true_bar) and torch.allclose(own_prev, true_prev):
        if torch.equal(variance, beta) and len(beta) > 1:
            fail(said("posterior_variance is β_t itself: that is DDPM's other choice of variance (σ²_t = β_t, §3.2); "
                      "the posterior's is β̃_t = β_t (1 − ᾱ_{t-1}) / (1 − ᾱ_t), Eq. 7",
                      ja="posterior_variance が β_t そのものです: それは DDPM のもう一つの分散の選び方です（σ²_t = β_t、"
                      "§3.2）。事後分布の分散は β̃_t = β_t (1 − ᾱ_{t-1}) / (1 − ᾱ_t) です（Eq. 7）"), where)  # fmt: skip
        if variance[0].item() != 0:
            swapped = (said(": is ᾱ_t on top and ᾱ_{t-1} below?", ja=": ᾱ_t が分子に、ᾱ_{t-1} が分母に来ていませんか？")
                       if math.isinf(variance[0].item()) else "")  # fmt: skip
            fail(said(f"posterior_variance[0] is {variance[0].item():.6g}, expected 0: at t = 0 the step before is "
                      f"the image itself (ᾱ_{{-1}} = 1), so 1 − ᾱ_{{t-1}} = 0 and β̃_0 = 0{swapped}",
                      ja=f"posterior_variance[0] が {variance[0].item():.6g} です。期待される値は 0 です: t = 0 では"
                      f"一つ前のステップは画像そのもの（ᾱ_{{-1}} = 1）なので、1 − ᾱ_{{t-1}} = 0 となり β̃_0 = 0 です"
                      f"{swapped}"),
                 where)  # fmt: skip
        bad = (variance[1:] <= 0) | (variance[1:] > beta[1:] * (1 + 1e-12))
        if bad.any():
            i = int(bad.nonzero()[0]) + 1
            fail(said(f"posterior_variance[{i}] is {variance[i].item():.6g}, but 0 < β̃_t ≤ β_t = "
                      f"{beta[i].item():.6g} for t > 0: β̃_t = β_t (1 − ᾱ_{{t-1}}) / (1 − ᾱ_t), and "
                      "1 − ᾱ_{t-1} < 1 − ᾱ_t",
                      ja=f"posterior_variance[{i}] が {variance[i].item():.6g} ですが、t > 0 では 0 < β̃_t ≤ β_t = "
                      f"{beta[i].item():.6g} となるはずです: β̃_t = β_t (1 − ᾱ_{{t-1}}) / (1 − ᾱ_t) で、"
                      "1 − ᾱ_{t-1} < 1 − ᾱ_t だからです"), where)  # fmt: skip
    name = "posterior_variance (β̃_t = β_t (1 − ᾱ_{t-1}) / (1 − ᾱ_t))"
    assert_float64_close(variance, expected, where, name=name)
