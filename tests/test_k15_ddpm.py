"""Tests of kata 15: DDPM sampling.

Oracles: the schedule's quantities recomputed by a plain loop in float64 over the betas; Eq. 15
and Eq. 7 written out in float64; the posterior mean as a Gaussian conditional
E[x_{t−1} | x_t, x_0] (x_{t−1} = √ᾱ_{t−1} x_0 + √(1 − ᾱ_{t−1}) ε₁ and x_t = √α_t x_{t−1} + √β_t ε₂
are jointly Gaussian: mean √ᾱ_{t−1} x_0 + Cov/Var · (x_t − √ᾱ_t x_0), Cov = √α_t (1 − ᾱ_{t−1}),
Var = 1 − ᾱ_t); an oracle model that knows x_0 and returns the true ε, with which a step lands
on that conditional mean and sampling gives back x_0; spy models that record the timesteps they
are asked for.

p_sample's two blanks are graded apart: 15.3's tests pass z = 0, so whatever 15.4 scales the
noise by, the step returns its mean; 15.4's tests compare the step with the mean that
posterior_mean (the reference's, recorded) handed back. ddpm_sample's blank runs with the
reference p_sample.
"""

import importlib

import pytest
import torch
from k09_schedules import Schedule
from support import assert_close, assert_tensor, call, fail, said, schedule_by_hand, with_reference
from torch import nn

T_SMALL, T_SAMPLE = 20, 50


class Label(str):
    """An argument shown in a call as written: call("f", Label("Oracle")) reads f(Oracle)."""

    def __repr__(self) -> str:
        return str(self)


def make_schedule(T: int = T_SMALL) -> Schedule:
    return Schedule(torch.linspace(1e-3, 0.3, T, dtype=torch.float64))


def schedule_label(T: int) -> Label:
    return Label(f"Schedule(T={T})")


by_hand = schedule_by_hand  # β, α, ᾱ, ᾱ_{t−1} and β̃ by a plain loop (tests/support.py)


def at(values: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """values[t] as (B, 1, 1, 1), float64."""
    return values[t].view(-1, 1, 1, 1)


def x0_by_eq_15(x_t, t, eps, q):
    """(x_t − √(1 − ᾱ_t) ε) / √ᾱ_t, clipped to [-1, 1], in float64."""
    alpha_bar = at(q["alpha_bar"], t)
    return ((x_t.double() - (1 - alpha_bar).sqrt() * eps.double()) / alpha_bar.sqrt()).clamp(-1, 1)


def mean_by_eq_7(x0, x_t, t, q):
    """√ᾱ_{t−1} β_t / (1 − ᾱ_t) · x0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t, in float64."""
    beta, alpha = at(q["beta"], t), at(q["alpha"], t)
    alpha_bar, alpha_bar_prev = at(q["alpha_bar"], t), at(q["alpha_bar_prev"], t)
    return (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar) * x0.double()
            + alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar) * x_t.double())  # fmt: skip


def conditional_mean(x0, x_t, t, q):
    """E[x_{t−1} | x_t, x0] by Gaussian conditioning (module docstring), in float64."""
    alpha, alpha_bar, alpha_bar_prev = at(q["alpha"], t), at(q["alpha_bar"], t), at(q["alpha_bar_prev"], t)
    x0, x_t = x0.double(), x_t.double()
    covariance, variance = alpha.sqrt() * (1 - alpha_bar_prev), 1 - alpha_bar
    return alpha_bar_prev.sqrt() * x0 + covariance / variance * (x_t - alpha_bar.sqrt() * x0)


def noised(x0, t, noise, q):
    """x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε (DDPM Eq. 4), computed in float64, returned in float32."""
    alpha_bar = at(q["alpha_bar"], t)
    return (alpha_bar.sqrt() * x0.double() + (1 - alpha_bar).sqrt() * noise.double()).float()


# --- 15.1: predict_x0 -------------------------------------------------------------------------

