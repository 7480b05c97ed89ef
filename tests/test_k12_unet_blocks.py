"""Tests of kata 12: the U-Net's blocks.

Oracles: torch's functionals with the block's own weights: F.group_norm, F.silu, F.conv2d,
F.linear; nearest-neighbour upsampling as repeat_interleave; kata 04's multi-head attention
written with F.scaled_dot_product_attention over the H·W pixels (token i·W + j is pixel (i, j)).
The three blanks of ResBlock.forward are graded one at a time by hooks on the block's own
layers: the first layer by what conv1 was given (forward stops there, so 12.2 and 12.3 need not
be written yet) and by h where the second layer reads it, with time_proj and the 1×1 skip set to
zero; the time by the difference two time vectors make to that h (the first layer does not
read temb); the second layer and the skip from whatever h it was given. Gradients: backward
through the learner's output and the oracle's, the oracle run on a deep copy
(assert_gradients); for ResBlock from the same cut points (h is a tensor of the graph too).
"""

import copy

import pytest
import torch
import torch.nn.functional as F
from support import assert_close, assert_gradients, assert_tensor, call, fail, randomise_group_norms, said
from torch import nn


def group_norm(norm, x):
    return F.group_norm(x, norm.num_groups, norm.weight, norm.bias, norm.eps)


def conv(layer, x):
    return F.conv2d(x, layer.weight, layer.bias, stride=layer.stride, padding=layer.padding)




def leaves(*tensors):
    """Copies that require gradients: the learner's inputs, and the oracle's own."""
    return [t.detach().clone().requires_grad_() for t in tensors]


def parameter_pairs(module, oracle, *prefixes):
    """{"self.name": (the module's parameter, the oracle's)} for the parameters under `prefixes`."""
    theirs = dict(oracle.named_parameters())
    return {f"self.{n}": (p, theirs[n]) for n, p in module.named_parameters() if n.split(".")[0] in prefixes}


# --- ResBlock ---------------------------------------------------------------------------------


class Stop(Exception):
    """Raised by a hook once the test has seen what it needs: the rest of forward does not run."""


class Layers:
    """Hooks on a ResBlock's own layers, so each blank of forward is graded alone. Records what
    norm1, conv1, norm2 and conv2 are given, call by call (the tensor, in the autograd graph, and a
    copy of its values then). stop="conv1" ends forward once conv1 has run; stop="second layer"
    once the second half is about to read h (see `h`)."""

    def __init__(self, block, stop=None):
        self.stop, self.calls = stop, []
        self.handles = [getattr(block, n).register_forward_pre_hook(self._given(n), with_kwargs=True)
                        for n in ("norm1", "conv1", "norm2", "conv2")]  # fmt: skip
        self.handles.append(block.conv1.register_forward_hook(self._conv1_ran))

    def _given(self, name):
        def hook(module, args, kwargs):
            given = args[0] if args else next(iter(kwargs.values()))
            self.calls.append((name, given, given.detach().clone()))
            if self.stop == "second layer" and self.h() is not None:
                raise Stop

        return hook

    def _conv1_ran(self, module, args, output):
        if self.stop == "conv1":
            raise Stop

    def h(self):
        """h as the second half of the block found it: what the first layer called after conv1 was
        given (norm2; conv2 or norm1 in some mistakes): (the tensor, a copy of it then), or None."""
        names = [c[0] for c in self.calls]
        if "conv1" not in names:
            return None
        after = self.calls[names.index("conv1") + 1 :]
        return next(((t, copy) for name, t, copy in after if name in ("norm1", "norm2", "conv2")), None)

    def run(self, block, x, temb):
        """block(x, temb), or None where a hook stopped it; the hooks are removed after."""
        try:
            return block(x, temb)
        except Stop:
            return None
        finally:
            for handle in self.handles:
                handle.remove()

    def conv1_given(self, where, seed):
        found = next((copy for name, _, copy in self.calls if name == "conv1"), None)
        if found is None:
            fail(said("ResBlock.forward never called self.conv1: the first layer is self.norm1, SiLU, then self.conv1",
                      ja="ResBlock.forward が self.conv1 を一度も呼んでいません: 一つ目の層は self.norm1、SiLU、"
                      "そして self.conv1 です"), where, seed)  # fmt: skip
        return found

    def h_at_second_layer(self, where, seed):
        found = self.h()
        if found is None:
            fail(said("ResBlock.forward never called self.norm2 after self.conv1: the second layer starts with it "
                      "(use the block's own layers: self.norm1, self.conv1, self.time_proj, self.norm2, self.conv2, "
                      "self.skip)",
                      ja="ResBlock.forward が self.conv1 のあとに self.norm2 を一度も呼んでいません: 二つ目の層は "
                      "self.norm2 から始まります（ブロック自身の層を使ってください: self.norm1、self.conv1、"
                      "self.time_proj、self.norm2、self.conv2、self.skip）"), where, seed)  # fmt: skip
        return found


