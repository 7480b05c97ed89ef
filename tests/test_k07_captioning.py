"""Tests of kata 07: captioning.

Oracles: kata 03's causal rule and key padding written as a loop (caption_mask); the decoder
block written out with its own sub-modules (kata 04's MultiHeadAttention, kata 05's FeedForward,
F.layer_norm); the caption model written out from its parts, and its properties (a later token
changes no earlier logits, padding changes no real position, the image reaches the logits); the
loss as a loop over the real targets in float64; greedy decoding against a scripted model
whose next-token choices the test sets, row by row.

Special IDs as in kata 01 (<pad> 0, <bos> 1, <eos> 2), and other ones where a test must tell a
hard-coded ID from the argument.
"""

import pytest
import torch
import torch.nn.functional as F
from support import assert_close, assert_gradients, assert_tensor, call, fail, layer_norm, randomise_layer_norms, said, with_reference

PAD, BOS, EOS = 0, 1, 2


def captions(lengths, T, pad_id, V, gen):
    """(B, T) long: row b is <bos>, lengths[b] - 2 words, <eos> (a length of 1: <bos> alone), then pad_id.
    Words are drawn from 4 .. V - 1, never a special ID."""
    words = torch.randint(4, V, (len(lengths), T), generator=gen)
    words[:, 0] = BOS
    for b, n in enumerate(lengths):
        if n > 1:
            words[b, n - 1] = EOS
        words[b, n:] = pad_id
    return words


# --- 07.1: caption_mask -----------------------------------------------------------------------


def caption_mask_by_loop(tokens, pad_id):
    """mask[b, i, j] = (j <= i) and tokens[b, j] is not padding: kata 03's causal rule, and key padding."""
    B, T = tokens.shape
    rows = tokens.tolist()
    return torch.tensor([[[j <= i and rows[b][j] != pad_id for j in range(T)] for i in range(T)] for b in range(B)])


# (lengths, T, pad_id): B == T in the third case, where a (B, T) padding mask lines up as (Tq, Tk)
MASK_CASES = [([4, 2, 5], 5, PAD), ([1], 1, PAD), ([3, 2, 1], 3, PAD), ([2, 6], 6, 3), ([4, 4], 4, PAD)]


@pytest.mark.blank("07.1")
@pytest.mark.parametrize("seed, case", list(enumerate(MASK_CASES)))
def test_07_1_causal_and_key_padding(kata, seed, case):
    lengths, T, pad_id = case
    tokens = captions(lengths, T, pad_id, 9, torch.Generator().manual_seed(seed))
    where = call("caption_mask", tokens, pad_id=pad_id) + f"    (real lengths {lengths})"
    out = kata.caption_mask(tokens, pad_id)
    assert_tensor(out, shape=(len(lengths), T, T), dtype=torch.bool, call=where, seed=seed)
    assert_close(out, caption_mask_by_loop(tokens, pad_id), call=where, seed=seed,
                 name=said("mask[b, i, j] (query i may see key j: j <= i and token j of row b is not padding)",
                           ja="mask[b, i, j]（クエリ i がキー j を見てよいか: j <= i で、かつ行 b のトークン j がパディング"
                              "でないこと）"))  # fmt: skip


# --- 07.2: DecoderBlock -----------------------------------------------------------------------


def decoder_block_by_spec(block, x, context, mask):
    """Pre-norm, three residual sub-layers; the cross-attention has no mask."""
    x = x + block.self_attn(layer_norm(block.ln1, x), mask=mask)
    x = x + block.cross_attn(layer_norm(block.ln2, x), context=context)
    return x + block.ff(layer_norm(block.ln3, x))


# (B, T, Tk, D, Dc, H, mask): the first case has Tk == T and Dc == D, where a mask given to the
# cross-attention, or the text given as its context, still runs
BLOCK_CASES = [
    (3, 4, 4, 8, None, 2, "caption"),
    (2, 5, 3, 8, 6, 2, "caption"),
    (1, 1, 4, 4, None, 1, "caption"),
    (2, 3, 5, 6, 10, 3, None),
    (2, 4, 5, 8, 8, 4, "causal"),
]