# (B, C, H, W): B == W in the third, where ᾱ of shape (B,) would broadcast along W without an error
PREDICT_CASES = [(4, 3, 5, 5), (1, 1, 4, 4), (3, 2, 3, 3), (2, 1, 2, 6)]


@pytest.mark.blank("15.1")
@pytest.mark.parametrize("seed, case", list(enumerate(PREDICT_CASES)))
def test_15_1_undoes_the_forward_process(kata, seed, case):
    B, C, H, W = case
    torch.manual_seed(seed)
    schedule = make_schedule()
    q = by_hand(schedule)
    x0 = torch.rand(B, C, H, W) * 1.8 - 0.9  # inside [-1, 1]: the clip changes nothing
    t = torch.randint(0, schedule.T, (B,))
    t[0] = schedule.T - 1
    t[-1] = 0 if B > 1 else t[-1]
    eps = torch.randn(B, C, H, W)
    x_t = noised(x0, t, eps, q)
    where = call("predict_x0", x_t, t, eps, schedule_label(schedule.T)) + said(
        "    (x_t made from x0 and eps by Eq. 4)", ja="    （x_t は x0 と eps から Eq. 4 で作ったもの）")
    out = kata.predict_x0(x_t, t, eps, schedule)
    assert_tensor(out, shape=(B, C, H, W), dtype=torch.float32, call=where, seed=seed, name="x̂_0")
    assert_close(out, x0, call=where, seed=seed, atol=1e-4,
                 name=said("x̂_0 (Eq. 4 solved for x_0 must give back the x0 that made x_t)",
                           ja="x̂_0（Eq. 4 を x_0 について解けば、x_t を作った x0 に戻るはず）"))  # fmt: skip


@pytest.mark.blank("15.1")
@pytest.mark.parametrize("seed", [0, 1])
def test_15_1_clips_to_minus_one_one(kata, seed):
    torch.manual_seed(seed)
    schedule = make_schedule()
    x_t, eps = torch.randn(3, 2, 4, 4) * 2, torch.randn(3, 2, 4, 4) * 2  # guesses far outside [-1, 1]
    t = torch.tensor([schedule.T - 1, 5, 0])
    where = call("predict_x0", x_t, t, eps, schedule_label(schedule.T))
    out = kata.predict_x0(x_t, t, eps, schedule)
    assert_tensor(out, shape=(3, 2, 4, 4), dtype=torch.float32, call=where, seed=seed, name="x̂_0")
    if out.min() < -1 or out.max() > 1:
        fail(said(f"x̂_0 has values from {out.min().item():.3g} to {out.max().item():.3g}: clip it to [-1, 1], "
                  "the range of the images",
                  ja=f"x̂_0 の値が {out.min().item():.3g} から {out.max().item():.3g} まであります。画像の範囲である "
                     "[-1, 1] にクリップしてください"), where, seed)  # fmt: skip
    expected = x0_by_eq_15(x_t, t, eps, by_hand(schedule)).float()
    assert_close(out, expected, call=where, seed=seed, atol=1e-5,
                 name=said("x̂_0 ((x_t − √(1 − ᾱ_t) ε) / √ᾱ_t, clipped to [-1, 1])",
                           ja="x̂_0（(x_t − √(1 − ᾱ_t) ε) / √ᾱ_t を [-1, 1] にクリップしたもの）"))  # fmt: skip


# --- 15.2: posterior_mean ---------------------------------------------------------------------


@pytest.mark.blank("15.2")
@pytest.mark.parametrize("seed, case", list(enumerate(PREDICT_CASES)))
def test_15_2_posterior_mean_is_eq_7(kata, seed, case):
    B, C, H, W = case
    torch.manual_seed(seed)
    schedule = make_schedule()
    x0, x_t = torch.rand(B, C, H, W) * 2 - 1, torch.randn(B, C, H, W)
    t = torch.randint(0, schedule.T, (B,))
    t[0] = schedule.T - 1
    t[-1] = 0 if B > 1 else t[-1]
    where = call("posterior_mean", x0, x_t, t, schedule_label(schedule.T))
    out = kata.posterior_mean(x0, x_t, t, schedule)
    assert_tensor(out, shape=(B, C, H, W), dtype=torch.float32, call=where, seed=seed, name="μ̃")
    expected = mean_by_eq_7(x0, x_t, t, by_hand(schedule)).float()
    assert_close(out, expected, call=where, seed=seed,
                 name="μ̃ (√ᾱ_{t−1} β_t / (1 − ᾱ_t) · x0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t)")  # fmt: skip


