"""Tests of kata 16: text conditioning.

Oracles: the spatial transformer written out here from the layer's own weights, in three parts,
one per blank: the way in (F.group_norm, F.conv2d, then pixel (i, j) as token i·W + j), the two
attention sub-layers (support.layer_norm, i.e. F.layer_norm; kata 04's attention as F.linear
projections and F.scaled_dot_product_attention with the boolean key padding mask), the
feed-forward sub-layer (F.linear and the erf GELU) and the way out (back to the image, F.conv2d,
plus x). The three blanks of forward are graded one at a time by hooks on the token sub-layers
(ln1, self_attn, ln2, cross_attn, ln3, ff): 16.1 by the tokens the first of them is given
(forward stops there); 16.2 from those tokens to h where the feed-forward sub-layer reads it
(forward stops there); 16.3 from that h to the output. Where forward stops at the next blank,
not filled in yet, h as forward left it stands in (read from forward's frame), so that each
blank is graded before the next one is written. A part added to the layer later (a position
for the image tokens, say) only needs its part of the oracle changed. Padding: the context's
features at masked positions are replaced, and nothing may change.
ConditionalUNet: its attention layers' types and sizes, and its output reads the prompt but not
its padding (with the reference SpatialTransformer, so 16.4 is graded alone). drop_condition:
thousands of captions (a binomial bound on the count dropped), each row either kept or exactly
the empty caption (<bos> <eos> <pad> ..., written out here), whose fate the generator's seed
decides. Gradients: backward through the learner's output and the oracle's (assert_gradients),
with the same parameters in graphs of their own.
"""

import inspect
import math
import re

import pytest
import torch
import torch.nn.functional as F
from k01_tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from k13_unet import UNetConfig
from support import (
    assert_close,
    assert_gradients,
    assert_tensor,
    call,
    fail,
    layer_norm,
    randomise_group_norms,
    randomise_layer_norms,
    said,
    with_reference,
)

# --- the spatial transformer written out ----------------------------------------------------


def conv(layer, x):
    return F.conv2d(x, layer.weight, layer.bias)


def group_norm(norm, x):
    return F.group_norm(x, norm.num_groups, norm.weight, norm.bias, norm.eps)


def feed_forward(ff, h):
    """fc2(GELU(fc1(h))), the erf form of GELU."""
    hidden = F.linear(h, ff.fc1.weight, ff.fc1.bias)
    return F.linear(0.5 * hidden * (1.0 + torch.erf(hidden / math.sqrt(2.0))), ff.fc2.weight, ff.fc2.bias)


def attention(attn, h, context=None, mask=None):
    """Kata 04's multi-head attention with attn's weights: queries from h (B, N, C), keys and
    values from the context (B, Tc, Dc) (h itself when None); mask (B, 1, Tc), True at real tokens."""
    context = h if context is None else context
    B, N, C = h.shape
    heads = attn.n_heads
    q, k, v = (F.linear(source, p.weight, p.bias).view(B, source.shape[1], heads, C // heads).transpose(1, 2)
               for source, p in ((h, attn.q_proj), (context, attn.k_proj), (context, attn.v_proj)))  # fmt: skip
    mask = None if mask is None else mask[:, None]  # (B, 1, 1, Tc): every head, every pixel
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(B, N, C)
    return F.linear(out, attn.out_proj.weight, attn.out_proj.bias)


def tokens_by_spec(layer, x):
    """16.1: GroupNorm, proj_in, then pixel (i, j) as token i·W + j, its C channels the features: (B, N, C)."""
    B, C, H, W = x.shape
    return conv(layer.proj_in, group_norm(layer.norm, x)).permute(0, 2, 3, 1).reshape(B, H * W, C)


def attention_by_spec(layer, h, context, mask):
    """16.2: pre-norm self-attention among the pixels, then pre-norm cross-attention to the text."""
    h = h + attention(layer.self_attn, layer_norm(layer.ln1, h))
    return h + attention(layer.cross_attn, layer_norm(layer.ln2, h), context, mask)


def output_by_spec(layer, h, x):
    """16.3: pre-norm feed-forward, token i·W + j back to pixel (i, j), proj_out, plus x."""
    B, C, H, W = x.shape
    h = h + feed_forward(layer.ff, layer_norm(layer.ln3, h))
    return x + conv(layer.proj_out, h.reshape(B, H, W, C).permute(0, 3, 1, 2))


def spatial_transformer_by_spec(layer, x, context, mask):
    return output_by_spec(layer, attention_by_spec(layer, tokens_by_spec(layer, x), context, mask), x)


# --- cases ----------------------------------------------------------------------------------------


def padding_mask(B, Tc, gen):
    """(B, 1, Tc), True at real tokens: caption 0 padded (when Tc > 1), caption 1 not, the rest at random."""
    lengths = torch.randint(1, Tc + 1, (B,), generator=gen)
    lengths[0] = max(Tc - 2, 1)
    if B > 1:
        lengths[1] = Tc
    return (torch.arange(Tc)[None, :] < lengths[:, None])[:, None, :]


# (B, C, H, W, Tc, Dc, n_heads, groups, mask): H ≠ W, batch 1 and more, one text token and more,
# padded captions and no mask; the text is as wide as the pixels (Dc = C) in two of them, where
# self- and cross-attention can trade contexts without a shape error
CASES = [
    (2, 8, 3, 5, 4, 6, 2, 4, "padding"),
    (1, 8, 4, 2, 1, 8, 4, 2, None),
    (3, 16, 2, 3, 5, 12, 4, 8, "padding"),
    (2, 8, 2, 4, 3, 8, 1, 8, None),
    (1, 8, 3, 2, 4, 5, 2, 2, "padding"),
]
PADDED = [(seed, case) for seed, case in enumerate(CASES) if case[-1]]


def st_case(kata, seed, case):
    B, C, H, W, Tc, Dc, heads, groups, kind = case
    torch.manual_seed(seed)
    layer = kata.SpatialTransformer(C, Dc, heads, groups)
    randomise_group_norms(layer)
    randomise_layer_norms(layer)
    x = torch.randn(B, C, H, W) + 0.5
    context = torch.randn(B, Tc, Dc)
    mask = padding_mask(B, Tc, torch.Generator().manual_seed(seed)) if kind else None
    where = call(f"SpatialTransformer({C}, context_dim={Dc}, n_heads={heads}, groups={groups})", x, context, mask)
    return layer, (x, context, mask), where


def leaves(*tensors):
    """Copies that require gradients: the learner's inputs, and the oracle's own."""
    return [t.detach().clone().requires_grad_() for t in tensors]


def parameters(module, *parts):
    """{"self.name": (p, p)} for the parameters under `parts` (all where none is named): the learner's
    forward and the test's use the same parameters (in graphs of their own)."""
    return {f"self.{n}": (p, p) for n, p in module.named_parameters() if not parts or n.split(".")[0] in parts}


def close(a, b):
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-4, atol=1e-5)


