"""Tests of kata 14: training a denoiser.

Oracles: counts of many seeded draws (every step 0..T−1 drawn, T never, a chi-square bound on
the counts); the loss of Algorithm 1 written out in float64 with a small model the test
controls (a 1×1 convolution, a term linear in t, one from the prompt), which also records what
it was given; an oracle model that knows x0 and returns the true ε (its loss is 0); the EMA
formula in a float64 loop; and a training step written out (backward, torch's
clip_grad_norm_, an SGD step by hand, the EMA), against which a spy optimizer and a spy EMA
also check the order: the step sees clipped gradients, the EMA sees the stepped weights.
Gradients: backward through the learner's loss and the written-out loss (assert_gradients).
"""

import copy

import pytest
import torch
from k09_schedules import Schedule
from support import assert_close, assert_gradients, assert_tensor, call, fail, said, with_reference
from torch import nn

T_TRAIN = 20


class Label(str):
    """An argument shown in a call as written: call("f", TINY) reads f(TinyEps)."""

    def __repr__(self) -> str:
        return str(self)


TINY, SGD, SCHEDULE = Label("TinyEps"), Label("SGD(lr=0.1)"), Label(f"Schedule(T={T_TRAIN})")


def make_schedule(T: int = T_TRAIN) -> Schedule:
    return Schedule(torch.linspace(1e-3, 0.3, T, dtype=torch.float64))


# --- 14.1: sample_timesteps -------------------------------------------------------------------


@pytest.mark.blank("14.1")
@pytest.mark.parametrize("seed, T", [(0, 10), (1, 1), (2, 7), (3, 100)])
def test_14_1_every_step_from_0_to_T_minus_1_equally_likely(kata, seed, T):
    B = 200 * T if T > 1 else 50
    gen = torch.Generator().manual_seed(seed)
    where = call("sample_timesteps", B, T, generator=Label(f"Generator().manual_seed({seed})"))
    t = kata.sample_timesteps(B, T, gen)
    assert_tensor(t, shape=(B,), dtype=torch.long, call=where, seed=seed, name=said("timesteps", ja="タイムステップ"))
    low, high = t.min().item(), t.max().item()
    if low < 0:
        fail(said(f"drew t = {low}: timesteps are 0-based, in [0, T)",
                  ja=f"t = {low} を引いています: タイムステップは 0 始まりで、[0, T) の範囲です"), where, seed)
    if high >= T:
        fail(said(f"drew t = {high} with T = {T}: T itself is not a step (0-based, [0, T) like range(T)); "
                  "torch.randint's high is already excluded",
                  ja=f"T = {T} で t = {high} を引いています: T そのものはステップではありません（0 始まりで、"
                  "range(T) と同じく [0, T)）。torch.randint の high は、もともと範囲に含まれません"),
             where, seed)  # fmt: skip
    counts = torch.bincount(t, minlength=T).double()  # (T,)
    for step in (0, T - 1):
        if counts[step] == 0:
            fail(said(f"never drew t = {step} in {B} draws with T = {T}: every step from 0 to T − 1 must be "
                      "possible (the first and the last included)",
                      ja=f"T = {T} で {B} 回引いても、t = {step} が一度も出ていません: 0 から T − 1 までのすべての"
                      "ステップが出うるようにしてください（最初と最後も含みます）"), where, seed)  # fmt: skip
    if T > 1:
        expected = B / T
        chi2 = ((counts - expected) ** 2 / expected).sum().item()
        bound = (T - 1) + 6 * (2 * (T - 1)) ** 0.5 + 10  # far in the tail of chi²(T − 1)
        if chi2 > bound:
            fail(said(f"the steps are not equally likely: counts range from {int(counts.min())} to "
                      f"{int(counts.max())} for {expected:.0f} expected each (chi² {chi2:.0f} > {bound:.0f})",
                      ja=f"ステップが等確率になっていません: 各ステップの期待回数 {expected:.0f} に対して、回数が "
                      f"{int(counts.min())} から {int(counts.max())} までばらついています"
                      f"（chi² {chi2:.0f} > {bound:.0f}）"), where, seed)  # fmt: skip