@pytest.mark.blank("15.2")
def test_15_2_is_the_mean_of_x_prev_given_x_t_and_x0(kata):
    schedule = make_schedule()
    T = schedule.T
    t = torch.arange(T)  # every step, one image each; at t = 0 the mean is x0 itself
    x0 = torch.rand(T, 1, 2, 3) * 2 - 1
    x_t = noised(x0, t, torch.randn(T, 1, 2, 3), by_hand(schedule))
    where = call("posterior_mean", x0, x_t, t, schedule_label(T)) + "    (t = 0, 1, ..., T − 1)"
    out = kata.posterior_mean(x0, x_t, t, schedule)
    assert_tensor(out, shape=(T, 1, 2, 3), dtype=torch.float32, call=where, seed=0, name="μ̃")
    expected = conditional_mean(x0, x_t, t, by_hand(schedule)).float()
    assert_close(out, expected, call=where, seed=0,
                 name=said("μ̃ (E[x_{t−1} | x_t, x0] of the forward process)", ja="μ̃（順過程の E[x_{t−1} | x_t, x0]）"))


# --- 15.3, 15.4: p_sample ---------------------------------------------------------------------


class OracleEps(nn.Module):
    """Knows x0: returns the true noise ε = (x_t − √ᾱ_t x0) / √(1 − ᾱ_t) (Eq. 4 solved for ε).
    Records the timesteps it is given."""

    def __init__(self, x0: torch.Tensor, schedule: Schedule) -> None:
        super().__init__()
        self.x0, self.alpha_bar = x0.double(), by_hand(schedule)["alpha_bar"]
        self.dummy = nn.Parameter(torch.zeros(()))  # ddpm_sample reads the device of the parameters
        self.calls = []

    def forward(self, x, t, context=None, context_mask=None):
        self.calls.append((t, context, context_mask))
        alpha_bar = at(self.alpha_bar, t)
        return ((x.double() - alpha_bar.sqrt() * self.x0) / (1 - alpha_bar).sqrt()).float()


class FixedEps(nn.Module):
    """Returns the same ε whatever it is given (large: its x̂_0 lies far outside [-1, 1]).
    Records the timesteps and the prompt it is given."""

    def __init__(self, eps: torch.Tensor) -> None:
        super().__init__()
        self.eps = eps
        self.dummy = nn.Parameter(torch.zeros(()))
        self.calls = []

    def forward(self, x, t, context=None, context_mask=None):
        self.calls.append((t, context, context_mask))
        return self.eps.clone()


def check_timesteps(model, B, t, where, seed):
    """The model was called once, with a (B,) long tensor holding t for every image."""
    __tracebackhide__ = True
    if len(model.calls) != 1:
        fail(said(f"p_sample called the model {len(model.calls)} times: once per step",
                  ja=f"p_sample がモデルを {len(model.calls)} 回呼び出しています。呼び出すのは 1 ステップにつき 1 回です"),
             where, seed)  # fmt: skip
    seen = model.calls[0][0]
    if not isinstance(seen, torch.Tensor):
        fail(said(f"the model was given t = {seen!r} (of type {type(seen).__name__}): give it t_batch, the (B,) long "
                  "tensor of timesteps, as in training",
                  ja=f"モデルに t = {seen!r}（型は {type(seen).__name__}）が渡されています。学習時と同じく、タイムステップの "
                     "(B,) の long テンソルである t_batch を渡してください"), where, seed)  # fmt: skip
    assert_close(seen, torch.full((B,), t), call=where, seed=seed,
                 name=said("the timesteps given to the model (t_batch)", ja="モデルに渡したタイムステップ（t_batch）"))


