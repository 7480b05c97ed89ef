"""Tests of kata 03: attention. Oracles: torch.softmax, F.scaled_dot_product_attention with a
bool attn_mask, plain loops over Eq. 1 of Vaswani et al. in float64, einsum, and properties
(softmax is unchanged by a shift along its dim, even of 1000; masked keys get zero weight).
Gradients: backward through the learner's output and the oracle's (assert_gradients).

The blanks of scaled_dot_product_attention are graded one at a time: its softmax is the
reference one, which also records the scores it is given, so blank 03.4's scores and blank
03.5's masking are read where they enter the softmax, and blank 03.6 is checked against the
softmax of whatever scores the function built (for the gradients too: the oracle backpropagates
through the function's own scores, so only blank 03.6's code differs between the two).
"""

import math

import pytest
import torch
import torch.nn.functional as F
from support import assert_close, assert_gradients, assert_tensor, call, fail, said, with_reference

# --- 03.1, 03.2: softmax ----------------------------------------------------------------------


def eighths(*shape):
    """Random multiples of 1/8 in [-3, 3]: exact in float32 even after adding ±1000, so a
    shifted copy has exactly the same differences."""
    return torch.randint(-24, 25, shape).float() / 8


def assert_no_overflow(out, where, seed=None):
    """No NaN and no +inf: what an overflowing exp() leaves (-inf is blank 03.2's business)."""
    __tracebackhide__ = True
    bad = out.isnan() | out.isposinf()
    if bad.any():
        i = tuple(int(n) for n in bad.nonzero()[0])
        fail(said(f"output has {out[i].item()} at index {i} ({int(bad.sum())} of {out.numel()} values are NaN or inf): "
                  "exp() overflowed, or every exp() of a slice underflowed to 0 and 0/0 followed",
                  ja=f"出力のインデックス {i} が {out[i].item()} です（{out.numel()} 個中 {int(bad.sum())} 個が NaN か "
                     "inf）: exp() がオーバーフローしたか、あるスライスの exp() がすべて 0 にアンダーフローして 0/0 に"
                     "なっています"), where, seed)  # fmt: skip


# Hard rows, softmax over the last dim: huge logits, huge spreads, -inf (masked) entries.
# Square (and below: square, or dim 0), so that a slip in blank 03.2 (a missing keepdim) does
# not stop these tests of blank 03.1: they compare the learner's softmax only with itself.
HARD = torch.tensor(
    [
        [1000.0, 999.0, 998.0, 990.0],
        [-1000.0, -1001.0, -1002.5, -1010.0],
        [1000.0, 0.0, -1000.0, 3.0],
        [0.0, float("-inf"), 88.75, float("-inf")],
    ]
)


@pytest.mark.blank("03.1")
def test_03_1_softmax_of_huge_logits_does_not_overflow(kata):
    x = HARD.clone()
    where = call("softmax", x, dim=-1) + "  (rows like [1000, 999, 998, 990] and [-1000, -1001, ...])"
    out = kata.softmax(x, dim=-1)  # an in-place `x -= ...` fails in the guard (support.Guarded)
    assert_tensor(out, shape=HARD.shape, dtype=HARD.dtype, call=where)
    assert_no_overflow(out, where)
    # softmax does not change when a slice is shifted: the same rows with their max already at 0
    shifted = HARD - HARD.amax(dim=-1, keepdim=True)
    assert_close(out, kata.softmax(shifted, dim=-1), call=where,
                 name=said("softmax(x) (compared with softmax(x - max))", ja="softmax(x)（softmax(x - max) と比較）"))


# (shape, dim, shift): the shift is constant along `dim` and differs between slices, by up to 2000
SHIFT_CASES = [
    ((3, 3), -1, [[1000.0], [-1000.0], [0.0]]),
    ((4, 3), 0, [[1000.0, -1000.0, 500.0]]),
    ((4, 4), -1, [[1000.0], [-1000.0], [0.0], [500.0]]),
    ((3, 3, 3), 1, [[[1000.0, -1000.0, 0.0]], [[-1000.0, 250.0, 1000.0]], [[0.0, 1000.0, -1000.0]]]),
    ((2, 3), 0, [[-1000.0, 1000.0, 0.0]]),
]


