"""Tests of kata 08: CLIP.

Oracles: F.normalize; a float64 loop over the cosines of Figure 3 (Radford et al. 2021) with the
clamped temperature; the cross-entropy written out in float64 (log-sum-exp over a row, then
over a column) and its closed forms (log B for uniform logits, about 0 for a perfect match);
the towers' outputs of katas 05 and 06 (graded earlier: the reference), projected with the
module's own weights. Properties: logits do not change when an embedding is rescaled, swapping
the inputs transposes them, the loss is the same for logits and their transpose.

The blanks of CLIP are graded one at a time: forward and zero_shot_classify are run with
encode_image and encode_text replaced by embeddings the test chooses (or the reference ones),
and clip_logits and l2_normalize by the reference.
"""

import copy
import importlib
import math

import pytest
import torch
import torch.nn.functional as F
from support import assert_close, assert_gradients, assert_tensor, call, fail, said, with_reference

LOG_100 = math.log(100)


def name_the_mistake(out, expected, wrongs, where, seed):
    """Fail with a mistake's description when `out` is what that mistake gives (and the right answer is not).
    wrongs: {(the description in English, in Japanese): what that mistake gives}."""
    __tracebackhide__ = True
    out = out.detach()
    for (english, japanese), wrong in wrongs.items():
        same = torch.allclose(wrong.to(out.dtype), out, rtol=1e-4, atol=1e-5)
        if same and not torch.allclose(wrong.double(), expected.double(), rtol=1e-4, atol=1e-5):
            fail(said(english, ja=japanese), where, seed)


def embeddings(n, E, gen, spread=3.0):
    """(n, E) random vectors of very different lengths (e^-spread to e^spread): the length must not matter."""
    return torch.randn(n, E, generator=gen) * torch.exp(spread * (2 * torch.rand(n, 1, generator=gen) - 1))


# --- 08.1: l2_normalize -------------------------------------------------------------------------

# (B, E, scale): B == E in the third, where a norm over the wrong dim still broadcasts; E = 1
NORMALIZE_CASES = [(3, 5, 1.0), (1, 4, 10.0), (4, 4, 0.01), (2, 1, 3.0), (5, 3, 100.0)]


@pytest.mark.blank("08.1")
@pytest.mark.parametrize("seed, case", list(enumerate(NORMALIZE_CASES)))
def test_08_1_rows_of_length_one(kata, seed, case):
    B, E, scale = case
    gen = torch.Generator().manual_seed(seed)
    x = embeddings(B, E, gen) * scale
    out = kata.l2_normalize(x)
    where = call("l2_normalize", x)
    assert_tensor(out, shape=(B, E), dtype=x.dtype, call=where, seed=seed)
    norms = out.detach().double().norm(dim=-1)
    assert_close(norms, torch.ones(B, dtype=torch.float64), call=where, seed=seed,
                 name=said("the length of each row", ja="各行の長さ"))
    assert_close(out, F.normalize(x, dim=-1), call=where, seed=seed,
                 name=said("output (compared with F.normalize)", ja="出力（F.normalize と比較）"))


@pytest.mark.blank("08.1")
def test_08_1_gradients(kata):
    x = embeddings(3, 4, torch.Generator().manual_seed(5)).requires_grad_()
    x2 = x.detach().clone().requires_grad_()
    where = call("l2_normalize", x)
    assert_gradients(kata.l2_normalize(x), F.normalize(x2, dim=-1), {"x": (x, x2)}, call=where, seed=5)


# --- 08.2: clip_logits --------------------------------------------------------------------------


def logits_by_loop(image_emb, text_emb, t, max_t=LOG_100):
    """Figure 3 in float64, one pair at a time: cos(image i, text j) · exp(min(t, max_t))."""
    a, b = image_emb.detach().double().tolist(), text_emb.detach().double().tolist()
    scale = math.exp(min(float(t), max_t))
    out = [[scale * sum(x * y for x, y in zip(u, v)) / math.sqrt(sum(x * x for x in u) * sum(y * y for y in v))
            for v in b] for u in a]  # fmt: skip
    return torch.tensor(out, dtype=torch.float64).to(image_emb.dtype)


