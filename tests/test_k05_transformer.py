"""Tests of kata 05: the Transformer.

Oracles: torch.nn.LayerNorm (with the kata's weight and bias copied in), the feed-forward
network and the pre-norm block written out in the test (F.layer_norm, the erf form of GELU),
a plain loop for the masked mean, and, for the text encoder, each caption encoded alone
without its padding: padding must change nothing. Gradients: backward through the learner's
output and the oracle's, the oracle with its own copies of the weights (assert_gradients);
for the block and the encoder the oracle is the spec written out here, run on a deep copy
(its attention is kata 04's, a given part).
"""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from support import assert_close, assert_gradients, assert_tensor, call, fail, layer_norm, randomise_layer_norms, said, with_reference

# --- LayerNorm --------------------------------------------------------------------------------

# (shape, scale, offset, eps): D = 2 and 3 make the biased and unbiased variances far apart;
# the tiny scale puts the variance near eps; an eps of 0.1 is not the default
LAYERNORM_CASES = [
    ((2, 3, 8), 1.0, 0.0, 1e-5),
    ((1, 1, 2), 2.0, 5.0, 1e-5),
    ((4, 3), 3.0, -10.0, 1e-5),
    ((3, 5, 6), 3e-3, 0.0, 1e-5),
    ((2, 4, 5), 0.5, 0.0, 0.1),
    ((7,), 1.0, 2.0, 1e-5),
]


def torch_layer_norm(ln, D):
    oracle = torch.nn.LayerNorm(D, eps=ln.eps)
    with torch.no_grad():
        oracle.weight.copy_(ln.weight)
        oracle.bias.copy_(ln.bias)
    return oracle


@pytest.mark.blank("05.1")
@pytest.mark.parametrize("seed, case", list(enumerate(LAYERNORM_CASES)))
def test_05_1_normalises_each_vector(kata, seed, case):
    shape, scale, offset, eps = case
    D = shape[-1]
    torch.manual_seed(seed)
    ln = kata.LayerNorm(D, eps=eps)
    x = torch.randn(shape) * scale + offset
    out = ln(x)
    where = call(f"LayerNorm({D}, eps={eps:g})", x) + "    (weight 1, bias 0)"
    assert_tensor(out, shape=shape, dtype=x.dtype, call=where, seed=seed)
    with torch.no_grad():
        expected = torch_layer_norm(ln, D)(x)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("output (compared with torch.nn.LayerNorm)", ja="出力（torch.nn.LayerNorm と比較）"))


def leaves(*tensors):
    """Copies that require gradients: the learner's inputs, and the oracle's own."""
    return [t.detach().clone().requires_grad_() for t in tensors]


def parameter_pairs(module, oracle):
    """{"self.name": (the module's parameter, the oracle's)}, matched by name."""
    theirs = dict(oracle.named_parameters())
    return {f"self.{name}": (p, theirs[name]) for name, p in module.named_parameters()}


@pytest.mark.blank("05.1")
@pytest.mark.parametrize("seed, case", list(enumerate(LAYERNORM_CASES)))
def test_05_1_layer_norm_gradients_match_torch(kata, seed, case):
    shape, scale, offset, eps = case  # weight 1, bias 0: their gradients are blank 05.2's
    D = shape[-1]
    torch.manual_seed(seed)
    ln = kata.LayerNorm(D, eps=eps)
    x = torch.randn(shape) * scale + offset
    x, x_o = leaves(x, x)
    where = call(f"LayerNorm({D}, eps={eps:g})", x) + "    (weight 1, bias 0), then backward()"
    assert_gradients(ln(x), torch.nn.LayerNorm(D, eps=eps)(x_o), {"x": (x, x_o)}, call=where, seed=seed)


