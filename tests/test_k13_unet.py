"""Tests of kata 13: the U-Net.

Oracles: the U-Net's forward written out in the test from the module's own parts (time, inc,
down_blocks, down_attn, downsamples, mid1, mid_attn, mid2, up_blocks, up_attn, upsamples,
out_norm, out_conv): the blocks are kata 12's, given parts; the wiring, the time vector (the
sinusoidal code and kata 11's MLP, written with F.linear) and the output layer (F.group_norm,
F.silu, F.conv2d) are the test's own. The five blanks of forward are graded one at a time:
hooks on the parts record what each was given, in order, and a part can end the forward pass
(Stop) once the test has seen what it needs, so the middle is graded from whatever the down
path gave it, and so on. Every test passes a context and its mask: self-attention ignores
them, but the hooks see whether each attention layer was given them, the one path by which
text will reach this network (kata 16). The last tests of 13.5 run the whole U-Net against
the one written here: they pass once every blank does. Gradients: backward through the
learner's output and the oracle's (assert_gradients), both with the module's own parameters,
in graphs of their own.
"""

import inspect
import math
import re

import pytest
import torch
import torch.nn.functional as F
from support import assert_close, assert_gradients, assert_tensor, call, fail, randomise_group_norms, said
from torch import nn

# 2 and 3 levels, 3 and 1 image channels, H ≠ W, batch 1 and more, attention at different levels
CASES = [  # (UNetConfig's fields, (B, H, W))
    (dict(in_channels=3, channels=(8, 16), attention=(False, True), time_dim=16, groups=4, n_heads=2), (2, 8, 8)),
    (dict(in_channels=1, channels=(8, 8, 16), attention=(False, True, True), time_dim=12, groups=4, n_heads=2),
     (1, 8, 12)),
    (dict(in_channels=3, channels=(8, 16, 16), attention=(True, False, True), time_dim=8, groups=2, n_heads=4),
     (3, 4, 8)),
]  # fmt: skip




def unet_case(kata, seed, case):
    """A U-Net with random GroupNorms; images x, timesteps t, and a context (B, 5, 6) with its
    mask (B, 1, 5): self-attention ignores them, but every attention layer must be given them."""
    settings, (B, H, W) = case
    torch.manual_seed(seed)
    unet = kata.UNet(kata.UNetConfig(**settings))
    randomise_group_norms(unet)
    x = torch.randn(B, settings["in_channels"], H, W)
    t = torch.randint(0, 1000, (B,))
    context = torch.randn(B, 5, 6)
    mask = torch.tensor([True, True, True, False, False]).expand(B, 1, 5)
    shown = ", ".join(f"{k}={settings[k]}" for k in ("in_channels", "channels", "attention"))
    return unet, (x, t, context, mask), call(f"UNet(UNetConfig({shown}, ...))", x, t, context, mask)


def levels(unet):
    return len(unet.config.channels)


def shown(name):
    """'down_blocks.1' → 'self.down_blocks[1]'."""
    return "self." + re.sub(r"\.(\d+)", r"[\1]", name)


# --- the test's own U-Net, from the module's parts ------------------------------------------


def conv(layer, x):
    return F.conv2d(x, layer.weight, layer.bias, stride=layer.stride, padding=layer.padding)


def time_by_spec(mlp, t):
    """Kata 11: the sinusoidal code of t (cosines, then sines, a zero column for an odd width), fc1, SiLU, fc2."""
    half = mlp.embed_dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None, :]  # (B, half)
    code = torch.cat([angles.cos(), angles.sin(), torch.zeros(len(t), mlp.embed_dim % 2)], dim=1)  # (B, E)
    return F.linear(F.silu(F.linear(code, mlp.fc1.weight, mlp.fc1.bias)), mlp.fc2.weight, mlp.fc2.bias)


def output_by_spec(unet, h):
    norm = unet.out_norm
    return conv(unet.out_conv, F.silu(F.group_norm(h, norm.num_groups, norm.weight, norm.bias, norm.eps)))


def unet_by_spec(unet, x, t, context=None, mask=None):
    """The U-Net written out: every ResBlock gets the time vector, every attention the context;
    a skip kept at each level before downsampling, used last-in first-out, after h: cat([h, skip])."""
    temb = time_by_spec(unet.time, t)
    h = conv(unet.inc, x)
    skips = []
    for i in range(levels(unet)):
        h = unet.down_attn[i](unet.down_blocks[i](h, temb), context, mask)
        skips.append(h)
        h = unet.downsamples[i](h)
    h = unet.mid2(unet.mid_attn(unet.mid1(h, temb), context, mask), temb)
    for j in range(levels(unet)):
        h = torch.cat([h, skips.pop()], dim=1)
        h = unet.upsamples[j](unet.up_attn[j](unet.up_blocks[j](h, temb), context, mask))
    return output_by_spec(unet, h)


