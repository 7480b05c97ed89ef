"""Tests of kata 02: embeddings. Oracles: F.embedding, and plain loops over the formulas of
Vaswani et al. §3.4–3.5 in float64; gradients: the same oracles, backpropagated (assert_gradients)."""

import math

import pytest
import torch
import torch.nn.functional as F
from support import assert_close, assert_gradients, assert_tensor, call, fail, said, with_reference


def constant_factor(actual, expected):
    """c when actual = c · expected everywhere for a constant c ≠ 1 (a wrong scale), else None."""
    a, e = actual.detach().double().flatten(), expected.detach().double().flatten()
    c = float(a @ e / (e @ e))
    return c if abs(c - 1) > 1e-3 and torch.allclose(a, c * e, rtol=1e-4, atol=1e-6) else None


# (V, D, B, T): batch 1 and more, T = 1, D odd and not a square (√D ≠ D)
TOKEN_CASES = [(10, 6, 2, 5), (7, 3, 1, 1), (50, 8, 3, 4), (4, 5, 1, 7)]


@pytest.mark.blank("02.1")
@pytest.mark.parametrize("seed, case", list(enumerate(TOKEN_CASES)))
def test_02_1_token_embedding_lookup_and_scale(kata, seed, case):
    V, D, B, T = case
    torch.manual_seed(seed)
    emb = kata.TokenEmbedding(V, D)
    tokens = torch.randint(0, V - 1, (B, T))  # V-1 left out: a lookup must not depend on which IDs occur
    out = emb(tokens)
    where = call(f"TokenEmbedding({V}, {D})", tokens)
    expected = F.embedding(tokens, emb.weight) * math.sqrt(D)
    assert_tensor(out, shape=expected.shape, dtype=expected.dtype, call=where, seed=seed)
    factor = constant_factor(out, expected)
    if factor is not None:
        fail(said(f"output is {factor:.4g} × weight[tokens]·√D everywhere (D = {D}, √D = {math.sqrt(D):.4g}): "
                  "the right rows, scaled wrong",
                  ja=f"出力がどこでも weight[tokens]·√D の {factor:.4g} 倍になっています（D = {D}、√D = "
                     f"{math.sqrt(D):.4g}）: 取り出す行は正しいのですが、スケールが違います"), where, seed)  # fmt: skip
    assert_close(out, expected, call=where, seed=seed)


@pytest.mark.blank("02.1")
@pytest.mark.parametrize("seed, case", list(enumerate(TOKEN_CASES[:2])))
def test_02_1_token_embedding_gradients_match_torch(kata, seed, case):
    V, D, B, T = case
    torch.manual_seed(seed)
    emb = kata.TokenEmbedding(V, D)
    tokens = torch.randint(0, V, (B, T))
    tokens[0, -1] = tokens[0, 0]  # an ID used twice: its row's gradient is the sum of both
    weight = emb.weight.detach().clone().requires_grad_()  # the oracle's own copy of the table
    where = call(f"TokenEmbedding({V}, {D})", tokens) + ", then backward()"
    assert_gradients(emb(tokens), F.embedding(tokens, weight) * math.sqrt(D), {"self.weight": (emb.weight, weight)},
                     call=where, seed=seed)  # fmt: skip