@pytest.mark.blank("05.2")
@pytest.mark.parametrize("seed, case", list(enumerate(LAYERNORM_CASES[:5])))
def test_05_2_scales_and_shifts(kata, seed, case):
    shape, scale, offset, eps = case
    D = shape[-1]
    torch.manual_seed(seed)
    ln = kata.LayerNorm(D, eps=eps)
    x = torch.randn(shape) * scale + offset
    normalised = ln(x).detach()  # weight 1, bias 0: the x_hat of blank 05.1
    with torch.no_grad():
        ln.weight.copy_(torch.randn(D))
        ln.bias.copy_(torch.randn(D))
    out = ln(x)
    where = call(f"LayerNorm({D}, eps={eps:g})", x) + "    (weight and bias random)"
    assert_tensor(out, shape=shape, dtype=x.dtype, call=where, seed=seed)
    expected = (normalised * ln.weight + ln.bias).detach()
    assert_close(out, expected, call=where, seed=seed,
                 name=said("output (x_hat * weight + bias)", ja="出力（x_hat * weight + bias）"))
    with torch.no_grad():
        expected = torch_layer_norm(ln, D)(x)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("output (compared with torch.nn.LayerNorm: the x_hat of 05.1, scaled and shifted)",
                           ja="出力（torch.nn.LayerNorm と比較: 05.1 の x_hat をスケールしてシフトしたもの）"))


@pytest.mark.blank("05.2")
@pytest.mark.parametrize("seed, case", list(enumerate(LAYERNORM_CASES[:5])))
def test_05_2_layer_norm_gradients_match_torch(kata, seed, case):
    shape, scale, offset, eps = case
    D = shape[-1]
    torch.manual_seed(seed)
    ln = kata.LayerNorm(D, eps=eps)
    with torch.no_grad():
        ln.weight.copy_(torch.randn(D))
        ln.bias.copy_(torch.randn(D))
    x = torch.randn(shape) * scale + offset
    x, x_o = leaves(x, x)
    oracle = torch_layer_norm(ln, D)
    where = call(f"LayerNorm({D}, eps={eps:g})", x) + "    (weight and bias random), then backward()"
    assert_gradients(ln(x), oracle(x_o), {"x": (x, x_o), **parameter_pairs(ln, oracle)}, call=where, seed=seed)


# --- FeedForward ------------------------------------------------------------------------------


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


@pytest.mark.blank("05.3")
@pytest.mark.parametrize("seed, case", list(enumerate([(2, 3, 8, 32), (1, 1, 4, 6), (3, 5, 6, 12)])))
def test_05_3_feed_forward(kata, seed, case):
    B, T, D, hidden = case
    torch.manual_seed(seed)
    ff = kata.FeedForward(D, hidden)
    x = torch.randn(B, T, D) * 2
    out = ff(x)
    where = call(f"FeedForward({D}, {hidden})", x)
    assert_tensor(out, shape=(B, T, D), dtype=x.dtype, call=where, seed=seed)
    with torch.no_grad():
        expected = gelu(x @ ff.fc1.weight.T + ff.fc1.bias) @ ff.fc2.weight.T + ff.fc2.bias
    assert_close(out, expected, call=where, seed=seed,
                 name=said("output (fc2(GELU(fc1(x))))", ja="出力（fc2(GELU(fc1(x)))）"))


def torch_feed_forward(ff):
    """fc1, nn.GELU() (the erf form), fc2: torch's modules, with the kata module's weights."""
    oracle = torch.nn.ModuleDict({"fc1": torch.nn.Linear(ff.fc1.in_features, ff.fc1.out_features),
                                  "fc2": torch.nn.Linear(ff.fc2.in_features, ff.fc2.out_features)})  # fmt: skip
    oracle.load_state_dict({name: p.detach() for name, p in ff.named_parameters()})
    return oracle, lambda x: oracle.fc2(torch.nn.GELU()(oracle.fc1(x)))


@pytest.mark.blank("05.3")
@pytest.mark.parametrize("seed, case", list(enumerate([(2, 3, 8, 32), (1, 1, 4, 6)])))
def test_05_3_feed_forward_gradients_match_torch(kata, seed, case):
    B, T, D, hidden = case
    torch.manual_seed(seed)
    ff = kata.FeedForward(D, hidden)
    x = torch.randn(B, T, D) * 2
    x, x_o = leaves(x, x)
    oracle, forward = torch_feed_forward(ff)
    where = call(f"FeedForward({D}, {hidden})", x) + ", then backward()"
    assert_gradients(ff(x), forward(x_o), {"x": (x, x_o), **parameter_pairs(ff, oracle)}, call=where, seed=seed)


# --- TransformerBlock -------------------------------------------------------------------------


def feed_forward(ff, x):
    return F.linear(gelu(F.linear(x, ff.fc1.weight, ff.fc1.bias)), ff.fc2.weight, ff.fc2.bias)


