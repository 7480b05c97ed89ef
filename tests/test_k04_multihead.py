"""Tests of kata 04: multi-head attention.

Oracles: plain loops over the heads (split_heads, merge_heads), the projections written out
(x Wᵀ + b, cut per head), and torch's multi-head attention (F.multi_head_attention_forward, what
torch.nn.MultiheadAttention runs) with the kata's q/k/v/out weights. Gradients: backward through
the learner's output and the oracle's, the oracle with its own copies of the weights
(assert_gradients). A spy on scaled_dot_product_attention lets the tests of 04.3 and 04.4 grade
what reaches the attention, so a mistake in 04.5 does not fail them.
"""

import pytest
import torch
import torch.nn.functional as F
from support import assert_close, assert_gradients, assert_tensor, call, fail, said, with_reference


def split_by_loop(x, H):
    Dh = x.shape[-1] // H
    return torch.stack([x[:, :, h * Dh : (h + 1) * Dh] for h in range(H)], dim=1)  # (B, H, T, Dh)


def merge_by_loop(x):
    return torch.cat([x[:, h] for h in range(x.shape[1])], dim=-1)  # (B, T, H*Dh)


@pytest.mark.blank("04.1")
@pytest.mark.parametrize("B, T, D, H", [(2, 3, 8, 2), (1, 5, 12, 3), (3, 1, 8, 4), (2, 4, 6, 1), (2, 7, 8, 8)])
def test_04_1_split_heads(kata, B, T, D, H):
    torch.manual_seed(T)
    x = torch.randn(B, T, D)
    out = kata.split_heads(x, H)
    where = call("split_heads", x, H)
    assert_tensor(out, shape=(B, H, T, D // H), call=where, seed=T)
    assert_close(out, split_by_loop(x, H), call=where, seed=T)


def leaves(*tensors):
    """Copies that require gradients: the learner's inputs, and the oracle's own."""
    return [t.detach().clone().requires_grad_() for t in tensors]


@pytest.mark.blank("04.1")
@pytest.mark.parametrize("B, T, D, H", [(2, 3, 8, 2), (1, 5, 12, 3)])
def test_04_1_split_heads_gradients_match_loop(kata, B, T, D, H):
    torch.manual_seed(T)
    x = torch.randn(B, T, D)
    x, x_o = leaves(x, x)
    where = call("split_heads", x, H) + ", then backward()"
    assert_gradients(kata.split_heads(x, H), split_by_loop(x_o, H), {"x": (x, x_o)}, call=where, seed=T)


@pytest.mark.blank("04.2")
@pytest.mark.parametrize("B, H, T, Dh", [(2, 2, 3, 4), (1, 3, 5, 2), (3, 4, 1, 2), (2, 1, 4, 6), (2, 8, 7, 1)])
def test_04_2_merge_heads(kata, B, H, T, Dh):
    torch.manual_seed(T)
    x = torch.randn(B, H, T, Dh)
    out = kata.merge_heads(x)
    where = call("merge_heads", x)
    assert_tensor(out, shape=(B, T, H * Dh), call=where, seed=T)
    assert_close(out, merge_by_loop(x), call=where, seed=T)


@pytest.mark.blank("04.2")
@pytest.mark.parametrize("B, H, T, Dh", [(2, 2, 3, 4), (1, 3, 5, 2)])
def test_04_2_merge_heads_gradients_match_loop(kata, B, H, T, Dh):
    torch.manual_seed(T)
    x = torch.randn(B, H, T, Dh)
    x, x_o = leaves(x, x)
    where = call("merge_heads", x) + ", then backward()"
    assert_gradients(kata.merge_heads(x), merge_by_loop(x_o), {"x": (x, x_o)}, call=where, seed=T)


# --- MultiHeadAttention ---------------------------------------------------------------------


class AttentionSpy:
    """Stands in for scaled_dot_product_attention inside the kata: records what the module
    gives it, checks that the mask broadcasts against the scores, then attends as usual."""

    def __init__(self, attend):
        self.attend, self.calls = attend, []
        self.where, self.seed = "", None  # the call under test, for messages

    def __call__(self, q, k, v, mask=None):
        __tracebackhide__ = True
        self.calls.append((q, k, v, mask))
        if mask is not None and isinstance(q, torch.Tensor) and isinstance(k, torch.Tensor):
            scores = (*q.shape[:-1], k.shape[-2])
            if not broadcasts_to(tuple(mask.shape), scores):
                fail(
                    said(f"the mask given to scaled_dot_product_attention has shape {tuple(mask.shape)}: it does not "
                         f"broadcast against the scores (B, H, Tq, Tk) = {scores}",
                         ja=f"scaled_dot_product_attention に渡したマスクの形状が {tuple(mask.shape)} です: スコアの形状 "
                            f"(B, H, Tq, Tk) = {scores} にブロードキャストできません"),
                    self.where,
                    self.seed,
                )
        return self.attend(q, k, v, mask)


def broadcasts_to(shape, target) -> bool:
    """Whether a tensor of `shape` broadcasts to exactly `target` (torch.broadcast_shapes is slow to load)."""
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(reversed(shape), reversed(target)))


def spy_on_attention(monkeypatch, kata) -> AttentionSpy:
    spy = AttentionSpy(kata.scaled_dot_product_attention)
    monkeypatch.setattr(kata, "scaled_dot_product_attention", spy)
    return spy


def broadcast_mask(mask, B, Tq, Tk):
    """The kata's rule: a mask broadcasts to (B, Tq, Tk), lined up from the right."""
    return mask.expand(B, Tq, Tk)


def torch_attention(p, x, context, mask, H):
    """torch's multi-head attention (F.multi_head_attention_forward, what nn.MultiheadAttention runs)
    with the weights p: {the kata's parameter name: tensor}. Its attn_mask is True where attending
    is NOT allowed, and (B*H, Tq, Tk) when it differs between sequences: batch b's mask repeated
    for each head."""
    c = x if context is None else context
    B, Tq, Tk, D = x.shape[0], x.shape[1], c.shape[1], x.shape[2]
    attn_mask = None if mask is None else (~broadcast_mask(mask, B, Tq, Tk)).repeat_interleave(H, dim=0)
    x, c = x.transpose(0, 1), c.transpose(0, 1)  # (T, B, D): its layout
    out, _ = F.multi_head_attention_forward(
        x, c, c, D, H, None, torch.cat([p["q_proj.bias"], p["k_proj.bias"], p["v_proj.bias"]]), None, None, False,
        0.0, p["out_proj.weight"], p["out_proj.bias"], training=False, need_weights=False, attn_mask=attn_mask,
        use_separate_proj_weight=True, q_proj_weight=p["q_proj.weight"], k_proj_weight=p["k_proj.weight"],
        v_proj_weight=p["v_proj.weight"])  # fmt: skip
    return out.transpose(0, 1)  # (B, Tq, D)


def expected_output(mha, x, context, mask):
    """torch's answer, with the kata module's weights."""
    with torch.no_grad():
        return torch_attention(dict(mha.named_parameters()), x, context, mask, mha.n_heads)


# The mask shapes a caller gives (all broadcast to (B, Tq, Tk)):
MASK_SHAPES = {
    "padding": "(B, 1, Tk)",  # key padding, lengths differ between sequences
    "causal": "(Tq, Tk)",
    "pattern": "(Tq, Tk)",  # a random one
    "shared": "(1, Tq, Tk)",  # a random one, the same for every sequence
    "per-sequence": "(B, Tq, Tk)",
}


def make_mask(kind, B, Tq, Tk, gen):
    """A random mask of the given kind; every query keeps at least one key."""
    if kind == "padding":
        lengths = torch.randint(1, Tk + 1, (B,), generator=gen)
        lengths[0] = max(Tk - 1, 1)  # some padding for sure
        if B > 1:
            lengths[-1] = Tk  # sequences differ
        return (torch.arange(Tk)[None, :] < lengths[:, None])[:, None, :]  # (B, 1, Tk)
    if kind == "causal":
        return torch.ones(Tq, Tk, dtype=torch.bool).tril()
    shape = {"pattern": (Tq, Tk), "shared": (1, Tq, Tk), "per-sequence": (B, Tq, Tk)}[kind]
    mask = torch.rand(shape, generator=gen) < 0.5
    mask[..., torch.randint(Tk, (), generator=gen)] = True
    return mask


def module_call(D, H, Dc, x, context=None, mask=None):
    args = f"{D}, {H}" + (f", context_dim={Dc}" if Dc is not None else "")
    kwargs = {name: t for name, t in [("context", context), ("mask", mask)] if t is not None}
    return call(f"MultiHeadAttention({args})", x, **kwargs)


# (B, Tq, Tk, D, Dc, H): Tk None is self-attention (the context is x)
PROJECTION_CASES = [
    (2, 5, None, 8, None, 2),
    (1, 1, None, 12, None, 3),
    (2, 4, 4, 8, 8, 2),  # cross-attention with the same sizes: keys from x would go unnoticed by shape
    (3, 2, 6, 8, 6, 4),  # context of another width and length
    (1, 3, 5, 6, 10, 1),
]


@pytest.mark.blank("04.3")
@pytest.mark.parametrize("B, Tq, Tk, D, Dc, H", PROJECTION_CASES)
def test_04_3_projections(kata, monkeypatch, B, Tq, Tk, D, Dc, H):
    with_reference(monkeypatch, kata, "split_heads", "merge_heads")
    spy = spy_on_attention(monkeypatch, kata)
    seed = B * 100 + Tq * 10 + H
    torch.manual_seed(seed)
    mha = kata.MultiHeadAttention(D, H, context_dim=Dc)
    x = torch.randn(B, Tq, D)
    context = None if Tk is None else torch.randn(B, Tk, Dc)
    where = module_call(D, H, Dc, x, context)
    spy.where, spy.seed = where, seed
    out = mha(x, context)
    assert_tensor(out, shape=(B, Tq, D), call=where, seed=seed)
    if not spy.calls:  # attention done some other way: grade the whole output
        assert_close(out, expected_output(mha, x, context, None), call=where, seed=seed)
        return
    q, k, v, _ = spy.calls[0]
    c = x if context is None else context
    for name, got, proj, source in [("q", q, mha.q_proj, x), ("k", k, mha.k_proj, c), ("v", v, mha.v_proj, c)]:
        expected = split_by_loop(source @ proj.weight.T + proj.bias, H).detach()
        assert_close(got, expected, call=where, seed=seed,
                     name=said(f"the {name} given to attention (after split_heads)",
                               ja=f"attention に渡した {name}（split_heads の後）"))


def own_weights(module):
    """{name: a copy of each parameter}: leaves of the oracle's own, with the module's values."""
    return {name: p.detach().clone().requires_grad_() for name, p in module.named_parameters()}


def projections_by_loop(p, x, context, H):
    """q, k, v as attention should get them, flattened and joined: x Wᵀ + b, cut per head."""
    c = x if context is None else context
    qkv = [split_by_loop(source @ p[f"{n}_proj.weight"].T + p[f"{n}_proj.bias"], H)
           for n, source in [("q", x), ("k", c), ("v", c)]]  # fmt: skip
    return torch.cat([t.flatten() for t in qkv])


@pytest.mark.blank("04.3")
@pytest.mark.parametrize("B, Tq, Tk, D, Dc, H", [PROJECTION_CASES[0], PROJECTION_CASES[3]])
def test_04_3_projection_gradients_match_loop(kata, monkeypatch, B, Tq, Tk, D, Dc, H):
    """Backward from q, k, v as they reach attention to x, the context and the projections' weights."""
    with_reference(monkeypatch, kata, "split_heads", "merge_heads")
    spy = spy_on_attention(monkeypatch, kata)
    mha, x, context, Tk, _, seed = seeded_case(kata, B, Tq, Tk, D, Dc, H)
    (x, x_o), weights = leaves(x, x), own_weights(mha)
    inputs = {"x": (x, x_o), **{f"self.{n}": (p, weights[n]) for n, p in mha.named_parameters()}}
    if context is not None:
        context, context_o = leaves(context, context)
        inputs["context"] = (context, context_o)
    where = module_call(D, H, Dc, x, context) + ", then backward()"
    spy.where, spy.seed = where, seed
    out = mha(x, context)
    if spy.calls:
        q, k, v, _ = spy.calls[0]
        actual = torch.cat([t.flatten() for t in (q, k, v)])  # q, k, v given to attention, joined
        inputs = {n: pair for n, pair in inputs.items() if not n.startswith("self.out_proj")}
        expected = projections_by_loop(weights, x_o, None if context is None else context_o, H)
    else:  # attention done some other way: backward from the whole output
        expected = torch_attention(weights, x_o, None if context is None else context_o, None, H)
        actual = out
    assert_gradients(actual, expected, inputs, call=where, seed=seed)


# (kind, B, Tq, Tk, D, Dc, H). A head dimension put in the wrong place can still broadcast when
# sizes coincide, and then reads the wrong entries: B == H, Tq == H and B == Tq catch those.
MASK_CASES = [
    ("padding", 2, 5, None, 8, None, 2),  # B == H: (B, 1, Tk) left as it is lines B up with H
    ("padding", 3, 4, 6, 8, 6, 2),  # the padding of a context: key padding in cross-attention
    ("padding", 1, 1, 4, 4, 4, 2),
    ("causal", 3, 3, None, 8, None, 2),  # B == Tq: a (Tq, Tk) mask read as (B, Tk) key padding
    ("causal", 2, 4, None, 8, None, 4),  # Tq == H: (Tq, 1, Tk) lines Tq up with H
    ("pattern", 3, 2, 5, 6, 4, 3),
    ("pattern", 2, 2, 3, 8, 8, 2),  # B == Tq == H
    ("shared", 2, 3, 5, 6, 4, 3),  # Tq == H
    ("per-sequence", 2, 3, 4, 8, 8, 2),  # B == H
    ("per-sequence", 3, 3, None, 8, None, 2),  # B == Tq
    ("per-sequence", 2, 4, 5, 8, 6, 4),  # Tq == H: (B, Tq, 1, Tk) broadcasts
]


def seeded_case(kata, B, Tq, Tk, D, Dc, H):
    """One case's module and inputs, seeded: (mha, x, context, Tk, mask generator, seed).
    Tk None means self-attention: no context, and Tk = Tq."""
    seed = B * 100 + Tq * 10 + H
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    mha = kata.MultiHeadAttention(D, H, context_dim=Dc)
    x = torch.randn(B, Tq, D)
    context = None if Tk is None else torch.randn(B, Tk, Dc)
    return mha, x, context, Tq if Tk is None else Tk, gen, seed


@pytest.mark.blank("04.4")
@pytest.mark.parametrize("kind, B, Tq, Tk, D, Dc, H", MASK_CASES)
def test_04_4_mask_broadcast_over_heads(kata, monkeypatch, kind, B, Tq, Tk, D, Dc, H):
    with_reference(monkeypatch, kata, "split_heads", "merge_heads")
    spy = spy_on_attention(monkeypatch, kata)
    mha, x, context, Tk, gen, seed = seeded_case(kata, B, Tq, Tk, D, Dc, H)
    mask = make_mask(kind, B, Tq, Tk, gen)
    where = module_call(D, H, Dc, x, context, mask) + f"    ({kind} mask {MASK_SHAPES[kind]}, H = {H})"
    spy.where, spy.seed = where, seed
    out = mha(x, context, mask=mask)
    assert_tensor(out, shape=(B, Tq, D), call=where, seed=seed)
    if not spy.calls:  # attention done some other way: grade the whole output
        assert_close(out, expected_output(mha, x, context, mask), call=where, seed=seed)
        return
    given = spy.calls[0][3]
    if given is None:
        fail(said("scaled_dot_product_attention got no mask (blank 04.5 passes the mask on)",
                  ja="scaled_dot_product_attention にマスクが渡されていません（マスクを渡すのは空欄 04.5 のコードです）"),
             where, seed)  # fmt: skip
    expected = broadcast_mask(mask, B, Tq, Tk)[:, None].expand(B, H, Tq, Tk)  # every head: its sequence's mask
    assert_close(given.expand(B, H, Tq, Tk), expected, call=where, seed=seed,
                 name=said(f"the mask given to attention, shape {tuple(given.shape)} broadcast to (B, H, Tq, Tk)",
                           ja=f"attention に渡したマスク（形状 {tuple(given.shape)}）を (B, H, Tq, Tk) に"
                              "ブロードキャストしたもの"))  # fmt: skip


# (kind, B, Tq, Tk, D, Dc, H)
OUTPUT_CASES = [
    (None, 2, 5, None, 8, None, 2),
    (None, 1, 1, None, 4, None, 4),
    (None, 3, 2, 7, 8, 6, 4),
    ("padding", 3, 4, 6, 8, 6, 2),
    ("padding", 2, 3, None, 8, None, 2),  # B == H
    ("causal", 2, 3, None, 6, None, 3),  # Tq == H
    ("causal", 3, 3, None, 8, None, 2),  # B == Tq
    ("shared", 2, 3, 5, 8, 8, 2),
    ("per-sequence", 2, 3, 5, 8, 8, 2),
]


@pytest.mark.blank("04.5")
@pytest.mark.parametrize("kind, B, Tq, Tk, D, Dc, H", OUTPUT_CASES)
def test_04_5_matches_torch_multihead_attention(kata, monkeypatch, kind, B, Tq, Tk, D, Dc, H):
    with_reference(monkeypatch, kata, "split_heads", "merge_heads")
    mha, x, context, Tk, gen, seed = seeded_case(kata, B, Tq, Tk, D, Dc, H)
    mask = None if kind is None else make_mask(kind, B, Tq, Tk, gen)
    where = module_call(D, H, Dc, x, context, mask) + (f"    ({kind} mask {MASK_SHAPES[kind]})" if kind else "")
    out = mha(x, context, mask=mask)
    expected = expected_output(mha, x, context, mask)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("output (compared with torch.nn.MultiheadAttention)",
                           ja="出力（torch.nn.MultiheadAttention と比較）"))


