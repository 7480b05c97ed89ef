"""Tests of kata 17: classifier-free guidance.

Oracles: ε_∅ + g (ε_c − ε_∅) written out in float64; a prompt oracle, a model that knows which
image each prompt describes (the mean of the prompt's unmasked token features) and answers with
the true noise of x_t for that image (DDPM Eq. 4 solved for ε), called twice, once per half, by
the test; a spy that records every call it gets. Under guidance the oracle's ε is the true noise
of x0_∅ + g (x0_c − x0_∅), so a sampler given Guided lands on that image (kata 15's ddpm_sample
and kata 18's ddim_sample, the reference ones).

Blanks 17.2 and 17.3 share guided_eps: 17.2's tests read the model's one call (the spy) and the
two halves it split the answer into (the local variables eps_uncond and eps_cond as guided_eps
returns; under other names, the guided result); 17.3's tests read the guided result (and its
gradients). classifier_free_guidance is the reference one in the tests of 17.2 and 17.4, a spy
computing the same in 17.3's; guided_eps is the reference one in 17.4's.
"""

import sys

import pytest
import torch
from k09_schedules import Schedule
from support import assert_close, assert_gradients, assert_tensor, call, fail, said, with_reference
from torch import nn

T = 20


class Label(str):
    """An argument shown in a call as written: call("f", Label("Oracle")) reads f(Oracle)."""

    def __repr__(self) -> str:
        return str(self)


def make_schedule(steps: int = T) -> Schedule:
    return Schedule(torch.linspace(1e-3, 0.3, steps, dtype=torch.float64))


def alpha_bar_by_hand(schedule: Schedule) -> torch.Tensor:
    """ᾱ_t = (1 − β_0) ⋯ (1 − β_t) by a plain loop over the betas: (T,) float64."""
    alpha_bar, product = [], 1.0
    for beta in schedule.betas.tolist():
        product *= 1 - beta
        alpha_bar.append(product)
    return torch.tensor(alpha_bar, dtype=torch.float64)


def guided_by_hand(eps_uncond: torch.Tensor, eps_cond: torch.Tensor, scale: float) -> torch.Tensor:
    """ε_∅ + g (ε_c − ε_∅) in float64."""
    return eps_uncond.double() + scale * (eps_cond.double() - eps_uncond.double())


# --- 17.1: classifier_free_guidance -----------------------------------------------------------

SHAPES = [(2, 3, 4, 4), (1, 1, 3, 5), (3, 2, 2, 2)]


@pytest.mark.blank("17.1")
@pytest.mark.parametrize("seed, shape", list(enumerate(SHAPES)))
def test_17_1_scale_1_is_the_conditional_model_and_0_the_unconditional(kata, seed, shape):
    torch.manual_seed(seed)
    eps_uncond, eps_cond = torch.randn(shape), torch.randn(shape)
    for scale, expected, name in [
        (1.0, eps_cond, said("the guided ε with scale = 1 (the plain conditional model: eps_cond itself)",
                             ja="scale = 1 のときのガイダンス後の ε（ただの条件付きモデル: eps_cond そのもの）")),
        (0.0, eps_uncond, said("the guided ε with scale = 0 (the prompt ignored: eps_uncond itself)",
                               ja="scale = 0 のときのガイダンス後の ε（プロンプトを無視: eps_uncond そのもの）")),
    ]:
        where = call("classifier_free_guidance", eps_uncond, eps_cond, scale)
        out = kata.classifier_free_guidance(eps_uncond, eps_cond, scale)
        assert_tensor(out, shape=shape, dtype=torch.float32, call=where, seed=seed,
                      name=said("the guided ε", ja="ガイダンス後の ε"))  # fmt: skip
        assert_close(out, expected, call=where, seed=seed, atol=1e-6, name=name)