def block_case(kata, seed, case):
    B, T, Tk, D, Dc, H, kind = case
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    block = kata.DecoderBlock(D, H, context_dim=Dc)
    randomise_layer_norms(block)
    x = torch.randn(B, T, D)
    context = torch.randn(B, Tk, D if Dc is None else Dc)
    lengths = torch.randint(1, T + 1, (B,), generator=gen).tolist()
    lengths[0] = max(T - 1, 1)  # padding for sure where T > 1
    masks = {None: None, "causal": torch.ones(T, T, dtype=torch.bool).tril(),
             "caption": caption_mask_by_loop(captions(lengths, T, PAD, 9, gen), PAD)}  # fmt: skip
    mask = masks[kind]
    args = f"{D}, {H}" + (f", context_dim={Dc}" if Dc is not None else "")
    where = call(f"DecoderBlock({args})", x, context, **({"mask": mask} if mask is not None else {}))
    return block, x, context, mask, where + (f"    ({kind} mask)" if kind else "")


@pytest.mark.blank("07.2")
@pytest.mark.parametrize("seed, case", list(enumerate(BLOCK_CASES)))
def test_07_2_three_pre_norm_residual_sublayers(kata, seed, case):
    block, x, context, mask, where = block_case(kata, seed, case)
    out = block(x, context, mask=mask)
    assert_tensor(out, shape=x.shape, dtype=x.dtype, call=where, seed=seed)
    with torch.no_grad():
        expected = decoder_block_by_spec(block, x, context, mask)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("output (x + self_attn(ln1(x), mask); then + cross_attn(ln2(x), context), no mask; "
                           "then + ff(ln3(x)))",
                           ja="出力（x + self_attn(ln1(x), mask)、続けて + cross_attn(ln2(x), context)（マスクなし）、"
                              "続けて + ff(ln3(x))）"))  # fmt: skip


@pytest.mark.blank("07.2")
def test_07_2_gradients(kata):
    block, x, context, mask, where = block_case(kata, 1, BLOCK_CASES[1])
    x, context = x.requires_grad_(), context.requires_grad_()
    leaves = {said("the input x", ja="入力 x"): (x, x), said("the context", ja="context"): (context, context)}
    leaves.update({said(f"parameter {name}", ja=f"パラメータ {name}"): (p, p) for name, p in block.named_parameters()})
    out = block(x, context, mask=mask)
    expected = decoder_block_by_spec(block, x, context, mask)
    assert_gradients(out, expected, leaves, call=where + ", then backward()", seed=1)


# --- 07.3: CaptionModel -----------------------------------------------------------------------

SMALL = dict(vocab_size=12, dim=16, n_heads=2, n_layers=2, max_len=8, image_size=8, patch_size=4, vision_layers=1)


def small_model(kata, monkeypatch, seed, **changes):
    """A small captioner whose mask and blocks are the reference's, so the tests grade 07.3 alone."""
    with_reference(monkeypatch, kata, "caption_mask", "DecoderBlock")
    torch.manual_seed(seed)
    config = kata.CaptionConfig(**{**SMALL, **changes})
    model = kata.CaptionModel(config)
    randomise_layer_norms(model)
    with torch.no_grad():
        model.positions.weight.normal_()  # positions as large as the token vectors: leaving them out shows
    return model, config


def model_inputs(config, lengths, T, seed):
    gen = torch.Generator().manual_seed(seed)
    images = torch.rand(len(lengths), config.channels, config.image_size, config.image_size, generator=gen)
    return images, captions(lengths, T, config.pad_id, config.vocab_size, gen)


def model_call(c, images, tokens):
    return call(f"CaptionModel(CaptionConfig(dim={c.dim}, n_layers={c.n_layers}, pad_id={c.pad_id}))", images, tokens)