def block_by_spec(block, x, mask):
    """Pre-norm (Xiong et al. 2020): x + attn(ln1(x)), then x + ff(ln2(x)). Of the block's parts it
    runs only the attention (kata 04's); the norms and the feed-forward are written out."""
    x = x + block.attn(layer_norm(block.ln1, x), mask=mask)
    return x + feed_forward(block.ff, layer_norm(block.ln2, x))


def padding_mask(B, T, gen):
    """(B, 1, T): random lengths from 1 to T, the first sequence padded for sure when T > 1."""
    lengths = torch.randint(1, T + 1, (B,), generator=gen)
    lengths[0] = max(T - 2, 1)
    return (torch.arange(T)[None, :] < lengths[:, None])[:, None, :]


# (B, T, D, H, mask kind)
BLOCK_CASES = [
    (2, 5, 8, 2, None),
    (3, 4, 8, 2, "padding"),
    (1, 1, 4, 1, None),
    (2, 3, 6, 3, "causal"),
    (1, 7, 8, 4, "padding"),
]


@pytest.mark.blank("05.4")
@pytest.mark.parametrize("seed, case", list(enumerate(BLOCK_CASES)))
def test_05_4_pre_norm_residual_block(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "LayerNorm", "FeedForward")  # grade the wiring, not 05.1-05.3
    B, T, D, H, kind = case
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    block = kata.TransformerBlock(D, H)
    randomise_layer_norms(block)
    x = torch.randn(B, T, D)
    mask = {None: None, "padding": padding_mask(B, T, gen), "causal": torch.ones(T, T, dtype=torch.bool).tril()}[kind]
    out = block(x, mask=mask)
    where = call(f"TransformerBlock({D}, {H})", x, **({"mask": mask} if mask is not None else {}))
    where += f"    ({kind} mask)" if kind else ""
    assert_tensor(out, shape=(B, T, D), dtype=x.dtype, call=where, seed=seed)
    with torch.no_grad():
        expected = block_by_spec(block, x, mask)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("output (x + attn(ln1(x)), then x + ff(ln2(x)))",
                           ja="出力（x + attn(ln1(x))、続けて x + ff(ln2(x))）"))


@pytest.mark.blank("05.4")
@pytest.mark.parametrize("seed, case", list(enumerate(BLOCK_CASES[:4])))
def test_05_4_block_gradients_match_spec(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "LayerNorm", "FeedForward")
    B, T, D, H, kind = case
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    block = kata.TransformerBlock(D, H)
    randomise_layer_norms(block)
    oracle = copy.deepcopy(block)  # the same weights, leaves of its own
    x = torch.randn(B, T, D)
    x, x_o = leaves(x, x)
    mask = {None: None, "padding": padding_mask(B, T, gen), "causal": torch.ones(T, T, dtype=torch.bool).tril()}[kind]
    where = call(f"TransformerBlock({D}, {H})", x, **({"mask": mask} if mask is not None else {}))
    where += (f"    ({kind} mask)" if kind else "") + ", then backward()"
    inputs = {"x": (x, x_o), **parameter_pairs(block, oracle)}
    assert_gradients(block(x, mask=mask), block_by_spec(oracle, x_o, mask), inputs, call=where, seed=seed)


# --- masked mean --------------------------------------------------------------------------


def masked_mean_by_loop(x, mask):
    return torch.stack([x[b][mask[b]].mean(dim=0) for b in range(len(x))])


@pytest.mark.blank("05.5")
@pytest.mark.parametrize("seed, case", list(enumerate([(3, 5, 4), (1, 1, 3), (2, 6, 6), (4, 3, 2)])))
def test_05_5_masked_mean(kata, seed, case):
    B, T, D = case
    torch.manual_seed(seed)
    x = torch.randn(B, T, D) + 1.0  # a mean away from 0: counting the padding shows
    mask = torch.rand(B, T) < 0.5
    mask[:, -1] = False  # padding where there can be
    mask[torch.arange(B), torch.randint(0, max(T - 1, 1), (B,))] = True  # one real token at least
    mask[0] = True  # one row without padding
    out = kata.masked_mean(x, mask)
    where = call("masked_mean", x, mask)
    assert_tensor(out, shape=(B, D), dtype=x.dtype, call=where, seed=seed)
    assert_close(out, masked_mean_by_loop(x, mask), call=where, seed=seed)