@pytest.mark.blank("17.1")
@pytest.mark.parametrize("seed, scale", list(enumerate([7.5, 3, 0.5, 2.0])))
def test_17_1_moves_scale_times_the_prompts_effect(kata, seed, scale):
    torch.manual_seed(seed)
    shape = SHAPES[seed % len(SHAPES)]
    eps_uncond, eps_cond = torch.randn(shape), torch.randn(shape)
    where = call("classifier_free_guidance", eps_uncond, eps_cond, scale)
    out = kata.classifier_free_guidance(eps_uncond, eps_cond, scale)
    assert_tensor(out, shape=shape, dtype=torch.float32, call=where, seed=seed,
                  name=said("the guided ε", ja="ガイダンス後の ε"))  # fmt: skip
    assert_close(out, guided_by_hand(eps_uncond, eps_cond, scale).float(), call=where, seed=seed,
                 name=said("the guided ε (eps_uncond + scale · (eps_cond − eps_uncond))",
                           ja="ガイダンス後の ε（eps_uncond + scale · (eps_cond − eps_uncond)）"))  # fmt: skip
    # linear in the scale: one more unit of scale moves one more prompt's effect
    more = kata.classifier_free_guidance(eps_uncond, eps_cond, scale + 1)
    assert_close(more - out, eps_cond - eps_uncond, call=where + said("  and scale + 1", ja="  および scale + 1"),
                 seed=seed, atol=1e-5, name=said("what one more unit of scale adds (eps_cond − eps_uncond)",
                                                 ja="scale を 1 増やしたときに加わる分（eps_cond − eps_uncond）"))  # fmt: skip


@pytest.mark.blank("17.1")
def test_17_1_gradients(kata):
    leaves = [torch.randn(2, 3, 4, 4, requires_grad=True) for _ in range(2)]
    copies = [leaf.detach().clone().requires_grad_() for leaf in leaves]
    where = call("classifier_free_guidance", leaves[0], leaves[1], 3.0) + said(", then backward()",
                                                                              ja="、続いて backward()")
    out = kata.classifier_free_guidance(leaves[0] * 1, leaves[1] * 1, 3.0)
    expected = copies[0] + 3.0 * (copies[1] - copies[0])
    assert_gradients(out, expected, {"eps_uncond": (leaves[0], copies[0]), "eps_cond": (leaves[1], copies[1])},
                     call=where)  # fmt: skip


# --- the models of the tests below --------------------------------------------------------------


class PromptOracle(nn.Module):
    """Knows which image each prompt describes, x0(c): the mean of the prompt's unmasked token
    features (Dc = C·H·W of them), viewed as (C, H, W); answers with the true noise of x_t for
    it, ε = (x_t − √ᾱ_t x0(c)) / √(1 − ᾱ_t) (DDPM Eq. 4 solved for ε). Records every call."""

    def __init__(self, schedule: Schedule, image: tuple[int, int, int]) -> None:
        super().__init__()
        self.alpha_bar, self.image = alpha_bar_by_hand(schedule), image
        self.dummy = nn.Parameter(torch.zeros(()))  # the samplers read the device of the parameters
        self.calls = []

    def forward(self, x, t, context=None, context_mask=None):
        self.calls.append((x, t, context, context_mask))
        B = x.shape[0]
        if (x.shape[1:] != self.image or not isinstance(t, torch.Tensor) or t.shape != (B,) or context is None
                or context.shape[0] != B or (context_mask is not None and context_mask.shape[0] != B)):  # fmt: skip
            return torch.zeros_like(x)  # a call the test rejects: say so there, not here
        keep = torch.ones(context.shape[:2]) if context_mask is None else context_mask[:, 0, :].double()  # (B, Tc)
        x0 = (context.double() * keep[..., None]).sum(1) / keep.sum(1, keepdim=True)  # (B, Dc)
        x0 = x0.view(B, *self.image)
        alpha_bar = self.alpha_bar[t].view(-1, 1, 1, 1)
        return ((x.double() - alpha_bar.sqrt() * x0) / (1 - alpha_bar).sqrt()).float()


def prompts(B: int, Tc: int, image: tuple[int, int, int], masked: bool):
    """The prompt's features and the empty caption's, with their masks (B, 1, Tc) or None. The
    prompts have padding at their end (large features there: a mask dropped shows), the empty
    caption two real tokens (BOS, EOS)."""
    Dc = image[0] * image[1] * image[2]
    context, uncond_context = torch.randn(B, Tc, Dc), torch.randn(B, Tc, Dc) * 0.5
    if not masked:
        return context, None, uncond_context, None
    lengths = torch.randint(2, Tc, (B,))
    context_mask = (torch.arange(Tc) < lengths[:, None])[:, None, :]  # (B, 1, Tc)
    uncond_mask = (torch.arange(Tc) < 2).expand(B, Tc)[:, None, :].clone()  # (B, 1, Tc)
    context = torch.where(context_mask.transpose(1, 2), context, torch.full_like(context, 4.0))
    uncond_context = torch.where(uncond_mask.transpose(1, 2), uncond_context, torch.full_like(uncond_context, -4.0))
    return context, context_mask, uncond_context, uncond_mask