# --- hooks on the token sub-layers ------------------------------------------------------------

TOKEN_LAYERS = ("ln1", "self_attn", "ln2", "cross_attn", "ln3", "ff")
FEED_FORWARD = ("ln3", "ff")  # the third sub-layer, blank 16.3's: h after the attention is what it reads


class Stop(Exception):
    """Raised by a hook once the test has seen what it needs: the rest of forward does not run."""


class Call:
    def __init__(self, name, live, reader=None):
        self.name, self.live = name, live  # the arguments by name, as given (in the autograd graph)
        self.reader = reader or f"self.{name}"
        self.given = {k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in live.items()}
        self.versions = {k: v._version for k, v in live.items() if isinstance(v, torch.Tensor)}

    @property
    def h(self):
        """(the first argument as given, a copy of it then): the tokens every sub-layer takes first."""
        name = next(iter(self.live))
        return self.live[name], self.given[name]

    def check_not_changed_after(self, what, where, seed):
        """The first argument was not changed in place after this sub-layer read it (`h += ...`)."""
        name = next(iter(self.live))
        if self.live[name]._version != self.versions[name]:
            fail(said(f"{what}, as {self.reader} read it, was changed in place afterwards (`h += ...`): the values "
                      "are right, but autograd saved that tensor for the backward pass (the LayerNorm needs it), so "
                      "training would fail in backward(). Write h = h + ... to make a new tensor",
                      ja=f"{what}（{self.reader} が読み込んだもの）が、そのあとでその場で書き換えられています"
                         "（`h += ...`）。値は正しいのですが、autograd はこのテンソルを逆伝播のために保存している"
                         "（LayerNorm が必要とする）ので、学習では backward() で失敗します。h = h + ... と書いて"
                         "新しいテンソルにしてください"), where, seed)  # fmt: skip


UNFILLED = re.compile(r"blank (\d\d\.\d+) is not filled in yet")


def unfilled_blank(error, layer):
    """(the blank, h): where forward stopped at a blank not filled in yet ("16.2"), h as forward
    left it there, what that blank would have read; else None."""
    found = UNFILLED.search(str(error)) if isinstance(error, NotImplementedError) else None
    tb = error.__traceback__
    while found and tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "forward" and frame.f_locals.get("self") is layer:
            h = frame.f_locals.get("h")
            return (found[1], h) if isinstance(h, torch.Tensor) else None
        tb = tb.tb_next
    return None