def first_layer(block, x):
    return conv(block.conv1, F.silu(group_norm(block.norm1, x)))


def time_term(block, temb):
    """time_proj(SiLU(temb)) as (B, C_out, 1, 1): one value per image and channel."""
    return F.linear(F.silu(temb), block.time_proj.weight, block.time_proj.bias)[:, :, None, None]


def second_layer(block, h, x):
    skip = x if isinstance(block.skip, nn.Identity) else conv(block.skip, x)
    return conv(block.conv2, F.silu(group_norm(block.norm2, h))) + skip


# (B, C_in, C_out, H, W, D, groups): the first keeps the channels (skip = identity) with H = W = C_out,
# where a time vector broadcast along W or H still runs; then 1×1 skips, H ≠ W, batch 1, one group
RES_CASES = [
    (2, 8, 8, 8, 8, 12, 4),
    (1, 8, 16, 4, 6, 8, 8),
    (3, 16, 8, 6, 4, 10, 2),
    (2, 4, 4, 3, 5, 6, 1),
]
SKIP_CONV_CASES = [(1, RES_CASES[1]), (2, RES_CASES[2])]  # C_in ≠ C_out: a 1×1 conv that can be set to zero


def res_case(kata, seed, case):
    B, C_in, C_out, H, W, D, groups = case
    torch.manual_seed(seed)
    block = kata.ResBlock(C_in, C_out, D, groups)
    randomise_group_norms(block)
    x = torch.randn(B, C_in, H, W) * 2 + 0.5
    temb = torch.randn(B, D) * 2
    where = call(f"ResBlock({C_in}, {C_out}, time_dim={D}, groups={groups})", x, temb)
    return block, x, temb, where


def first_layer_alone(kata, seed, case):
    """A block whose time_proj and 1×1 skip are zero: h reaches the second layer as the first left it."""
    block, x, temb, where = res_case(kata, seed, case)
    with torch.no_grad():
        for p in [*block.time_proj.parameters(), *block.skip.parameters()]:
            p.zero_()
    return block, x, temb, where + "    (time_proj and skip set to zero)"


@pytest.mark.blank("12.1")
@pytest.mark.parametrize("seed, case", list(enumerate(RES_CASES)))
def test_12_1_conv1_given_silu_of_norm1(kata, seed, case):
    block, x, temb, where = res_case(kata, seed, case)
    layers = Layers(block, stop="conv1")
    with torch.no_grad():
        layers.run(block, x, temb)
        expected = F.silu(group_norm(block.norm1, x))
    name = said("what conv1 was given (SiLU(norm1(x)): normalise, activate, then convolve)",
                ja="conv1 に渡されたもの（SiLU(norm1(x)): 正規化し、活性化してから畳み込みます）")
    assert_close(layers.conv1_given(where, seed), expected, call=where, seed=seed, name=name)


@pytest.mark.blank("12.1")
@pytest.mark.parametrize("seed, case", SKIP_CONV_CASES)
def test_12_1_h_is_conv1_output(kata, seed, case):
    block, x, temb, where = first_layer_alone(kata, seed, case)
    layers = Layers(block, stop="second layer")
    with torch.no_grad():
        layers.run(block, x, temb)
        expected = first_layer(block, x)
    _, h = layers.h_at_second_layer(where, seed)
    name = said("h after the first layer, as the second layer found it (conv1(SiLU(norm1(x))), nothing after the conv)",
                ja="二つ目の層が受け取った、一つ目の層のあとの h（conv1(SiLU(norm1(x)))。畳み込みのあとには何もしません）")
    assert_close(h, expected, call=where, seed=seed, name=name)