def check_halves(seen, first, second, what: str, first_name: str, second_name: str, where: str, seed) -> None:
    """The model's input `seen` is (2B, ...): `first` stacked on `second`."""
    __tracebackhide__ = True
    B = first.shape[0]
    expected = torch.cat([first, second])
    if not isinstance(seen, torch.Tensor):
        fail(said(f"the model was given {what} = {seen!r}: give it a (2B, ...) tensor, {first_name} stacked on "
                  f"{second_name}",
                  ja=f"モデルに {what} = {seen!r} が渡されています。{first_name} と {second_name} をこの順に積み重ねた "
                     "(2B, ...) のテンソルを渡してください"), where, seed)  # fmt: skip
    if tuple(seen.shape) == tuple(first.shape):
        fail(said(f"the model was given {what} of shape {tuple(seen.shape)}: the batch of one half. It needs both "
                  f"halves, {first_name} then {second_name}, stacked along the batch by torch.cat: "
                  f"{tuple(expected.shape)}",
                  ja=f"{what}（モデルに渡したもの）の形状が {tuple(seen.shape)} で、半分のバッチしかありません。"
                     f"{first_name} と {second_name} の両方の半分を、この順に torch.cat でバッチ方向に積み重ねる"
                     f"必要があります: {tuple(expected.shape)}"), where, seed)  # fmt: skip
    if tuple(seen.shape) != tuple(expected.shape):
        fail(said(f"the model was given {what} of shape {tuple(seen.shape)}, expected {tuple(expected.shape)}: "
                  f"{first_name} and {second_name} stacked along the batch (torch.cat along dim 0)",
                  ja=f"{what}（モデルに渡したもの）の形状が {tuple(seen.shape)} です（期待される形状は "
                     f"{tuple(expected.shape)}）。{first_name} と {second_name} をバッチ方向に積み重ねます"
                     "（dim 0 に沿った torch.cat）"), where, seed)  # fmt: skip
    if not torch.equal(seen, expected) and torch.equal(seen, torch.cat([second, first])):
        fail(said(f"the model was given {what} with {second_name} first: the unconditional half comes first "
                  f"({first_name}, then {second_name})",
                  ja=f"{what}（モデルに渡したもの）で、{second_name} が先になっています。無条件の半分が先です"
                     f"（{first_name}、{second_name} の順）"), where, seed)  # fmt: skip
    assert_close(seen[:B], first, call=where, seed=seed, atol=0, rtol=0,
                 name=said(f"the first half of the model's {what} ({first_name})",
                           ja=f"{what}（モデルに渡したもの）の前半 {first_name}"))  # fmt: skip
    assert_close(seen[B:], second, call=where, seed=seed, atol=0, rtol=0,
                 name=said(f"the second half of the model's {what} ({second_name})",
                           ja=f"{what}（モデルに渡したもの）の後半 {second_name}"))  # fmt: skip


def check_one_call(model: PromptOracle, x_t, t, context, context_mask, uncond_context, uncond_mask, where, seed):
    """ONE call on 2B images: x_t and t twice, the empty caption then the prompt, masks likewise."""
    __tracebackhide__ = True
    if len(model.calls) != 1:
        fail(said(f"the model was called {len(model.calls)} times: call it ONCE, on the 2B images of both halves "
                  "stacked (one forward pass instead of two)",
                  ja=f"モデルが {len(model.calls)} 回呼び出されています。両方の半分を積み重ねた 2B 枚の画像に対して、"
                     "1 回だけ呼び出してください（フォワードパスが 2 回ではなく 1 回で済みます）"), where, seed)  # fmt: skip
    x_seen, t_seen, context_seen, mask_seen = model.calls[0]
    check_halves(x_seen, x_t, x_t, said("images", ja="画像"), "x_t", said("x_t again", ja="x_t（2 つ目）"), where, seed)
    check_halves(t_seen, t, t, said("timesteps", ja="タイムステップ"), "t", said("t again", ja="t（2 つ目）"), where, seed)
    if context_seen is None:
        fail(said("the model was given no context: give it the empty caption's features stacked on the prompt's",
                  ja="モデルに context が渡されていません。空のキャプションの特徴量とプロンプトの特徴量を、この順に"
                     "積み重ねて渡してください"), where, seed)  # fmt: skip
    check_halves(context_seen, uncond_context, context, "context", "uncond_context",
                 said("context (the prompt's)", ja="プロンプトの context"), where, seed)  # fmt: skip
    if context_mask is None:
        if mask_seen is not None:
            fail(said("the model was given a mask though both masks are None: pass None on as None",
                      ja="マスクはどちらも None なのに、モデルにマスクが渡されています。None は None のまま渡して"
                         "ください"), where, seed)  # fmt: skip
        return
    if mask_seen is None:
        fail(said("the model was given no mask (None), so it attends to the padding of the prompts: stack the masks "
                  "as the contexts, uncond_mask then context_mask",
                  ja="モデルにマスクが渡されていない（None）ため、プロンプトのパディングにもアテンションしています。"
                     "context と同じようにマスクも積み重ねてください（uncond_mask、続いて context_mask）"),
             where, seed)  # fmt: skip
    check_halves(mask_seen, uncond_mask, context_mask, said("mask", ja="マスク"), "uncond_mask", "context_mask",
                 where, seed)  # fmt: skip