class SubLayers:
    """Hooks on a SpatialTransformer's token sub-layers: each call, in order, with its arguments by
    name. stop_before: the sub-layers whose first call ends forward before they run. An error
    raised in forward is kept (`error`) for the test to raise once it has said what it can; where
    it is a later blank not filled in yet, h as forward left it stands in for that blank's first
    call, so that 16.1 is graded before 16.2 is written, and 16.2 before 16.3."""

    def __init__(self, layer, stop_before=()):
        self.calls, self.error, self.unfilled, self.handles = [], None, None, []
        for name in TOKEN_LAYERS:
            module = getattr(layer, name)
            hook = self._given(name, inspect.signature(module.forward), stop_before)
            self.handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))

    def _given(self, name, signature, stop_before):
        def hook(module, args, kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                arguments = dict(bound.arguments)
            except TypeError:  # a wrong call: the sub-layer itself will say so
                arguments = {f"arg{i}": a for i, a in enumerate(args)} | kwargs
            self.calls.append(Call(name, arguments))
            if name in stop_before:
                raise Stop

        return hook

    def run(self, layer, *args):
        """layer(*args), or None where a hook stopped it or it raised (kept in self.error)."""
        try:
            return layer(*args)
        except Stop:
            return None
        except AssertionError:  # the guard: an argument changed in place
            raise
        except Exception as e:
            self.error, self.unfilled = e, unfilled_blank(e, layer)
            return None
        finally:
            for handle in self.handles:
                handle.remove()

    def reraise(self):
        if self.error is not None:
            raise self.error

    def first(self, *names):
        return next((c for c in self.calls if c.name in names), None)

    def first_of_blank(self, blank, *names):
        """The first call of these sub-layers; where forward stopped at `blank`, not filled in yet, h there."""
        found = self.first(*names)
        if found is None and self.unfilled and self.unfilled[0] == blank:
            found = Call("h", {"h": self.unfilled[1]}, reader=said(f"blank {blank} (not filled in yet) would read it",
                                                                   ja=f"まだ埋められていない空欄 {blank}"))
        return found

    def tokens(self, where, seed):
        """The first token sub-layer's call: the tokens blank 16.1 made."""
        found = self.first_of_blank("16.2", *TOKEN_LAYERS)
        if found is None:
            self.reraise()
            fail(said("SpatialTransformer.forward called none of its token sub-layers (self.ln1, self.self_attn, ...): "
                      "the tokens go through them after blank 16.1",
                      ja="SpatialTransformer.forward がトークンのサブレイヤー（self.ln1、self.self_attn など）を 1 つも"
                         "呼び出していません。空欄 16.1 のあと、トークンはこれらを通ります"), where, seed)  # fmt: skip
        return found

    def tokens_from_16_1(self, x, where, seed):
        """The tokens blank 16.2 starts from, checked to be (B, N, C): blank 16.1's answer, whatever its values."""
        B, C, H, W = x.shape
        found = self.tokens(where, seed)
        live, given = found.h
        if not isinstance(given, torch.Tensor) or tuple(given.shape) != (B, H * W, C):
            shape = tuple(given.shape) if isinstance(given, torch.Tensor) else type(given).__name__
            fail(said(f"the tokens (h, as {found.reader} read it) have shape {shape}, expected (B, H·W, C) = "
                      f"{(B, H * W, C)}: blank 16.1 makes them (its tests say more); fix it first",
                      ja=f"トークン（{found.reader} が読み込む h）の形状が {shape} です。期待される形状は (B, H·W, C) = "
                         f"{(B, H * W, C)} です。トークンを作るのは空欄 16.1 なので（詳しくはそのテストが示します）、"
                         "先にそちらを直してください"), where, seed)  # fmt: skip
        return live, given

    def check_attention(self, context, mask, where, seed):
        """Blank 16.2's calls: self-attention with no context, then cross-attention with the context and its mask."""
        self_attn, cross_attn = self.first("self_attn"), self.first("cross_attn")
        if self_attn is None:
            self.reraise()
            fail(said("SpatialTransformer.forward never called self.self_attn: the pixels first attend to each other "
                      "(h = h + self.self_attn(self.ln1(h)))",
                      ja="SpatialTransformer.forward が self.self_attn を一度も呼び出していません。まずピクセル同士が"
                         "互いにアテンションします（h = h + self.self_attn(self.ln1(h))）"), where, seed)  # fmt: skip
        if self_attn.live.get("context") is not None:
            fail(said("self.self_attn was given a context: in self-attention the pixels' keys and values are the "
                      "pixels themselves (self.self_attn(self.ln1(h)), no context, no mask); the text goes to "
                      "self.cross_attn",
                      ja="self.self_attn に context が渡されています。セルフアテンションでは、ピクセルのキーとバリューは"
                         "ピクセル自身です（self.self_attn(self.ln1(h))。context もマスクも渡しません）。テキストは "
                         "self.cross_attn に渡します"), where, seed)  # fmt: skip
        if cross_attn is None:
            self.reraise()
            fail(said("SpatialTransformer.forward never called self.cross_attn: the pixels read the prompt through it "
                      "(h = h + self.cross_attn(self.ln2(h), context, context_mask))",
                      ja="SpatialTransformer.forward が self.cross_attn を一度も呼び出していません。ピクセルはこれを"
                         "通してプロンプトを読みます（h = h + self.cross_attn(self.ln2(h), context, context_mask)）"),
                 where, seed)  # fmt: skip
        if self.calls.index(cross_attn) < self.calls.index(self_attn):
            fail(said("self.cross_attn ran before self.self_attn: the order is fixed: first the pixels look at each "
                      "other (self-attention), then they read the prompt (cross-attention), then the feed-forward",
                      ja="self.cross_attn が self.self_attn より先に実行されています。順序は決まっています。まずピクセル"
                         "同士が互いを見て（セルフアテンション）、次にプロンプトを読み（クロスアテンション）、最後が"
                         "フィードフォワードです"),
                 where, seed)  # fmt: skip
        given = cross_attn.live.get("context")
        if given is None:
            fail(said("self.cross_attn was given no context, so it attended to the pixels (self-attention twice): "
                      "its keys and values come from the text: self.cross_attn(self.ln2(h), context, context_mask)",
                      ja="self.cross_attn に context が渡されていないため、ピクセルにアテンションしています（セルフ"
                         "アテンションが 2 回）。キーとバリューはテキストから作ります: "
                         "self.cross_attn(self.ln2(h), context, context_mask)"),
                 where, seed)  # fmt: skip
        if given is not context:
            name = said("the context self.cross_attn was given (forward's context, as it is)",
                        ja="self.cross_attn に渡した context（forward の context をそのまま渡すはず）")
            assert_close(cross_attn.given["context"], context, call=where, seed=seed, name=name)
        if mask is not None and cross_attn.live.get("mask") is None:
            fail(said("self.cross_attn was given the context but not its mask, so the pixels read the prompt's "
                      "padding: self.cross_attn(self.ln2(h), context, context_mask)",
                      ja="self.cross_attn に context は渡されていますが、そのマスクが渡されていないため、ピクセルが"
                         "プロンプトのパディングまで読んでいます: self.cross_attn(self.ln2(h), context, context_mask)"),
                 where, seed)  # fmt: skip

    def h_after_attention(self, where, seed):
        """(h where the feed-forward sub-layer reads it, a copy of it then): blank 16.2's answer."""
        found = self.first_of_blank("16.3", *FEED_FORWARD)
        if found is None:
            self.reraise()
            fail(said("SpatialTransformer.forward never called self.ln3 or self.ff: after the attention comes the "
                      "feed-forward sub-layer, h = h + self.ff(self.ln3(h))",
                      ja="SpatialTransformer.forward が self.ln3 も self.ff も呼び出していません。アテンションのあとには"
                         "フィードフォワードのサブレイヤー h = h + self.ff(self.ln3(h)) が続きます"), where, seed)  # fmt: skip
        return found.h


def attention_run(layer, args, where, seed):
    """Run forward until the feed-forward sub-layer; check 16.2's calls. Returns the hooks' record."""
    sub = SubLayers(layer, stop_before=FEED_FORWARD)
    sub.run(layer, *args)
    sub.tokens_from_16_1(args[0], where, seed)
    sub.check_attention(args[1], args[2], where, seed)
    return sub


# --- 16.1: the pixels as tokens -------------------------------------------------------------------


@pytest.mark.blank("16.1")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES)))
def test_16_1_pixels_as_tokens(kata, seed, case):
    layer, args, where = st_case(kata, seed, case)
    sub = SubLayers(layer, stop_before=TOKEN_LAYERS)
    with torch.no_grad():
        sub.run(layer, *args)
        _, tokens = sub.tokens(where, seed).h
        x = args[0]
        B, C, H, W = x.shape
        image = conv(layer.proj_in, group_norm(layer.norm, x))  # (B, C, H, W)
    if close(tokens, image.reshape(B, H * W, C)) and not close(tokens, image.permute(0, 2, 3, 1).reshape(B, H * W, C)):
        fail(said("the tokens are proj_in(norm(x)) (B, C, H, W) viewed as (B, H·W, C) without moving the channels "
                  "last: each 'token' holds numbers of one channel at several pixels. Flatten H and W first, then "
                  "swap: .flatten(2).transpose(1, 2)",
                  ja="トークンが、proj_in(norm(x)) の (B, C, H, W) をチャネルを最後に移さずに (B, H·W, C) と見たものに"
                     "なっています。これでは各「トークン」が、1 つのチャネルの値を複数のピクセルから集めたものになり"
                     "ます。先に H と W を平らにしてから入れ替えてください: .flatten(2).transpose(1, 2)"),
             where, seed)  # fmt: skip
    name = said("the tokens h that blank 16.1 makes (proj_in(GroupNorm(x)), then pixel (i, j) as token i·W + j, "
                "its C channels the features: (B, H·W, C))",
                ja="空欄 16.1 が作るトークン h（proj_in(GroupNorm(x)) のあと、ピクセル (i, j) をトークン i·W + j とし、"
                   "その C 個のチャネルを特徴量とする: (B, H·W, C)）")  # fmt: skip
    assert_close(tokens, tokens_by_spec(layer, x), call=where, seed=seed, name=name)