def model_by_spec(model, images, tokens):
    """Image tokens from the ViT; embed + positions; every block with the image tokens and the
    caption mask; final LayerNorm; lm_head."""
    context = model.vision.features(images)  # (B, N + 1, D)
    mask = caption_mask_by_loop(tokens, model.config.pad_id)
    x = model.embed(tokens) + model.positions.weight[: tokens.shape[1]]
    for block in model.blocks:
        x = block(x, context, mask=mask)
    return model.lm_head(layer_norm(model.ln_final, x))


# (lengths, T, pad_id)
MODEL_CASES = [([5, 3], 5, PAD), ([2, 4, 1], 4, PAD), ([1], 1, PAD), ([6, 3, 6], 6, 3)]


@pytest.mark.blank("07.3")
def test_07_3_the_words_read_the_image(kata, monkeypatch):
    model, config = small_model(kata, monkeypatch, 12)
    images, tokens = model_inputs(config, [4, 3], 4, 12)
    where = model_call(config, images, tokens) + "    (then image 0 replaced)"
    with torch.no_grad():
        logits = model(images, tokens)
        assert_tensor(logits, shape=(2, 4, config.vocab_size), call=where, seed=12, name="logits")
        other = images.clone()
        other[0] = torch.rand(other[0].shape, generator=torch.Generator().manual_seed(99))
        changed = model(other, tokens)
    if not (changed[0] - logits[0]).abs().amax(dim=-1).gt(1e-4).all():
        fail(said("the logits of row 0 did not change at every position when its image changed: every position must "
                  "read the image tokens (encode_images) through the cross-attention of every block",
                  ja="行 0 の画像を変えても logits が変わらない位置があります: どの位置も、すべてのブロックの"
                     "クロスアテンションを通して画像トークン（encode_images）を読む必要があります"), where, 12)  # fmt: skip
    assert_close(changed[1], logits[1], call=where, seed=12,
                 name=said("logits of row 1 (its image did not change)", ja="行 1 の logits（画像は変えていません）"))


@pytest.mark.blank("07.3")
def test_07_3_a_later_token_changes_no_earlier_logits(kata, monkeypatch):
    model, config = small_model(kata, monkeypatch, 10)
    images, tokens = model_inputs(config, [5, 5], 5, 10)
    where = model_call(config, images, tokens)
    with torch.no_grad():
        logits = model(images, tokens)
        assert_tensor(logits, shape=(2, 5, config.vocab_size), call=where, seed=10, name="logits")
        for k in range(1, 5):
            changed = tokens.clone()
            changed[:, k] = 4 + (tokens[:, k] - 3) % (config.vocab_size - 4)  # another word
            later = model(images, changed)
            assert_close(later[:, :k], logits[:, :k], call=where + f"    (token {k} changed)", seed=10,
                         name=said(f"logits of positions 0..{k - 1} after token {k} changed (position t may see tokens "
                                   "0..t only: a causal mask, given to every block)",
                                   ja=f"トークン {k} を変えた後の、位置 0..{k - 1} の logits（位置 t が見てよいのはトークン "
                                      "0..t だけです: 因果マスクを、すべてのブロックに渡します）"))  # fmt: skip


@pytest.mark.blank("07.3")
def test_07_3_padding_changes_no_real_position(kata, monkeypatch):
    lengths = [6, 3, 6]
    model, config = small_model(kata, monkeypatch, 11, pad_id=3)
    images, tokens = model_inputs(config, lengths, 6, 11)
    where = model_call(config, images, tokens) + f"    (real lengths {lengths}, pad_id 3)"
    with torch.no_grad():
        logits = model(images, tokens)
        assert_tensor(logits, shape=(3, 6, config.vocab_size), call=where, seed=11, name="logits")
        for b, n in enumerate(lengths):
            alone = model(images[b : b + 1], tokens[b : b + 1, :n])
            assert_close(logits[b, :n], alone[0], call=where, seed=11,
                         name=said(f"logits of row {b}'s {n} real tokens (compared with the row alone, without its padding)",
                                   ja=f"行 {b} の実トークン {n} 個の logits（その行だけをパディングなしで与えた場合と"
                                      "比較）"))  # fmt: skip
        words = torch.randint(4, config.vocab_size, tokens.shape, generator=torch.Generator().manual_seed(11))
        changed = model(images, torch.where(tokens == config.pad_id, words, tokens))
        for b, n in enumerate(lengths):
            assert_close(changed[b, :n], logits[b, :n], call=where, seed=11,
                         name=said(f"logits of row {b}'s {n} real tokens when its padding is replaced by words",
                                   ja=f"パディングを単語に置き換えたときの、行 {b} の実トークン {n} 個の logits"))