def guided_call(B: int, masked: bool, scale: float, image=(1, 2, 3), Tc: int = 5):
    schedule = make_schedule()
    model = PromptOracle(schedule, image)
    x_t, t = torch.randn(B, *image), torch.randint(0, T, (B,))
    context, context_mask, uncond_context, uncond_mask = prompts(B, Tc, image, masked)
    args = (x_t, t, context, context_mask, uncond_context, uncond_mask, scale)
    where = call("guided_eps", Label(said("a model that knows each prompt's image", ja="各プロンプトの画像を知っているモデル")), *args)
    expected = guided_by_hand(PromptOracle(schedule, image)(x_t, t, uncond_context, uncond_mask),
                              PromptOracle(schedule, image)(x_t, t, context, context_mask), scale)  # fmt: skip
    return model, args, where, expected.float()


# --- 17.2, 17.3: guided_eps -------------------------------------------------------------------

GUIDED_CASES = [(2, True, 3.0), (1, True, 7.5), (3, False, 2.0), (2, False, 5.0)]


def locals_at_return(fn, *args) -> tuple[torch.Tensor, dict]:
    """fn(*args), and the local variables of guided_eps as it returned: the halves blank 17.2 split
    the model's answer into are there (as eps_uncond and eps_cond, the names blank 17.3 uses), before
    blank 17.3 combines them."""
    seen = {}

    def profile(frame, event, arg):
        if event == "return" and frame.f_code.co_name == "guided_eps":
            seen.update(frame.f_locals)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        out = fn(*args)
    finally:
        sys.setprofile(previous)
    return out, seen


@pytest.mark.blank("17.2")
@pytest.mark.parametrize("seed, case", list(enumerate(GUIDED_CASES)))
def test_17_2_one_call_on_both_halves_unconditional_first(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "classifier_free_guidance")
    B, masked, scale = case
    torch.manual_seed(seed)
    model, args, where, expected = guided_call(B, masked, scale)
    out, names = locals_at_return(kata.guided_eps, model, *args)
    check_one_call(model, *args[:-1], where, seed)
    x_t, t, context, context_mask, uncond_context, uncond_mask, _ = args
    oracle = PromptOracle(make_schedule(), (1, 2, 3))
    eps_uncond, eps_cond = oracle(x_t, t, uncond_context, uncond_mask), oracle(x_t, t, context, context_mask)
    halves = names.get("eps_uncond"), names.get("eps_cond")
    if not all(isinstance(h, torch.Tensor) for h in halves):  # other names: the guided result tells
        assert_tensor(out, shape=expected.shape, dtype=torch.float32, call=where, seed=seed,
                      name=said("the guided ε", ja="ガイダンス後の ε"))  # fmt: skip
        assert_close(out, expected, call=where, seed=seed, atol=1e-4,
                     name=said("the guided ε (the first half of the model's answer is ε_∅, the second ε_c; "
                               "ε_∅ + scale · (ε_c − ε_∅))",
                               ja="ガイダンス後の ε（モデルの答えの前半が ε_∅、後半が ε_c。ε_∅ + scale · (ε_c − ε_∅)）"))  # fmt: skip
        return
    swapped = [h.shape == e.shape and torch.allclose(h, e) for h, e in zip(halves, (eps_cond, eps_uncond))]
    if all(swapped):
        fail(said("eps_uncond holds the model's answer for the prompt and eps_cond the one for the empty caption: "
                  "the first half of the model's answer is the unconditional one (it was given uncond_context)",
                  ja="eps_uncond にプロンプトに対するモデルの答えが、eps_cond に空のキャプションに対する答えが入って"
                     "います。モデルの答えの前半が無条件のものです（前半には uncond_context を渡しています）"),
             where, seed)  # fmt: skip
    assert_close(halves[0], eps_uncond, call=where, seed=seed, atol=1e-5,
                 name=said("eps_uncond (the first half of the model's answer: the images with the empty caption)",
                           ja="eps_uncond（モデルの答えの前半: 空のキャプションを付けた画像）"))  # fmt: skip
    assert_close(halves[1], eps_cond, call=where, seed=seed, atol=1e-5,
                 name=said("eps_cond (the second half of the model's answer: the images with the prompt)",
                           ja="eps_cond（モデルの答えの後半: プロンプトを付けた画像）"))  # fmt: skip