@pytest.mark.blank("12.1")
@pytest.mark.parametrize("seed, case", SKIP_CONV_CASES)
def test_12_1_first_layer_gradients(kata, seed, case):
    block, x, temb, where = first_layer_alone(kata, seed, case)
    oracle = copy.deepcopy(block)  # the same weights, leaves of its own
    x, x_o = leaves(x, x)
    layers = Layers(block, stop="second layer")
    layers.run(block, x, temb)
    h, _ = layers.h_at_second_layer(where, seed)
    inputs = {"x": (x, x_o), **parameter_pairs(block, oracle, "norm1", "conv1")}
    where += ", then backward() from h where the second layer reads it"
    assert_gradients(h, first_layer(oracle, x_o), inputs, call=where, seed=seed)


@pytest.mark.blank("12.2")
@pytest.mark.parametrize("seed, case", list(enumerate(RES_CASES)))
def test_12_2_time_added_per_channel(kata, seed, case):
    block, x, temb, where = res_case(kata, seed, case)
    other = torch.randn(temb.shape) * 2
    reached = []
    for t in (temb, other):
        layers = Layers(block, stop="second layer")
        with torch.no_grad():
            layers.run(block, x, t)
        reached.append(layers.h_at_second_layer(where, seed)[1])
    where += f"    and again with another temb {tuple(other.shape)}"
    with torch.no_grad():
        expected = (time_term(block, temb) - time_term(block, other)).expand_as(reached[0])
    difference = reached[0] - reached[1]  # the first layer does not read temb: the time term is what differs
    if not difference.any():
        fail(said("h reached the second layer the same whatever temb was: the time vector was not added "
                  "(h = h + time_proj(SiLU(temb)), one value per channel)",
                  ja="temb が何であっても、二つ目の層に届く h が同じです: 時刻ベクトルが足されていません"
                  "（h = h + time_proj(SiLU(temb))、チャネルごとに一つの値）"), where, seed)  # fmt: skip
    name = said("the difference two time vectors make to h where the second layer reads it (time_proj(SiLU(temb))"
                "[:, :, None, None]: one value per image and channel, the same at every pixel)",
                ja="二つの時刻ベクトルが、二つ目の層の読む h に生む差（time_proj(SiLU(temb))[:, :, None, None]: "
                "画像とチャネルごとに一つの値で、どのピクセルでも同じ）")  # fmt: skip
    assert_close(difference, expected, call=where, seed=seed, name=name)


@pytest.mark.blank("12.2")
@pytest.mark.parametrize("seed, case", list(enumerate(RES_CASES[:2])))
def test_12_2_time_term_gradients(kata, seed, case):
    block, x, temb, where = res_case(kata, seed, case)
    oracle = copy.deepcopy(block)
    temb, temb_o = leaves(temb, temb)
    layers = Layers(block, stop="second layer")
    layers.run(block, x, temb)
    h, _ = layers.h_at_second_layer(where, seed)
    expected = time_term(oracle, temb_o).expand_as(h)  # the part of h that temb and time_proj reach
    inputs = {"temb": (temb, temb_o), **parameter_pairs(block, oracle, "time_proj")}
    where += ", then backward() from h where the second layer reads it"
    assert_gradients(h, expected, inputs, call=where, seed=seed)


@pytest.mark.blank("12.3")
@pytest.mark.parametrize("seed, case", list(enumerate(RES_CASES)))
def test_12_3_second_layer_and_skip(kata, seed, case):
    block, x, temb, where = res_case(kata, seed, case)
    layers = Layers(block)
    with torch.no_grad():
        out = layers.run(block, x, temb)
    _, h = layers.h_at_second_layer(where, seed)
    assert_tensor(out, shape=h.shape, dtype=x.dtype, call=where, seed=seed)
    with torch.no_grad():
        expected = second_layer(block, h, x)
    skip = "x" if isinstance(block.skip, nn.Identity) else said("skip(x), a 1×1 conv: C_in ≠ C_out",
                                                                ja="skip(x)、1×1 の畳み込み: C_in ≠ C_out")
    name = said(f"output (conv2(SiLU(norm2(h))) + {skip}, from the h the second layer was given)",
                ja=f"出力（conv2(SiLU(norm2(h))) + {skip}。二つ目の層に渡された h から計算）")
    assert_close(out, expected, call=where, seed=seed, name=name)