def logits_by_normalize(image_emb, text_emb, t, max_t=LOG_100):
    return F.normalize(image_emb, dim=-1) @ F.normalize(text_emb, dim=-1).T * t.clamp(max=max_t).exp()


class Scalar:
    """A 0-d tensor as a call shows it: tensor(2.659)."""

    def __init__(self, t):
        self.text = f"tensor({float(torch.as_tensor(t).detach()):.4g})"

    def __repr__(self):
        return self.text


def logits_call(image_emb, text_emb, t, max_t=LOG_100):
    kwargs = {} if max_t == LOG_100 else {"max_log_temperature": round(max_t, 4)}
    return call("clip_logits", image_emb, text_emb, Scalar(t), **kwargs)


# (B, M, E, t, max_t): CLIP's start 1/0.07; M ≠ B; t = 0 (scale 1); above the clamp; another clamp; t < 0
LOGITS_CASES = [
    (3, 3, 4, math.log(1 / 0.07), LOG_100),
    (2, 5, 3, 0.0, LOG_100),
    (1, 1, 6, 1.5, LOG_100),
    (4, 2, 8, math.log(1000), LOG_100),
    (3, 4, 5, 3.0, math.log(10)),
    (2, 3, 4, -1.0, LOG_100),
]


@pytest.mark.blank("08.2")
@pytest.mark.parametrize("seed, case", list(enumerate(LOGITS_CASES)))
def test_08_2_cosines_times_the_temperature(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "l2_normalize")  # grade 08.2, not 08.1
    B, M, E, t, max_t = case
    gen = torch.Generator().manual_seed(seed)
    image_emb, text_emb, t = embeddings(B, E, gen), embeddings(M, E, gen), torch.tensor(t)
    out = kata.clip_logits(image_emb, text_emb, t, max_t)
    where = logits_call(image_emb, text_emb, t, max_t)
    assert_tensor(out, shape=(B, M), dtype=image_emb.dtype, call=where, seed=seed, name="logits")
    scale = math.exp(min(t.item(), max_t))
    expected = logits_by_loop(image_emb, text_emb, t, max_t)
    name_the_mistake(out, expected, {
        (f"logits are the cosines times exp(t) = {math.exp(t.item()):.4g}: exp(t) must be clamped at "
         f"{math.exp(max_t):.4g} (t at most max_log_temperature)",
         f"logits がコサインに exp(t) = {math.exp(t.item()):.4g} を掛けたものになっています: exp(t) は "
         f"{math.exp(max_t):.4g} で頭打ちにする必要があります（t は max_log_temperature まで）"):
            logits_by_loop(image_emb, text_emb, t, math.inf),
        (f"logits are the cosines divided by exp(t): multiply them by exp(t) = {scale:.4g}",
         f"logits がコサインを exp(t) で割ったものになっています: exp(t) = {scale:.4g} を掛けてください"):
            expected / scale**2,
        ("logits are the cosines, not scaled: multiply them by exp(t)",
         "logits がコサインのままで、スケールされていません: exp(t) を掛けてください"):
            expected / scale,
    }, where, seed)  # fmt: skip
    assert_close(out, expected, call=where, seed=seed,
                 name=said(f"logits (cos(image i, text j) · {scale:.4g}, a float64 loop)",
                           ja=f"logits（cos(画像 i, テキスト j) · {scale:.4g}、float64 のループで計算）"))  # fmt: skip