@pytest.mark.blank("07.3")
@pytest.mark.parametrize("seed, case", list(enumerate(MODEL_CASES)))
def test_07_3_logits_from_the_parts(kata, monkeypatch, seed, case):
    lengths, T, pad_id = case
    model, config = small_model(kata, monkeypatch, seed, pad_id=pad_id)
    images, tokens = model_inputs(config, lengths, T, seed)
    where = model_call(config, images, tokens) + f"    (real lengths {lengths})"
    with torch.no_grad():
        logits = model(images, tokens)
        assert_tensor(logits, shape=(len(lengths), T, config.vocab_size), call=where, seed=seed, name="logits")
        expected = model_by_spec(model, images, tokens)
    assert_close(logits, expected, call=where, seed=seed,
                 name=said("logits, every position (embed + positions; each block with the image tokens and "
                           "caption_mask(tokens, pad_id); ln_final; lm_head)",
                           ja="logits、全位置（embed + positions、画像トークンと caption_mask(tokens, pad_id) を渡した"
                              "各ブロック、ln_final、lm_head）"))  # fmt: skip


@pytest.mark.blank("07.3")
def test_07_3_gradients_end_to_end(kata, monkeypatch):
    model, config = small_model(kata, monkeypatch, 13)
    images, tokens = model_inputs(config, [4, 2], 4, 13)
    images.requires_grad_()
    leaves = {said("the images", ja="画像"): (images, images),
              **{said(f"parameter {n}", ja=f"パラメータ {n}"): (p, p) for n, p in model.named_parameters()}}
    out = model(images, tokens)
    expected = model_by_spec(model, images, tokens)
    assert_gradients(out, expected, leaves, call=model_call(config, images, tokens) + ", then backward()", seed=13)


@pytest.mark.blank("07.3")
def test_07_3_default_config(kata, monkeypatch):
    with_reference(monkeypatch, kata, "caption_mask", "DecoderBlock")
    config = kata.CaptionConfig()
    model = kata.CaptionModel(config)
    images = torch.rand(2, config.channels, config.image_size, config.image_size)
    tokens = torch.tensor([[BOS, 5, 9, EOS, PAD], [BOS, 7, EOS, PAD, PAD]])
    with torch.no_grad():
        logits = model(images, tokens)
    assert_tensor(logits, shape=(2, 5, config.vocab_size), call=model_call(config, images, tokens), seed=0)


# --- 07.4: caption_loss -----------------------------------------------------------------------


def loss_by_loop(logits, tokens, pad_id):
    """Σ over the real targets tokens[b, t + 1] of -log softmax(logits[b, t])[target], over their number."""
    log_probs = logits.double().log_softmax(dim=-1)
    total, count = 0.0, 0
    for b, row in enumerate(tokens.tolist()):
        for t in range(len(row) - 1):
            if row[t + 1] != pad_id:
                total, count = total - log_probs[b, t, row[t + 1]], count + 1
    return (total / count).float()


# (lengths, T, V, pad_id, scale): rows of different lengths, one target only, pad_id 3, no padding
LOSS_CASES = [
    ([5, 3, 4], 5, 7, PAD, 1.0),
    ([2], 2, 5, PAD, 1.0),
    ([6, 2], 6, 9, 3, 2.0),
    ([4, 4], 4, 6, PAD, 1.0),
    ([3, 5, 2], 5, 8, PAD, 5.0),
]