@pytest.mark.blank("03.1")
@pytest.mark.parametrize("seed, case", list(enumerate(SHIFT_CASES)))
def test_03_1_softmax_is_unchanged_by_large_shifts(kata, seed, case):
    shape, dim, shift = case
    torch.manual_seed(seed)
    x = eighths(*shape)
    x_shifted = x + torch.tensor(shift)
    where = call("softmax", x_shifted, dim=dim) + f"  (x + shifts of ±1000, constant along dim {dim})"
    out = kata.softmax(x_shifted, dim=dim)
    assert_tensor(out, shape=shape, dtype=x.dtype, call=where, seed=seed)
    assert_no_overflow(out, where, seed)
    expected = kata.softmax(x, dim=dim)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("softmax(x + shift) (compared with softmax(x))", ja="softmax(x + shift)（softmax(x) と比較）"))


# (shape, dim): dims other than 0 and -1, square shapes (where a missing keepdim broadcasts silently)
SOFTMAX_CASES = [((2, 5), -1), ((4, 4), -1), ((4, 4), 0), ((3, 4, 5), 1), ((3, 4, 5), 0), ((2, 3, 5), 2),
                 ((1, 1), -1), ((6,), 0), ((2, 1, 3), -1)]  # fmt: skip


@pytest.mark.blank("03.2")
@pytest.mark.parametrize("seed, case", list(enumerate(SOFTMAX_CASES)))
def test_03_2_softmax_matches_torch(kata, seed, case):
    shape, dim = case
    torch.manual_seed(seed)
    x = torch.randn(shape) * 2
    out = kata.softmax(x, dim=dim)
    where = call("softmax", x, dim=dim)
    assert_close(out, torch.softmax(x, dim=dim), call=where, seed=seed)


# (shape, dim) and values: random ones, and HARD's rows (huge logits, -inf entries)
GRADIENT_CASES = [((2, 5), -1, None), ((4, 4), 0, None), ((3, 4, 5), 1, None), ((1, 1), -1, None),
                  ((4, 4), -1, HARD)]  # fmt: skip


@pytest.mark.blank("03.2")
@pytest.mark.parametrize("seed, case", list(enumerate(GRADIENT_CASES)))
def test_03_2_softmax_gradients_match_torch(kata, seed, case):
    shape, dim, values = case
    torch.manual_seed(seed)
    leaf = (torch.randn(shape) * 2 if values is None else values.clone()).requires_grad_()
    copy = leaf.detach().clone().requires_grad_()
    x = leaf * 1  # not a leaf: an in-place `x -= ...` (blank 03.1) meets the guard, not autograd's leaf error
    where = call("softmax", x, dim=dim) + ", then backward()"
    assert_gradients(kata.softmax(x, dim=dim), torch.softmax(copy, dim=dim), {"x": (leaf, copy)}, call=where, seed=seed)


# --- 03.3: causal mask ------------------------------------------------------------------------


@pytest.mark.blank("03.3")
@pytest.mark.parametrize("T", [1, 2, 3, 5, 8])
def test_03_3_causal_mask(kata, T):
    mask = kata.causal_mask(T)
    where = call("causal_mask", T)
    assert_tensor(mask, shape=(T, T), dtype=torch.bool, call=where)
    expected = torch.tensor([[j <= i for j in range(T)] for i in range(T)], dtype=torch.bool).reshape(T, T)
    wrong = mask != expected
    if wrong.any():
        i, j = (int(n) for n in wrong.nonzero()[0])
        fail(said(f"mask[{i}, {j}] (query {i}, key {j}) is {bool(mask[i, j])}, expected {bool(expected[i, j])}: "
                  f"query {i} may attend to keys 0..{i} and no later one (True = may attend); "
                  f"{int(wrong.sum())} of {T * T} entries wrong",
                  ja=f"mask[{i}, {j}]（クエリ {i}、キー {j}）が {bool(mask[i, j])} です（期待される値は "
                     f"{bool(expected[i, j])}）: クエリ {i} が注意を向けてよいのはキー 0..{i} だけで、それより後のキーには"
                     f"向けられません（True = 注意を向けてよい）。{T * T} 個中 {int(wrong.sum())} 個の要素が違います"),
             where)  # fmt: skip


# --- 03.4, 03.5, 03.6: scaled dot-product attention -------------------------------------------