@pytest.mark.blank("08.2")
@pytest.mark.parametrize("seed", [0, 1])
def test_08_2_rescaled_embeddings_give_the_same_logits(kata, monkeypatch, seed):
    with_reference(monkeypatch, kata, "l2_normalize")
    gen = torch.Generator().manual_seed(seed + 10)
    image_emb, text_emb, t = embeddings(3, 4, gen, spread=0.5), embeddings(3, 4, gen, spread=0.5), torch.tensor(2.0)
    out = kata.clip_logits(image_emb, text_emb, t)
    factors = torch.tensor([[0.01], [7.0], [300.0]])
    rescaled = kata.clip_logits(image_emb * factors, text_emb * factors.flip(0), t)
    where = logits_call(image_emb * factors, text_emb * factors.flip(0), t) + "    (rows × 0.01, 7, 300)"
    assert_close(rescaled, out, call=where, seed=seed + 10,
                 name=said("logits of rescaled embeddings (a cosine does not depend on the lengths)",
                           ja="長さを変えた埋め込みの logits（コサインは長さによりません）"))  # fmt: skip


@pytest.mark.blank("08.2")
def test_08_2_swapping_images_and_texts_transposes(kata, monkeypatch):
    with_reference(monkeypatch, kata, "l2_normalize")
    gen = torch.Generator().manual_seed(12)
    image_emb, text_emb, t = embeddings(2, 3, gen), embeddings(4, 3, gen), torch.tensor(1.0)
    out = kata.clip_logits(image_emb, text_emb, t)
    swapped = kata.clip_logits(text_emb, image_emb, t)
    where = logits_call(text_emb, image_emb, t) + "    (texts given as images and images as texts)"
    assert_tensor(out, shape=(2, 4), call=logits_call(image_emb, text_emb, t), seed=12, name="logits")
    assert_close(swapped, out.T, call=where, seed=12,
                 name=said("logits with the inputs swapped (the transpose)", ja="入力を入れ替えたときの logits（転置）"))


@pytest.mark.blank("08.2")
@pytest.mark.parametrize("seed, t, max_t", [(13, 1.2, LOG_100), (14, math.log(500), LOG_100), (15, 2.5, 2.0)])
def test_08_2_gradients(kata, monkeypatch, seed, t, max_t):
    with_reference(monkeypatch, kata, "l2_normalize")
    gen = torch.Generator().manual_seed(seed)
    leaves = {}
    for name, x in [("image_emb", embeddings(3, 4, gen)), ("text_emb", embeddings(2, 4, gen)),
                    ("log_temperature", torch.tensor(t))]:  # fmt: skip
        leaves[name] = (x.clone().requires_grad_(), x.clone().requires_grad_())
    mine, theirs = (tuple(leaves[n][i] for n in leaves) for i in (0, 1))
    where = logits_call(*mine, max_t)
    if t > max_t:
        where += "    (t above the clamp: no gradient reaches t)"
    assert_gradients(kata.clip_logits(*mine, max_t), logits_by_normalize(*theirs, max_t), leaves, call=where, seed=seed)


# --- 08.3: clip_loss ----------------------------------------------------------------------------


def loss_by_loop(logits):
    """(CE over the rows + CE over the columns) / 2 in float64, target i for row i and column i."""
    L = logits.detach().double().tolist()
    B = len(L)

    def ce(scores, target):  # -log softmax(scores)[target], log-sum-exp shifted by the max
        top = max(scores)
        return top + math.log(sum(math.exp(s - top) for s in scores)) - scores[target]

    rows = sum(ce(L[i], i) for i in range(B)) / B
    columns = sum(ce([L[j][i] for j in range(B)], i) for i in range(B)) / B
    return torch.tensor((rows + columns) / 2, dtype=torch.float64).to(logits.dtype)


# (B, scale): B = 1 (its loss is 0); logits as large as a temperature of 14 and 30 makes them
LOSS_CASES = [(4, 1.0), (2, 3.0), (1, 5.0), (7, 14.0), (3, 30.0), (5, 0.5)]