@pytest.mark.blank("16.1")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES[:3])))
def test_16_1_tokens_gradients(kata, seed, case):
    layer, (x, context, mask), where = st_case(kata, seed, case)
    x, x_o = leaves(x, x)
    sub = SubLayers(layer, stop_before=TOKEN_LAYERS)
    sub.run(layer, x, context, mask)
    tokens, _ = sub.tokens(where, seed).h
    inputs = {"x": (x, x_o), **parameters(layer, "norm", "proj_in")}
    where += said(", then backward() from the tokens where the first sub-layer reads them",
                  ja="、続いて最初のサブレイヤーが読み込むトークンから backward()")
    assert_gradients(tokens, tokens_by_spec(layer, x_o), inputs, call=where, seed=seed)


# --- 16.2: self-attention, then cross-attention ----------------------------------------------------


@pytest.mark.blank("16.2")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES)))
def test_16_2_self_then_cross_attention(kata, seed, case):
    layer, args, where = st_case(kata, seed, case)
    with torch.no_grad():
        sub = attention_run(layer, args, where, seed)
        _, tokens = sub.tokens_from_16_1(args[0], where, seed)
        _, h = sub.h_after_attention(where, seed)
        expected = attention_by_spec(layer, tokens, *args[1:])
    name = said("h where the feed-forward sub-layer reads it (from the tokens of 16.1: h + self_attn(ln1(h)), then "
                "h + cross_attn(ln2(h), context, context_mask))",
                ja="フィードフォワードのサブレイヤーが読み込む h（16.1 のトークンから h + self_attn(ln1(h))、続いて "
                   "h + cross_attn(ln2(h), context, context_mask)）")  # fmt: skip
    assert_close(h, expected, call=where, seed=seed, name=name)


def h_after_attention(layer, args, where, seed):
    with torch.no_grad():
        return attention_run(layer, args, where, seed).h_after_attention(where, seed)[1]


@pytest.mark.blank("16.2")
@pytest.mark.parametrize("seed, case", PADDED)
def test_16_2_padding_never_read(kata, seed, case):
    layer, (x, context, mask), where = st_case(kata, seed, case)
    h = h_after_attention(layer, (x, context, mask), where, seed)
    noise = torch.randn(context.shape, generator=torch.Generator().manual_seed(100 + seed)) * 10
    changed = torch.where(mask.transpose(1, 2), context, noise)  # (B, Tc, Dc): other features at every pad token
    where_changed = where + said("    (and again with other features at the context's padded tokens)",
                                 ja="    （context のパディングのトークンに別の特徴量を入れて、もう一度）")
    name = said("h after the attention sub-layers, with other features at the padded tokens (the mask hides them)",
                ja="パディングのトークンに別の特徴量を入れたときの、アテンションのサブレイヤーを通ったあとの h"
                   "（マスクがそれらを隠すはず）")  # fmt: skip
    assert_close(h_after_attention(layer, (x, changed, mask), where_changed, seed), h, call=where_changed,
                 seed=seed, name=name)  # fmt: skip
    if close(h_after_attention(layer, (x, context, None), where, seed), h):
        fail(said("h after the attention sub-layers is the same with the mask and without it, although caption 0 "
                  "has padding: the cross-attention must read the text, and the mask must hide its padding",
                  ja="キャプション 0 にはパディングがあるのに、アテンションのサブレイヤーを通ったあとの h がマスクの"
                     "有無で変わりません。クロスアテンションはテキストを読み、マスクはそのパディングを隠す必要があります"),
             where + said("    (and again with context_mask=None)", ja="    （context_mask=None でもう一度）"),
             seed)  # fmt: skip


@pytest.mark.blank("16.2")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES[:3])))
def test_16_2_attention_gradients(kata, seed, case):
    layer, (x, context, mask), where = st_case(kata, seed, case)
    context, context_o = leaves(context, context)
    sub = attention_run(layer, (x, context, mask), where, seed)
    tokens, given = sub.tokens_from_16_1(x, where, seed)
    sub.tokens(where, seed).check_not_changed_after(said("h (the tokens from 16.1)", ja="16.1 のトークン h"),
                                                    where, seed)  # fmt: skip
    h, _ = sub.h_after_attention(where, seed)
    (tokens_o,) = leaves(given)
    inputs = {said("the tokens from 16.1", ja="16.1 のトークン"): (tokens, tokens_o), "context": (context, context_o),
              **parameters(layer, "ln1", "self_attn", "ln2", "cross_attn")}  # fmt: skip
    where += said(", then backward() from h where the feed-forward sub-layer reads it",
                  ja="、続いてフィードフォワードのサブレイヤーが読み込む h から backward()")
    assert_gradients(h, attention_by_spec(layer, tokens_o, context_o, mask), inputs, call=where, seed=seed)


# --- 16.3: feed-forward, back to the image, plus x ---------------------------------------------------


