"""Tests of kata 11: the time embedding. Oracles: plain loops over the formulas with math.exp,
math.cos and math.sin (frequencies; the code of each timestep: its cosines, then its sines, then
a zero column for an odd dim), t = 0 giving [1, ..., 1, 0, ..., 0], long and float (also
fractional, also float64) timesteps, and TimeMLP written out from its own fc1 and fc2 (x · σ(x)
for SiLU). Gradients: TimeMLP against the same written-out oracle with its own copies of the
weights (assert_gradients).

Each blank is graded alone: 11.2 runs with the reference timestep_frequencies; 11.3 compares an
odd dim with the same function's code of the even dim below it (the code of blank 11.2, whatever
it is); TimeMLP runs with the reference timestep_embedding.
"""

import math

import pytest
import torch
from support import assert_close, assert_gradients, assert_tensor, call, fail, said, with_reference


def frequencies_by_loop(half, max_period=10_000.0):
    """freq_i = exp(−ln(max_period) · i / half), i = 0 .. half − 1, in float64."""
    return [math.exp(-math.log(max_period) * i / half) for i in range(half)]


def embedding_by_loop(t, dim, max_period=10_000.0):
    """[cos(t·freq_0) ... cos(t·freq_{half-1}), sin(t·freq_0) ... sin(t·freq_{half-1}), (0 if dim is odd)]
    for each timestep, in float64. The frequencies are rounded to float32 first, as the kata keeps them."""
    half = dim // 2
    freqs = torch.tensor(frequencies_by_loop(half, max_period), dtype=torch.float32).tolist()
    rows = []
    for step in t.tolist():
        row = [math.cos(step * f) for f in freqs] + [math.sin(step * f) for f in freqs]
        rows.append(row + [0.0] * (dim % 2))
    return torch.tensor(rows, dtype=torch.float64).view(len(rows), dim)


# --- 11.1: frequencies ---------------------------------------------------------------------------

FREQUENCY_CASES = [(2, 10_000.0), (1, 10_000.0), (3, 10_000.0), (8, 10_000.0), (16, 10_000.0), (5, 100.0)]


@pytest.mark.blank("11.1")
@pytest.mark.parametrize("half, max_period", FREQUENCY_CASES)
def test_11_1_timestep_frequencies(kata, half, max_period):
    extra = {} if max_period == 10_000.0 else {"max_period": max_period}
    where = call("timestep_frequencies", half, **extra)
    freqs = kata.timestep_frequencies(half, **extra)
    expected = torch.tensor(frequencies_by_loop(half, max_period), dtype=torch.float32)
    assert_tensor(freqs, shape=(half,), call=where, name=said("frequencies", ja="周波数"))
    if freqs.dtype == torch.float32 and half > 1 and freqs[1] > 1:
        fail(said(f"frequencies rise (freq_1 = {freqs[1].item():.4g}): they fall from 1 towards 1/max_period, "
                  "exp(−ln(max_period) · i / half): the minus sign",
                  ja=f"周波数が増加しています（freq_1 = {freqs[1].item():.4g}）: 周波数は 1 から 1/max_period に"
                  "向かって減少します。exp(−ln(max_period) · i / half) のマイナス符号を確認してください"),
             where)  # fmt: skip
    if freqs.dtype == torch.float32 and half > 1 and abs(freqs[-1].item() - 1 / max_period) < 1e-6 / max_period:
        fail(said(f"the last frequency is 1/max_period = {freqs[-1].item():.4g}: the exponents are i / half for "
                  f"i = 0 .. half − 1, so the last is (half − 1)/half and 1/max_period itself is never reached "
                  f"(expected {expected[-1].item():.4g})",
                  ja=f"最後の周波数が 1/max_period = {freqs[-1].item():.4g} になっています: 指数は i = 0 .. half − 1 "
                  "に対して i / half なので、最後は (half − 1)/half で、1/max_period そのものには届きません"
                  f"（期待される値は {expected[-1].item():.4g}）"), where)  # fmt: skip
    assert_close(freqs, expected, call=where, atol=1e-9, rtol=1e-6, name=said("frequencies", ja="周波数"))