@pytest.mark.blank("05.5")
def test_05_5_masked_mean_gradients_match_loop(kata):
    torch.manual_seed(5)
    x = torch.randn(3, 4, 2)
    x, x_o = leaves(x, x)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True], [False, True, False, True]])
    where = call("masked_mean", x, mask) + ", then backward()"
    assert_gradients(kata.masked_mean(x, mask), masked_mean_by_loop(x_o, mask), {"x": (x, x_o)}, call=where, seed=5)


# --- TextEncoder ------------------------------------------------------------------------------

SMALL = dict(vocab_size=20, dim=16, n_heads=2, n_layers=2, max_len=12)


def small_encoder(kata, monkeypatch, seed, **changes):
    """A small encoder whose parts are the reference's, so the tests grade 05.6 alone."""
    with_reference(monkeypatch, kata, "LayerNorm", "FeedForward", "TransformerBlock", "masked_mean")
    torch.manual_seed(seed)
    config = kata.TextEncoderConfig(**{**SMALL, **changes})
    encoder = kata.TextEncoder(config)
    randomise_layer_norms(encoder)
    with torch.no_grad():
        encoder.positions.weight.normal_()  # positions as large as the token vectors: leaving them out shows
    return encoder, config


def captions(B, lengths, T, config, gen):
    """(B, T) tokens: row b has lengths[b] real tokens (never pad_id), then padding."""
    real = torch.randint(0, config.vocab_size - 1, (B, T), generator=gen)
    real = real + (real >= config.pad_id).long()  # skip pad_id
    padded = torch.arange(T)[None, :] >= torch.tensor(lengths)[:, None]
    return real.masked_fill(padded, config.pad_id)


def encoder_call(c, tokens):
    config = f"TextEncoderConfig(dim={c.dim}, n_heads={c.n_heads}, n_layers={c.n_layers}, pad_id={c.pad_id})"
    return call(f"TextEncoder({config})", tokens)


def encoder_by_spec(encoder, tokens):
    """Embed (× √D, kata 02), add positions, the blocks (block_by_spec) with a key padding mask
    (B, 1, T), the final LayerNorm; pooled: the mean over the real tokens. Runs none of kata 05's modules."""
    mask = tokens != encoder.config.pad_id
    x = F.embedding(tokens, encoder.embed.weight) * math.sqrt(encoder.config.dim)
    x = x + encoder.positions.weight[: tokens.shape[1]]
    for block in encoder.blocks:
        x = block_by_spec(block, x, mask[:, None, :])
    x = layer_norm(encoder.ln_final, x)
    return x, masked_mean_by_loop(x, mask)


# (lengths, T, pad_id): B == T in the second case, where a (B, T) mask would broadcast as a (Tq, Tk) one
ENCODER_CASES = [([5, 3], 5, 0), ([2, 3, 1], 3, 0), ([1], 1, 0), ([4, 7, 2, 7], 7, 3)]


@pytest.mark.blank("05.6")
@pytest.mark.parametrize("seed, case", list(enumerate(ENCODER_CASES)))
def test_05_6_each_caption_as_if_alone(kata, monkeypatch, seed, case):
    lengths, T, pad_id = case
    encoder, config = small_encoder(kata, monkeypatch, seed, pad_id=pad_id)
    tokens = captions(len(lengths), lengths, T, config, torch.Generator().manual_seed(seed))
    where = encoder_call(config, tokens)
    with torch.no_grad():
        features, pooled = encoder(tokens)
        for b, n in enumerate(lengths):
            alone = tokens[b : b + 1, :n]
            expected_features, expected_pooled = encoder(alone)
            what = said(f"caption {b} (its {n} real tokens, then {T - n} pad tokens)",
                        ja=f"キャプション {b}（実トークン {n} 個、続いてパディング {T - n} 個）")
            assert_close(features[b, :n], expected_features[0], call=where, seed=seed,
                         name=said(f"features of {what}", ja=f"{what} の features"))
            assert_close(pooled[b], expected_pooled[0], call=where, seed=seed,
                         name=said(f"pooled of {what}", ja=f"{what} の pooled"))