# --- hooks on the parts ---------------------------------------------------------------------


class Stop(Exception):
    """Raised by a hook once the test has seen what it needs: the rest of forward does not run."""


class Call:
    def __init__(self, name, live):
        self.name, self.live = name, live  # the arguments by name, as given (in the autograd graph)
        self.given = {k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in live.items()}
        self.live_out = self.out = None

    @property
    def x(self):
        """A copy of the first argument: the image-like tensor every part takes first."""
        return next(iter(self.given.values()))


def part_names(unet):
    per_level = [f"{part}.{i}" for i in range(levels(unet)) for part in ("down_blocks", "down_attn", "downsamples")]
    up = [f"{part}.{j}" for j in range(levels(unet)) for part in ("up_blocks", "up_attn", "upsamples")]
    return ["time", "inc", *per_level, "mid1", "mid_attn", "mid2", *up, "out_norm", "out_conv"]


def resblocks(unet):
    return [n for n in part_names(unet) if n.startswith(("down_blocks", "up_blocks", "mid1", "mid2"))]


class Parts:
    """Hooks on the U-Net's parts: each call, in order, with its arguments by name and its output.
    stop_before: the parts whose first call ends forward before they run; stop_after: after."""

    def __init__(self, unet, stop_before=(), stop_after=()):
        self.calls, self.handles = [], []
        for name in part_names(unet):
            module = unet.get_submodule(name)
            signature = inspect.signature(module.forward)
            given, gave = self._given(name, signature, stop_before), self._gave(name, stop_after)
            self.handles += [module.register_forward_pre_hook(given, with_kwargs=True),
                             module.register_forward_hook(gave, with_kwargs=True)]  # fmt: skip

    def _given(self, name, signature, stop_before):
        def hook(module, args, kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                arguments = dict(bound.arguments)
            except TypeError:  # a wrong call: the part itself will say so
                arguments = {f"arg{i}": a for i, a in enumerate(args)} | kwargs
            self.calls.append(Call(name, arguments))
            if name in stop_before:
                raise Stop

        return hook

    def _gave(self, name, stop_after):
        def hook(module, args, kwargs, output):
            call = next(c for c in reversed(self.calls) if c.name == name)
            call.live_out, call.out = output, output.detach().clone()
            if name in stop_after:
                raise Stop

        return hook

    def run(self, unet, *args):
        """unet(*args), or None where a hook stopped it; the hooks are removed after."""
        try:
            return unet(*args)
        except Stop:
            return None
        finally:
            for handle in self.handles:
                handle.remove()

    def first(self, name, where, seed, why=""):
        found = next((c for c in self.calls if c.name == name), None)
        if found is None:
            fail(said(f"UNet.forward never called {shown(name)}{why}",
                      ja=f"UNet.forward が {shown(name)} を一度も呼んでいません{why}"), where, seed)
        return found

    def in_order(self, names, where, seed, why=""):
        """The first call of each part, checking that they came in this order."""
        calls = [self.first(name, where, seed, why) for name in names]
        at = [self.calls.index(c) for c in calls]
        for a, b, i, j in zip(names, names[1:], at, at[1:]):
            if j < i:
                fail(said(f"UNet.forward called {shown(b)} before {shown(a)}{why}",
                          ja=f"UNet.forward が {shown(a)} より先に {shown(b)} を呼んでいます{why}"), where, seed)
        return dict(zip(names, calls))


def parameters(unet, *parts):
    """{"self.name": (p, p)}: the learner's forward and the test's use the same parameters (in graphs of their own)."""
    return {f"self.{n}": (p, p) for n, p in unet.named_parameters() if not parts or n.split(".")[0] in parts}


def close(a, b):
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def check_temb(call_, temb, where, seed):
    name = said(f"the time vector {shown(call_.name)} was given (the same temb for every ResBlock)",
                ja=f"{shown(call_.name)} に渡された時刻ベクトル（どの ResBlock にも同じ temb を渡します）")
    assert_close(call_.given.get("temb"), temb, call=where, seed=seed, name=name)


def check_context(call_, args, where, seed):
    """Was the attention layer of this call given forward's context and its mask?"""
    context, mask = args[2:]
    got, got_mask = call_.live.get("context"), call_.live.get("context_mask")
    layer = shown(call_.name)
    how = said("every attention layer takes them: attn(h, context, context_mask)",
               ja="アテンション層はどれもこれらを受け取ります: attn(h, context, context_mask)")
    if got is None:
        fail(said(f"{layer} was given no context: {how}", ja=f"{layer} にコンテキストが渡されていません: {how}"),
             where, seed)  # fmt: skip
    if got is mask:
        fail(said(f"{layer} was given the mask as its context: {how}",
                  ja=f"{layer} にコンテキストとしてマスクが渡されています: {how}"), where, seed)
    assert_close(call_.given["context"], context, call=where, seed=seed,
                 name=said(f"the context {layer} was given", ja=f"{layer} に渡されたコンテキスト"))
    if got_mask is None:
        fail(said(f"{layer} was given the context but not its mask: {how}",
                  ja=f"{layer} にコンテキストは渡されていますが、そのマスクが渡されていません: {how}"), where, seed)
    assert_close(call_.given["context_mask"], mask, call=where, seed=seed,
                 name=said(f"the context mask {layer} was given", ja=f"{layer} に渡されたコンテキストのマスク"))


# --- 13.1: the time vector and the input conv -------------------------------------------------


@pytest.mark.blank("13.1")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES)))
def test_13_1_time_vector_and_input_conv(kata, seed, case):
    unet, args, where = unet_case(kata, seed, case)
    parts = Parts(unet, stop_before=resblocks(unet))  # the first ResBlock called: the first of the down path
    with torch.no_grad():
        parts.run(unet, *args)
        x, t = args[:2]
        expected_temb, expected_h = time_by_spec(unet.time, t), conv(unet.inc, x)
    first = next((c for c in parts.calls if c.name in resblocks(unet)), None)
    if first is None:
        fail(said("UNet.forward called no ResBlock: the down path starts with self.down_blocks[0](h, temb)",
                  ja="UNet.forward が ResBlock を一つも呼んでいません: 下りパスは self.down_blocks[0](h, temb) から"
                  "始まります"), where, seed)  # fmt: skip
    temb = first.given.get("temb")
    assert_tensor(temb, shape=expected_temb.shape, call=where, seed=seed,
                  name=said("the time vector (temb)", ja="時刻ベクトル（temb）"))
    name = said(f"the time vector {shown(first.name)} was given (self.time(t): the timesteps through kata 11's "
                "TimeMLP)",
                ja=f"{shown(first.name)} に渡された時刻ベクトル（self.time(t): タイムステップを kata 11 の TimeMLP に"
                "通したもの）")  # fmt: skip
    assert_close(temb, expected_temb, call=where, seed=seed, name=name)
    name = said(f"what {shown(first.name)} was given (self.inc(x): the image through the input conv, nothing after it)",
                ja=f"{shown(first.name)} に渡されたもの（self.inc(x): 画像を入力の畳み込みに通したもの。そのあとには"
                "何もしません）")  # fmt: skip
    assert_close(first.x, expected_h, call=where, seed=seed, name=name)