P_SAMPLE_STEPS = [T_SMALL - 1, 10, 1, 0]


@pytest.mark.blank("15.3")
@pytest.mark.parametrize("seed, t", list(enumerate(P_SAMPLE_STEPS)))
def test_15_3_true_noise_steps_to_the_posterior_mean(kata, monkeypatch, seed, t):
    with_reference(monkeypatch, kata, "predict_x0", "posterior_mean")  # grade the wiring, not 15.1-15.2
    torch.manual_seed(seed)
    schedule = make_schedule()
    q = by_hand(schedule)
    x0 = torch.rand(2, 2, 4, 4) * 1.8 - 0.9
    t_batch = torch.full((2,), t)
    x_t = noised(x0, t_batch, torch.randn(2, 2, 4, 4), q)
    model = OracleEps(x0, schedule)
    z = torch.zeros(2, 2, 4, 4)  # no noise: the step returns its mean, whatever blank 15.4 scales z by
    where = call("p_sample", Label(said("a model that returns the true ε", ja="真の ε を返すモデル")),
                 x_t, t, schedule_label(schedule.T), noise=z)  # fmt: skip
    out = kata.p_sample(model, x_t, t, schedule, z)
    assert_tensor(out, shape=(2, 2, 4, 4), dtype=torch.float32, call=where, seed=seed, name="x_{t−1}")
    check_timesteps(model, 2, t, where, seed)
    expected = conditional_mean(x0, x_t, t_batch, q).float()
    assert_close(out, expected, call=where, seed=seed, atol=1e-4,
                 name=said("x_{t−1} with z = 0: E[x_{t−1} | x_t, x0], as the model's ε is the true one",
                           ja="z = 0 のときの x_{t−1}（モデルの ε が真の ε なので E[x_{t−1} | x_t, x0] のはず）"))  # fmt: skip


@pytest.mark.blank("15.3")
@pytest.mark.parametrize("seed, t", [(0, 15), (1, 3)])
def test_15_3_clips_the_models_guess_and_passes_the_prompt(kata, monkeypatch, seed, t):
    with_reference(monkeypatch, kata, "predict_x0", "posterior_mean")
    torch.manual_seed(seed)
    schedule = make_schedule()
    x_t, eps = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4) * 3
    context, mask = torch.randn(3, 5, 4), torch.ones(3, 5, dtype=torch.bool)
    model = FixedEps(eps)
    z = torch.zeros(3, 2, 4, 4)
    where = call("p_sample", Label(said("a model that returns a fixed ε", ja="決まった ε を返すモデル")),
                 x_t, t, schedule_label(schedule.T), noise=z,
                 context=context, context_mask=mask)  # fmt: skip
    out = kata.p_sample(model, x_t, t, schedule, z, context, mask)
    assert_tensor(out, shape=(3, 2, 4, 4), dtype=torch.float32, call=where, seed=seed, name="x_{t−1}")
    check_timesteps(model, 3, t, where, seed)
    _, context_seen, mask_seen = model.calls[0]
    if context_seen is None or mask_seen is None:
        fail(said("the model was not given the prompt: pass context and context_mask on to it",
                  ja="モデルにプロンプトが渡されていません。context と context_mask をそのままモデルに渡してください"),
             where, seed)  # fmt: skip
    q = by_hand(schedule)
    t_batch = torch.full((3,), t)
    expected = mean_by_eq_7(x0_by_eq_15(x_t, t_batch, eps, q), x_t, t_batch, q).float()
    assert_close(out, expected, call=where, seed=seed, atol=1e-5,
                 name=said("x_{t−1} with z = 0: μ̃(x̂_0, x_t), x̂_0 from the model's ε clipped to [-1, 1]",
                           ja="z = 0 のときの x_{t−1}（μ̃(x̂_0, x_t)。x̂_0 はモデルの ε から求め、[-1, 1] に"
                              "クリップしたもの）"))  # fmt: skip