@pytest.mark.blank("05.6")
def test_05_6_appending_padding_changes_nothing(kata, monkeypatch):
    encoder, config = small_encoder(kata, monkeypatch, 6)
    tokens = captions(2, [4, 4], 4, config, torch.Generator().manual_seed(6))
    with torch.no_grad():
        features, pooled = encoder(tokens)
        for extra in (1, 3):
            padded = torch.cat([tokens, torch.full((2, extra), config.pad_id)], dim=1)
            where = encoder_call(config, padded) + f"    ({extra} pad tokens appended)"
            padded_features, padded_pooled = encoder(padded)
            assert_close(padded_features[:, :4], features, call=where, seed=6,
                         name=said("features of the real tokens", ja="実トークンの features"))
            assert_close(padded_pooled, pooled, call=where, seed=6, name="pooled")


@pytest.mark.blank("05.6")
@pytest.mark.parametrize("seed, case", list(enumerate(ENCODER_CASES)))
def test_05_6_encoder_embeds_runs_blocks_and_norms(kata, monkeypatch, seed, case):
    lengths, T, pad_id = case
    encoder, config = small_encoder(kata, monkeypatch, seed, pad_id=pad_id)
    tokens = captions(len(lengths), lengths, T, config, torch.Generator().manual_seed(seed))
    where = encoder_call(config, tokens)
    out = encoder(tokens)
    if not isinstance(out, tuple) or len(out) != 2:
        fail(said(f"TextEncoder should return (features, pooled), but it returned a {type(out).__name__}",
                  ja=f"TextEncoder は (features, pooled) を返すべきですが、{type(out).__name__} を返しています"),
             where, seed)  # fmt: skip
    features, pooled = out
    assert_tensor(features, shape=(len(lengths), T, config.dim), call=where, seed=seed, name="features")
    assert_tensor(pooled, shape=(len(lengths), config.dim), call=where, seed=seed, name="pooled")
    with torch.no_grad():
        expected, expected_pooled = encoder_by_spec(encoder, tokens)
    assert_close(features, expected, call=where, seed=seed,
                 name=said("features (embed + positions, the blocks with the padding mask, final LayerNorm)",
                           ja="features（embed + positions、パディングマスクを渡した各ブロック、最後の LayerNorm）"))
    assert_close(pooled, expected_pooled, call=where, seed=seed, name="pooled")


@pytest.mark.blank("05.6")
@pytest.mark.parametrize("seed, case", [(7, ([3, 5], 5, 0)), (8, ([2, 2, 1], 3, 2))])
def test_05_6_encoder_gradients_match_spec(kata, monkeypatch, seed, case):
    lengths, T, pad_id = case
    encoder, config = small_encoder(kata, monkeypatch, seed, pad_id=pad_id)
    oracle = copy.deepcopy(encoder)  # the same weights, leaves of its own
    tokens = captions(len(lengths), lengths, T, config, torch.Generator().manual_seed(seed))
    where = encoder_call(config, tokens) + ", then backward() from features and pooled"
    out = encoder(tokens)
    if not isinstance(out, tuple) or len(out) != 2:
        fail(said(f"TextEncoder should return (features, pooled), but it returned a {type(out).__name__}",
                  ja=f"TextEncoder は (features, pooled) を返すべきですが、{type(out).__name__} を返しています"),
             where, seed)  # fmt: skip
    joined = torch.cat([t.flatten() for t in out])
    expected = torch.cat([t.flatten() for t in encoder_by_spec(oracle, tokens)])
    assert_gradients(joined, expected, parameter_pairs(encoder, oracle), call=where, seed=seed)


@pytest.mark.blank("05.6")
def test_05_6_default_config(kata, monkeypatch):
    with_reference(monkeypatch, kata, "LayerNorm", "FeedForward", "TransformerBlock", "masked_mean")
    torch.manual_seed(8)
    config = kata.TextEncoderConfig()
    tokens = torch.tensor([[5, 9, 2, 0, 0], [7, 1, 1, 4, 3]])
    features, pooled = kata.TextEncoder(config)(tokens)
    where = encoder_call(config, tokens)
    assert_tensor(features, shape=(2, 5, config.dim), call=where, seed=8, name="features")
    assert_tensor(pooled, shape=(2, config.dim), call=where, seed=8, name="pooled")
