"""Tests of kata 10: the forward process. Oracles: the closed forms 2x − 1 and clamp((x + 1) / 2)
written element by element, the round trips between the two ranges, a plain loop for extract
(out[b] = a[t[b]]), DDPM Eq. 4 written per image in float64 with ᾱ as a running product computed
here, and statistics: over 20,000 noise draws, the mean of x_t is √ᾱ_t x_0 and its variance
1 − ᾱ_t, within a tolerance set by the number of draws (seeded, so the same every run). A [0, 1]
image given to q_sample must raise the loud error. Gradients: q_sample against Eq. 4 written
with torch, with respect to x0 and the noise (kata 14 trains through it).

The Schedule is kata 09's (the reference), built from betas computed here. q_sample's tests run
with the reference extract, and the range tests with the reference of the other conversion, so
each blank is graded alone.
"""

import math

import pytest
import torch
from support import assert_close, assert_gradients, assert_tensor, call, fail, said, with_reference

F64 = torch.float64


def eighths(low, high, *shape):
    """Random multiples of 1/8 in [low, high], both ends among them: exact in float32."""
    values = torch.randint(int(low * 8), int(high * 8) + 1, shape).float() / 8
    values.view(-1)[:2] = torch.tensor([low, high])
    return values


# --- 10.1, 10.2: the two ranges ------------------------------------------------------------------

IMAGE_SHAPES = [(2, 3, 4, 4), (1, 1, 2, 3), (5, 3, 16, 16)]


@pytest.mark.blank("10.1")
@pytest.mark.parametrize("seed, shape", list(enumerate(IMAGE_SHAPES)))
def test_10_1_to_model_range(kata, seed, shape):
    torch.manual_seed(seed)
    images = eighths(0, 1, *shape)
    where = call("to_model_range", images) + "  (images in [0, 1], 0 and 1 among them)"
    out = kata.to_model_range(images)
    expected = torch.tensor([2 * v - 1 for v in images.flatten().tolist()]).view(shape)  # 0 → -1, 1 → 1
    assert_tensor(out, shape=shape, dtype=images.dtype, call=where, seed=seed)
    low, high = out.min().item(), out.max().item()
    if (low, high) != (-1.0, 1.0):
        fail(said(f"to_model_range maps [0, 1] onto [{low:g}, {high:g}], expected [-1, 1]: black (0) must become -1 "
                  "and white (1) become 1 (stretch by 2, then shift down by 1)",
                  ja=f"to_model_range が [0, 1] を [{low:g}, {high:g}] に写しています。期待される範囲は [-1, 1] です: "
                  "黒（0）は -1 に、白（1）は 1 にならなければなりません（2 倍に伸ばしてから、1 だけ下にずらします）"),
             where, seed)  # fmt: skip
    assert_close(out, expected, call=where, seed=seed, atol=0, rtol=0)


@pytest.mark.blank("10.1")
def test_10_1_round_trip(kata, monkeypatch):
    with_reference(monkeypatch, kata, "to_image_range")  # graded alone: blank 10.2 is not involved
    images = eighths(0, 1, 2, 3, 5, 5)
    where = call("to_image_range(to_model_range", images) + ")"
    assert_close(kata.to_image_range(kata.to_model_range(images)), images, call=where, atol=1e-7, rtol=0,
                 name=said("to_image_range(to_model_range(images)) (compared with the images)",
                           ja="to_image_range(to_model_range(images))（images と比較）"))  # fmt: skip