def record_means(monkeypatch, kata) -> list:
    """posterior_mean (the reference's) that records each mean it returns, so that blank 15.4's
    noise is measured from the mean blank 15.3 computed, right or wrong."""
    with_reference(monkeypatch, kata, "predict_x0")
    reference = importlib.import_module("k15_ddpm").posterior_mean
    means = []

    def posterior_mean(x0, x_t, t, schedule):
        mean = reference(x0, x_t, t, schedule)
        means.append(mean.clone())
        return mean

    monkeypatch.setattr(kata, "posterior_mean", posterior_mean)
    return means


def step_mean(kata, means, model, x_t, t, schedule):
    """The mean of the last p_sample call: the one posterior_mean returned, or else the step with z = 0."""
    if means:
        return means[-1]
    return kata.p_sample(model, x_t, t, schedule, torch.zeros_like(x_t))


@pytest.mark.blank("15.4")
@pytest.mark.parametrize("seed, t", list(enumerate(P_SAMPLE_STEPS[:3])))
def test_15_4_adds_sqrt_posterior_variance_times_the_noise(kata, monkeypatch, seed, t):
    means = record_means(monkeypatch, kata)
    torch.manual_seed(seed)
    schedule = make_schedule()
    x_t, z = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    model = FixedEps(torch.randn(2, 3, 4, 4))
    where = call("p_sample", Label(said("a model that returns a fixed ε", ja="決まった ε を返すモデル")),
                 x_t, t, schedule_label(schedule.T), noise=z)  # fmt: skip
    out = kata.p_sample(model, x_t, t, schedule, z)
    assert_tensor(out, shape=(2, 3, 4, 4), dtype=torch.float32, call=where, seed=seed, name="x_{t−1}")
    mean = step_mean(kata, means, model, x_t, t, schedule)
    variance = by_hand(schedule)["variance"][t]
    added = (out - mean).double()  # (2, 3, 4, 4)
    scale = ((added * z).sum() / (z * z).sum()).item()  # the least-squares c in added ≈ c · z
    if (added - scale * z).abs().max() < 1e-4 and abs(scale - variance.sqrt().item()) > 1e-4:
        fail(said(f"the step added {scale:.4g} · z to its mean; expected √β̃_t · z = {variance.sqrt().item():.4g} · z "
                  f"(β̃_t = posterior_variance[t] = {variance.item():.4g}; β_t = {schedule.betas[t].item():.4g})",
                  ja=f"ステップが平均に {scale:.4g} · z を足しています。期待されるのは √β̃_t · z = "
                     f"{variance.sqrt().item():.4g} · z です（β̃_t = posterior_variance[t] = {variance.item():.4g}、"
                     f"β_t = {schedule.betas[t].item():.4g}）"),
             where, seed)  # fmt: skip
    expected = (variance.sqrt() * z.double()).float()
    assert_close(added.float(), expected, call=where, seed=seed, atol=1e-5,
                 name=said("the noise added to the mean (√β̃_t · z, β̃_t = posterior_variance[t])",
                           ja="平均に足したノイズ（√β̃_t · z、β̃_t = posterior_variance[t]）"))  # fmt: skip


@pytest.mark.blank("15.4")
@pytest.mark.parametrize("seed", [0, 1])
def test_15_4_no_noise_at_t_0(kata, monkeypatch, seed):
    means = record_means(monkeypatch, kata)
    torch.manual_seed(seed)
    schedule = make_schedule()
    x_t = torch.randn(2, 3, 4, 4)
    model = FixedEps(torch.randn(2, 3, 4, 4))
    for z in (torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4) * 5):
        where = call("p_sample", Label(said("a model that returns a fixed ε", ja="決まった ε を返すモデル")),
                     x_t, 0, schedule_label(schedule.T), noise=z)  # fmt: skip
        out = kata.p_sample(model, x_t, 0, schedule, z)
        assert_tensor(out, shape=(2, 3, 4, 4), dtype=torch.float32, call=where, seed=seed, name="x_{-1}")
        mean = step_mean(kata, means, model, x_t, 0, schedule)
        assert_close(out, mean, call=where, seed=seed, atol=1e-6,
                     name=said("the sample of the last step (t = 0: the mean itself, no noise whatever z is)",
                               ja="最後のステップのサンプル（t = 0: z が何であってもノイズは加えず、平均そのもの）"))  # fmt: skip