@pytest.mark.blank("07.4")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES)))
def test_07_4_mean_cross_entropy_over_real_targets(kata, seed, case):
    lengths, T, V, pad_id, scale = case
    torch.manual_seed(seed)
    tokens = captions(lengths, T, pad_id, V, torch.Generator().manual_seed(seed))
    logits = torch.randn(len(lengths), T, V) * scale
    where = call("caption_loss", logits, tokens, pad_id=pad_id) + f"    (real lengths {lengths})"
    out = kata.caption_loss(logits, tokens, pad_id)
    assert_tensor(out, shape=(), dtype=torch.float32, call=where, seed=seed, name="loss")
    assert_close(out, loss_by_loop(logits, tokens, pad_id), call=where, seed=seed,
                 name=said("loss (position t against token t + 1, averaged over the targets that are not padding)",
                           ja="loss（位置 t をトークン t + 1 と比べ、パディングでないターゲットで平均したもの）"))


@pytest.mark.blank("07.4")
def test_07_4_gradients(kata):
    torch.manual_seed(7)
    tokens = captions([5, 2, 4], 5, PAD, 7, torch.Generator().manual_seed(7))
    logits = torch.randn(3, 5, 7, requires_grad=True)
    where = call("caption_loss", logits, tokens, pad_id=PAD) + ", then backward()"
    out = kata.caption_loss(logits, tokens, PAD)
    assert_gradients(out, loss_by_loop(logits, tokens, PAD), {"logits": (logits, logits)}, call=where, seed=7)


# --- 07.5 - 07.7: greedy_decode ---------------------------------------------------------------


class StopDecoding(Exception):
    """Raised by a model that only wants to see the first call."""


class ScriptedModel:
    """Stands in for CaptionModel: whatever it is given, the logits of row b at position t point at
    script[b][t], the token row b writes when it has t + 1 tokens (the scripts go on after <eos>).
    It records the tokens of each call; with stop_after_first, it stops decoding after one."""

    def __init__(self, script, V, seed, stop_after_first=False):
        self.script = torch.tensor(script)  # (B, S)
        B, S = self.script.shape
        noise = torch.rand(B, S, V, generator=torch.Generator().manual_seed(seed))  # ties broken, far from the choice
        self.logits = noise.scatter(-1, self.script[..., None], 3.0)  # (B, S, V)
        self.calls, self.stop_after_first = [], stop_after_first

    def __call__(self, images, tokens):
        self.calls.append(tokens.clone())
        if self.stop_after_first:
            raise StopDecoding
        return self.logits[:, : tokens.shape[1]].clone()  # (B, L, V)


def make_script(ends, max_len, special, V, gen):
    """Each row's words, with <eos> at the step given (None: never); real words go on after it."""
    words = [t for t in range(V) if t not in special]
    rows = []
    for end in ends:
        row = [words[i] for i in torch.randint(len(words), (max_len + 1,), generator=gen).tolist()]
        if end is not None:
            row[end - 1] = special[1]
        rows.append(row)
    return rows


def decode_by_loop(script, bos, eos, pad, max_len):
    """The rule: <bos>; each step, a row that has ended gets <pad>, another its scripted token."""
    rows, ended = [[bos] for _ in script], [False] * len(script)
    while len(rows[0]) < max_len and not all(ended):
        step = len(rows[0])
        for b, row in enumerate(rows):
            row.append(pad if ended[b] else script[b][step - 1])
            ended[b] = ended[b] or row[-1] == eos
    return torch.tensor(rows)


# (steps where each row writes <eos> (None: never), max_len, (bos, eos, pad), V)
DECODE_CASES = [
    ([3, 2, None], 6, (BOS, EOS, PAD), 9),  # rows end at different steps; one never does
    ([2, 4], 8, (BOS, EOS, PAD), 9),  # every row ends before max_len
    ([1], 5, (BOS, EOS, PAD), 6),  # <eos> at once
    ([3, 1, 5, 3], 7, (5, 7, 4), 12),  # other special IDs
    ([None, None], 4, (BOS, EOS, PAD), 7),  # no row ends: max_len
    ([3, 3], 9, (BOS, EOS, PAD), 8),  # both at the same step
]