@pytest.mark.blank("08.3")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES)))
def test_08_3_symmetric_cross_entropy(kata, seed, case):
    B, scale = case
    torch.manual_seed(seed)
    logits = torch.randn(B, B) * scale
    out = kata.clip_loss(logits)
    where = call("clip_loss", logits)
    assert_tensor(out, shape=(), dtype=logits.dtype, call=where, seed=seed, name="loss")
    assert_close(out, loss_by_loop(logits), call=where, seed=seed,
                 name=said("loss ((CE over rows + CE over columns) / 2, targets 0..B-1)",
                           ja="loss（(行ごとの CE + 列ごとの CE) / 2、ターゲットは 0..B-1）"))  # fmt: skip


@pytest.mark.blank("08.3")
@pytest.mark.parametrize("B", [2, 5])
def test_08_3_closed_forms(kata, B):
    uniform = torch.zeros(B, B)
    where = call("clip_loss", uniform) + "    (all logits 0)"
    assert_close(kata.clip_loss(uniform), torch.tensor(math.log(B)), call=where,
                 name=said(f"loss of uniform logits (log B = {math.log(B):.4g}: each CE is log B)",
                           ja=f"一様な logits の loss（log B = {math.log(B):.4g}: どの CE も log B）"))  # fmt: skip
    perfect = torch.eye(B) * 100  # cosine 1 on the diagonal, 0 elsewhere, at temperature 100
    where = call("clip_loss", perfect) + "    (100 on the diagonal, 0 elsewhere: a perfect match)"
    loss = kata.clip_loss(perfect)
    assert_tensor(loss, shape=(), call=where, name="loss")
    if not loss.item() < 1e-3:
        fail(said(f"the loss of a perfect match is {loss.item():.4g}, expected about 0 (each pair's own score "
                  "is 100 above every other): are the targets 0, 1, ..., B-1?",
                  ja=f"完全に一致する場合の loss が {loss.item():.4g} です（期待される値はほぼ 0: どのペアも自分のスコアが"
                     "ほかのどれより 100 大きい）: ターゲットは 0, 1, ..., B-1 になっていますか？"), where)  # fmt: skip


@pytest.mark.blank("08.3")
def test_08_3_images_and_texts_count_alike(kata):
    torch.manual_seed(6)
    logits = torch.randn(4, 4) * 3
    where = call("clip_loss", logits.T) + "    (the transpose of logits: the texts' view)"
    assert_close(kata.clip_loss(logits.T), kata.clip_loss(logits), call=where, seed=6,
                 name=said("loss of the transposed logits (the loss is symmetric: the same)",
                           ja="転置した logits の loss（loss は対称なので同じ値）"))  # fmt: skip


@pytest.mark.blank("08.3")
def test_08_3_gradients(kata):
    torch.manual_seed(7)
    logits = (torch.randn(4, 4) * 3).requires_grad_()
    logits2 = logits.detach().clone().requires_grad_()
    targets = torch.arange(4)
    expected = (F.cross_entropy(logits2, targets) + F.cross_entropy(logits2.T, targets)) / 2
    assert_gradients(kata.clip_loss(logits), expected, {"logits": (logits, logits2)},
                     call=call("clip_loss", logits), seed=7)  # fmt: skip


# --- 08.4 - 08.6: CLIP --------------------------------------------------------------------------

# Tower widths differ from each other and from E, so a projection used on the wrong tower shows.
VISION = dict(image_size=8, patch_size=4, channels=3, dim=16, n_heads=2, n_layers=1, num_classes=3)
TEXT = dict(vocab_size=20, dim=12, n_heads=2, n_layers=1, max_len=8)


def small_clip(kata, seed, embed_dim=10):
    torch.manual_seed(seed)
    config = kata.CLIPConfig(vision=kata.ViTConfig(**VISION), text=kata.TextEncoderConfig(**TEXT), embed_dim=embed_dim)
    model = kata.CLIP(config)
    with torch.no_grad():  # LayerNorms start at weight 1, bias 0, and the tokens near 0: make them matter
        for name, p in model.named_parameters():
            if ".ln" in name or name.startswith(("vision.embed.cls", "vision.embed.pos")):
                p.copy_(torch.randn_like(p))
    return model, config