@pytest.mark.blank("10.2")
@pytest.mark.parametrize("seed, shape", list(enumerate(IMAGE_SHAPES)))
def test_10_2_to_image_range_clamps(kata, seed, shape):
    torch.manual_seed(seed)
    x = eighths(-1.5, 1.5, *shape)  # a sample may overshoot [-1, 1]
    where = call("to_image_range", x) + "  (x in [-1.5, 1.5]: a sample may overshoot [-1, 1])"
    out = kata.to_image_range(x)
    expected = torch.tensor([min(max((v + 1) / 2, 0.0), 1.0) for v in x.flatten().tolist()]).view(shape)
    assert_tensor(out, shape=shape, dtype=x.dtype, call=where, seed=seed)
    inside = (x >= -1) & (x <= 1)
    error_inside = ((out.detach() - expected).abs() * inside).nan_to_num(1.0)
    if (error_inside > 1e-7).any():
        i = int(error_inside.flatten().argmax())
        fail(said(f"x = {x.flatten()[i].item():g} became {out.flatten()[i].item():g}, expected "
                  f"{expected.flatten()[i].item():g}: [-1, 1] maps onto [0, 1] by (x + 1) / 2, -1 → 0 and 1 → 1",
                  ja=f"x = {x.flatten()[i].item():g} が {out.flatten()[i].item():g} になっています。期待される値は "
                  f"{expected.flatten()[i].item():g} です: [-1, 1] は (x + 1) / 2 で [0, 1] に写ります（-1 → 0、1 → 1）"),
             where, seed)  # fmt: skip
    if (out.min().item() < 0 or out.max().item() > 1) and x.max() > 1:
        fail(said(f"output spans [{out.min().item():g}, {out.max().item():g}], outside [0, 1]: a sample may overshoot "
                  "[-1, 1], and an image must not; clamp to [0, 1] after rescaling",
                  ja=f"出力が [{out.min().item():g}, {out.max().item():g}] にわたり、[0, 1] からはみ出しています: "
                  "サンプルは [-1, 1] をはみ出すことがありますが、画像ははみ出してはいけません。範囲を変換したあとで "
                  "[0, 1] に clamp してください"), where, seed)  # fmt: skip
    assert_close(out, expected, call=where, seed=seed, atol=1e-7, rtol=0)


@pytest.mark.blank("10.2")
def test_10_2_round_trip(kata, monkeypatch):
    with_reference(monkeypatch, kata, "to_model_range")  # graded alone: blank 10.1 is not involved
    x = eighths(-1, 1, 2, 3, 5, 5)
    where = call("to_model_range(to_image_range", x) + ")  (x in [-1, 1])"
    assert_close(kata.to_model_range(kata.to_image_range(x)), x, call=where, atol=1e-7, rtol=0,
                 name=said("to_model_range(to_image_range(x)) (compared with x)",
                           ja="to_model_range(to_image_range(x))（x と比較）"))  # fmt: skip


# --- 10.3: extract -------------------------------------------------------------------------------

# (T, shape, t): images, vectors (B, D), plain (B,), B = 1, the first and the last step; a
# torch.Size as well as a tuple
EXTRACT_CASES = [
    (10, (4, 3, 5, 5), [0, 3, 8, 3]),
    (10, torch.Size([3, 6]), [9, 0, 5]),
    (5, (1, 2, 3, 4), [2]),
    (1000, (2,), [999, 0]),
    (7, torch.Size([3, 1, 2, 2]), [6, 6, 1]),
]


def extract_by_loop(a, t, shape):
    values = [a[int(step)].item() for step in t]  # a[t[b]] for each image b
    return torch.tensor(values, dtype=torch.float32).view(len(values), *[1] * (len(shape) - 1))