# (leading dims, Tq, Tk, D, Dv): none, batch 1 and more, heads, T = 1, Tq ≠ Tk, Dv ≠ D, D not Tk
ATTENTION_CASES = [
    ((), 3, 4, 5, 2),
    ((1,), 1, 1, 4, 3),
    ((2,), 3, 5, 8, 4),
    ((2, 3), 4, 6, 5, 7),
    ((3,), 5, 5, 16, 1),
]


def softmax_spy(monkeypatch, kata) -> list:
    """The kata's softmax becomes the reference one (blanks 03.1-03.2 are not involved), and
    it records each tensor it is given: the scores, as blanks 03.4 and 03.5 built them, as
    (a copy, the tensor itself: in the autograd graph from q and k)."""
    with_reference(monkeypatch, kata, "softmax")
    reference_softmax = kata.softmax
    seen = []

    def softmax(x, dim=-1):
        seen.append((x.detach().clone(), x))
        return reference_softmax(x, dim)

    monkeypatch.setattr(kata, "softmax", softmax)
    return seen


def attend(kata, seen, q, k, v, mask=None):
    """(out, weights, the scores given to softmax or None if softmax was not called)."""
    seen.clear()
    out, weights = kata.scaled_dot_product_attention(q, k, v, mask)
    return out, weights, (seen[-1][0] if seen else None)


def live_scores(kata, seen, q, k, v, mask=None):
    """The scores this call gives softmax, in the autograd graph from q and k; None if softmax is not called."""
    attend(kata, seen, q, k, v, mask)
    return seen[-1][1] if seen else None


def leaves(*tensors):
    """Copies that require gradients: the learner's inputs, and the oracle's own."""
    return [t.detach().clone().requires_grad_() for t in tensors]


def qkv(lead, Tq, Tk, D, Dv):
    return torch.randn(*lead, Tq, D), torch.randn(*lead, Tk, D), torch.randn(*lead, Tk, Dv)


def constant_factor(actual, expected):
    """c when actual = c · expected everywhere for a constant c ≠ 1 (a wrong scale), else None."""
    a, e = actual.detach().double().flatten(), expected.detach().double().flatten()
    c = float(a @ e / (e @ e))
    return c if abs(c - 1) > 1e-3 and torch.allclose(a, c * e, rtol=1e-4, atol=1e-6) else None


def scores_by_loop(q, k):
    """scores[..., i, j] = q[..., i, :] · k[..., j, :] / √D, in float64."""
    Tq, Tk, D = q.shape[-2], k.shape[-2], q.shape[-1]
    scores = torch.empty(*q.shape[:-2], Tq, Tk, dtype=torch.float64)
    for i in range(Tq):
        for j in range(Tk):
            scores[..., i, j] = (q[..., i, :].double() * k[..., j, :].double()).sum(-1) / math.sqrt(D)
    return scores


@pytest.mark.blank("03.4")
@pytest.mark.parametrize("seed, case", list(enumerate(ATTENTION_CASES)))
def test_03_4_scores_scaled_by_sqrt_d(kata, monkeypatch, seed, case):
    D = case[3]
    seen = softmax_spy(monkeypatch, kata)
    torch.manual_seed(seed)
    q, k, v = qkv(*case)
    _, weights, scores = attend(kata, seen, q, k, v)
    where = call("scaled_dot_product_attention", q, k, v)
    expected = scores_by_loop(q, k).float()
    if scores is not None:
        assert_tensor(scores, shape=expected.shape, call=where, seed=seed,
                      name=said("scores (as given to softmax)", ja="スコア（softmax に渡すもの）"))
        factor = constant_factor(scores, expected)
        if factor is not None:
            fail(said(f"scores (as given to softmax) are {factor:.4g} × q·kᵀ/√D everywhere "
                      f"(D = {D}, √D = {math.sqrt(D):.4g}): the dot products are right, the scaling is not",
                      ja=f"softmax に渡すスコアが、どこでも q·kᵀ/√D の {factor:.4g} 倍になっています"
                         f"（D = {D}、√D = {math.sqrt(D):.4g}）: 内積は正しいのですが、スケーリングが違います"),
                 where, seed)  # fmt: skip
        assert_close(scores, expected, call=where, seed=seed,
                     name=said("scores (as given to softmax)", ja="スコア（softmax に渡すもの）"))
    else:  # blank 03.6 does not call softmax: judge the scores by the weights
        assert_close(weights, torch.softmax(expected, dim=-1), call=where, seed=seed, name="weights")