class GuidanceSpy:
    """classifier_free_guidance (the reference formula, written here) that records its arguments."""

    def __init__(self) -> None:
        self.calls = []

    def __call__(self, eps_uncond, eps_cond, scale):
        self.calls.append((eps_uncond, eps_cond, scale))
        return eps_uncond + scale * (eps_cond - eps_uncond)


@pytest.mark.blank("17.3")
@pytest.mark.parametrize("seed, case", list(enumerate(GUIDED_CASES)))
def test_17_3_combines_the_halves_with_the_scale(kata, monkeypatch, seed, case):
    B, masked, scale = case
    torch.manual_seed(seed)
    spy = GuidanceSpy()
    monkeypatch.setattr(kata, "classifier_free_guidance", spy)
    model, args, where, expected = guided_call(B, masked, scale)
    out = kata.guided_eps(model, *args)
    assert_tensor(out, shape=expected.shape, dtype=torch.float32, call=where, seed=seed,
                  name=said("the guided ε", ja="ガイダンス後の ε"))  # fmt: skip
    if len(spy.calls) == 1 and spy.calls[0][2] != scale:
        fail(said(f"classifier_free_guidance was given scale = {spy.calls[0][2]!r}; pass on the scale of this call, "
                  f"{scale!r}",
                  ja=f"classifier_free_guidance に scale = {spy.calls[0][2]!r} が渡されています。この呼び出しの scale "
                     f"である {scale!r} をそのまま渡してください"), where, seed)  # fmt: skip
    assert_close(out, expected, call=where, seed=seed, atol=1e-4,
                 name=said("the guided ε (ε_∅ + scale · (ε_c − ε_∅); ε_∅ is the first half of the model's answer, "
                           "ε_c the second)",
                           ja="ガイダンス後の ε（ε_∅ + scale · (ε_c − ε_∅)。ε_∅ はモデルの答えの前半、ε_c は"
                              "後半）"))  # fmt: skip


@pytest.mark.blank("17.3")
def test_17_3_gradients(kata, monkeypatch):
    with_reference(monkeypatch, kata, "classifier_free_guidance")
    model, (x_t, t, context, context_mask, uncond_context, uncond_mask, scale), where, _ = guided_call(2, True, 3.0)
    leaves = {"x_t": x_t, "context": context, "uncond_context": uncond_context}
    leaves = {name: (v.clone().requires_grad_(), v.clone().requires_grad_()) for name, v in leaves.items()}
    (x, x2), (c, c2), (u, u2) = leaves.values()
    out = kata.guided_eps(model, x * 1, t, c * 1, context_mask, u * 1, uncond_mask, scale)
    oracle = PromptOracle(make_schedule(), (1, 2, 3))
    expected = oracle(x2, t, u2, uncond_mask) + scale * (oracle(x2, t, c2, context_mask) - oracle(x2, t, u2, uncond_mask))
    assert_gradients(out, expected, leaves, call=where + said(", then backward()", ja="、続いて backward()"), atol=1e-4)


# --- 17.4: Guided -----------------------------------------------------------------------------