def clip_call(method, *args):
    return call(f"CLIP(vision dim {VISION['dim']}, text dim {TEXT['dim']}, E 10).{method}", *args)


def captions(lengths, T, gen, vocab=TEXT["vocab_size"]):
    """(B, T) tokens, row b with lengths[b] real tokens (1..vocab-1), then padding (0)."""
    tokens = torch.randint(1, vocab, (len(lengths), T), generator=gen)
    return tokens.masked_fill(torch.arange(T)[None, :] >= torch.tensor(lengths)[:, None], 0)


def image_by_spec(model, images):
    return model.vision.features(images)[:, 0] @ model.image_proj.weight.T  # (B, E)


def text_by_spec(model, tokens):
    features, _ = model.text(tokens)  # (B, T, Dt), kata 05
    pooled = torch.stack([features[b][tokens[b] != 0].mean(dim=0) for b in range(len(tokens))])  # (B, Dt)
    return pooled @ model.text_proj.weight.T  # (B, E)


@pytest.mark.blank("08.4")
@pytest.mark.parametrize("seed, B", [(0, 2), (1, 1), (2, 3)])
def test_08_4_encode_image_projects_the_class_token(kata, seed, B):
    model, _ = small_clip(kata, seed)
    images = torch.randn(B, 3, 8, 8)
    where = clip_call("encode_image", images)
    out = model.encode_image(images)
    assert_tensor(out, shape=(B, 10), dtype=images.dtype, call=where, seed=seed,
                  name=said("image embeddings", ja="画像埋め込み"))
    with torch.no_grad():
        expected = image_by_spec(model, images)
        tokens = model.vision.features(images)  # (B, N + 1, Dv)
        reads = [("the mean of all tokens", "全トークンの平均", tokens.mean(dim=1)),
                 ("the last token", "最後のトークン", tokens[:, -1]),
                 ("the first patch token (place 1)", "最初のパッチトークン（1 番目）", tokens[:, 1])]  # fmt: skip
        wrongs = {(f"image embeddings project {mistake}: CLIP reads the class token, features[:, 0]",
                   f"画像埋め込みが{japanese}を射影しています: CLIP が読むのはクラストークン、features[:, 0] です"):
                  model.image_proj(read) for mistake, japanese, read in reads}  # fmt: skip
        name_the_mistake(out, expected, wrongs, where, seed)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("image embeddings (image_proj of vision.features(images)[:, 0])",
                           ja="画像埋め込み（vision.features(images)[:, 0] に image_proj を適用したもの）"))  # fmt: skip


@pytest.mark.blank("08.4")
def test_08_4_gradients(kata):
    model, _ = small_clip(kata, 3)
    oracle = copy.deepcopy(model)
    images = torch.randn(2, 3, 8, 8, requires_grad=True)
    images2 = images.detach().clone().requires_grad_()
    leaves = {"images": (images, images2)}
    leaves.update((n, (p, p2)) for (n, p), p2 in zip(model.named_parameters(), oracle.parameters())
                  if n.startswith(("vision.", "image_proj.")))  # fmt: skip
    assert_gradients(model.encode_image(images), image_by_spec(oracle, images2), leaves,
                     call=clip_call("encode_image", images), seed=3)  # fmt: skip


# (lengths, T): padding in every case but the last, lengths that differ
TEXT_CASES = [([3, 5], 5), ([1, 4, 2], 6), ([2], 4), ([4, 4], 4)]