@pytest.mark.blank("03.4")
@pytest.mark.parametrize("seed, case", list(enumerate(ATTENTION_CASES[:4])))
def test_03_4_scores_gradients_match_einsum(kata, monkeypatch, seed, case):
    D = case[3]
    seen = softmax_spy(monkeypatch, kata)
    torch.manual_seed(seed)
    q, k, v = leaves(*qkv(*case))
    q_o, k_o, v_o = leaves(q, k, v)
    where = call("scaled_dot_product_attention", q, k, v) + ", then backward()"
    scores = live_scores(kata, seen, q, k, v)
    if scores is not None:  # backward from the scores, as given to softmax, to q and k
        expected = torch.einsum("...id,...jd->...ij", q_o, k_o) / math.sqrt(D)
        assert_gradients(scores, expected, {"q": (q, q_o), "k": (k, k_o)}, call=where, seed=seed)
    else:  # blank 03.6 does not call softmax: backward from the output
        out, _ = kata.scaled_dot_product_attention(q, k, v)
        expected = F.scaled_dot_product_attention(q_o, k_o, v_o)
        assert_gradients(out, expected, {"q": (q, q_o), "k": (k, k_o), "v": (v, v_o)}, call=where, seed=seed)


def padding(lengths, Tk):
    """(B, Tk) bool: key j of sequence b is real (True) when j < lengths[b]."""
    return torch.arange(Tk)[None, :] < torch.tensor(lengths)[:, None]


def random_mask(*shape):
    """Random bool mask, every query row keeping at least one key."""
    mask = torch.rand(shape) < 0.5
    keep = torch.randint(0, shape[-1], shape[:-1])
    return mask | F.one_hot(keep, shape[-1]).bool()


MASK_SEED = 100


def mask_cases():
    """(name, q, k, v, mask): masks broadcast over batch and heads; every query keeps a key."""
    torch.manual_seed(MASK_SEED)
    causal = torch.tril(torch.ones(4, 4, dtype=torch.bool))
    return [
        ("causal (T, T) over a batch", *qkv((2,), 4, 4, 5, 3), causal),
        ("padding (B, 1, Tk)", *qkv((3,), 3, 5, 4, 2), padding([5, 2, 1], 5)[:, None, :]),
        ("padding and causal (B, 1, T, T) over heads", *qkv((2, 2), 4, 4, 6, 3),
         padding([4, 3], 4)[:, None, None, :] & causal),
        ("random (1, Tq, Tk)", *qkv((1,), 3, 6, 4, 4), random_mask(1, 3, 6)),
        ("a single key, T = 1", *qkv((2,), 1, 1, 3, 2), torch.ones(1, 1, dtype=torch.bool)),
    ]  # fmt: skip


MASK_CASES = mask_cases()


LARGE_NEGATIVE = -1e4  # a fill at or below it gets weight 0: exp(-1e4) underflows even in float64


def why_not_hidden(score: float, weight: float) -> str:
    if math.isnan(score):
        return said("NaN spreads: the softmax of a row holding a NaN is NaN everywhere",
                    ja="NaN は広がります: NaN を含む行の softmax は、すべて NaN になります")
    if score == math.inf:
        return said("+inf takes all the weight (and inf - inf is NaN): the fill must be negative",
                    ja="+inf が重みをすべて取ってしまいます（しかも inf - inf は NaN です）: 埋める値は負でなければなりません")
    if weight > 0:
        return said(f"exp({score:.4g} - max) is not 0: the key keeps weight {weight:.3g} after the softmax",
                    ja=f"exp({score:.4g} - max) が 0 になりません: softmax の後もこのキーに重み {weight:.3g} が残ります")
    return said(f"{score:.4g} hides the key here, but not once the scores grow: use -inf, or at most -1e4 (-1e9 is common)",
                ja=f"{score:.4g} はここではキーを隠せますが、スコアが大きくなると隠せません: -inf か、-1e4 以下の値を"
                   "使ってください（-1e9 がよく使われます）")  # fmt: skip