@pytest.mark.blank("14.1")
def test_14_1_draws_from_the_generator(kata):
    where = call("sample_timesteps", 64, 50, generator=Label("torch.Generator().manual_seed(3)"))
    a = kata.sample_timesteps(64, 50, torch.Generator().manual_seed(3))
    b = kata.sample_timesteps(64, 50, torch.Generator().manual_seed(3))
    assert_tensor(a, shape=(64,), dtype=torch.long, call=where, name=said("timesteps", ja="タイムステップ"))
    if not torch.equal(a, b):
        fail(said("two calls with generators seeded alike drew different timesteps: draw them from the "
                  "generator passed in (generator=generator)",
                  ja="同じシードの generator で 2 回呼んだのに、違うタイムステップが引かれました: 渡された generator "
                  "から引いてください（generator=generator）"), where)  # fmt: skip
    c = kata.sample_timesteps(64, 50, torch.Generator().manual_seed(4))
    if torch.equal(a, c):
        fail(said("generators seeded differently drew the same timesteps",
                  ja="違うシードの generator で、同じタイムステップが引かれました"), where)
    t = kata.sample_timesteps(5, 50)  # no generator: torch's own
    assert_tensor(t, shape=(5,), dtype=torch.long, call=call("sample_timesteps", 5, 50),
                  name=said("timesteps", ja="タイムステップ"))


# --- 14.2: diffusion_loss ---------------------------------------------------------------------


class TinyEps(nn.Module):
    """ε_θ(x_t, t, context, context_mask): a 1×1 convolution of x_t, plus a term linear in t/T,
    plus one from the prompt's mean vector. Records what each call was given."""

    def __init__(self, C: int, T: int, D: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(C, C, 1)
        self.time = nn.Parameter(torch.randn(C))
        self.prompt = nn.Linear(D, C)
        self.T = T
        self.calls = []

    def forward(self, x, t, context=None, context_mask=None):
        self.calls.append((x.detach().clone(), t, context, context_mask))
        out = self.conv(x) + (t.float() / self.T)[:, None, None, None] * self.time[None, :, None, None]
        if context is not None:
            m = context_mask[..., None].float()  # (B, L, 1)
            pooled = (context * m).sum(1) / m.sum(1)  # (B, D)
            out = out + self.prompt(pooled)[:, :, None, None]
        return out


def x_t_by_hand(x0, t, noise, schedule):
    """DDPM Eq. 4 in float64: √ᾱ_t x0 + √(1 − ᾱ_t) ε."""
    alpha_bar = schedule.alpha_bar[t].view(-1, 1, 1, 1)  # (B, 1, 1, 1) float64
    return alpha_bar.sqrt() * x0.double() + (1 - alpha_bar).sqrt() * noise.double()


def loss_by_hand(model, x0, schedule, t, noise, context=None, context_mask=None):
    """Algorithm 1's loss: the mean of (ε_θ(x_t, t) − ε)² over every value."""
    x_t = x_t_by_hand(x0, t, noise, schedule).float()
    return ((model(x_t, t, context, context_mask) - noise) ** 2).mean()


def prompt(B, L=3, D=4):
    """(B, L, D) token vectors and a (B, L) bool mask, the last token of the first caption padding."""
    context = torch.randn(B, L, D)
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[0, -1] = False
    return context, mask


# (B, C, H, W, with a prompt)
LOSS_CASES = [(3, 2, 4, 4, False), (1, 1, 3, 5, False), (4, 3, 4, 4, True), (2, 2, 2, 2, True)]


def loss_call(x0, t, noise, context):
    kwargs = {"context": context[0], "context_mask": context[1]} if context else {}
    return call("diffusion_loss", TINY, x0, SCHEDULE, t=t, noise=noise, **kwargs)


@pytest.mark.blank("14.2")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES)))
def test_14_2_mean_squared_error_against_the_noise(kata, seed, case):
    B, C, H, W, with_prompt = case
    torch.manual_seed(seed)
    schedule = make_schedule()
    model = TinyEps(C, schedule.T)
    x0 = torch.rand(B, C, H, W) * 2 - 1
    t = torch.randint(0, schedule.T, (B,))
    t[0] = schedule.T - 1
    noise = torch.randn(B, C, H, W)
    context = prompt(B) if with_prompt else None
    where = loss_call(x0, t, noise, context)
    extra = {"context": context[0], "context_mask": context[1]} if context else {}
    loss = kata.diffusion_loss(model, x0, schedule, t=t, noise=noise, **extra)
    assert_tensor(loss, shape=(), dtype=torch.float32, call=where, seed=seed,
                  name=said("loss (a scalar)", ja="損失（スカラー）"))
    if not model.calls:
        fail(said("the model was never called: it predicts ε from x_t and t",
                  ja="モデルが一度も呼ばれていません: モデルは x_t と t から ε を予測します"), where, seed)
    x_seen, t_seen, context_seen, mask_seen = model.calls[-1]
    expected_x_t = x_t_by_hand(x0, t, noise, schedule).float()
    name = said("the image given to the model (x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε with the ε passed in: q_sample)",
                ja="モデルに渡された画像（渡された ε を使った x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε: q_sample）")
    assert_close(x_seen, expected_x_t, call=where, seed=seed, name=name)
    if not isinstance(t_seen, torch.Tensor):
        fail(said(f"the model was given t = {t_seen!r}: give it the (B,) long tensor t",
                  ja=f"モデルに t = {t_seen!r} が渡されています: (B,) の long テンソル t を渡してください"), where, seed)
    assert_close(t_seen, t, call=where, seed=seed,
                 name=said("the timesteps given to the model", ja="モデルに渡されたタイムステップ"))
    if context is not None and (context_seen is None or mask_seen is None):
        fail(said("the model was not given the prompt: pass context and context_mask on to it",
                  ja="モデルにプロンプトが渡されていません: context と context_mask をモデルに渡してください"),
             where, seed)  # fmt: skip
    with torch.no_grad():
        eps = model(expected_x_t, t, *(context or (None, None))).double()
        expected = ((eps - noise.double()) ** 2).mean().float()
    assert_close(loss, expected, call=where, seed=seed, atol=1e-6, rtol=1e-5,
                 name=said("loss (the mean over every value of (ε_θ(x_t, t) − ε)²)",
                           ja="損失（すべての値にわたる (ε_θ(x_t, t) − ε)² の平均）"))  # fmt: skip


