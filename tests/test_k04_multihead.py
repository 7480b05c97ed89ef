"""Tests of kata 04: multi-head attention.

Oracles: plain loops over the heads (split_heads, merge_heads), the projections written out
(x Wᵀ + b, cut per head), and torch.nn.MultiheadAttention with its weights copied from the
kata's q/k/v/out projections. A spy on scaled_dot_product_attention lets the tests of 04.3 and
04.4 grade what reaches the attention, so a mistake in 04.5 does not fail them.
"""

import pytest
import torch
from support import assert_close, assert_tensor, call, fail, with_reference


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


@pytest.mark.blank("04.2")
@pytest.mark.parametrize("B, H, T, Dh", [(2, 2, 3, 4), (1, 3, 5, 2), (3, 4, 1, 2), (2, 1, 4, 6), (2, 8, 7, 1)])
def test_04_2_merge_heads(kata, B, H, T, Dh):
    torch.manual_seed(T)
    x = torch.randn(B, H, T, Dh)
    out = kata.merge_heads(x)
    where = call("merge_heads", x)
    assert_tensor(out, shape=(B, T, H * Dh), call=where, seed=T)
    assert_close(out, merge_by_loop(x), call=where, seed=T)


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
                    f"the mask given to scaled_dot_product_attention has shape {tuple(mask.shape)}: it does not "
                    f"broadcast against the scores (B, H, Tq, Tk) = {scores}",
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


def torch_mha(mha) -> torch.nn.MultiheadAttention:
    """torch's own multi-head attention, with the kata module's weights."""
    D, Dc = mha.q_proj.out_features, mha.k_proj.in_features
    oracle = torch.nn.MultiheadAttention(D, mha.n_heads, batch_first=True, kdim=Dc, vdim=Dc)
    with torch.no_grad():
        q, k, v = mha.q_proj.weight, mha.k_proj.weight, mha.v_proj.weight
        if oracle._qkv_same_embed_dim:
            oracle.in_proj_weight.copy_(torch.cat([q, k, v]))
        else:
            oracle.q_proj_weight.copy_(q)
            oracle.k_proj_weight.copy_(k)
            oracle.v_proj_weight.copy_(v)
        oracle.in_proj_bias.copy_(torch.cat([mha.q_proj.bias, mha.k_proj.bias, mha.v_proj.bias]))
        oracle.out_proj.weight.copy_(mha.out_proj.weight)
        oracle.out_proj.bias.copy_(mha.out_proj.bias)
    return oracle


def broadcast_mask(mask, B, Tq, Tk):
    """The kata's rule: a mask broadcasts to (B, Tq, Tk), lined up from the right."""
    return mask.expand(B, Tq, Tk)


def expected_output(mha, x, context, mask):
    """nn.MultiheadAttention's answer. Its attn_mask is True where attending is NOT allowed, and
    (B*H, Tq, Tk) when it differs between sequences: batch b's mask repeated for each head."""
    c = x if context is None else context
    B, Tq, Tk = x.shape[0], x.shape[1], c.shape[1]
    masks = {}
    if mask is not None:
        masks["attn_mask"] = (~broadcast_mask(mask, B, Tq, Tk)).repeat_interleave(mha.n_heads, dim=0)
    with torch.no_grad():
        out, _ = torch_mha(mha)(x, c, c, need_weights=False, **masks)
    return out


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
        assert_close(got, expected, call=where, seed=seed, name=f"the {name} given to attention (after split_heads)")


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
        fail("scaled_dot_product_attention got no mask (blank 04.5 passes the mask on)", where, seed)
    expected = broadcast_mask(mask, B, Tq, Tk)[:, None].expand(B, H, Tq, Tk)  # every head: its sequence's mask
    assert_close(given.expand(B, H, Tq, Tk), expected, call=where, seed=seed,
                 name=f"the mask given to attention, shape {tuple(given.shape)} broadcast to (B, H, Tq, Tk)")  # fmt: skip


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
    assert_close(out, expected, call=where, seed=seed, name="output (compared with torch.nn.MultiheadAttention)")


@pytest.mark.blank("04.5")
def test_04_5_gradients_reach_every_parameter(kata, monkeypatch):
    with_reference(monkeypatch, kata, "split_heads", "merge_heads")
    torch.manual_seed(5)
    mha = kata.MultiHeadAttention(8, 2, context_dim=6)
    x, context = torch.randn(2, 3, 8), torch.randn(2, 4, 6)
    out = mha(x, context)
    assert_tensor(out, shape=(2, 3, 8), call=module_call(8, 2, 6, x, context), seed=5)
    out.square().sum().backward()
    for name, p in mha.named_parameters():
        if p.grad is None or not p.grad.abs().sum() > 0:
            fail(f"no gradient reached {name}: is it used in forward?", module_call(8, 2, 6, x, context), 5)