# (kind, B, Tq, Tk, D, Dc, H)
GRADIENT_CASES = [
    (None, 2, 5, None, 8, None, 2),  # self-attention: x feeds q, k and v
    ("padding", 3, 4, 6, 8, 6, 2),  # cross-attention, the context padded
    ("causal", 2, 3, None, 6, None, 3),
]


@pytest.mark.blank("04.5")
@pytest.mark.parametrize("kind, B, Tq, Tk, D, Dc, H", GRADIENT_CASES)
def test_04_5_gradients_match_torch_multihead_attention(kata, monkeypatch, kind, B, Tq, Tk, D, Dc, H):
    with_reference(monkeypatch, kata, "split_heads", "merge_heads")
    mha, x, context, Tk, gen, seed = seeded_case(kata, B, Tq, Tk, D, Dc, H)
    mask = None if kind is None else make_mask(kind, B, Tq, Tk, gen)
    (x, x_o), weights = leaves(x, x), own_weights(mha)
    inputs = {"x": (x, x_o), **{f"self.{n}": (p, weights[n]) for n, p in mha.named_parameters()}}
    context_o = None
    if context is not None:
        context, context_o = leaves(context, context)
        inputs["context"] = (context, context_o)
    where = module_call(D, H, Dc, x, context, mask) + (f"    ({kind} mask {MASK_SHAPES[kind]})" if kind else "")
    out = mha(x, context, mask=mask)
    expected = torch_attention(weights, x_o, context_o, mask, H)
    assert_gradients(out, expected, inputs, call=where + ", then backward()", seed=seed)