class OracleEps(nn.Module):
    """Knows x0: returns the true noise ε = (x_t − √ᾱ_t x0) / √(1 − ᾱ_t) (the inverse of Eq. 4)."""

    def __init__(self, x0: torch.Tensor, schedule: Schedule) -> None:
        super().__init__()
        self.x0, self.schedule = x0.double(), schedule
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x, t, context=None, context_mask=None):
        alpha_bar = self.schedule.alpha_bar[t].view(-1, 1, 1, 1)  # (B, 1, 1, 1) float64
        return ((x.double() - alpha_bar.sqrt() * self.x0) / (1 - alpha_bar).sqrt()).float() + self.dummy


@pytest.mark.blank("14.2")
@pytest.mark.parametrize("seed", [0, 1])
def test_14_2_a_model_that_knows_the_noise_has_zero_loss(kata, seed):
    torch.manual_seed(seed)
    schedule = make_schedule()
    x0 = torch.rand(3, 2, 4, 4) * 2 - 1
    t = torch.tensor([0, 7, schedule.T - 1])
    noise = torch.randn(3, 2, 4, 4)
    where = call("diffusion_loss", Label("a model that returns the true ε"), x0, SCHEDULE, t=t, noise=noise)
    loss = kata.diffusion_loss(OracleEps(x0, schedule), x0, schedule, t=t, noise=noise)
    assert_tensor(loss, shape=(), call=where, seed=seed, name=said("loss (a scalar)", ja="損失（スカラー）"))
    assert_close(loss, torch.zeros(()), call=where, seed=seed, atol=1e-6,
                 name=said("loss of a perfect noise predictor (the target is ε, the noise passed in)",
                           ja="完璧なノイズ予測器の損失（目標は渡されたノイズ ε です）"))  # fmt: skip