@pytest.mark.blank("08.5")
@pytest.mark.parametrize("seed, case", list(enumerate(TEXT_CASES)))
def test_08_5_encode_text_projects_the_pooled_vector(kata, seed, case):
    lengths, T = case
    model, _ = small_clip(kata, seed)
    tokens = captions(lengths, T, torch.Generator().manual_seed(seed))
    where = clip_call("encode_text", tokens)
    out = model.encode_text(tokens)
    assert_tensor(out, shape=(len(lengths), 10), dtype=torch.float32, call=where, seed=seed,
                  name=said("text embeddings", ja="テキスト埋め込み"))
    with torch.no_grad():
        expected = text_by_spec(model, tokens)
        features, _ = model.text(tokens)  # (B, T, Dt)
        reads = [("the first token's features, features[:, 0]", "最初のトークンの特徴量（features[:, 0]）", features[:, 0]),
                 ("the mean over every token, padding included", "パディングも含めた全トークンの平均",
                  features.mean(dim=1))]  # fmt: skip
        why = "CLIP reads the pooled vector (the mean of the real tokens), the second output of self.text"
        why_ja = "CLIP が読むのはプールしたベクトル（実トークンの平均）、つまり self.text の 2 つ目の出力です"
        wrongs = {(f"text embeddings project {mistake}: {why}", f"テキスト埋め込みが{japanese}を射影しています: {why_ja}"):
                  model.text_proj(read) for mistake, japanese, read in reads}  # fmt: skip
        name_the_mistake(out, expected, wrongs, where, seed)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("text embeddings (text_proj of the mean of the real tokens' features)",
                           ja="テキスト埋め込み（実トークンの特徴量の平均に text_proj を適用したもの）"))  # fmt: skip


@pytest.mark.blank("08.5")
def test_08_5_gradients(kata):
    model, _ = small_clip(kata, 4)
    oracle = copy.deepcopy(model)
    tokens = captions([2, 5], 5, torch.Generator().manual_seed(4))
    leaves = {n: (p, p2) for (n, p), p2 in zip(model.named_parameters(), oracle.parameters())
              if n.startswith(("text.", "text_proj."))}  # fmt: skip
    assert_gradients(model.encode_text(tokens), text_by_spec(oracle, tokens), leaves,
                     call=clip_call("encode_text", tokens), seed=4)  # fmt: skip


class EmbeddingStub:
    """Stands for encode_image or encode_text: returns the test's embeddings, and keeps what it was given."""

    def __init__(self, embeddings):
        self.embeddings, self.given = embeddings, []

    def __call__(self, x):
        self.given.append(x)
        return self.embeddings


def stub_towers(model, image_emb, text_emb):
    """An instance attribute wins over the method: the model's self.encode_image is the stub."""
    model.encode_image, model.encode_text = EmbeddingStub(image_emb), EmbeddingStub(text_emb)


def reference_towers(kata, model):
    """The reference encode_image and encode_text (and forward), bound to this model: grade one blank alone."""
    reference = importlib.import_module(kata.__name__.split(".")[-1])
    for name in ("encode_image", "encode_text"):
        setattr(model, name, getattr(reference.CLIP, name).__get__(model))