@pytest.mark.blank("15.4")
def test_15_4_draws_the_noise_when_none_is_given(kata, monkeypatch):
    means = record_means(monkeypatch, kata)
    schedule = make_schedule()
    x_t = torch.randn(2, 2, 8, 8)
    model = FixedEps(torch.randn(2, 2, 8, 8))
    t = 10
    where = call("p_sample", Label(said("a model that returns a fixed ε", ja="決まった ε を返すモデル")),
                 x_t, t, schedule_label(schedule.T), noise=None)  # fmt: skip
    out = kata.p_sample(model, x_t, t, schedule)
    assert_tensor(out, shape=(2, 2, 8, 8), dtype=torch.float32, call=where, seed=0, name="x_{t−1}")
    mean = step_mean(kata, means, model, x_t, t, schedule)
    z = (out - mean).double() / by_hand(schedule)["variance"][t].sqrt()  # the z it drew: (2, 2, 8, 8)
    if not 0.8 < z.std().item() < 1.2 or abs(z.mean().item()) > 0.2:
        fail(said(f"with noise=None the step should draw z ~ N(0, I) (torch.randn_like(x_t)) and add √β̃_t · z; "
                  f"the z it added has mean {z.mean().item():.3g} and std {z.std().item():.3g}",
                  ja=f"noise=None のとき、ステップは z ~ N(0, I) を引いて（torch.randn_like(x_t)）√β̃_t · z を足すはず"
                     f"です。足された z は平均 {z.mean().item():.3g}、標準偏差 {z.std().item():.3g} です"),
             where, 0)  # fmt: skip


# --- 15.5: ddpm_sample ------------------------------------------------------------------------


class StepSpy(nn.Module):
    """Predicts ε = 0 and records the step t of each call, checking that t is a (B,) long tensor
    in [0, T) with one value for the whole batch."""

    def __init__(self, T: int, where: str = "") -> None:
        super().__init__()
        self.T, self.where = T, where
        self.dummy = nn.Parameter(torch.zeros(()))
        self.steps = []

    def forward(self, x, t, context=None, context_mask=None):
        __tracebackhide__ = True
        step = int(t[0])
        if step < 0 or step >= self.T:
            fail(said(f"the model was asked for step t = {step} with T = {self.T}: timesteps are 0-based, in [0, T); "
                      f"sampling starts at T − 1 = {self.T - 1} (after the steps {self.steps})",
                      ja=f"T = {self.T} なのに、モデルにステップ t = {step} を求めています（ステップ {self.steps} の"
                         f"あと）。タイムステップは 0 始まりで [0, T) の範囲です。サンプリングは T − 1 = {self.T - 1} "
                         "から始まります"), self.where)  # fmt: skip
        self.steps.append(step)
        return torch.zeros_like(x)


@pytest.mark.blank("15.5")
@pytest.mark.parametrize("T", [7, 1])
def test_15_5_visits_each_step_once_from_T_minus_1_down_to_0(kata, monkeypatch, T):
    with_reference(monkeypatch, kata, "p_sample", "predict_x0", "posterior_mean")  # grade 15.5 alone
    schedule = make_schedule(T)
    where = call("ddpm_sample", Label(said("a model that records its steps", ja="ステップを記録するモデル")),
                 (2, 1, 3, 3), schedule_label(T))  # fmt: skip
    model = StepSpy(T, where)
    samples, _ = kata.ddpm_sample(model, (2, 1, 3, 3), schedule, generator=torch.Generator().manual_seed(0))
    assert_tensor(samples, shape=(2, 1, 3, 3), dtype=torch.float32, call=where, name="samples")
    expected = list(range(T - 1, -1, -1))
    if model.steps != expected:
        fail(said(f"the model was asked for the steps {model.steps}, in that order; expected {expected}: each step "
                  "once, from T − 1 (the noisiest) down to 0",
                  ja=f"モデルに求めたステップは順に {model.steps} でした。期待されるのは {expected} です。"
                     "T − 1（最もノイズが多い）から 0 まで、各ステップを 1 回ずつたどります"), where)  # fmt: skip