def feed_forward_run(layer, args, where, seed):
    """forward, run to the end; returns (its output, the hooks' record)."""
    sub = SubLayers(layer)
    out = sub.run(layer, *args)
    sub.tokens_from_16_1(args[0], where, seed)
    sub.h_after_attention(where, seed)
    sub.reraise()
    return out, sub


@pytest.mark.blank("16.3")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES)))
def test_16_3_feed_forward_and_back_to_the_image(kata, seed, case):
    layer, args, where = st_case(kata, seed, case)
    x = args[0]
    with torch.no_grad():
        out, sub = feed_forward_run(layer, args, where, seed)
        _, h = sub.h_after_attention(where, seed)
        expected = output_by_spec(layer, h, x)
    assert_tensor(out, shape=x.shape, dtype=x.dtype, call=where, seed=seed)
    name = said("output (from the h the attention sub-layers gave: h + ff(ln3(h)), token i·W + j back at pixel (i, j) "
                "as (B, C, H, W), proj_out, plus x)",
                ja="出力（アテンションのサブレイヤーが出した h から h + ff(ln3(h))、トークン i·W + j をピクセル (i, j) "
                   "に戻して (B, C, H, W) にし、proj_out、最後に x を足したもの）")  # fmt: skip
    assert_close(out, expected, call=where, seed=seed, name=name)


@pytest.mark.blank("16.3")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES[:2])))
def test_16_3_residual_around_x(kata, seed, case):
    layer, args, where = st_case(kata, seed, case)
    with torch.no_grad():
        layer.proj_out.weight.zero_()
        layer.proj_out.bias.zero_()
        out = layer(*args)
    name = said("output with proj_out set to zero (x itself: the layer is a residual around x, x + proj_out(...))",
                ja="proj_out を 0 にしたときの出力（x そのもののはず: この層は x のまわりの残差接続 x + proj_out(...)）")
    assert_close(out, args[0], call=where + said("    (proj_out set to zero)", ja="    （proj_out を 0 にしたもの）"),
                 seed=seed, name=name)  # fmt: skip


@pytest.mark.blank("16.3")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES[:3])))
def test_16_3_feed_forward_gradients(kata, seed, case):
    layer, args, where = st_case(kata, seed, case)
    out, sub = feed_forward_run(layer, args, where, seed)
    h, given = sub.h_after_attention(where, seed)
    sub.first_of_blank("16.3", *FEED_FORWARD).check_not_changed_after(
        said("h after the attention sub-layers", ja="アテンションのサブレイヤーを通ったあとの h"), where, seed)
    (h_o,) = leaves(given)
    inputs = {said("h (where the feed-forward sub-layer reads it)", ja="h（フィードフォワードのサブレイヤーが読み込むところ）"):
              (h, h_o), **parameters(layer, "ln3", "ff", "proj_out")}  # fmt: skip
    assert_gradients(out, output_by_spec(layer, h_o, args[0]), inputs,
                     call=where + said(", then backward()", ja="、続いて backward()"), seed=seed)  # fmt: skip


@pytest.mark.blank("16.3")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES[:3])))
def test_16_3_whole_layer_values_and_gradients(kata, seed, case):
    layer, (x, context, mask), where = st_case(kata, seed, case)  # every blank together: passes once all of them do
    x, context, x_o, context_o = leaves(x, context, x, context)
    out, expected = layer(x, context, mask), spatial_transformer_by_spec(layer, x_o, context_o, mask)
    assert_tensor(out, shape=x.shape, dtype=x.dtype, call=where, seed=seed)
    name = said("output of the whole layer, every blank together (the tokens, the attention sub-layers, the "
                "feed-forward and the way back): where another blank of forward fails, fix that one first",
                ja="層全体の出力（すべての空欄を合わせたもの: トークン、アテンションのサブレイヤー、フィードフォワード、"
                   "画像への戻し。forward のほかの空欄が失敗していれば、先にそちらを直してください）")  # fmt: skip
    assert_close(out, expected, call=where, seed=seed, name=name)
    inputs = {"x": (x, x_o), "context": (context, context_o), **parameters(layer)}
    assert_gradients(out, expected, inputs, call=where + said(", then backward()", ja="、続いて backward()"), seed=seed)


# --- 16.4: ConditionalUNet ----------------------------------------------------------------------

# (UNetConfig's fields, (B, H, W), Tc): n_heads ≠ groups, context_dim ≠ every level's channels, H ≠ W
UNET_CASES = [
    (dict(in_channels=3, channels=(8, 16), attention=(False, True), time_dim=16, groups=4, n_heads=2, context_dim=6),
     (2, 8, 8), 5),
    (dict(in_channels=1, channels=(8, 8, 16), attention=(True, False, True), time_dim=8, groups=2, n_heads=4,
          context_dim=12), (1, 8, 4), 3),
]  # fmt: skip


def unet_case(kata, monkeypatch, seed, case):
    """A ConditionalUNet whose SpatialTransformer is the reference's (16.4 graded alone); x, t, a
    context and its mask (caption 0 padded)."""
    with_reference(monkeypatch, kata, "SpatialTransformer")
    settings, (B, H, W), Tc = case
    torch.manual_seed(seed)
    unet = kata.ConditionalUNet(UNetConfig(**settings))
    x = torch.randn(B, settings["in_channels"], H, W)
    t = torch.randint(0, 1000, (B,))
    context = torch.randn(B, Tc, settings["context_dim"])
    mask = padding_mask(B, Tc, torch.Generator().manual_seed(seed))
    shown = ", ".join(f"{k}={settings[k]}" for k in ("channels", "attention", "groups", "n_heads", "context_dim"))
    return unet, (x, t, context, mask), call(f"ConditionalUNet(UNetConfig({shown}, ...))", x, t, context, mask)


def attention_levels(config):
    """(name as shown, path, channels) of the attention layer of each level with attention, and the middle's."""
    c, L = config.channels, len(config.channels)
    down = [(f"down_attn[{i}]", f"down_attn.{i}", c[i]) for i in range(L) if config.attention[i]]
    up = [(f"up_attn[{L - 1 - i}]", f"up_attn.{L - 1 - i}", c[i]) for i in range(L) if config.attention[i]]
    return [*down, ("mid_attn", "mid_attn", c[-1]), *up]