# --- 11.2: cosines, then sines -------------------------------------------------------------------

# (t, dim): long timesteps from the first to the last, one timestep and one frequency, float
# timesteps (fractional too), float64 timesteps; even dims only (odd ones are blank 11.3's)
EMBEDDING_CASES = [
    (torch.tensor([0, 1, 10, 999]), 8),
    (torch.tensor([5]), 2),
    (torch.tensor([0.5, 3.25, 999.0]), 6),
    (torch.tensor([0.0, 7.0, 500.0], dtype=torch.float64), 16),
    (torch.arange(0, 1000, 111), 32),
]


def describe_embedding(out, t, dim):
    """What a wrong code is, when it is a known arrangement of the right numbers ("" otherwise)."""
    half = dim // 2
    freqs = torch.tensor(frequencies_by_loop(half), dtype=torch.float32).tolist()
    args = torch.tensor([[s * f for f in freqs] for s in t.double().tolist()], dtype=torch.float64)  # (B, half)
    cos, sin = args.cos(), args.sin()
    forms = {
        said("sines first, then cosines: the halves are swapped",
             ja="サインが先、コサインがあとになっています: 前半と後半が入れ替わっています"):
            torch.cat([sin, cos], dim=-1),
        said("interleaved, as in kata 02; here the cosines come as one block, then the sines",
             ja="kata 02 のように交互に並んでいます。ここでは、まずコサインをひとまとまりで並べ、そのあとにサインを並べます"):
            torch.stack([cos, sin], dim=-1).flatten(1),
        said("interleaved sin/cos, as in kata 02; here the cosines come as one block, then the sines",
             ja="kata 02 のように sin/cos が交互に並んでいます。ここでは、まずコサインをひとまとまりで並べ、そのあとに"
             "サインを並べます"):
            torch.stack([sin, cos], dim=-1).flatten(1),
        said("the code of whole timesteps: a fractional t was rounded down (made long?)",
             ja="整数のタイムステップの符号になっています: 小数の t が切り捨てられています（long にしていませんか？）"):
            embedding_by_loop(t.double().floor(), dim),
    }  # fmt: skip
    for what, value in forms.items():
        if out.shape == value.shape and torch.allclose(out.detach().double(), value, atol=1e-4):
            return what
    return ""


@pytest.mark.blank("11.2")
@pytest.mark.parametrize("seed, case", list(enumerate(EMBEDDING_CASES)))
def test_11_2_cosines_then_sines(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "timestep_frequencies")  # graded alone: blank 11.1 is not involved
    t, dim = case[0].clone(), case[1]
    where = call("timestep_embedding", t, dim)
    emb = kata.timestep_embedding(t, dim)
    expected = embedding_by_loop(t, dim)
    assert_tensor(emb, shape=(len(t), dim), call=where, seed=seed)
    if emb.dtype != torch.float32:
        fail(said(f"output has dtype {emb.dtype}, expected torch.float32 whatever t's dtype ({t.dtype} here): "
                  "make t float32 first (t.float())",
                  ja=f"出力の dtype が {emb.dtype} です（期待される dtype は torch.float32）: t の dtype（ここでは "
                  f"{t.dtype}）にかかわらず float32 にします。まず t を float32 にしてください（t.float()）"),
             where, seed)  # fmt: skip
    if not torch.allclose(emb.detach().double(), expected, atol=1e-4):
        what = describe_embedding(emb, t, dim)
        if what:
            fail(said(f"the code has the right numbers in the wrong places: {what}",
                      ja=f"符号の数値は正しいのですが、並ぶ位置が違います: {what}"), where, seed)
    assert_close(emb, expected.float(), call=where, seed=seed, atol=1e-4, rtol=0,
                 name=said("output (cos(t·freq) for each frequency, then sin(t·freq))",
                           ja="出力（各周波数の cos(t·freq)、続いて sin(t·freq)）"))  # fmt: skip