@pytest.mark.blank("13.1")
@pytest.mark.parametrize("seed, case", [(1, CASES[1])])
def test_13_1_gradients(kata, seed, case):
    unet, (x, t, context, mask), where = unet_case(kata, seed, case)
    x, x_o = x.requires_grad_(), x.detach().clone().requires_grad_()
    parts = Parts(unet, stop_before=resblocks(unet))
    parts.run(unet, x, t, context, mask)
    first = next((c for c in parts.calls if c.name in resblocks(unet)), None)
    if first is None:
        fail(said("UNet.forward called no ResBlock: the down path starts with self.down_blocks[0](h, temb)",
                  ja="UNet.forward が ResBlock を一つも呼んでいません: 下りパスは self.down_blocks[0](h, temb) から"
                  "始まります"), where, seed)  # fmt: skip
    mine = torch.cat([first.live.get("temb").flatten(), next(iter(first.live.values())).flatten()])
    expected = torch.cat([time_by_spec(unet.time, t).flatten(), conv(unet.inc, x_o).flatten()])
    inputs = {"x": (x, x_o), **parameters(unet, "time", "inc")}
    where += ", then backward() from the first ResBlock's h and temb"
    assert_gradients(mine, expected, inputs, call=where, seed=seed)


# --- 13.2: the down path ----------------------------------------------------------------------