@pytest.mark.blank("16.4")
@pytest.mark.parametrize("seed, case", list(enumerate(UNET_CASES)))
def test_16_4_a_spatial_transformer_at_every_attention_level(kata, monkeypatch, seed, case):
    unet, _, where = unet_case(kata, monkeypatch, seed, case)
    config = unet.config
    for shown, name, channels in attention_levels(config):
        layer = unet.get_submodule(name)
        if type(layer).__name__ != "SpatialTransformer":
            fail(said(f"self.{shown} is a {type(layer).__name__}: ConditionalUNet.attention must return a "
                      "SpatialTransformer, whose cross-attention reads the prompt (kata 12's SelfAttention2d never "
                      "does)",
                      ja=f"self.{shown} が {type(layer).__name__} です。ConditionalUNet.attention は SpatialTransformer "
                         "を返す必要があります。そのクロスアテンションがプロンプトを読むからです（kata 12 の "
                         "SelfAttention2d は読みません）"), where, seed)  # fmt: skip
        width = layer.cross_attn.k_proj.in_features
        if width != config.context_dim:
            fail(said(f"self.{shown}'s cross-attention reads text {width} wide, but config.context_dim is "
                      f"{config.context_dim}: the keys and values come from the text encoder's features, "
                      "SpatialTransformer(channels, self.config.context_dim, ...)",
                      ja=f"self.{shown} のクロスアテンションは幅 {width} のテキストを読みますが、config.context_dim は "
                         f"{config.context_dim} です。キーとバリューはテキストエンコーダの特徴量から作ります: "
                         "SpatialTransformer(channels, self.config.context_dim, ...)"), where, seed)  # fmt: skip
        heads, groups = layer.self_attn.n_heads, layer.norm.num_groups
        if (heads, groups) == (config.groups, config.n_heads):
            fail(said(f"self.{shown} has {heads} heads and {groups} groups, the config {config.n_heads} heads and "
                      f"{config.groups} groups: n_heads and groups swapped (the signature is SpatialTransformer("
                      "channels, context_dim, n_heads, groups))",
                      ja=f"self.{shown} はヘッドが {heads} 個、グループが {groups} 個ですが、config ではヘッドが "
                         f"{config.n_heads} 個、グループが {config.groups} 個です。n_heads と groups が入れ替わって"
                         "います（シグネチャは SpatialTransformer(channels, context_dim, n_heads, groups) です）"),
                 where, seed)  # fmt: skip
        if heads != config.n_heads or groups != config.groups:
            fail(said(f"self.{shown} has {heads} heads and {groups} groups, the config {config.n_heads} heads and "
                      f"{config.groups} groups: pass self.config.n_heads and self.config.groups",
                      ja=f"self.{shown} はヘッドが {heads} 個、グループが {groups} 個ですが、config ではヘッドが "
                         f"{config.n_heads} 個、グループが {config.groups} 個です。self.config.n_heads と "
                         "self.config.groups を渡してください"), where, seed)  # fmt: skip
        if layer.norm.num_channels != channels:
            fail(said(f"self.{shown} works on {layer.norm.num_channels} channels, its level has {channels}: pass the "
                      "channels attention() was given",
                      ja=f"self.{shown} は {layer.norm.num_channels} チャネルを扱いますが、そのレベルのチャネル数は "
                         f"{channels} です。attention() に渡された channels を渡してください"), where, seed)  # fmt: skip


@pytest.mark.blank("16.4")
@pytest.mark.parametrize("seed, case", list(enumerate(UNET_CASES)))
def test_16_4_output_reads_the_prompt_not_its_padding(kata, monkeypatch, seed, case):
    unet, (x, t, context, mask), where = unet_case(kata, monkeypatch, seed, case)
    other = torch.randn(context.shape, generator=torch.Generator().manual_seed(100 + seed))
    with torch.no_grad():
        out = unet(x, t, context, mask)
        other_prompt = unet(x, t, other, mask)
        padding_changed = unet(x, t, torch.where(mask.transpose(1, 2), context, other * 10), mask)
    assert_tensor(out, shape=x.shape, dtype=x.dtype, call=where, seed=seed)
    if close(other_prompt, out):
        fail(said("the U-Net gave the same output for two different prompts: the text is never read (its attention "
                  "layers must be SpatialTransformers, whose cross-attention reads it)",
                  ja="U-Net が 2 つの異なるプロンプトに同じ出力を返しました。テキストが読まれていません（アテンション"
                     "層は SpatialTransformer である必要があります。そのクロスアテンションがテキストを読みます）"),
             where + said("    (and again with another context)", ja="    （別の context でもう一度）"), seed)  # fmt: skip
    name = said("output with other features at the prompt's padded tokens (the mask hides them: nothing may change)",
                ja="プロンプトのパディングのトークンに別の特徴量を入れたときの出力（マスクがそれらを隠すので、何も"
                   "変わらないはず）")  # fmt: skip
    assert_close(padding_changed, out, call=where + said("    (and again with the padding changed)",
                                                         ja="    （パディングを変えてもう一度）"), seed=seed, name=name)


@pytest.mark.blank("16.4")
def test_16_4_default_sizes_output_shape(kata, monkeypatch):
    with_reference(monkeypatch, kata, "SpatialTransformer")
    torch.manual_seed(16)
    unet = kata.ConditionalUNet(UNetConfig(context_dim=16))
    x, t = torch.randn(1, 3, 16, 16), torch.tensor([999])
    context, mask = torch.randn(1, 4, 16), torch.tensor([[[True, True, False, False]]])
    where = call("ConditionalUNet(UNetConfig(context_dim=16))", x, t, context, mask)
    with torch.no_grad():
        out = unet(x, t, context, mask)
    assert_tensor(out, shape=x.shape, dtype=x.dtype, call=where, seed=16)