def decode_case(case, seed, stop_after_first=False):
    ends, max_len, (bos, eos, pad), V = case
    gen = torch.Generator().manual_seed(seed)
    script = make_script(ends, max_len, (bos, eos, pad), V, gen)
    model = ScriptedModel(script, V, seed, stop_after_first)
    images = torch.rand(len(ends), 3, 4, 4, generator=gen)
    how = ", ".join(f"row {b} writes <eos> at step {e}" if e else f"row {b} never ends" for b, e in enumerate(ends))
    where = call("greedy_decode", images, bos_id=bos, eos_id=eos, pad_id=pad, max_len=max_len)
    where = where.replace("greedy_decode(", "greedy_decode(model, ", 1) + f"    (a scripted model: {how})"
    return model, images, script, decode_by_loop(script, bos, eos, pad, max_len), where


def run_decode(kata, model, images, case):
    ends, max_len, (bos, eos, pad), V = case
    return kata.greedy_decode(model, images, bos, eos, pad, max_len)


def token_name(t, special):
    bos, eos, pad = special
    return {bos: "<bos>", eos: "<eos>", pad: "<pad>"}.get(t, str(t))


def check_tokens(out, expected, columns, special, where, seed):
    """Compare the first `columns` steps of every row, naming the rule a wrong token breaks.
    special: (bos, eos, pad)."""
    __tracebackhide__ = True
    eos = special[1]
    got, want = out.tolist(), expected.tolist()
    for s in range(columns):
        for b in range(len(want)):
            if got[b][s] == want[b][s]:
                continue
            if s == 0:
                why = said("every row starts with <bos>", ja="どの行も <bos> から始まります")
            elif eos in want[b][1:s]:
                why = said(f"row {b} wrote <eos> at step {want[b].index(eos)}: after it, only <pad>",
                           ja=f"行 {b} はステップ {want[b].index(eos)} で <eos> を書いています: その後は <pad> だけです")
            else:
                why = said(f"the argmax of the logits at the last position is token {want[b][s]}, which row {b} "
                           "writes, as it has not ended",
                           ja=f"最後の位置の logits の argmax はトークン {want[b][s]} です。行 {b} はまだ終わっていない"
                              "ので、それを書きます")  # fmt: skip
            got_name, want_name = token_name(got[b][s], special), token_name(want[b][s], special)
            fail(said(f"row {b}, step {s}: got {got_name}, expected {want_name}: {why}",
                      ja=f"行 {b}、ステップ {s}: 得られたのは {got_name}、期待されるのは {want_name} です: {why}"),
                 where, seed)  # fmt: skip


@pytest.mark.blank("07.5")
@pytest.mark.parametrize("seed, case", list(enumerate(DECODE_CASES[:4])))
def test_07_5_the_model_first_sees_bos_alone(kata, seed, case):
    model, images, _, expected, where = decode_case(case, seed, stop_after_first=True)
    try:
        run_decode(kata, model, images, case)
    except StopDecoding:
        pass
    if not model.calls:
        fail(said("greedy_decode never called the model", ja="greedy_decode がモデルを一度も呼んでいません"), where, seed)
    bos, B = case[2][0], len(case[0])
    first = model.calls[0]
    assert_close(first, torch.full((B, 1), bos), call=where, seed=seed,
                 name=said(f"the tokens the model was first given (every row: <bos> = {bos} alone, long)",
                           ja=f"モデルに最初に渡したトークン（どの行も <bos> = {bos} だけ、long）"))