@pytest.mark.blank("10.3")
@pytest.mark.parametrize("seed, case", list(enumerate(EXTRACT_CASES)))
def test_10_3_extract_reads_each_images_step(kata, seed, case):
    T, shape, steps = case
    torch.manual_seed(seed)
    a = torch.arange(T, dtype=F64) + 0.05 + 0.9 * torch.rand(T, dtype=F64)  # a[t] in (t, t + 1): its step shows
    t = torch.tensor(steps)
    where = call("extract", a, t, shape)
    out = kata.extract(a, t, shape)
    expected = extract_by_loop(a, t, shape)
    assert_tensor(out, shape=expected.shape, call=where, seed=seed)
    if out.dtype != torch.float32:
        fail(said(f"output has dtype {out.dtype}, expected torch.float32: the schedule is float64, the images float32, "
                  "and the values read for them are float32 (.float())",
                  ja=f"出力の dtype が {out.dtype} です（期待される dtype は torch.float32）: スケジュールは float64、"
                  "画像は float32 で、画像のために読み出す値は float32 にします（.float()）"), where, seed)  # fmt: skip
    read = out.detach().flatten().floor().long()  # the step each value came from
    if not torch.equal(read, t):
        b = int((read != t).nonzero()[0])
        why = ""
        if torch.equal(read, t + 1):
            why = said(": every image reads a[t + 1], one step late (timesteps are 0-based)",
                       ja=": どの画像も 1 ステップ遅れて a[t + 1] を読んでいます（タイムステップは 0 始まりです）")
        elif torch.equal(read, (t - 1) % T):
            why = said(": every image reads a[t - 1] (and t = 0 wraps round to a[T - 1]): timesteps are 0-based",
                       ja=": どの画像も a[t - 1] を読んでいます（t = 0 は a[T - 1] に回り込みます）: "
                       "タイムステップは 0 始まりです")  # fmt: skip
        fail(said(f"image {b} has t = {steps[b]} but got a[{read[b].item()}]{why}; each image reads a at its own "
                  "timestep, a[t[b]]",
                  ja=f"画像 {b} は t = {steps[b]} ですが、a[{read[b].item()}] を受け取っています{why}。各画像は"
                  "自分のタイムステップの a、つまり a[t[b]] を読みます"), where, seed)  # fmt: skip
    assert_close(out, expected, call=where, seed=seed, atol=1e-6, rtol=1e-6)


@pytest.mark.blank("10.3")
def test_10_3_extract_broadcasts_over_images(kata):
    a = torch.tensor([0.5, 2.0, 3.0], dtype=F64)
    x = torch.ones(2, 3, 4, 5)
    t = torch.tensor([2, 0])
    where = call("extract", a, t, x.shape) + " * x"
    out = kata.extract(a, t, x.shape) * x
    expected = torch.stack([torch.full((3, 4, 5), 3.0), torch.full((3, 4, 5), 0.5)])
    assert_close(out, expected, call=where, name=said("extract(a, t, x.shape) * x (image b scaled by a[t[b]])",
                                                      ja="extract(a, t, x.shape) * x（画像 b を a[t[b]] 倍したもの）"))


# --- 10.4: q_sample ------------------------------------------------------------------------------


def linear_betas(T):
    return torch.tensor([1e-4 + (0.02 - 1e-4) * t / (T - 1) for t in range(T)], dtype=F64)


def cosine_betas(T, s=0.008):
    f = lambda u: math.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    return torch.tensor([min(1 - f(t + 1) / f(t), 0.999) for t in range(T)], dtype=F64)


def alpha_bar_by_loop(betas):
    out, product = [], 1.0
    for beta in betas.tolist():
        product *= 1 - beta
        out.append(product)
    return out


SCHEDULES = {"linear, T = 1000": linear_betas(1000), "cosine, T = 50": cosine_betas(50)}

# (schedule, shape, t): the first and the last step, B = W (a (B,) ᾱ would broadcast along W), B = 1
Q_SAMPLE_CASES = [
    ("linear, T = 1000", (4, 3, 5, 4), [0, 10, 500, 999]),
    ("cosine, T = 50", (3, 1, 4, 4), [49, 0, 25]),
    ("linear, T = 1000", (1, 3, 2, 2), [250]),
    ("cosine, T = 50", (5, 2, 3, 3), [1, 48, 7, 7, 30]),
]


def q_sample_by_loop(x0, t, noise, alpha_bar):
    """x_t[b] = √ᾱ_{t[b]} x0[b] + √(1 − ᾱ_{t[b]}) noise[b], DDPM Eq. 4, image by image in float64."""
    out = torch.empty(x0.shape, dtype=F64)
    for b, step in enumerate(t.tolist()):
        out[b] = math.sqrt(alpha_bar[step]) * x0[b].double() + math.sqrt(1 - alpha_bar[step]) * noise[b].double()
    return out