@pytest.mark.blank("12.3")
@pytest.mark.parametrize("seed, case", list(enumerate(RES_CASES[:3])))
def test_12_3_second_layer_gradients(kata, seed, case):
    block, x, temb, where = res_case(kata, seed, case)
    oracle = copy.deepcopy(block)
    layers = Layers(block)
    out = layers.run(block, x, temb)
    h, h_then = layers.h_at_second_layer(where, seed)
    (h_o,) = leaves(h_then)
    inputs = {said("h (where the second layer reads it)", ja="h（二つ目の層が読むところ）"): (h, h_o),
              **parameter_pairs(block, oracle, "norm2", "conv2", "skip")}  # fmt: skip
    assert_gradients(out, second_layer(oracle, h_o, x), inputs, call=where + ", then backward()", seed=seed)


# --- Upsample ---------------------------------------------------------------------------------


def upsample_by_spec(layer, x):
    """Each pixel repeated into a 2×2 block (rows, then columns), then the 3×3 conv."""
    return conv(layer.conv, x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3))


UP_CASES = [(2, 8, 4, 4), (1, 3, 3, 5), (3, 16, 2, 1), (1, 4, 1, 1)]  # (B, C, H, W)


@pytest.mark.blank("12.4")
@pytest.mark.parametrize("seed, case", list(enumerate(UP_CASES)))
def test_12_4_nearest_then_conv(kata, seed, case):
    B, C, H, W = case
    torch.manual_seed(seed)
    layer = kata.Upsample(C)
    x = torch.randn(B, C, H, W)
    with torch.no_grad():
        out = layer(x)
        expected = upsample_by_spec(layer, x)
    where = call(f"Upsample({C})", x)
    assert_tensor(out, shape=(B, C, 2 * H, 2 * W), dtype=x.dtype, call=where, seed=seed)
    name = said("output (conv(each pixel repeated 2×2): nearest neighbour, then the conv)",
                ja="出力（conv(各ピクセルを 2×2 に繰り返したもの): 最近傍補間、そのあと畳み込み）")
    assert_close(out, expected, call=where, seed=seed, name=name)


@pytest.mark.blank("12.4")
@pytest.mark.parametrize("seed, case", list(enumerate(UP_CASES[:2])))
def test_12_4_upsample_gradients(kata, seed, case):
    B, C, H, W = case
    torch.manual_seed(seed)
    layer = kata.Upsample(C)
    oracle = copy.deepcopy(layer)
    x = torch.randn(B, C, H, W)
    x, x_o = leaves(x, x)
    inputs = {"x": (x, x_o), **parameter_pairs(layer, oracle, "conv")}
    where = call(f"Upsample({C})", x) + ", then backward()"
    assert_gradients(layer(x), upsample_by_spec(oracle, x_o), inputs, call=where, seed=seed)


# --- SelfAttention2d --------------------------------------------------------------------------


def attention_by_torch(attn, tokens):
    """Kata 04's multi-head self-attention, with F.scaled_dot_product_attention and attn's weights."""
    B, T, D = tokens.shape
    H = attn.n_heads
    q, k, v = (F.linear(tokens, p.weight, p.bias).view(B, T, H, D // H).transpose(1, 2)
               for p in (attn.q_proj, attn.k_proj, attn.v_proj))  # fmt: skip
    out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, T, D)  # (B, T, D)
    return F.linear(out, attn.out_proj.weight, attn.out_proj.bias)


def self_attention_by_spec(layer, x):
    """x + attention among the pixels of GroupNorm(x); pixel (i, j) is token i·W + j."""
    B, C, H, W = x.shape
    tokens = group_norm(layer.norm, x).permute(0, 2, 3, 1).reshape(B, H * W, C)  # (B, H·W, C)
    out = attention_by_torch(layer.attn, tokens).reshape(B, H, W, C).permute(0, 3, 1, 2)  # (B, C, H, W)
    return x + out