@pytest.mark.blank("08.6")
@pytest.mark.parametrize("seed, B, t", [(0, 3, 1.7), (1, 1, 0.5), (2, 4, math.log(1 / 0.07))])
def test_08_6_forward_scores_images_against_captions(kata, monkeypatch, seed, B, t):
    with_reference(monkeypatch, kata, "l2_normalize", "clip_logits")
    model, _ = small_clip(kata, seed)
    with torch.no_grad():
        model.log_temperature.fill_(t)
    gen = torch.Generator().manual_seed(seed)
    image_emb, text_emb = embeddings(B, 10, gen), embeddings(B, 10, gen)
    stub_towers(model, image_emb, text_emb)
    images, tokens = torch.randn(B, 3, 8, 8), captions([4] * B, 4, gen)
    where = clip_call("forward", images, tokens) + f"    (log_temperature {t:.3g}; encode_image, encode_text: random)"
    out = model(images, tokens)
    for stub, given, what in [(model.encode_image, images, "images"), (model.encode_text, tokens, "tokens")]:
        if not any(x is given for x in stub.given):
            fail(said(f"forward did not call self.{'encode_image' if what == 'images' else 'encode_text'}({what})",
                      ja=f"forward が self.{'encode_image' if what == 'images' else 'encode_text'}({what}) を呼んで"
                         "いません"), where, seed)  # fmt: skip
    assert_tensor(out, shape=(B, B), dtype=image_emb.dtype, call=where, seed=seed, name="logits")
    expected = logits_by_loop(image_emb, text_emb, t)
    transposed = ("logits are transposed: rows are the images, columns the captions: clip_logits(image_emb, text_emb, t)",
                  "logits が転置されています: 行が画像、列がキャプションです: clip_logits(image_emb, text_emb, t)")
    name_the_mistake(out, expected, {transposed: expected.T}, where, seed)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("logits (cos(image i, caption j) · exp(log_temperature))",
                           ja="logits（cos(画像 i, キャプション j) · exp(log_temperature)）"))  # fmt: skip
    if not out.requires_grad:  # the embeddings here carry none: only log_temperature can
        fail(said("the logits carry no gradient to log_temperature, so the temperature never learns: was it "
                  "detached (`.detach()`, `.data`, `.item()`)?",
                  ja="logits から log_temperature に勾配が流れないので、温度が学習されません: 計算グラフから切り離して"
                     "いませんか（`.detach()`、`.data`、`.item()`）？"), where, seed)  # fmt: skip


@pytest.mark.blank("08.6")
def test_08_6_gradients_reach_the_embeddings_and_the_temperature(kata, monkeypatch):
    with_reference(monkeypatch, kata, "l2_normalize", "clip_logits")
    model, _ = small_clip(kata, 5)
    gen = torch.Generator().manual_seed(5)
    image_emb, text_emb = embeddings(3, 10, gen).requires_grad_(), embeddings(3, 10, gen).requires_grad_()
    stub_towers(model, image_emb, text_emb)
    t2 = model.log_temperature.detach().clone().requires_grad_()
    image_copy, text_copy = image_emb.detach().clone().requires_grad_(), text_emb.detach().clone().requires_grad_()
    leaves = {said("the image embeddings", ja="画像埋め込み"): (image_emb, image_copy),
              said("the text embeddings", ja="テキスト埋め込み"): (text_emb, text_copy),
              "log_temperature": (model.log_temperature, t2)}  # fmt: skip
    images, tokens = torch.randn(3, 3, 8, 8), captions([4, 2, 3], 4, gen)
    where = clip_call("forward", images, tokens) + "    (encode_image, encode_text: random)"
    expected = logits_by_normalize(image_copy, text_copy, t2)
    assert_gradients(model(images, tokens), expected, leaves, call=where, seed=5)


@pytest.mark.blank("08.6")
def test_08_6_clip_trains_end_to_end(kata, monkeypatch):
    with_reference(monkeypatch, kata, "l2_normalize", "clip_logits")
    model, _ = small_clip(kata, 6)
    oracle = copy.deepcopy(model)
    reference_towers(kata, model)
    images, tokens = torch.randn(3, 3, 8, 8), captions([3, 5, 1], 5, torch.Generator().manual_seed(6))
    with torch.no_grad():
        model.log_temperature.fill_(2.0)
        oracle.log_temperature.fill_(2.0)
    t = oracle.log_temperature
    expected = F.normalize(image_by_spec(oracle, images)) @ F.normalize(text_by_spec(oracle, tokens)).T * t.exp()
    leaves = {n: (p, p2) for (n, p), p2 in zip(model.named_parameters(), oracle.parameters())}
    where = clip_call("forward", images, tokens) + "    (the whole model: every parameter but the ViT's unused head)"
    assert_gradients(model(images, tokens), expected, leaves, call=where, seed=6)