@pytest.mark.blank("15.5")
@pytest.mark.parametrize("seed", [0, 1])
def test_15_5_the_true_noise_gives_back_x0(kata, monkeypatch, seed):
    with_reference(monkeypatch, kata, "p_sample", "predict_x0", "posterior_mean")
    torch.manual_seed(seed)
    schedule = make_schedule(T_SAMPLE)
    x0 = torch.rand(2, 1, 4, 4) * 1.8 - 0.9
    where = call("ddpm_sample", Label(said("a model that returns the true ε of x0", ja="x0 の真の ε を返すモデル")),
                 (2, 1, 4, 4), schedule_label(T_SAMPLE),
                 generator=Label(f"Generator().manual_seed({seed})"))  # fmt: skip
    samples, _ = kata.ddpm_sample(OracleEps(x0, schedule), (2, 1, 4, 4), schedule,
                                  generator=torch.Generator().manual_seed(seed))  # fmt: skip
    assert_tensor(samples, shape=(2, 1, 4, 4), dtype=torch.float32, call=where, seed=seed, name="samples")
    assert_close(samples, x0, call=where, seed=seed, atol=1e-4,
                 name=said("samples (the last step, t = 0, lands on the x0 whose noise the model knows)",
                           ja="samples（最後のステップ t = 0 で、モデルがそのノイズを知っている x0 に"
                              "たどり着くはず）"))  # fmt: skip


@pytest.mark.blank("15.5")
def test_15_5_seeded_and_its_trajectory(kata, monkeypatch):
    with_reference(monkeypatch, kata, "p_sample", "predict_x0", "posterior_mean")
    schedule = make_schedule(T_SMALL)
    shape = (2, 1, 3, 3)
    where = call("ddpm_sample", Label(said("a model that predicts ε = 0", ja="ε = 0 を予測するモデル")),
                 shape, schedule_label(T_SMALL), generator=Label("Generator().manual_seed(5)"),
                 keep_every=5)  # fmt: skip
    runs = [kata.ddpm_sample(StepSpy(T_SMALL), shape, schedule, generator=torch.Generator().manual_seed(seed),
                             keep_every=5) for seed in (5, 5, 6)]  # fmt: skip
    (samples, trajectory), (again, _), (other, _) = runs
    assert_close(again, samples, call=where, seed=5, atol=0, rtol=0,
                 name=said("samples of a second run with the same seed", ja="同じシードでもう一度実行したときの samples"))
    if torch.equal(other, samples):
        fail(said("generators seeded differently gave the same samples",
                  ja="異なるシードのジェネレータから同じサンプルが得られました"), where, 5)  # fmt: skip
    if len(trajectory) != 6:
        fail(said(f"the trajectory has {len(trajectory)} images; with T = 20 and keep_every = 5 it keeps x_t at "
                  "t = 19 (the start), 15, 10, 5 and 0, then the samples: 6",
                  ja=f"軌道に画像が {len(trajectory)} 枚あります。T = 20、keep_every = 5 では t = 19（開始点）、15、"
                     "10、5、0 の x_t を残し、最後に samples を加えるので 6 枚です"), where, 5)  # fmt: skip
    start = torch.randn(shape, generator=torch.Generator().manual_seed(5))
    assert_close(trajectory[0], start, call=where, seed=5, atol=0, rtol=0,
                 name=said("the first image of the trajectory (x_{T−1}, the generator's first draw)",
                           ja="軌道の最初の画像（x_{T−1}、ジェネレータから最初に引いたもの）"))  # fmt: skip
    assert_close(trajectory[-1], samples, call=where, seed=5, atol=0, rtol=0,
                 name=said("the last image of the trajectory (the samples)", ja="軌道の最後の画像（samples）"))  # fmt: skip