@pytest.mark.blank("17.4")
@pytest.mark.parametrize("seed, case", list(enumerate(GUIDED_CASES)))
def test_17_4_guided_passes_the_empty_caption_and_the_scale(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "classifier_free_guidance", "guided_eps")
    B, masked, scale = case
    torch.manual_seed(seed)
    model, (x_t, t, context, context_mask, uncond_context, uncond_mask, _), _, expected = guided_call(B, masked, scale)
    guided = kata.Guided(model, uncond_context, uncond_mask, scale)
    where = (call("Guided", Label(said("a model that knows each prompt's image", ja="各プロンプトの画像を知っているモデル")),
                  uncond_context, uncond_mask, scale)
             + call("", x_t, t, context, context_mask))  # fmt: skip
    out = guided(x_t, t, context, context_mask)
    assert_tensor(out, shape=expected.shape, dtype=torch.float32, call=where, seed=seed,
                  name=said("the guided ε", ja="ガイダンス後の ε"))  # fmt: skip
    check_one_call(model, x_t, t, context, context_mask, uncond_context, uncond_mask, where, seed)
    assert_close(out, expected, call=where, seed=seed, atol=1e-4,
                 name=said(f"the guided ε (ε_∅ + {scale} · (ε_c − ε_∅), the stored scale)",
                           ja=f"ガイダンス後の ε（ε_∅ + {scale} · (ε_c − ε_∅)、保存した scale）"))  # fmt: skip


def sampler(name: str):
    if name == "ddpm_sample":
        from k15_ddpm import ddpm_sample

        return lambda model, shape, schedule, **kw: ddpm_sample(model, shape, schedule, **kw)[0]
    from k18_ddim import ddim_sample

    return lambda model, shape, schedule, **kw: ddim_sample(model, shape, schedule, steps=6, eta=1.0, **kw)


@pytest.mark.blank("17.4")
@pytest.mark.parametrize("seed, name", [(0, "ddpm_sample"), (1, "ddim_sample")])
def test_17_4_a_sampler_given_guided_lands_on_the_guided_image(kata, monkeypatch, seed, name):
    with_reference(monkeypatch, kata, "classifier_free_guidance", "guided_eps")
    torch.manual_seed(seed)
    B, Tc, image, scale = 2, 4, (1, 2, 2), 3.0
    schedule = make_schedule()
    x0_uncond = torch.rand(B, *image) * 0.6 - 0.3
    x0_cond = x0_uncond + torch.rand(B, *image) * 0.4 - 0.2  # guided: x0_∅ + 3 (x0_c − x0_∅) stays in [-0.9, 0.9]
    context, context_mask, uncond_context, uncond_mask = prompts(B, Tc, image, masked=True)
    # every real token of a prompt holds its image: the oracle's mean over them is that image
    context = torch.where(context_mask.transpose(1, 2), x0_cond.view(B, 1, -1), context)
    uncond_context = torch.where(uncond_mask.transpose(1, 2), x0_uncond.view(B, 1, -1), uncond_context)
    model = PromptOracle(schedule, image)
    guided = kata.Guided(model, uncond_context, uncond_mask, scale)
    if not isinstance(guided, nn.Module) or not any(p is model.dummy for p in guided.parameters()):
        fail(said("Guided must be an nn.Module that holds the wrapped model (the samplers read its parameters)",
                  ja="Guided は、包んだモデルを保持する nn.Module である必要があります（サンプラーがそのパラメータを"
                     "読みます）"))  # fmt: skip
    where = call(name, Label(said(f"Guided(a model that knows each prompt's image, scale={scale})",
                                  ja=f"Guided(各プロンプトの画像を知っているモデル, scale={scale})")), (B, *image),
                 Label(f"Schedule(T={T})"), context=context, context_mask=context_mask)  # fmt: skip
    samples = sampler(name)(guided, (B, *image), schedule, generator=torch.Generator().manual_seed(seed),
                            context=context, context_mask=context_mask)  # fmt: skip
    assert_tensor(samples, shape=(B, *image), dtype=torch.float32, call=where, seed=seed, name="samples")
    assert_close(samples, x0_uncond + scale * (x0_cond - x0_uncond), call=where, seed=seed, atol=1e-4,
                 name=said("samples (the guided ε is the true noise of x0_∅ + scale · (x0_c − x0_∅): sampling lands "
                           "there)",
                           ja="samples（ガイダンス後の ε は x0_∅ + scale · (x0_c − x0_∅) の真のノイズなので、"
                              "サンプリングはそこにたどり着くはず）"))  # fmt: skip