@pytest.mark.blank("13.2")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES)))
def test_13_2_down_path(kata, seed, case):
    unet, args, where = unet_case(kata, seed, case)
    parts = Parts(unet, stop_before=["mid1"])
    with torch.no_grad():
        parts.run(unet, *args)
    order = said(": at each level, its ResBlock, its attention (with the context), keep the skip, then the downsample",
                 ja=": 各レベルで、その ResBlock、そのアテンション（コンテキストを渡して）、スキップを取っておき、"
                 "そしてダウンサンプルの順です")  # fmt: skip
    names = [f"{part}.{i}" for i in range(levels(unet)) for part in ("down_blocks", "down_attn", "downsamples")]
    calls = parts.in_order([*names, "mid1"], where, seed, order)
    start = calls["down_blocks.0"]
    h, temb = start.x, start.given.get("temb")  # whatever 13.1 gave: the down path is graded from there
    with torch.no_grad():
        for i in range(levels(unet)):
            block = calls[f"down_blocks.{i}"]
            name = said(f"what {shown(block.name)} was given (h from the level above, downsampled)",
                        ja=f"{shown(block.name)} に渡されたもの（一つ上のレベルからの h をダウンサンプルしたもの）")
            if i:
                assert_close(block.x, h, call=where, seed=seed, name=name)
            check_temb(block, temb, where, seed)
            h = unet.down_blocks[i](h, temb)
            attn = calls[f"down_attn.{i}"]
            name = said(f"what {shown(attn.name)} was given (the output of self.down_blocks[{i}])",
                        ja=f"{shown(attn.name)} に渡されたもの（self.down_blocks[{i}] の出力）")
            assert_close(attn.x, h, call=where, seed=seed, name=name)
            check_context(attn, args, where, seed)
            h = unet.down_attn[i](h)
            down = calls[f"downsamples.{i}"]
            name = said(f"what {shown(down.name)} was given (the output of self.down_attn[{i}])",
                        ja=f"{shown(down.name)} に渡されたもの（self.down_attn[{i}] の出力）")
            assert_close(down.x, h, call=where, seed=seed, name=name)
            h = unet.downsamples[i](h)
    name = said("what the middle (self.mid1) was given: h after the last level (its downsample is an Identity)",
                ja="中間部（self.mid1）に渡されたもの: 最後のレベルのあとの h（最後のレベルのダウンサンプルは Identity"
                " です）")  # fmt: skip
    assert_close(calls["mid1"].x, h, call=where, seed=seed, name=name)


@pytest.mark.blank("13.2")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES[:2])))
def test_13_2_each_level_keeps_its_skip(kata, seed, case):
    unet, args, where = unet_case(kata, seed, case)
    L = levels(unet)
    parts = Parts(unet, stop_before=[f"up_blocks.{L - 1}"])  # the up path's last block: every skip is in by then
    with torch.no_grad():
        parts.run(unet, *args)
        start = parts.first("down_blocks.0", where, seed)
        h, temb, skips = start.x, start.given.get("temb"), []
        for i in range(L):
            h = unet.down_attn[i](unet.down_blocks[i](h, temb))
            skips.append(h)
            h = unet.downsamples[i](h)
    for i, skip in enumerate(skips):
        j, c = L - 1 - i, skip.shape[1]
        got = parts.first(f"up_blocks.{j}", where, seed).x  # cat([h, skip]) (or [skip, h]: that is 13.4's)
        what = said(f"the skip of level {i}: h after self.down_blocks[{i}] and self.down_attn[{i}], kept before "
                    "downsampling",
                    ja=f"レベル {i} のスキップ、つまり self.down_blocks[{i}] と self.down_attn[{i}] のあとの h を"
                    "ダウンサンプルの前に取っておいたもの")  # fmt: skip
        if got.shape[-2:] != skip.shape[-2:]:
            fail(said(f"self.up_blocks[{j}] was given {tuple(got.shape)}: its skip should be {what}, "
                      f"{tuple(skip.shape)}, at the resolution of level {i}",
                      ja=f"self.up_blocks[{j}] に {tuple(got.shape)} が渡されています: スキップは{what}で、"
                      f"レベル {i} の解像度の {tuple(skip.shape)} のはずです"), where, seed)  # fmt: skip
        if not close(got[:, :c], skip):
            name = said(f"the last {c} channels self.up_blocks[{j}] was given ({what})",
                        ja=f"self.up_blocks[{j}] に渡されたものの最後の {c} チャネル（{what}）")
            assert_close(got[:, -c:], skip, call=where, seed=seed, name=name)