# (B, C, H, W, heads, groups): the first has H·W = C, where attention over the channels still runs
ATTENTION_CASES = [(2, 16, 2, 8, 4, 8), (1, 8, 8, 8, 2, 4), (3, 8, 3, 5, 1, 2), (2, 16, 4, 6, 4, 8)]


def attention_case(kata, seed, case):
    B, C, H, W, heads, groups = case
    torch.manual_seed(seed)
    layer = kata.SelfAttention2d(C, heads, groups)
    randomise_group_norms(layer)
    x = torch.randn(B, C, H, W) + 0.5
    return layer, x, call(f"SelfAttention2d({C}, n_heads={heads}, groups={groups})", x)


@pytest.mark.blank("12.5")
@pytest.mark.parametrize("seed, case", list(enumerate(ATTENTION_CASES)))
def test_12_5_attention_among_pixels(kata, seed, case):
    layer, x, where = attention_case(kata, seed, case)
    with torch.no_grad():
        out = layer(x)
        expected = self_attention_by_spec(layer, x)
    assert_tensor(out, shape=x.shape, dtype=x.dtype, call=where, seed=seed)
    name = said("output (x + attention among the H·W pixels of norm(x), each pixel a token of C features)",
                ja="出力（x + norm(x) の H·W 個のピクセルの間のアテンション。各ピクセルが C 個の特徴を持つトークン）")
    assert_close(out, expected, call=where, seed=seed, name=name)


@pytest.mark.blank("12.5")
@pytest.mark.parametrize("seed, case", list(enumerate(ATTENTION_CASES[1:3])))
def test_12_5_each_output_stays_at_its_pixel(kata, seed, case):
    layer, x, where = attention_case(kata, seed, case)
    B, C, H, W = x.shape
    order = torch.randperm(H * W, generator=torch.Generator().manual_seed(seed))
    shuffled = x.flatten(2)[:, :, order].reshape(B, C, H, W)
    with torch.no_grad():
        out, out_shuffled = layer(x), layer(shuffled)
    where = call(f"SelfAttention2d({C})", shuffled) + "    (x with its pixels shuffled)"
    name = said("output for the shuffled pixels (attention has no notion of place: shuffling the pixels "
                "shuffles the output the same way, each pixel's output stays at its pixel)",
                ja="ピクセルを並べ替えたときの出力（アテンションは位置を知りません: ピクセルを並べ替えると出力も同じ"
                "ように並べ替わり、各ピクセルの出力はそのピクセルに留まります）")  # fmt: skip
    assert_close(out_shuffled, out.flatten(2)[:, :, order].reshape(B, C, H, W), call=where, seed=seed, name=name)


@pytest.mark.blank("12.5")
@pytest.mark.parametrize("seed, case", list(enumerate(ATTENTION_CASES[:2])))
def test_12_5_context_is_ignored(kata, seed, case):
    layer, x, _ = attention_case(kata, seed, case)
    B, C = x.shape[:2]
    context = torch.randn(B, 5, C)
    mask = torch.tensor([True, True, False, True, False]).expand(B, 1, 5)
    with torch.no_grad():
        out = layer(x, context, mask)
        expected = self_attention_by_spec(layer, x)
    where = call(f"SelfAttention2d({C})", x, context, mask)
    name = said("output given a context and its mask (self-attention ignores both: only kata 16's layers read them)",
                ja="コンテキストとそのマスクを与えたときの出力（自己注意はどちらも無視します: それらを読むのは kata 16 "
                "の層だけです）")
    assert_close(out, expected, call=where, seed=seed, name=name)


@pytest.mark.blank("12.5")
@pytest.mark.parametrize("seed, case", list(enumerate(ATTENTION_CASES[1:3])))
def test_12_5_attention_gradients(kata, seed, case):
    layer, x, where = attention_case(kata, seed, case)
    oracle = copy.deepcopy(layer)
    x, x_o = leaves(x, x)
    inputs = {"x": (x, x_o), **parameter_pairs(layer, oracle, "norm", "attn")}
    assert_gradients(layer(x), self_attention_by_spec(oracle, x_o), inputs, call=where + ", then backward()", seed=seed)