@pytest.mark.blank("07.6")
@pytest.mark.parametrize("seed, case", list(enumerate(DECODE_CASES)))
def test_07_6_argmax_then_only_pad_after_eos(kata, seed, case):
    model, images, _, expected, where = decode_case(case, seed)
    out = run_decode(kata, model, images, case)
    assert_tensor(out, dtype=torch.long, call=where, seed=seed, name="tokens")
    if out.dim() != 2 or out.shape[0] != expected.shape[0]:
        fail(said(f"tokens have shape {tuple(out.shape)}, expected (B, L) with B = {expected.shape[0]}",
                  ja=f"tokens の形状が {tuple(out.shape)} です（期待される形状は (B, L)、B = {expected.shape[0]}）"),
             where, seed)  # fmt: skip
    check_tokens(out, expected, min(out.shape[1], expected.shape[1]), case[2], where, seed)


@pytest.mark.blank("07.6")
def test_07_6_with_a_real_captioner(kata, monkeypatch):
    with_reference(monkeypatch, kata, "caption_mask", "DecoderBlock", "CaptionModel")
    torch.manual_seed(14)
    config = kata.CaptionConfig(**SMALL)
    model = kata.CaptionModel(config)
    images = torch.rand(3, config.channels, config.image_size, config.image_size)
    where = call("greedy_decode", images, bos_id=BOS, eos_id=EOS, pad_id=PAD, max_len=6)
    where = where.replace("greedy_decode(", "greedy_decode(CaptionModel(...), ", 1)
    out = kata.greedy_decode(model, images, BOS, EOS, PAD, 6)
    assert_tensor(out, dtype=torch.long, call=where, seed=14, name="tokens")
    if out.dim() != 2 or out.shape[0] != 3 or not 1 <= out.shape[1] <= 6:
        fail(said(f"tokens have shape {tuple(out.shape)}, expected (3, L) with 1 <= L <= max_len = 6",
                  ja=f"tokens の形状が {tuple(out.shape)} です（期待される形状は (3, L)、1 <= L <= max_len = 6）"),
             where, 14)  # fmt: skip
    with torch.no_grad():  # each step, what the model says after the tokens before it
        steps = [model(images, out[:, :s])[:, -1].argmax(dim=-1) for s in range(1, out.shape[1])]
    expected = out.clone()
    for s, choice in enumerate(steps, start=1):
        ended = (out[:, 1:s] == EOS).any(dim=1)
        expected[:, s] = torch.where(ended, PAD, choice)
    expected[:, 0] = BOS
    check_tokens(out, expected, out.shape[1], (BOS, EOS, PAD), where, 14)


@pytest.mark.blank("07.7")
@pytest.mark.parametrize("seed, case", list(enumerate(DECODE_CASES)))
def test_07_7_stops_once_every_row_has_ended(kata, seed, case):
    model, images, _, expected, where = decode_case(case, seed)
    out = run_decode(kata, model, images, case)
    assert_tensor(out, dtype=torch.long, call=where, seed=seed, name="tokens")
    L, max_len = expected.shape[1], case[1]
    if out.dim() == 2 and out.shape[1] != L:
        if L < max_len:
            why = said(f"every row had ended after step {L - 1}, so decoding stops there",
                       ja=f"ステップ {L - 1} の後ですべての行が終わっているので、デコードはそこで止まります")
        else:
            why = said(f"a row had not ended, so decoding goes on to max_len = {max_len} tokens, <bos> included",
                       ja=f"終わっていない行があるので、デコードは <bos> を含めて max_len = {max_len} トークンまで続きます")
        fail(said(f"greedy_decode returned {out.shape[1]} tokens per row, expected {L}: {why}",
                  ja=f"greedy_decode が返したトークンは 1 行あたり {out.shape[1]} 個です（期待される数は {L}）: {why}"),
             where, seed)  # fmt: skip
    assert_tensor(out, shape=expected.shape, call=where, seed=seed, name="tokens")
    check_tokens(out, expected, L, case[2], where, seed)
    if len(model.calls) != L - 1:
        fail(said(f"the model was called {len(model.calls)} times for {L - 1} steps: once a step",
                  ja=f"{L - 1} ステップでモデルが {len(model.calls)} 回呼ばれています: 1 ステップに 1 回です"), where, seed)