@pytest.mark.blank("16.4")
def test_16_4_gradients_reach_the_real_tokens_only(kata, monkeypatch):
    unet, (x, t, context, mask), where = unet_case(kata, monkeypatch, 0, UNET_CASES[0])
    context.requires_grad_()
    (grad,) = torch.autograd.grad(unet(x, t, context, mask).square().sum(), [context])
    where += said(", then backward() to the context", ja="、続いて context まで backward()")
    real = mask.transpose(1, 2).expand_as(grad)  # (B, Tc, Dc)
    if not grad[real].abs().gt(0).any():
        fail(said("no gradient reaches the prompt's real tokens: the text is never read, so training could not "
                  "teach the U-Net to follow it",
                  ja="プロンプトの実際のトークンに勾配が届いていません。テキストが読まれていないので、学習で U-Net に"
                     "プロンプトに従うよう教えることができません"), where, 0)  # fmt: skip
    name = said("the gradient with respect to the context at its padded tokens (never read: exactly zero)",
                ja="パディングのトークンでの context に関する勾配（読まれないので、ちょうど 0 のはず）")
    assert_close(grad.masked_fill(real, 0.0), torch.zeros_like(grad), call=where, seed=0, atol=0.0, rtol=0.0, name=name)


# --- 16.5 and 16.6: the empty caption, condition dropout ---------------------------------------


class Label(str):
    """An argument shown in a call as written: generator=Generator().manual_seed(0)."""

    def __repr__(self) -> str:
        return str(self)


def captions(B, T, gen):
    """(B, T) long: <bos>, 1 to T − 2 words (IDs from UNK_ID + 1 on), <eos>, then <pad>: never the empty caption."""
    words = torch.randint(UNK_ID + 1, 40, (B, T), generator=gen)
    n = torch.randint(1, T - 1, (B, 1), generator=gen)  # words per caption
    at = torch.arange(T)[None, :]
    tokens = torch.where(at <= n, words, torch.where(at == n + 1, EOS_ID, PAD_ID))
    return tokens.masked_fill(at == 0, BOS_ID)


def empty_row(T):
    """The empty caption "" as kata 01 encodes it, padded to T: <bos> <eos> <pad> ... (T,)."""
    return torch.tensor([BOS_ID, EOS_ID] + [PAD_ID] * (T - 2))


def drop_case(B, T, p, seed):
    tokens = captions(B, T, torch.Generator().manual_seed(1000 + seed))
    return tokens, call("drop_condition", tokens, p, generator=Label(f"Generator().manual_seed({seed})"))


def dropped_rows(out, tokens, where, seed):
    """(B,) bool: the captions that came out as the empty caption; every other must come out as it went in."""
    B, T = tokens.shape
    assert_tensor(out, shape=(B, T), dtype=torch.long, call=where, seed=seed, name=said("captions", ja="キャプション"))
    empty = empty_row(T)
    kept, dropped = (out == tokens).all(dim=1), (out == empty).all(dim=1)
    wrong = (~(kept | dropped)).nonzero().flatten()
    if len(wrong):
        b = int(wrong[0])
        row, caption, shown = out[b].tolist(), tokens[b].tolist(), said(f"the empty caption {empty.tolist()}",
                                                                         ja=f"空のキャプション {empty.tolist()}")
        if (out[b] == PAD_ID).all():
            fail(said(f"caption {b} came out all <pad> {row}: a dropped caption becomes the empty caption, <bos> <eos> "
                      f"then <pad>: {empty.tolist()} (empty_caption(B, T))",
                      ja=f"キャプション {b} がすべて <pad> の {row} になっています。落としたキャプションは空のキャプション、"
                         f"つまり <bos> <eos> のあとに <pad> が続く {empty.tolist()} になります（empty_caption(B, T)）"),
                 where, seed)  # fmt: skip
        whole = ((out == tokens) | (out == empty)).all(dim=1)  # each token kept or the empty caption's
        columns = ((out == tokens).all(dim=0) | (out == empty).all(dim=0)).all()  # each position, in every caption
        if whole.all() and columns and B > 1:
            fail(said(f"caption {b} came out {row}, partly itself {caption}, partly {shown}; every caption was cut "
                      "at the same positions: one draw per position (tokens.shape[1]), not per caption "
                      "(tokens.shape[0]); a caption is kept or dropped whole",
                      ja=f"キャプション {b} が {row} になっています。一部は元の {caption}、一部は{shown} です。どの"
                         "キャプションも同じ位置で切られています: 乱数を位置ごとに（tokens.shape[1]）引いていて、"
                         "キャプションごと（tokens.shape[0]）になっていません。キャプションは丸ごと残すか、丸ごと"
                         "落とします"), where, seed)  # fmt: skip
        if whole[b]:
            fail(said(f"caption {b} came out {row}, partly itself {caption}, partly {shown}: a caption is kept or "
                      "dropped whole (one draw per caption, not per token)",
                      ja=f"キャプション {b} が {row} になっています。一部は元の {caption}、一部は{shown} です。"
                         "キャプションは丸ごと残すか、丸ごと落とします（乱数はトークンごとではなく、キャプションごとに "
                         "1 回引きます）"), where, seed)  # fmt: skip
        fail(said(f"caption {b} came out {row}: neither as it went in, {caption}, nor {shown}",
                  ja=f"キャプション {b} が {row} になっています。元の {caption} でも、{shown} でもありません"),
             where, seed)  # fmt: skip
    return dropped


@pytest.mark.blank("16.6")
@pytest.mark.parametrize("seed, p", [(0, 0.1), (1, 0.5), (2, 0.25)])
def test_16_6_each_caption_dropped_with_probability_p(kata, seed, p, monkeypatch):
    with_reference(monkeypatch, kata, "empty_caption")
    B, T = 4000, 6
    tokens, where = drop_case(B, T, p, seed)
    dropped = dropped_rows(kata.drop_condition(tokens, p, torch.Generator().manual_seed(seed)), tokens, where, seed)
    n, mean, sd = int(dropped.sum()), B * p, math.sqrt(B * p * (1 - p))
    if n in (0, B):
        fail(said(f"{'every' if n else 'no'} caption of {B} was dropped with p = {p}: one draw for the whole batch? "
                  "Each caption gets its own draw: torch.rand(B) < p",
                  ja=f"p = {p} で、{B} 個のキャプションが{'すべて落とされました' if n else ' 1 つも落とされませんでした'}。"
                     "バッチ全体で乱数を 1 回しか引いていませんか？ キャプションごとに乱数を引きます: torch.rand(B) < p"),
             where, seed)  # fmt: skip
    if abs(n - mean) > 6 * sd:
        why = said(": about 1 − p of them, so the comparison is the wrong way round",
                   ja="。これはおよそ 1 − p の割合なので、比較の向きが逆です") if abs(B - n - mean) <= 6 * sd else ""
        fail(said(f"dropped {n} of {B} captions with p = {p}: expected about {mean:.0f} (± {6 * sd:.0f}){why}. Each "
                  "caption is dropped with probability p: a uniform draw below p",
                  ja=f"p = {p} で、{B} 個中 {n} 個のキャプションが落とされました。期待されるのはおよそ {mean:.0f} 個"
                     f"（± {6 * sd:.0f}）です{why}。各キャプションは確率 p で落とします: 一様乱数が p を下回るときです"),
             where, seed)  # fmt: skip