@pytest.mark.blank("11.2")
@pytest.mark.parametrize("dim", [2, 10])
def test_11_2_step_zero_is_ones_then_zeros(kata, monkeypatch, dim):
    with_reference(monkeypatch, kata, "timestep_frequencies")
    t = torch.zeros(3, dtype=torch.long)
    where = call("timestep_embedding", t, dim)
    emb = kata.timestep_embedding(t, dim)
    expected = torch.tensor([[1.0] * (dim // 2) + [0.0] * (dim // 2)] * 3)
    assert_close(emb, expected, call=where, atol=0, rtol=0,
                 name=said("output at t = 0 (cos 0 = 1 in the first half, sin 0 = 0 in the second)",
                           ja="t = 0 での出力（前半は cos 0 = 1、後半は sin 0 = 0）"))  # fmt: skip


# --- 11.3: odd dims ------------------------------------------------------------------------------

ODD_CASES = [(torch.tensor([0, 3, 999]), 7), (torch.tensor([12]), 3), (torch.tensor([1.5, 40.0]), 9)]


@pytest.mark.blank("11.3")
@pytest.mark.parametrize("seed, case", list(enumerate(ODD_CASES)))
def test_11_3_odd_dim_gets_a_zero_column(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "timestep_frequencies")
    t, dim = case[0].clone(), case[1]
    where = call("timestep_embedding", t, dim)
    even = kata.timestep_embedding(t, dim - 1).detach()  # the same code, no padding: blank 11.2's, whatever it is
    emb = kata.timestep_embedding(t, dim)
    if isinstance(emb, torch.Tensor) and emb.shape == (len(t), dim - 1):
        fail(said(f"output has shape {tuple(emb.shape)}, expected {(len(t), dim)}: dim = {dim} is odd, so "
                  f"2·(dim // 2) = {dim - 1} columns of cosines and sines, then one column of zeros at the end",
                  ja=f"出力の形状が {tuple(emb.shape)} です（期待される形状は {(len(t), dim)}）: dim = {dim} は奇数"
                  f"なので、コサインとサインの列が 2·(dim // 2) = {dim - 1} 列、そのあと末尾にゼロの列が 1 列です"),
             where, seed)  # fmt: skip
    expected = torch.cat([even, torch.zeros(len(t), 1)], dim=-1)
    assert_tensor(emb, shape=expected.shape, dtype=torch.float32, call=where, seed=seed)
    if torch.equal(emb.detach(), torch.cat([torch.zeros(len(t), 1), even], dim=-1)):
        fail(said("the zero column is at the front: it goes at the end, after the sines",
                  ja="ゼロの列が先頭にあります: ゼロの列はサインのあと、末尾に置きます"), where, seed)
    assert_close(emb, expected, call=where, seed=seed, atol=0, rtol=0,
                 name=said(f"output (timestep_embedding(t, {dim - 1}), then a column of zeros)",
                           ja=f"出力（timestep_embedding(t, {dim - 1})、続いてゼロの列）"))


# --- 11.4: TimeMLP -------------------------------------------------------------------------------

# (embed_dim E, dim D, t): long and float timesteps, an odd E, E > D and E < D
MLP_CASES = [(8, 16, torch.tensor([0, 5, 999])), (5, 7, torch.tensor([3])), (6, 4, torch.tensor([0.5, 10.0, 250.0]))]


def time_mlp_by_hand(mlp_weights, t, embed_dim, activation=lambda h: h * torch.sigmoid(h)):
    """fc2(silu(fc1(code of t))), silu(x) = x · σ(x), written out with the given weights."""
    w1, b1, w2, b2 = mlp_weights
    h = embedding_by_loop(t, embed_dim).float() @ w1.T + b1
    return activation(h) @ w2.T + b2


def wrong_activations():
    """{what the activation is, said in the learner's language: the activation}."""
    return {
        said("ReLU", ja="ReLU になっています"): torch.relu,
        said("GELU", ja="GELU になっています"): torch.nn.functional.gelu,
        said("σ(x) alone", ja="σ(x) だけになっています"): torch.sigmoid,
        said("no activation at all (two linear layers in a row are one linear layer)",
             ja="活性化関数がありません（線形層を 2 つ続けても、1 つの線形層と同じです）"): lambda h: h,
    }  # fmt: skip


def run_time_mlp(mlp, t, E, where, seed):
    """mlp(t), with a message for fc1 given a code of the wrong width."""
    __tracebackhide__ = True
    try:
        return mlp(t)
    except RuntimeError as e:
        if "cannot be multiplied" not in str(e):
            raise
        fail(said(f"fc1 was given an input of the wrong width ({e}): it takes the timestep's sinusoidal code, "
                  f"timestep_embedding(t, self.embed_dim), of width E = {E}",
                  ja=f"fc1 に違う幅の入力が渡されています（{e}）: fc1 が受け取るのはタイムステップの正弦波の符号 "
                  f"timestep_embedding(t, self.embed_dim) で、幅は E = {E} です"), where, seed)  # fmt: skip


@pytest.mark.blank("11.4")
@pytest.mark.parametrize("seed, case", list(enumerate(MLP_CASES)))
def test_11_4_time_mlp(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "timestep_embedding")  # graded alone: blanks 11.1-11.3 are not involved
    E, D, t = case
    torch.manual_seed(seed)
    mlp = kata.TimeMLP(E, D)
    where = call(f"TimeMLP({E}, {D})", t)
    out = run_time_mlp(mlp, t, E, where, seed)
    assert_tensor(out, shape=(len(t), D), dtype=torch.float32, call=where, seed=seed)
    weights = (mlp.fc1.weight, mlp.fc1.bias, mlp.fc2.weight, mlp.fc2.bias)
    with torch.no_grad():
        expected = time_mlp_by_hand(weights, t, E)
        for name, activation in wrong_activations().items():
            if torch.allclose(out, time_mlp_by_hand(weights, t, E, activation), atol=1e-5, rtol=1e-4):
                fail(said(f"the activation between fc1 and fc2 is {name}: TimeMLP uses SiLU, x · σ(x)",
                          ja=f"fc1 と fc2 の間の活性化関数が違います: {name}。TimeMLP は SiLU、つまり x · σ(x) を使います"),
                     where, seed)  # fmt: skip
    assert_close(out, expected, call=where, seed=seed, atol=1e-5, rtol=1e-4,
                 name=said("output (fc2(SiLU(fc1(timestep_embedding(t, E)))))",
                           ja="出力（fc2(SiLU(fc1(timestep_embedding(t, E)))))）"))  # fmt: skip


@pytest.mark.blank("11.4")
@pytest.mark.parametrize("seed, case", list(enumerate(MLP_CASES)))
def test_11_4_time_mlp_gradients(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "timestep_embedding")
    E, D, t = case
    torch.manual_seed(seed)
    mlp = kata.TimeMLP(E, D)
    mine = [mlp.fc1.weight, mlp.fc1.bias, mlp.fc2.weight, mlp.fc2.bias]
    theirs = [p.detach().clone().requires_grad_() for p in mine]  # the oracle's own copies
    names = ["self.fc1.weight", "self.fc1.bias", "self.fc2.weight", "self.fc2.bias"]
    where = call(f"TimeMLP({E}, {D})", t) + ", then backward()"
    out = run_time_mlp(mlp, t, E, where, seed)
    assert_gradients(out, time_mlp_by_hand(theirs, t, E), dict(zip(names, zip(mine, theirs))), call=where, seed=seed)