def q_sample_inputs(case, seed):
    name, shape, steps = case
    torch.manual_seed(seed)
    x0 = torch.rand(shape) * 2 - 1
    x0.view(-1)[0] = -1.0  # black is there: the batch is plainly in [-1, 1]
    return x0, torch.tensor(steps), torch.randn(shape)


def explain_q_sample(out, x0, t, noise, betas):
    """The catalogued mistakes this output matches, said in words (or "")."""
    out, alpha_bar = out.detach().double(), alpha_bar_by_loop(betas)
    ab = torch.tensor([alpha_bar[s] for s in t.tolist()], dtype=F64).view(-1, *[1] * (x0.dim() - 1))
    beta = betas[t].view_as(ab)
    ab_prev = torch.tensor([alpha_bar[s - 1] if s > 0 else 1.0 for s in t.tolist()], dtype=F64)
    ab_prev = ab_prev.view_as(ab)
    x0, noise = x0.double(), noise.double()
    forms = {
        said("√√ᾱ: the square root is taken twice (√ᾱ of a value that was already √ᾱ)",
             ja="√√ᾱ: 平方根を 2 回取っています（すでに √ᾱ になっている値から、さらに √ を取っています）"):
            ab.sqrt().sqrt() * x0 + (1 - ab).sqrt() * noise,
        said("ᾱ_{t-1} (alpha_bar_prev) where Eq. 4 has ᾱ_t",
             ja="Eq. 4 の ᾱ_t のところで ᾱ_{t-1}（alpha_bar_prev）を使っています"):
            ab_prev.sqrt() * x0 + (1 - ab_prev).sqrt() * noise,
        said("the variances ᾱ and 1 − ᾱ where Eq. 4 has their square roots",
             ja="Eq. 4 では平方根を取るところで、分散 ᾱ と 1 − ᾱ をそのまま使っています"):
            ab * x0 + (1 - ab) * noise,
        said("α_t = 1 − β_t, one step's factor, where Eq. 4 has ᾱ_t, the product over steps 0..t",
             ja="Eq. 4 のステップ 0..t にわたる積 ᾱ_t のところで、1 ステップ分の係数 α_t = 1 − β_t を使っています"):
            (1 - beta).sqrt() * x0 + beta.sqrt() * noise,
        said("√β_t on the noise, one step's, where Eq. 4 has √(1 − ᾱ_t)",
             ja="ノイズに、Eq. 4 の √(1 − ᾱ_t) ではなく 1 ステップ分の √β_t を掛けています"):
            ab.sqrt() * x0 + beta.sqrt() * noise,
    }  # fmt: skip
    for what, value in forms.items():
        if torch.allclose(out, value, atol=1e-5, rtol=1e-4):
            return said(f": it is {what}", ja=f": {what}")
    return ""


@pytest.mark.blank("10.4")
@pytest.mark.parametrize("seed, case", list(enumerate(Q_SAMPLE_CASES)))
def test_10_4_q_sample_is_eq_4(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "extract")  # graded alone: blank 10.3 is not involved
    schedule = kata.Schedule(SCHEDULES[case[0]].clone())
    alpha_bar = alpha_bar_by_loop(SCHEDULES[case[0]])
    x0, t, noise = q_sample_inputs(case, seed)
    where = call("q_sample", x0, t, noise, f"Schedule({case[0]})")
    out = kata.q_sample(x0, t, noise, schedule)
    expected = q_sample_by_loop(x0, t, noise, alpha_bar).float()
    assert_tensor(out, shape=x0.shape, call=where, seed=seed)
    if out.dtype == F64:
        fail(said("x_t is float64, expected float32 like x0: ᾱ came straight from the float64 schedule; extract reads "
                  "it as float32, shaped (B, 1, 1, 1) to scale each image by its own ᾱ_t",
                  ja="x_t が float64 です。x0 と同じ float32 になるはずです: ᾱ を float64 のスケジュールからそのまま"
                  "取っています。extract は ᾱ を float32 で、各画像をそれぞれの ᾱ_t でスケールできるよう "
                  "(B, 1, 1, 1) の形で読み出します"), where, seed)  # fmt: skip
    assert_tensor(out, dtype=x0.dtype, call=where, seed=seed)
    if not torch.allclose(out.detach(), expected, atol=1e-5, rtol=1e-4):
        explanation = explain_q_sample(out, x0, t, noise, SCHEDULES[case[0]])
        if explanation:
            fail(said(f"x_t is not √ᾱ_t x0 + √(1 − ᾱ_t) ε (DDPM Eq. 4){explanation}",
                      ja=f"x_t が √ᾱ_t x0 + √(1 − ᾱ_t) ε（DDPM Eq. 4）になっていません{explanation}"), where, seed)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("x_t (compared with √ᾱ_t x0 + √(1 − ᾱ_t) ε)", ja="x_t（√ᾱ_t x0 + √(1 − ᾱ_t) ε と比較）"))