# --- 13.3: the middle -------------------------------------------------------------------------


@pytest.mark.blank("13.3")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES[:2])))
def test_13_3_middle(kata, seed, case):
    unet, args, where = unet_case(kata, seed, case)
    parts = Parts(unet, stop_before=["up_blocks.0"])
    with torch.no_grad():
        parts.run(unet, *args)
    temb = parts.first("down_blocks.0", where, seed).given.get("temb")
    order = said(": the middle is self.mid1, self.mid_attn, self.mid2",
                 ja=": 中間部は self.mid1、self.mid_attn、self.mid2 の順です")
    calls = parts.in_order(["mid1", "mid_attn", "mid2"], where, seed, order)
    mid1, attn, mid2 = calls.values()
    with torch.no_grad():
        check_temb(mid1, temb, where, seed)
        h = unet.mid1(mid1.x, temb)  # from whatever the down path gave the middle
        assert_close(attn.x, h, call=where, seed=seed,
                     name=said("what self.mid_attn was given (the output of self.mid1)",
                               ja="self.mid_attn に渡されたもの（self.mid1 の出力）"))
        check_context(attn, args, where, seed)
        h = unet.mid_attn(h)
        assert_close(mid2.x, h, call=where, seed=seed,
                     name=said("what self.mid2 was given (the output of self.mid_attn)",
                               ja="self.mid2 に渡されたもの（self.mid_attn の出力）"))
        check_temb(mid2, temb, where, seed)
        h = unet.mid2(h, temb)
    got = parts.first("up_blocks.0", where, seed).x  # cat([h, skip]) (or [skip, h]: that is 13.4's)
    c = h.shape[1]
    if not close(got[:, -c:], h):
        name = said(f"the first {c} channels self.up_blocks[0] was given (h after the middle: the output of self.mid2)",
                    ja=f"self.up_blocks[0] に渡されたものの最初の {c} チャネル（中間部のあとの h: self.mid2 の出力）")
        assert_close(got[:, :c], h, call=where, seed=seed, name=name)


# --- 13.4: the up path ------------------------------------------------------------------------


@pytest.mark.blank("13.4")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES[:2])))
def test_13_4_up_path(kata, seed, case):
    unet, args, where = unet_case(kata, seed, case)
    L = levels(unet)
    parts = Parts(unet, stop_after=[f"upsamples.{L - 1}"])
    with torch.no_grad():
        parts.run(unet, *args)
    temb = parts.first("down_blocks.0", where, seed).given.get("temb")
    skips = [parts.first(f"down_attn.{i}", where, seed).out for i in range(L)]  # what the down path kept
    h = parts.first("mid2", where, seed).out  # the up path is graded from whatever the middle gave it
    order = said(": at each level, cat with the skip, its ResBlock, its attention (with the context), then its "
                 "upsample",
                 ja=": 各レベルで、スキップと cat し、その ResBlock、そのアテンション（コンテキストを渡して）、"
                 "そしてアップサンプルの順です")  # fmt: skip
    names = [f"{part}.{j}" for j in range(L) for part in ("up_blocks", "up_attn", "upsamples")]
    calls = parts.in_order(names, where, seed, order)
    with torch.no_grad():
        for j in range(L):
            i = L - 1 - j
            block = calls[f"up_blocks.{j}"]
            expected = torch.cat([h, skips[i]], dim=1)
            if close(block.x, torch.cat([skips[i], h], dim=1)) and not close(block.x, expected):
                fail(said(f"{shown(block.name)} was given torch.cat([skip, h]): the skip first. "
                          "torch.cat([h, skip], dim=1) puts h first, as the block's weights expect",
                          ja=f"{shown(block.name)} に torch.cat([skip, h]) が渡されています: スキップが先になって"
                          "います。torch.cat([h, skip], dim=1) なら、ブロックの重みが想定するとおり h が先になります"),
                     where, seed)  # fmt: skip
            name = said(f"what {shown(block.name)} was given (torch.cat([h, skip], dim=1): h, then the skip of "
                        f"level {i}, the last one kept of those left)",
                        ja=f"{shown(block.name)} に渡されたもの（torch.cat([h, skip], dim=1): h、続いてレベル {i} の"
                        "スキップ。残っているうち最後に取っておいたもの）")  # fmt: skip
            assert_close(block.x, expected, call=where, seed=seed, name=name)
            check_temb(block, temb, where, seed)
            h = unet.up_blocks[j](expected, temb)
            attn = calls[f"up_attn.{j}"]
            name = said(f"what {shown(attn.name)} was given (the output of self.up_blocks[{j}])",
                        ja=f"{shown(attn.name)} に渡されたもの（self.up_blocks[{j}] の出力）")
            assert_close(attn.x, h, call=where, seed=seed, name=name)
            check_context(attn, args, where, seed)
            h = unet.up_attn[j](h)
            up = calls[f"upsamples.{j}"]
            name = said(f"what {shown(up.name)} was given (the output of self.up_attn[{j}])",
                        ja=f"{shown(up.name)} に渡されたもの（self.up_attn[{j}] の出力）")
            assert_close(up.x, h, call=where, seed=seed, name=name)
            h = unet.upsamples[j](h)