def frequencies_by_loop(D):
    return torch.tensor([1 / 10000 ** (2 * i / D) for i in range(D // 2)], dtype=torch.float64)


@pytest.mark.blank("02.2")
@pytest.mark.parametrize("D", [2, 4, 6, 16, 64])
def test_02_2_sinusoid_frequencies(kata, D):
    freqs = kata.sinusoid_frequencies(D)
    expected = frequencies_by_loop(D).float()
    assert_close(freqs, expected, call=call("sinusoid_frequencies", D), atol=1e-7, rtol=1e-5)


def positions_by_loop(T, D):
    pe = torch.zeros(T, D, dtype=torch.float64)
    for pos in range(T):
        for i in range(D // 2):
            pe[pos, 2 * i] = math.sin(pos / 10000 ** (2 * i / D))
            pe[pos, 2 * i + 1] = math.cos(pos / 10000 ** (2 * i / D))
    return pe


@pytest.mark.blank("02.3")
@pytest.mark.parametrize("T, D", [(1, 2), (4, 6), (10, 8), (50, 16), (3, 32)])
def test_02_3_sinusoidal_positions(kata, monkeypatch, T, D):
    with_reference(monkeypatch, kata, "sinusoid_frequencies")  # graded alone: blank 02.2 is not involved
    pe = kata.sinusoidal_positions(T, D)
    where = call("sinusoidal_positions", T, D)
    expected = positions_by_loop(T, D).float()
    assert_tensor(pe, shape=(T, D), dtype=torch.float32, call=where)
    off = ~((pe - expected).abs() <= 1e-5)  # NaN counts as off
    if off.any():
        pos, col = (int(n) for n in off.nonzero()[0])
        fn, i = ("sin", col // 2) if col % 2 == 0 else ("cos", col // 2)
        fail(said(f"PE[{pos}, {col}] is {pe[pos, col].item():.4g}, expected {fn}({pos} / 10000^({2 * i}/{D})) = "
                  f"{expected[pos, col].item():.4g}: column 2i holds sin, column 2i+1 cos, of the same angle "
                  f"({int(off.sum())} of {T * D} values off)",
                  ja=f"PE[{pos}, {col}] が {pe[pos, col].item():.4g} です（期待される値は {fn}({pos} / "
                     f"10000^({2 * i}/{D})) = {expected[pos, col].item():.4g}）: 列 2i には sin、列 2i+1 には同じ角度の "
                     f"cos が入ります（{T * D} 個中 {int(off.sum())} 個の値が違います）"), where)  # fmt: skip


# (max_len, D, B, T): T < max_len, T = max_len, T = 1, batch 1 and more, B ≠ T
LEARNED_CASES = [(8, 4, 2, 5), (6, 3, 1, 6), (5, 2, 3, 1), (10, 6, 4, 3)]


@pytest.mark.blank("02.4")
@pytest.mark.parametrize("seed, case", list(enumerate(LEARNED_CASES)))
def test_02_4_learned_positions(kata, seed, case):
    max_len, D, B, T = case
    torch.manual_seed(seed)
    positions = kata.LearnedPositions(max_len, D)
    with torch.no_grad():
        positions.weight.copy_(torch.randn(max_len, D))  # rows far apart, so a wrong row shows
    x = torch.randn(B, T, D)
    out = positions(x)
    expected = torch.empty(B, T, D)
    for b in range(B):
        for t in range(T):
            expected[b, t] = x[b, t] + positions.weight[t]
    assert_close(out, expected, call=call(f"LearnedPositions({max_len}, {D})", x), seed=seed)


def add_positions_by_loop(x, weight):
    """x[:, t] + weight[t] for each position t, stacked: differentiable, for the gradients."""
    return torch.stack([x[:, t] + weight[t] for t in range(x.shape[1])], dim=1)


@pytest.mark.blank("02.4")
@pytest.mark.parametrize("seed, case", list(enumerate(LEARNED_CASES[:3])))
def test_02_4_learned_positions_gradients_match_loop(kata, seed, case):
    max_len, D, B, T = case  # rows T.. are not used: their gradient is zero
    torch.manual_seed(seed)
    positions = kata.LearnedPositions(max_len, D)
    x = torch.randn(B, T, D, requires_grad=True)
    x_copy, weight = x.detach().clone().requires_grad_(), positions.weight.detach().clone().requires_grad_()
    where = call(f"LearnedPositions({max_len}, {D})", x) + ", then backward()"
    assert_gradients(positions(x), add_positions_by_loop(x_copy, weight),
                     {"x": (x, x_copy), "self.weight": (positions.weight, weight)}, call=where, seed=seed)  # fmt: skip