DRAWS = 20_000
STATS_STEPS = [0, 100, 500, 999]


@pytest.mark.blank("10.4")
def test_10_4_q_sample_mean_and_variance(kata, monkeypatch):
    """Over 20,000 draws of ε: mean √ᾱ_t x0, variance 1 − ᾱ_t, per pixel and step. Tolerances:
    5 standard errors of the sample mean (σ/√N) and of the sample variance (σ²√(2/(N−1)))."""
    with_reference(monkeypatch, kata, "extract")
    schedule = kata.Schedule(SCHEDULES["linear, T = 1000"].clone())
    alpha_bar = torch.tensor(alpha_bar_by_loop(SCHEDULES["linear, T = 1000"]), dtype=F64)[STATS_STEPS]  # (K,)
    K = len(STATS_STEPS)
    x0_one = torch.tensor([[-1.0, -0.5], [0.25, 1.0]]).view(1, 1, 2, 2)  # (1, 1, 2, 2)
    x0 = x0_one.expand(DRAWS * K, 1, 2, 2).contiguous()  # (N·K, 1, 2, 2): draw n, step k at n·K + k
    t = torch.tensor(STATS_STEPS).repeat(DRAWS)  # (N·K,)
    noise = torch.randn(DRAWS * K, 1, 2, 2)
    where = call("q_sample", x0, t, noise, "Schedule(linear, T = 1000)") + f"  ({DRAWS} draws at t = {STATS_STEPS})"
    out = kata.q_sample(x0, t, noise, schedule)
    assert_tensor(out, shape=x0.shape, dtype=x0.dtype, call=where, seed=0)
    draws = out.detach().double().view(DRAWS, K, 4)  # (N, K, pixels)
    mean, variance = draws.mean(0), draws.var(0)  # (K, 4)
    expected_mean = alpha_bar.sqrt()[:, None] * x0_one.double().view(1, 4)  # (K, 4)
    expected_var = (1 - alpha_bar)[:, None].expand(K, 4)
    mean_tol = 5 * (expected_var / DRAWS).sqrt()
    var_tol = 5 * expected_var * math.sqrt(2 / (DRAWS - 1))
    for k, step in enumerate(STATS_STEPS):
        for p in range(4):
            if abs(mean[k, p] - expected_mean[k, p]) > mean_tol[k, p]:
                fail(said(f"at t = {step}, pixel x0 = {x0_one.flatten()[p].item():g}: the mean of x_t over {DRAWS} "
                          f"draws is {mean[k, p].item():.5g}, expected √ᾱ_t x0 = {expected_mean[k, p].item():.5g} "
                          f"(± {mean_tol[k, p].item():.2g}, 5 standard errors): the signal keeps a factor √ᾱ_t",
                          ja=f"t = {step}、画素 x0 = {x0_one.flatten()[p].item():g} で: {DRAWS} 回の抽出での x_t の"
                          f"平均が {mean[k, p].item():.5g} です。期待される値は √ᾱ_t x0 = "
                          f"{expected_mean[k, p].item():.5g} です（± {mean_tol[k, p].item():.2g}、標準誤差の 5 倍）: "
                          "信号には係数 √ᾱ_t が掛かります"),
                     where, 0)  # fmt: skip
            if abs(variance[k, p] - expected_var[k, p]) > var_tol[k, p]:
                fail(said(f"at t = {step}: the variance of x_t over {DRAWS} draws is {variance[k, p].item():.5g}, "
                          f"expected 1 − ᾱ_t = {expected_var[k, p].item():.5g} (± {var_tol[k, p].item():.2g}, "
                          "5 standard errors): the noise gets a factor √(1 − ᾱ_t)",
                          ja=f"t = {step} で: {DRAWS} 回の抽出での x_t の分散が {variance[k, p].item():.5g} です。"
                          f"期待される値は 1 − ᾱ_t = {expected_var[k, p].item():.5g} です"
                          f"（± {var_tol[k, p].item():.2g}、標準誤差の 5 倍）: ノイズには係数 √(1 − ᾱ_t) が掛かります"),
                     where, 0)  # fmt: skip