@pytest.mark.blank("14.2")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES[2:])))
def test_14_2_loss_gradients_match_algorithm_1(kata, seed, case):
    B, C, H, W, with_prompt = case
    torch.manual_seed(seed)
    schedule = make_schedule()
    model = TinyEps(C, schedule.T)
    oracle = copy.deepcopy(model)  # the same weights, parameters of its own
    x0 = torch.rand(B, C, H, W) * 2 - 1
    t = torch.randint(0, schedule.T, (B,))
    noise = torch.randn(B, C, H, W)
    context = prompt(B) if with_prompt else (None, None)
    where = loss_call(x0, t, noise, context if with_prompt else None) + ", then backward()"
    loss = kata.diffusion_loss(model, x0, schedule, t=t, noise=noise, context=context[0], context_mask=context[1])
    expected = loss_by_hand(oracle, x0, schedule, t, noise, *context)
    theirs = dict(oracle.named_parameters())
    pairs = {name: (p, theirs[name]) for name, p in model.named_parameters()}
    assert_gradients(loss, expected, pairs, call=where, seed=seed)


# --- 14.3: EMA --------------------------------------------------------------------------------


def small_net() -> nn.Module:
    """Weights, and buffers (BatchNorm's running statistics) that the EMA copies as they are."""
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def train_a_little(model: nn.Module) -> None:
    """New weights (as if an optimizer had stepped) and new running statistics."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
        model.train()(torch.randn(5, 3))


@pytest.mark.blank("14.3")
@pytest.mark.parametrize("seed, decay", [(0, 0.9), (1, 0.5), (2, 0.999)])
def test_14_3_update_moves_the_average_towards_the_weights(kata, seed, decay):
    torch.manual_seed(seed)
    model = small_net()
    ema = kata.EMA(model, decay)
    names = [name for name, _ in model.named_parameters()]
    expected = {name: p.detach().double().clone() for name, p in model.named_parameters()}
    for step in range(1, 4):
        train_a_little(model)
        before = {name: p.detach().clone() for name, p in model.named_parameters()}
        ema.update(model)
        where = f"EMA(model, decay={decay}).update(model), update {step} of 3"
        for name, p in model.named_parameters():
            assert_close(p.detach(), before[name], call=where, seed=seed, atol=0, rtol=0,
                         name=said(f"the model's {name} (update must change only the average)",
                                   ja=f"モデルの {name}（update が変えてよいのは平均だけです）"))  # fmt: skip
        averaged = dict(ema.model.named_parameters())
        for name in names:
            expected[name] = decay * expected[name] + (1 - decay) * before[name].double()
            assert_close(averaged[name].detach(), expected[name].float(), call=where, seed=seed, atol=1e-6,
                         name=said(f"the average's {name} (decay · average + (1 − decay) · weight)",
                                   ja=f"平均の {name}（decay · 平均 + (1 − decay) · 重み）"))  # fmt: skip
        for (name, b), b_model in zip(ema.model.named_buffers(), model.buffers()):
            assert_close(b, b_model, call=where, seed=seed,
                         name=said(f"the average's buffer {name} (copied as it is)",
                                   ja=f"平均のバッファ {name}（そのままコピーします）"))
    for a, p in zip(ema.model.parameters(), model.parameters()):
        if a.data_ptr() == p.data_ptr():
            fail(said("the average shares its storage with the model: it must be a copy",
                      ja="平均がモデルとストレージを共有しています: 平均はコピーでなければなりません"), where, seed)


@pytest.mark.blank("14.3")
@pytest.mark.parametrize("decay", [0.0, 1.0])
def test_14_3_decay_0_copies_and_decay_1_keeps(kata, decay):
    torch.manual_seed(3)
    model = small_net()
    ema = kata.EMA(model, decay)
    start = [p.detach().clone() for p in model.parameters()]
    train_a_little(model)
    ema.update(model)
    where = f"EMA(model, decay={decay:g}).update(model)"
    if decay == 0:
        what = said("the model's new weights (decay 0 keeps nothing of the average)",
                    ja="モデルの新しい重み（decay 0 では平均には何も残りません）")
    else:
        what = said("the weights it started from (decay 1 keeps the average as it is)",
                    ja="最初の重み（decay 1 では平均はそのまま変わりません）")
    for (name, a), p, s in zip(ema.model.named_parameters(), model.parameters(), start):
        assert_close(a.detach(), p.detach() if decay == 0 else s, call=where, atol=1e-7,
                     name=said(f"the average's {name}, {what}", ja=f"平均の {name}、つまり{what}"))  # fmt: skip


# --- 14.4: train_step -------------------------------------------------------------------------

LR = 0.1
CLIP_GRAD_NORM = torch.nn.utils.clip_grad_norm_  # torch's, for the step written out (the tests spy on it)


class SpyOptimizer:
    """Plain SGD (p ← p − lr · grad), written out, that logs at each step the total norm of the
    gradients it is about to use. (Not a torch.optim class: the first of those imports
    torch._dynamo, seconds.)"""

    def __init__(self, params, log: list) -> None:
        self.params, self.log = list(params), log

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad for p in self.params if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item() if grads else None
        self.log.append(("step", norm))
        for p in self.params:
            if p.grad is not None:
                p -= LR * p.grad


class SpyEMA:
    """An EMA by the formula, logging the weights of the model each update sees."""

    def __init__(self, model: nn.Module, decay: float, log: list) -> None:
        self.decay, self.log = decay, log
        self.model = copy.deepcopy(model).requires_grad_(False)

    def update(self, model: nn.Module) -> None:
        self.log.append(("ema", [p.detach().clone() for p in model.parameters()]))
        with torch.no_grad():
            for a, p in zip(self.model.parameters(), model.parameters()):
                a.mul_(self.decay).add_(p, alpha=1 - self.decay)


def fixed_draws(monkeypatch, kata, schedule, x0, log, steps=2):
    """Make diffusion_loss (the reference's wiring, written out) use known t and ε: one draw per call.
    Also log each call of clip_grad_norm_, and whether the gradients were there yet."""

    def clip_grad_norm_(parameters, max_norm, *args, **kwargs):
        parameters = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
        log.append(("clip", any(p.grad is not None for p in parameters)))
        return CLIP_GRAD_NORM(parameters, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip_grad_norm_)
    draws = [(torch.randint(0, schedule.T, (x0.shape[0],)), torch.randn_like(x0)) for _ in range(steps)]
    calls = []

    def diffusion_loss(model, x0, schedule, t=None, noise=None, context=None, context_mask=None):
        t, noise = draws[len(calls) % steps]
        calls.append(t)
        log.append(("loss",))
        return loss_by_hand(model, x0, schedule, t, noise, context, context_mask)

    monkeypatch.setattr(kata, "diffusion_loss", diffusion_loss)
    return draws


def step_by_hand(model, x0, schedule, draw, max_grad_norm):
    """Algorithm 1's step, written out: fresh gradients, backward, clip, an SGD step. Returns the loss."""
    model.zero_grad(set_to_none=True)
    loss = loss_by_hand(model, x0, schedule, *draw)
    loss.backward()
    CLIP_GRAD_NORM(model.parameters(), max_grad_norm)
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:  # the prompt's layer gets none without a prompt
                p -= LR * p.grad
    return loss.item()


def check_order(log, model, max_grad_norm, ema, where, seed):
    """One step with clipped gradients, then (with an EMA) one update that saw the stepped weights."""
    __tracebackhide__ = True
    steps = [i for i, e in enumerate(log) if e[0] == "step"]
    if len(steps) != 1:
        fail(said(f"optimizer.step() ran {len(steps)} times in one train_step: once, after backward and clipping",
                  ja=f"1 回の train_step で optimizer.step() が {len(steps)} 回実行されています: backward と"
                  "クリッピングのあとに 1 回だけ実行します"), where, seed)  # fmt: skip
    norm = log[steps[0]][1]
    if norm is None:
        fail(said("optimizer.step() found no gradients: loss.backward() must come before it (and nothing may "
                  "clear them in between)",
                  ja="optimizer.step() の時点で勾配がありません: loss.backward() はその前に呼ぶ必要があります"
                  "（そして、その間に勾配を消してはいけません）"), where, seed)  # fmt: skip
    if norm > max_grad_norm * (1 + 1e-3):
        clips = [i for i, e in enumerate(log) if e[0] == "clip"]
        if not clips:
            why = said("they were not clipped by their total norm: call clip_grad_norm_ after backward() and before "
                       "the step",
                       ja="勾配が全体のノルムでクリップされていません: backward() のあと、ステップの前に clip_grad_norm_ "
                       "を呼んでください")  # fmt: skip
        elif clips[0] > steps[0]:
            why = said("clip_grad_norm_ ran after optimizer.step(), which had already used them: clip before the step",
                       ja="clip_grad_norm_ が optimizer.step() のあとに実行されていて、勾配はもう使われたあとでした: "
                       "ステップの前にクリップしてください")  # fmt: skip
        elif not log[clips[0]][1]:
            why = said("clip_grad_norm_ ran before loss.backward(), when there was nothing to clip yet: clip after it",
                       ja="clip_grad_norm_ が loss.backward() の前、まだクリップするものがないときに実行されています: "
                       "backward のあとでクリップしてください")  # fmt: skip
        else:
            why = said("clip them all together, with max_grad_norm: clip_grad_norm_(model.parameters(), max_grad_norm)",
                       ja="すべての勾配をまとめて、max_grad_norm でクリップしてください: "
                       "clip_grad_norm_(model.parameters(), max_grad_norm)")  # fmt: skip
        fail(said(f"optimizer.step() used gradients of total norm {norm:.3g} > max_grad_norm {max_grad_norm:g}: {why}",
                  ja=f"optimizer.step() が、全体のノルムが {norm:.3g} > max_grad_norm {max_grad_norm:g} の勾配を"
                  f"使っています: {why}"), where, seed)  # fmt: skip
    if ema is None:
        return
    updates = [i for i, e in enumerate(log) if e[0] == "ema"]
    if len(updates) != 1:
        fail(said(f"ema.update(model) ran {len(updates)} times in one train_step: once, after the step",
                  ja=f"1 回の train_step で ema.update(model) が {len(updates)} 回実行されています: ステップのあとに"
                  " 1 回だけ実行します"), where, seed)  # fmt: skip
    if updates[0] < steps[0]:
        fail(said("ema.update(model) ran before optimizer.step(): the average moved towards the old weights; "
                  "update it after the step",
                  ja="ema.update(model) が optimizer.step() の前に実行されています: 平均が古い重みのほうへ動いて"
                  "しまいます。ステップのあとで更新してください"), where, seed)  # fmt: skip
    for (name, p), seen in zip(model.named_parameters(), log[updates[0]][1]):
        assert_close(seen, p.detach(), call=where, seed=seed, atol=0, rtol=0,
                     name=said(f"{name} as ema.update saw it (the weights after the step)",
                               ja=f"ema.update から見た {name}（ステップ後の重み）"))  # fmt: skip


@pytest.mark.blank("14.4")
@pytest.mark.parametrize("seed, max_grad_norm", [(0, 0.05), (1, 1e6)])
def test_14_4_backward_clip_step_then_ema(kata, monkeypatch, seed, max_grad_norm):
    torch.manual_seed(seed)
    schedule = make_schedule()
    model = TinyEps(2, schedule.T)
    oracle = copy.deepcopy(model)
    x0 = torch.rand(3, 2, 4, 4) * 2 - 1
    log = []
    draws = fixed_draws(monkeypatch, kata, schedule, x0, log)
    optimizer = SpyOptimizer(model.parameters(), log)
    decay = 0.5
    ema = SpyEMA(model, decay, log)
    expected_ema = [p.detach().clone() for p in model.parameters()]
    for k, draw in enumerate(draws):  # two steps: each with gradients of its own loss only
        where = (call("train_step", TINY, SGD, x0, SCHEDULE, ema=Label(f"EMA(decay={decay})"),
                      max_grad_norm=max_grad_norm) + f"    (step {k + 1} of 2)")  # fmt: skip
        log.clear()
        out = kata.train_step(model, optimizer, x0, schedule, ema=ema, max_grad_norm=max_grad_norm)
        expected_loss = step_by_hand(oracle, x0, schedule, draw, max_grad_norm)
        check_order(log, model, max_grad_norm, ema, where, seed)
        if not isinstance(out, float):
            fail(said(f"train_step returned a {type(out).__name__}: the loss as a float (loss.item())",
                      ja=f"train_step が {type(out).__name__} を返しています: 損失を float で返してください"
                      "（loss.item()）"), where, seed)  # fmt: skip
        assert_close(torch.tensor(out), torch.tensor(expected_loss), call=where, seed=seed,
                     name=said("the loss returned", ja="返された損失"))
        for (name, p), q in zip(model.named_parameters(), oracle.parameters()):
            assert_close(p.detach(), q.detach(), call=where, seed=seed, atol=1e-6,
                         name=said(f"{name} after the step (SGD on the clipped gradients of this step's loss)",
                                   ja=f"ステップ後の {name}（このステップの損失のクリップ済み勾配による SGD）"))  # fmt: skip
        for (name, a), e, q in zip(ema.model.named_parameters(), expected_ema, oracle.parameters()):
            e.mul_(decay).add_(q.detach(), alpha=1 - decay)
            assert_close(a, e, call=where, seed=seed, atol=1e-6, name=said(f"the average's {name}", ja=f"平均の {name}"))


@pytest.mark.blank("14.4")
def test_14_4_without_an_ema(kata, monkeypatch):
    torch.manual_seed(2)
    schedule = make_schedule()
    model = TinyEps(2, schedule.T)
    oracle = copy.deepcopy(model)
    x0 = torch.rand(2, 2, 3, 3) * 2 - 1
    log = []
    draws = fixed_draws(monkeypatch, kata, schedule, x0, log, steps=1)
    where = call("train_step", TINY, SGD, x0, SCHEDULE, ema=None, max_grad_norm=0.1)
    kata.train_step(model, SpyOptimizer(model.parameters(), log), x0, schedule, ema=None, max_grad_norm=0.1)
    step_by_hand(oracle, x0, schedule, draws[0], 0.1)
    check_order(log, model, 0.1, None, where, 2)
    for (name, p), q in zip(model.named_parameters(), oracle.parameters()):
        assert_close(p.detach(), q.detach(), call=where, seed=2, atol=1e-6,
                     name=said(f"{name} after the step", ja=f"ステップ後の {name}"))


@pytest.mark.blank("14.4")
def test_14_4_trains_with_the_real_loss(kata, monkeypatch):
    with_reference(monkeypatch, kata, "sample_timesteps", "diffusion_loss", "EMA")
    torch.manual_seed(4)
    schedule = make_schedule()
    model = TinyEps(2, schedule.T)
    ema = kata.EMA(model, 0.9)
    x0 = torch.rand(2, 2, 3, 3) * 2 - 1
    where = call("train_step", TINY, SGD, x0, SCHEDULE, ema=Label("EMA(decay=0.9)"))
    optimizer = SpyOptimizer(model.parameters(), [])
    before = [p.detach().clone() for p in ema.model.parameters()]
    out = kata.train_step(model, optimizer, x0, schedule, ema=ema)
    if not isinstance(out, float):
        fail(said(f"train_step returned a {type(out).__name__}: the loss as a float (loss.item())",
                  ja=f"train_step が {type(out).__name__} を返しています: 損失を float で返してください（loss.item()）"),
             where, 4)  # fmt: skip
    moved = any(not torch.equal(a, b) for a, b in zip(ema.model.parameters(), before))
    if not moved:
        fail(said("the EMA did not move after a training step: call ema.update(model) after the step",
                  ja="学習ステップのあとで EMA が動いていません: ステップのあとで ema.update(model) を呼んでください"),
             where, 4)  # fmt: skip