@pytest.mark.blank("08.6")
def test_08_6_default_config(kata, monkeypatch):
    with_reference(monkeypatch, kata, "l2_normalize", "clip_logits")
    torch.manual_seed(7)
    model = kata.CLIP(kata.CLIPConfig())
    reference_towers(kata, model)
    images, tokens = torch.rand(2, 3, 16, 16), torch.tensor([[5, 9, 2, 0, 0], [7, 1, 1, 4, 3]])
    where = call("CLIP(CLIPConfig()).forward", images, tokens)
    assert_tensor(model(images, tokens), shape=(2, 2), call=where, seed=7, name="logits")


# --- 08.7: zero-shot classification -------------------------------------------------------------


def zero_shot_by_loop(image_emb, text_emb):
    """Each image's class: the prompt of highest cosine, in float64."""
    cosines = logits_by_loop(image_emb.double(), text_emb.double(), 0.0)  # (B, K), scale 1
    return torch.tensor([max(range(len(row)), key=lambda k: row[k]) for row in cosines.tolist()])


def zero_shot_model(kata, monkeypatch, seed, image_emb, text_emb):
    with_reference(monkeypatch, kata, "l2_normalize", "clip_logits")
    model, _ = small_clip(kata, seed)
    stub_towers(model, image_emb, text_emb)
    reference = importlib.import_module(kata.__name__.split(".")[-1])
    model.forward = reference.CLIP.forward.__get__(model)  # model(images, prompts) works too
    return model


# Prompt embeddings of very different lengths: the longest wins a raw dot product, not a cosine.
HAND_TEXTS = torch.tensor([[10.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.2], [0.3, 0.4, 0.0]])
HAND_IMAGES = torch.tensor([[0.5, 1.0, 0.1], [0.1, 0.0, 3.0], [2.0, 0.2, 0.1], [0.6, 0.8, -0.1], [-1.0, -1.0, 0.1]])


@pytest.mark.blank("08.7")
@pytest.mark.parametrize("seed, case", list(enumerate(["hand", (3, 4, 5), (1, 6, 4), (6, 2, 3)])))
def test_08_7_the_best_matching_prompt(kata, monkeypatch, seed, case):
    if case == "hand":
        image_emb, text_emb = HAND_IMAGES, HAND_TEXTS
    else:
        B, K, E = case
        gen = torch.Generator().manual_seed(seed)
        image_emb, text_emb = embeddings(B, E, gen), embeddings(K, E, gen)
    B, K = len(image_emb), len(text_emb)
    model = zero_shot_model(kata, monkeypatch, seed, image_emb, text_emb)
    images, prompts = torch.randn(B, 3, 8, 8), captions([2] * K, 3, torch.Generator().manual_seed(seed))
    where = call("zero_shot_classify", images, prompts).replace("(", "(model, ", 1)
    where += f"    (model: its {B} image and {K} prompt embeddings chosen by the test)"
    out = kata.zero_shot_classify(model, images, prompts)
    assert_tensor(out, shape=(B,), dtype=torch.long, call=where, seed=seed, name="classes")
    if not any(x is prompts for x in model.encode_text.given):
        fail(said("zero_shot_classify did not embed the prompts: model.encode_text(class_tokens)",
                  ja="zero_shot_classify がプロンプトを埋め込んでいません: model.encode_text(class_tokens)"), where, seed)
    expected = zero_shot_by_loop(image_emb, text_emb)
    raw = (image_emb @ text_emb.T).argmax(dim=-1)
    if not torch.equal(raw, expected) and torch.equal(out, raw):
        fail(said("classes by the raw dot product: the longest prompt embedding wins; compare cosines "
                  "(clip_logits normalises)",
                  ja="クラスを生の内積で選んでいます: これではいちばん長いプロンプト埋め込みが勝ちます。コサインで比べて"
                     "ください（clip_logits は正規化します）"), where, seed)  # fmt: skip
    assert_close(out, expected, call=where, seed=seed,
                 name=said("classes (the prompt of highest cosine)", ja="classes（コサインが最も大きいプロンプト）"))