@pytest.mark.blank("10.4")
def test_10_4_images_in_0_1_are_refused(kata, monkeypatch):
    with_reference(monkeypatch, kata, "extract")
    schedule = kata.Schedule(SCHEDULES["cosine, T = 50"].clone())
    images = eighths(0, 1, 2, 3, 4, 4)  # as the shapes world gives them
    t, noise = torch.tensor([3, 40]), torch.randn(2, 3, 4, 4)
    x0 = images * 2 - 1  # the same images in [-1, 1]: accepted
    out = kata.q_sample(x0, t, noise, schedule)
    assert_tensor(out, shape=x0.shape, dtype=x0.dtype, call=call("q_sample", x0, t, noise, "Schedule(cosine, T = 50)"))
    where = call("q_sample", images, t, noise, "Schedule(cosine, T = 50)") + "  (images in [0, 1])"
    try:
        kata.q_sample(images, t, noise, schedule)
    except ValueError as e:
        if "to_model_range" not in str(e):
            fail(said(f"q_sample raised ValueError({str(e)!r}): the error should say to call to_model_range",
                      ja=f"q_sample が ValueError({str(e)!r}) を送出しました: エラーメッセージでは to_model_range を"
                      "呼ぶよう伝えてください"), where)  # fmt: skip
        return
    fail(said("q_sample accepted images in [0, 1]: inside the model images live in [-1, 1], and a [0, 1] image must "
              "raise check_model_range's ValueError (leave its call at the top of q_sample)",
              ja="q_sample が [0, 1] の画像を受け付けました: モデルの中では画像は [-1, 1] の範囲にあり、[0, 1] の画像"
              "には check_model_range の ValueError を送出させなければなりません（q_sample の先頭にあるその呼び出しを"
              "残してください）"), where)  # fmt: skip


@pytest.mark.blank("10.4")
@pytest.mark.parametrize("seed, case", list(enumerate(Q_SAMPLE_CASES[:2])))
def test_10_4_q_sample_gradients(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "extract")
    schedule = kata.Schedule(SCHEDULES[case[0]].clone())
    x0, t, noise = q_sample_inputs(case, seed)
    x0, noise = x0.requires_grad_(), noise.requires_grad_()
    x0_o, noise_o = x0.detach().clone().requires_grad_(), noise.detach().clone().requires_grad_()
    alpha_bar = torch.tensor(alpha_bar_by_loop(SCHEDULES[case[0]]))[t].view(-1, 1, 1, 1)  # (B, 1, 1, 1) float32
    expected = alpha_bar.sqrt() * x0_o + (1 - alpha_bar).sqrt() * noise_o
    where = call("q_sample", x0, t, noise, f"Schedule({case[0]})") + ", then backward()"
    out = kata.q_sample(x0 * 1, t, noise * 1, schedule)  # not leaves: an in-place edit meets the guard
    assert_gradients(out, expected, {"x0": (x0, x0_o), "noise": (noise, noise_o)}, call=where, seed=seed)