@pytest.mark.blank("16.6")
@pytest.mark.parametrize("seed, case", [(3, (200, 6)), (4, (50, 3)), (5, (1, 8))])
def test_16_6_whole_captions_only(kata, seed, case, monkeypatch):
    with_reference(monkeypatch, kata, "empty_caption")
    B, T = case
    tokens, where = drop_case(B, T, 0.5, seed)
    dropped_rows(kata.drop_condition(tokens, 0.5, torch.Generator().manual_seed(seed)), tokens, where, seed)


@pytest.mark.blank("16.6")
def test_16_6_p_0_keeps_every_caption(kata, monkeypatch):
    with_reference(monkeypatch, kata, "empty_caption")
    tokens, where = drop_case(100, 5, 0.0, 6)
    out = kata.drop_condition(tokens, 0.0, torch.Generator().manual_seed(6))
    dropped = dropped_rows(out, tokens, where, 6)
    if dropped.any():
        fail(said(f"{int(dropped.sum())} of 100 captions were dropped with p = 0: none may be (drop where the draw is "
                  "below p, and no draw is below 0)",
                  ja=f"p = 0 なのに、100 個中 {int(dropped.sum())} 個のキャプションが落とされました。1 つも落としては"
                     "いけません（乱数が p を下回るときに落とすので、0 を下回る乱数はありません）"), where, 6)  # fmt: skip


@pytest.mark.blank("16.6")
@pytest.mark.parametrize("seed, case", [(7, (40, 5)), (8, (3, 3))])
def test_16_6_p_1_every_caption_empty(kata, seed, case, monkeypatch):
    with_reference(monkeypatch, kata, "empty_caption")
    B, T = case
    tokens, where = drop_case(B, T, 1.0, seed)
    out = kata.drop_condition(tokens, 1.0, torch.Generator().manual_seed(seed))
    dropped_rows(out, tokens, where, seed)
    name = said("captions with p = 1 (every one the empty caption: <bos> <eos> then <pad>)",
                ja="p = 1 のときのキャプション（すべて空のキャプション: <bos> <eos> のあとに <pad>）")
    assert_close(out, empty_row(T).expand(B, T), call=where, seed=seed, name=name)


@pytest.mark.blank("16.6")
def test_16_6_draws_from_the_generator(kata, monkeypatch):
    with_reference(monkeypatch, kata, "empty_caption")
    tokens, where = drop_case(64, 6, 0.5, 3)
    state = torch.get_rng_state()
    first = kata.drop_condition(tokens, 0.5, torch.Generator().manual_seed(3))
    if not torch.equal(torch.get_rng_state(), state):
        fail(said("drop_condition drew from torch's global random numbers: draw from the generator passed in "
                  "(torch.rand(B, generator=generator)), so that its seed alone decides which captions are dropped",
                  ja="drop_condition が torch のグローバルな乱数を使っています。渡されたジェネレータから引いてください"
                     "（torch.rand(B, generator=generator)）。そうすれば、どのキャプションを落とすかがそのシードだけで"
                     "決まります"),
             where, 3)  # fmt: skip
    torch.manual_seed(1)  # another global state changes nothing
    again = kata.drop_condition(tokens, 0.5, torch.Generator().manual_seed(3))
    assert_tensor(first, shape=tokens.shape, dtype=torch.long, call=where, seed=3,
                  name=said("captions", ja="キャプション"))  # fmt: skip
    if not torch.equal(first, again):
        fail(said("two calls with generators seeded alike dropped different captions: draw from the generator passed "
                  "in (generator=generator)",
                  ja="同じシードのジェネレータで 2 回呼び出したのに、落とされたキャプションが違います。渡された"
                     "ジェネレータから引いてください（generator=generator）"), where, 3)  # fmt: skip
    if torch.equal(first, kata.drop_condition(tokens, 0.5, torch.Generator().manual_seed(4))):
        fail(said("generators seeded differently dropped the same captions (64 of them, p = 0.5)",
                  ja="異なるシードのジェネレータで、同じキャプションが落とされました（64 個、p = 0.5）"), where, 3)  # fmt: skip
    where = call("drop_condition", tokens, 0.5)
    assert_tensor(kata.drop_condition(tokens, 0.5), shape=tokens.shape, dtype=torch.long, call=where,
                  name=said("captions (no generator: torch's own)", ja="キャプション（ジェネレータなし: torch 自身の乱数）"))  # fmt: skip


@pytest.mark.blank("16.5")
@pytest.mark.parametrize("B, T", [(1, 2), (3, 5), (2, 9)])
def test_16_5_the_empty_caption_is_bos_eos_then_padding(kata, B, T):
    where = call("empty_caption", B, T)
    out = kata.empty_caption(B, T)
    assert_tensor(out, shape=(B, T), dtype=torch.long, call=where, name=said("empty captions", ja="空のキャプション"))
    expected = torch.tensor([BOS_ID, EOS_ID] + [PAD_ID] * (T - 2)).expand(B, T)  # kata 01's encode(""), padded
    assert_close(out, expected, call=where,
                 name=said("empty captions (<bos> <eos>, then <pad>: kata 01's encode(\"\") padded)",
                           ja="空のキャプション（<bos> <eos> のあとに <pad>: kata 01 の encode(\"\") をパディングしたもの）"))