@pytest.mark.blank("03.5")
@pytest.mark.parametrize("case", MASK_CASES, ids=[c[0] for c in MASK_CASES])
def test_03_5_masked_keys_get_zero_weight(kata, monkeypatch, case):
    name, (q, k, v, mask) = case[0], (t.clone() for t in case[1:])
    seen = softmax_spy(monkeypatch, kata)
    _, unmasked_weights, unmasked = attend(kata, seen, q, k, v)
    out, weights, scores = attend(kata, seen, q, k, v, mask)
    where = call("scaled_dot_product_attention", q, k, v, mask=mask) + f"  (mask: {name})"
    if scores is None or unmasked is None:  # blank 03.6 does not call softmax: judge by the weights
        kept = unmasked_weights * mask
        expected = kept / kept.sum(dim=-1, keepdim=True)
        assert_close(weights, expected, call=where, seed=MASK_SEED, name="weights")
        assert_close(out, weighted_sum_by_loop(expected, v).float(), call=where, seed=MASK_SEED, name="out")
        return
    allowed = mask.expand_as(unmasked)
    assert_tensor(scores, shape=unmasked.shape, call=where, seed=MASK_SEED,
                  name=said("masked scores", ja="マスクをかけたスコア"))
    changed = allowed & ~((scores - unmasked).abs() <= 1e-5 + 1e-4 * unmasked.abs())  # NaN counts as changed
    if changed.any():
        i = tuple(int(n) for n in changed.nonzero()[0])
        inverted = scores[i].item() <= LARGE_NEGATIVE
        fail(said(f"the scores where the mask is True must stay as they were: at index {i} (mask True) the score is "
                  f"{scores[i].item():.4g}, expected {unmasked[i].item():.4g} ({int(changed.sum())} such entries)"
                  + (": the mask is True where attending is allowed, so fill where it is False (~mask)" if inverted else ""),
                  ja=f"マスクが True の位置のスコアは、元のまま残す必要があります: インデックス {i}（マスクは True）の"
                     f"スコアが {scores[i].item():.4g} です（期待される値は {unmasked[i].item():.4g}、このような要素が "
                     f"{int(changed.sum())} 個）"
                     + (": マスクが True なのは注意を向けてよい位置です。埋めるのは False の位置（~mask）です"
                        if inverted else "")),
             where, MASK_SEED)  # fmt: skip
    not_hidden = ~allowed & ~(scores <= LARGE_NEGATIVE)  # NaN counts as not hidden
    if not_hidden.any():
        i = tuple(int(n) for n in not_hidden.nonzero()[0])
        weight = torch.softmax(scores, dim=-1)[i].item()
        why = why_not_hidden(scores[i].item(), weight)
        fail(said(f"the scores where the mask is False must become -inf (or a large negative number such as -1e9), "
                  f"so they get zero weight after the softmax: at index {i} (mask False) the score is "
                  f"{scores[i].item():.4g}: {why} ({int(not_hidden.sum())} such entries)",
                  ja=f"マスクが False の位置のスコアは、softmax の後で重みが 0 になるように、-inf（または -1e9 のような"
                     f"大きな負の数）にする必要があります: インデックス {i}（マスクは False）のスコアが "
                     f"{scores[i].item():.4g} です: {why}（このような要素が {int(not_hidden.sum())} 個）"),
             where, MASK_SEED)  # fmt: skip


@pytest.mark.blank("03.5")
@pytest.mark.parametrize("case", MASK_CASES[:4], ids=[c[0] for c in MASK_CASES[:4]])
def test_03_5_masked_weights_gradients_match_torch(kata, monkeypatch, case):
    """Backward from the softmax of the masked scores to q and k. The oracle: torch's masked_fill
    and softmax on the function's own unmasked scores (its blank 03.4), so only 03.5 is graded."""
    name, mask = case[0], case[4].clone()
    q, k, v = leaves(*case[1:4])
    seen = softmax_spy(monkeypatch, kata)
    where = call("scaled_dot_product_attention", q, k, v, mask=mask) + f"  (mask: {name}), then backward()"
    unmasked, masked = live_scores(kata, seen, q, k, v), live_scores(kata, seen, q, k, v, mask)
    if unmasked is not None and masked is not None:
        expected = torch.softmax(unmasked.masked_fill(~mask, -math.inf), dim=-1)
        assert_gradients(torch.softmax(masked, dim=-1), expected, {"q": (q, q), "k": (k, k)}, call=where,
                         seed=MASK_SEED)  # fmt: skip
    else:  # blank 03.6 does not call softmax: backward from the output, against torch
        q_o, k_o, v_o = leaves(q, k, v)
        out, _ = kata.scaled_dot_product_attention(q, k, v, mask)
        expected = F.scaled_dot_product_attention(q_o, k_o, v_o, attn_mask=mask)
        assert_gradients(out, expected, {"q": (q, q_o), "k": (k, k_o), "v": (v, v_o)}, call=where, seed=MASK_SEED)