# --- 13.5: the output, and the whole U-Net ------------------------------------------------------


@pytest.mark.blank("13.5")
@pytest.mark.parametrize("seed, case", list(enumerate(CASES[:2])))
def test_13_5_output_norm_silu_conv(kata, seed, case):
    unet, args, where = unet_case(kata, seed, case)
    parts = Parts(unet)
    with torch.no_grad():
        out = parts.run(unet, *args)
    h = parts.first(f"upsamples.{levels(unet) - 1}", where, seed).out  # the up path's last output
    assert_tensor(out, shape=args[0].shape, dtype=args[0].dtype, call=where, seed=seed)
    with torch.no_grad():
        expected = output_by_spec(unet, h)
    name = said("output (out_conv(SiLU(out_norm(h))), from the h the up path gave)",
                ja="出力（out_conv(SiLU(out_norm(h)))。上りパスが渡した h から計算）")
    assert_close(out, expected, call=where, seed=seed, name=name)


@pytest.mark.blank("13.5")
@pytest.mark.parametrize("seed, case", [(0, CASES[0])])
def test_13_5_output_gradients(kata, seed, case):
    unet, args, where = unet_case(kata, seed, case)
    parts = Parts(unet)
    out = parts.run(unet, *args)
    last = parts.first(f"upsamples.{levels(unet) - 1}", where, seed)
    h_o = last.out.requires_grad_()
    inputs = {said("h (the up path's output)", ja="h（上りパスの出力）"): (last.live_out, h_o),
              **parameters(unet, "out_norm", "out_conv")}  # fmt: skip
    assert_gradients(out, output_by_spec(unet, h_o), inputs, call=where + ", then backward()", seed=seed)


@pytest.mark.blank("13.5")
@pytest.mark.parametrize("seed, case", [(0, CASES[0])])
def test_13_5_whole_unet_values_and_gradients(kata, seed, case):
    unet, (x, *rest), where = unet_case(kata, seed, case)  # every blank together: passes once all of them do
    x, x_o = x.requires_grad_(), x.detach().clone().requires_grad_()
    out, expected = unet(x, *rest), unet_by_spec(unet, x_o, *rest)
    assert_tensor(out, shape=x.shape, dtype=x.dtype, call=where, seed=seed)
    name = said("output of the whole U-Net, every blank together (time and input conv, down path, middle, up path "
                "with the skips, output layer): where another blank of forward fails, fix that one first",
                ja="U-Net 全体の出力、すべての空欄を合わせたもの（時刻と入力の畳み込み、下りパス、中間部、スキップ接続を"
                "含む上りパス、出力層）: forward のほかの空欄が失敗している場合は、先にそちらを直してください")  # fmt: skip
    assert_close(out, expected, call=where, seed=seed, name=name)
    inputs = {"x": (x, x_o), **parameters(unet)}
    assert_gradients(out, expected, inputs, call=where + ", then backward()", seed=seed)


@pytest.mark.blank("13.5")
def test_13_5_default_config(kata):
    torch.manual_seed(13)
    unet = kata.UNet(kata.UNetConfig())
    x, t = torch.randn(1, 3, 16, 16), torch.tensor([999])
    where = call("UNet(UNetConfig())", x, t)
    with torch.no_grad():
        out = unet(x, t)
        expected = unet_by_spec(unet, x, t)
    assert_tensor(out, shape=x.shape, dtype=x.dtype, call=where, seed=13)
    name = said("output of the whole U-Net, every blank together: where another blank of forward fails, fix that "
                "one first",
                ja="U-Net 全体の出力、すべての空欄を合わせたもの: forward のほかの空欄が失敗している場合は、先にそちらを"
                "直してください")  # fmt: skip
    assert_close(out, expected, call=where, seed=13, name=name)