def weighted_sum_by_loop(weights, v):
    """out[..., i, :] = Σ_j weights[..., i, j] v[..., j, :], in float64."""
    out = torch.zeros(*weights.shape[:-1], v.shape[-1], dtype=torch.float64)
    for j in range(v.shape[-2]):
        out += weights[..., :, j, None].double() * v[..., None, j, :].double()
    return out


@pytest.mark.blank("03.6")
@pytest.mark.parametrize("seed, case", list(enumerate(ATTENTION_CASES + [c[1:] for c in MASK_CASES])))
def test_03_6_softmax_over_keys_then_weighted_values(kata, monkeypatch, seed, case):
    if len(case) == 5:
        torch.manual_seed(seed)
        (q, k, v), mask = qkv(*case), None
    else:
        (q, k, v, mask), seed = (t.clone() for t in case), MASK_SEED
    seen = softmax_spy(monkeypatch, kata)
    out, weights, scores = attend(kata, seen, q, k, v, mask)
    where = call("scaled_dot_product_attention", q, k, v, **({} if mask is None else {"mask": mask}))
    Tq, Tk = q.shape[-2], k.shape[-2]
    if scores is not None and scores.shape == (*q.shape[:-2], Tq, Tk):
        # the softmax of the function's own scores (blanks 03.4 and 03.5 are not involved)
        expected_weights = torch.softmax(scores, dim=-1)
        expected_out = weighted_sum_by_loop(expected_weights, v).float()
    else:  # softmax was not called with the scores: the whole function against torch
        scores = scores_by_loop(q, k).float()
        expected_weights = torch.softmax(scores if mask is None else scores.masked_fill(~mask, -math.inf), dim=-1)
        expected_out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert_close(weights, expected_weights, call=where, seed=seed, name="weights")
    assert_close(out, expected_out, call=where, seed=seed, name="out")


@pytest.mark.blank("03.6")
@pytest.mark.parametrize("seed, case", list(enumerate(ATTENTION_CASES[:3] + [c[1:] for c in MASK_CASES[:3]])))
def test_03_6_attention_gradients_match_torch(kata, monkeypatch, seed, case):
    """Backward from out to q, k and v. The oracle: torch.softmax and a matmul on the scores the
    function itself gives softmax (a second call, for a graph of its own), so blanks 03.4 and
    03.5 are the same on both sides; without those scores, F.scaled_dot_product_attention."""
    if len(case) == 5:
        torch.manual_seed(seed)
        (q, k, v), mask = leaves(*qkv(*case)), None
    else:
        (q, k, v), mask, seed = leaves(*case[:3]), case[3].clone(), MASK_SEED
    seen = softmax_spy(monkeypatch, kata)
    where = call("scaled_dot_product_attention", q, k, v, **({} if mask is None else {"mask": mask}))
    where += ", then backward()"
    out, _ = kata.scaled_dot_product_attention(q, k, v, mask)
    scores = live_scores(kata, seen, q, k, v, mask)
    if scores is not None and scores.shape == (*q.shape[:-2], q.shape[-2], k.shape[-2]):
        expected, inputs = torch.softmax(scores, dim=-1) @ v, {"q": (q, q), "k": (k, k), "v": (v, v)}
    else:
        q_o, k_o, v_o = leaves(q, k, v)
        expected = F.scaled_dot_product_attention(q_o, k_o, v_o, attn_mask=mask)
        inputs = {"q": (q, q_o), "k": (k, k_o), "v": (v, v_o)}
    assert_gradients(out, expected, inputs, call=where, seed=seed)
