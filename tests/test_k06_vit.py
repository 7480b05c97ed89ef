"""Tests of kata 06: the Vision Transformer.

Oracles: a plain index computation of where each patch value comes from (row-by-row patches,
each flattened (p1, p2, c)); torch.nn.functional.unfold and fold, whose (c, p1, p2) order is
permuted before comparing; the patch embedding computed by hand from the module's own weights;
and, for ViT.features, the tokens built from the module's parameters and run through its kata
05 blocks (graded earlier: the reference) and F.layer_norm.

The blanks of PatchEmbedding.forward are graded one at a time: hooks on self.proj record the
patches it is given (blank 06.3), and hand blank 06.4 patch tokens chosen by the test. Blank
06.6 is graded with a `features` chosen by the test.
"""

import copy
import functools
import importlib

import pytest
import torch
import torch.nn.functional as F
from support import assert_close, assert_gradients, assert_tensor, call, fail, said, with_reference

# --- 06.1, 06.2: patchify and unpatchify ------------------------------------------------------


@functools.lru_cache(maxsize=None)
def patch_index(C, H, W, P, order="p1 p2 c", columns_first=False):
    """(N, P·P·C) long: where each value of each patch comes from in an image flattened to C·H·W.
    Patches row by row (or column by column), each flattened in `order`."""
    rows, cols = range(H // P), range(W // P)
    grid = [(i, j) for j in cols for i in rows] if columns_first else [(i, j) for i in rows for j in cols]
    index = []
    for i, j in grid:
        where = {}  # (p1, p2, c) -> flat index
        for p1 in range(P):
            for p2 in range(P):
                for c in range(C):
                    where[p1, p2, c] = c * H * W + (i * P + p1) * W + (j * P + p2)
        keys = {"p1 p2 c": lambda p1, p2, c: (p1, p2, c), "c p1 p2": lambda p1, p2, c: (c, p1, p2),
                "p2 p1 c": lambda p1, p2, c: (p2, p1, c)}[order]  # fmt: skip
        index.append([where[k] for k in sorted(where, key=lambda k: keys(*k))])
    return torch.tensor(index)


def patchify_by_index(images, P, **layout):
    """The spec: patch n of image b, value k, is images.flatten(1)[b, index[n, k]]."""
    B, C, H, W = images.shape
    return images.flatten(1)[:, patch_index(C, H, W, P, **layout)]  # (B, N, P·P·C)


def patchify_by_unfold(images, P):
    """F.unfold gives (B, C·P·P, N), each patch flattened (c, p1, p2): permuted to (p1, p2, c)."""
    B, C = images.shape[:2]
    cols = F.unfold(images, kernel_size=P, stride=P)  # (B, C·P·P, N)
    N = cols.shape[-1]
    return cols.view(B, C, P, P, N).permute(0, 4, 2, 3, 1).reshape(B, N, P * P * C)


def wrong_patch_layouts(images, P):
    """What plausible mistakes give, to name one when a learner's output matches it (in the learner's language)."""
    B, C, H, W = images.shape
    N = (H // P) * (W // P)
    return {
        said("each patch is flattened (c, p1, p2), F.unfold's order: flatten it (p1, p2, c), a pixel's C "
             "values side by side",
             ja="各パッチが F.unfold の順序 (c, p1, p2) で平坦化されています: (p1, p2, c) の順に平坦化して、"
                "1 ピクセルの C 個の値を隣り合わせにしてください"):
            patchify_by_index(images, P, order="c p1 p2"),
        said("each patch is flattened (p2, p1, c): flatten it (p1, p2, c), pixel row before pixel column",
             ja="各パッチが (p2, p1, c) の順で平坦化されています: (p1, p2, c) の順に、ピクセルの列より行を先にして"
                "平坦化してください"):
            patchify_by_index(images, P, order="p2 p1 c"),
        said("the patches are numbered column by column: number them row by row (left to right, then down)",
             ja="パッチが列ごとに番号付けされています: 行ごとに（左から右へ、それから下へ）番号を付けてください"):
            patchify_by_index(images, P, columns_first=True),
        said("the image was reshaped to (B, N, P·P·C) without a permute: each 'patch' is a run of "
             "consecutive values of one channel, not a P×P square",
             ja="画像が permute なしで (B, N, P·P·C) に reshape されています: これでは各「パッチ」が P×P の正方形では"
                "なく、1 つのチャネルの連続した値の並びになります"):
            images.reshape(B, N, P * P * C),
    }  # fmt: skip


def name_the_layout(out, images, P, where, seed):
    __tracebackhide__ = True
    if not isinstance(out, torch.Tensor) or out.shape != (images.shape[0], *patch_index(*images.shape[1:], P).shape):
        return
    for mistake, wrong in wrong_patch_layouts(images, P).items():
        if not torch.equal(wrong, patchify_by_index(images, P)) and torch.equal(out.detach(), wrong):
            fail(said(f"patches hold the right values in the wrong places: {mistake}",
                      ja=f"パッチの値は正しいのですが、置かれた場所が違います: {mistake}"), where, seed)


# (B, C, H, W, P): batch 1 and more, one and three channels, H ≠ W, P = 1, 2, 4
PATCH_CASES = [
    (2, 3, 8, 8, 4),
    (1, 1, 4, 6, 2),
    (2, 3, 6, 4, 2),
    (3, 1, 8, 12, 4),
    (1, 3, 3, 5, 1),
    (2, 2, 4, 8, 2),
]


@pytest.mark.blank("06.1")
@pytest.mark.parametrize("seed, case", list(enumerate(PATCH_CASES)))
def test_06_1_patchify_row_by_row(kata, seed, case):
    B, C, H, W, P = case
    torch.manual_seed(seed)
    images = torch.randn(B, C, H, W)
    out = kata.patchify(images, P)
    where = call("patchify", images, P=P)
    N = (H // P) * (W // P)
    assert_tensor(out, shape=(B, N, P * P * C), dtype=images.dtype, call=where, seed=seed)
    name_the_layout(out, images, P, where, seed)
    expected = patchify_by_index(images, P)
    assert_close(out, expected, call=where, seed=seed, atol=0, rtol=0,
                 name=said("patches (row by row, each flattened (p1, p2, c))",
                           ja="パッチ（行ごとに並べ、それぞれ (p1, p2, c) の順に平坦化したもの）"))  # fmt: skip


@pytest.mark.blank("06.1")
@pytest.mark.parametrize("seed, case", list(enumerate(PATCH_CASES[:4])))
def test_06_1_patchify_matches_unfold(kata, seed, case):
    B, C, H, W, P = case
    torch.manual_seed(seed + 10)
    images = torch.randn(B, C, H, W)
    out = kata.patchify(images, P)
    where = call("patchify", images, P=P)
    name_the_layout(out, images, P, where, seed + 10)
    expected = patchify_by_unfold(images, P)
    assert_close(out, expected, call=where, seed=seed + 10, atol=0, rtol=0,
                 name=said("patches (compared with F.unfold, each patch permuted from (c, p1, p2) to (p1, p2, c))",
                           ja="パッチ（F.unfold と比較、各パッチを (c, p1, p2) から (p1, p2, c) に並べ替えたもの）"))  # fmt: skip


@pytest.mark.blank("06.1")
def test_06_1_patchify_gradients(kata):
    torch.manual_seed(3)
    images = torch.randn(2, 3, 4, 6, requires_grad=True)
    images2 = images.detach().clone().requires_grad_()
    where = call("patchify", images, P=2)
    assert_gradients(kata.patchify(images, 2), patchify_by_index(images2, 2), {"images": (images, images2)},
                     call=where, seed=3)  # fmt: skip


def unpatchify_by_index(patches, P, C, H, W):
    """The inverse of the spec: each patch value goes back to where patchify_by_index took it from."""
    B = patches.shape[0]
    index = patch_index(C, H, W, P).flatten()  # a permutation of range(C·H·W)
    image = torch.zeros(B, C * H * W, dtype=patches.dtype)
    image[:, index] = patches.reshape(B, -1)
    return image.view(B, C, H, W)


def unpatchify_by_fold(patches, P, C, H, W):
    """F.fold wants (B, C·P·P, N), each patch flattened (c, p1, p2)."""
    B, N = patches.shape[:2]
    cols = patches.view(B, N, P, P, C).permute(0, 4, 2, 3, 1).reshape(B, C * P * P, N)
    return F.fold(cols, output_size=(H, W), kernel_size=P, stride=P)


@pytest.mark.blank("06.2")
@pytest.mark.parametrize("seed, case", list(enumerate(PATCH_CASES)))
def test_06_2_unpatchify_puts_each_patch_back(kata, seed, case):
    B, C, H, W, P = case
    torch.manual_seed(seed)
    N = (H // P) * (W // P)
    patches = torch.randn(B, N, P * P * C)
    out = kata.unpatchify(patches, P, C, H, W)
    where = call("unpatchify", patches, P=P, C=C, H=H, W=W)
    assert_tensor(out, shape=(B, C, H, W), dtype=patches.dtype, call=where, seed=seed)
    assert_close(out, unpatchify_by_index(patches, P, C, H, W), call=where, seed=seed, atol=0, rtol=0,
                 name=said("images (each patch back in its place)", ja="画像（各パッチを元の位置に戻したもの）"))  # fmt: skip
    assert_close(out, unpatchify_by_fold(patches, P, C, H, W), call=where, seed=seed, atol=0, rtol=0,
                 name=said("images (compared with F.fold)", ja="画像（F.fold と比較）"))  # fmt: skip


@pytest.mark.blank("06.2")
@pytest.mark.parametrize("seed, case", list(enumerate(PATCH_CASES)))
def test_06_2_unpatchify_undoes_patchify(kata, seed, case):
    B, C, H, W, P = case
    torch.manual_seed(seed + 20)
    images = torch.randn(B, C, H, W)
    patches = patchify_by_index(images, P)
    out = kata.unpatchify(patches, P, C, H, W)
    where = call("unpatchify", patches, P=P, C=C, H=H, W=W) + "    (patches: the images, patchified)"
    assert_close(out, images, call=where, seed=seed + 20, atol=0, rtol=0,
                 name=said("unpatchify(patchify(images)): the images back",
                           ja="unpatchify(patchify(images))（元の画像に戻るはずのもの）"))  # fmt: skip


@pytest.mark.blank("06.2")
def test_06_2_unpatchify_gradients(kata):
    torch.manual_seed(4)
    patches = torch.randn(2, 6, 12, requires_grad=True)
    patches2 = patches.detach().clone().requires_grad_()
    where = call("unpatchify", patches, P=2, C=3, H=4, W=6)
    assert_gradients(kata.unpatchify(patches, 2, 3, 4, 6), unpatchify_by_index(patches2, 2, 3, 4, 6),
                     {"patches": (patches, patches2)}, call=where, seed=4)  # fmt: skip


# --- 06.3, 06.4: PatchEmbedding -----------------------------------------------------------------


class ProjSpy:
    """Hooks on embed.proj: records the input it is given and its output (blank 06.3), or hands
    the rest of forward patch tokens of the test's choosing (blank 06.4)."""

    def __init__(self, embed, tokens=None):
        self.inputs, self.outputs, self.tokens = [], [], tokens
        self.handles = [embed.proj.register_forward_pre_hook(self.before, with_kwargs=True),
                        embed.proj.register_forward_hook(self.after, with_kwargs=True)]  # fmt: skip

    def before(self, module, args, kwargs):
        given = args[0] if args else kwargs.get("input")
        self.inputs.append(given)
        if self.tokens is not None:  # a valid input, whatever was given: the output is replaced anyway
            return (torch.zeros(*self.tokens.shape[:-1], module.in_features),), {}
        return None

    def after(self, module, args, kwargs, output):
        self.outputs.append(output)
        return self.tokens

    def run(self, embed, images):
        """embed(images): (output or None, the exception raised or None)."""
        try:
            return embed(images), None
        except Exception as e:  # noqa: BLE001  (blank 06.3's test grades what reached self.proj)
            return None, e
        finally:
            for h in self.handles:
                h.remove()


def randomise_tokens(embed):
    """cls_token and positions start near 0 (std 0.02): at std 1 leaving one out shows."""
    with torch.no_grad():
        embed.cls_token.normal_()
        embed.positions.normal_()


def embedding_call(image_size, P, C, D, images):
    return call(f"PatchEmbedding(image_size={image_size}, patch_size={P}, channels={C}, dim={D})", images)


# (B, image_size, P, C, D): N = 4, 16, 16, 4, 64 patches
EMBED_CASES = [
    (2, 8, 4, 3, 8),
    (1, 4, 1, 1, 6),
    (3, 8, 2, 1, 5),
    (1, 8, 4, 3, 7),
    (2, 8, 1, 2, 4),
]

# (B, image_size, P, C): D = P·P·C (see feed_patch_tokens)
TOKEN_CASES = [(2, 8, 2, 3), (1, 4, 1, 2), (3, 8, 4, 1), (1, 8, 4, 3), (2, 8, 2, 1)]


def feed_patch_tokens(kata, monkeypatch, embed, x):
    """Make blank 06.3's x equal the test's x (B, N, D), however 06.3 is written: patchify gives
    x, self.proj is the identity (D = P·P·C), and hooks make self.proj return x whatever it is given."""
    monkeypatch.setattr(kata, "patchify", lambda images, P: x)
    with torch.no_grad():
        embed.proj.weight.copy_(torch.eye(x.shape[-1]))
        embed.proj.bias.zero_()
    return ProjSpy(embed, tokens=x)


@pytest.mark.blank("06.3")
@pytest.mark.parametrize("seed, case", list(enumerate(EMBED_CASES)))
def test_06_3_patches_projected(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "patchify")  # grade 06.3, not 06.1
    B, S, P, C, D = case
    torch.manual_seed(seed)
    embed = kata.PatchEmbedding(S, P, C, D)
    images = torch.randn(B, C, S, S, requires_grad=True)
    images2 = images.detach().clone().requires_grad_()
    weight = embed.proj.weight.detach().clone().requires_grad_()
    bias = embed.proj.bias.detach().clone().requires_grad_()
    where = embedding_call(S, P, C, D, images)
    spy = ProjSpy(embed)
    _, error = spy.run(embed, images)
    if not spy.inputs:
        if isinstance(error, NotImplementedError):
            raise error
        after = ""
        if error:
            after = said(f" (and then: {type(error).__name__}: {str(error).splitlines()[0]})",
                         ja=f"（そのあと: {type(error).__name__}: {str(error).splitlines()[0]}）")
        fail(said("self.proj was never called: the patches are projected to D with it, "
                  f"x = self.proj(patches){after}",
                  ja=f"self.proj が一度も呼ばれていません: パッチはこれで D 次元に射影します。x = self.proj(patches){after}"),
             where, seed)  # fmt: skip
    N = (S // P) ** 2
    expected = patchify_by_index(images2, P)
    given = spy.inputs[0]
    if isinstance(given, torch.Tensor) and given.shape == (B * N, P * P * C):
        given = given.reshape(expected.shape)  # flattened to (B·N, P·P·C) and viewed back is fine
    assert_close(given, expected.detach(), call=where, seed=seed, atol=0, rtol=0,
                 name=said(f"the input of self.proj (the patches of P={P}, (B, N, P·P·C))",
                           ja=f"self.proj への入力（P={P} のパッチ、(B, N, P·P·C)）"))  # fmt: skip
    if not spy.outputs:
        raise error
    x = spy.outputs[0]
    expected = expected @ weight.T + bias  # (B, N, D)
    where += f"    (x = self.proj(patches), {(B, N, D)})"
    assert_gradients(x.reshape(expected.shape), expected,
                     {"images": (images, images2), "proj.weight": (embed.proj.weight, weight),
                      "proj.bias": (embed.proj.bias, bias)}, call=where, seed=seed)  # fmt: skip


def tokens_by_loop(cls_token, x, positions):
    """(B, N + 1, D): place 0 holds the class token, place n + 1 patch n; then each place's position."""
    B, N, D = x.shape
    rows = []
    for b in range(B):
        tokens = [cls_token[0, 0] + positions[0, 0]]
        tokens += [x[b, n] + positions[0, n + 1] for n in range(N)]
        rows.append(torch.stack(tokens))
    return torch.stack(rows)


def wrong_tokens(cls_token, x, positions):
    """What plausible mistakes give: {the mistake, in the learner's language: the tokens}."""
    cls = cls_token.expand(x.shape[0], -1, -1)
    return {
        said("the class token is at the end: it goes in front, at place 0",
             ja="クラストークンが末尾にあります: 先頭（0 番目）に置いてください"):
            torch.cat([x, cls], dim=1) + positions,
        said("the positions are missing: add self.positions after the class token is in front",
             ja="位置埋め込みがありません: クラストークンを先頭に置いた後で self.positions を足してください"):
            torch.cat([cls, x], dim=1),
        said("the class token got no position: the positions were added to the patches before the class "
             "token went in front (add them after, to all N + 1 places)",
             ja="クラストークンに位置埋め込みが足されていません: クラストークンを先頭に置く前に、パッチにだけ位置埋め込みを"
                "足しています（置いた後で、N + 1 個すべての場所に足してください）"):
            torch.cat([cls, x + positions[:, 1:]], dim=1),
    }  # fmt: skip


@pytest.mark.blank("06.4")
@pytest.mark.parametrize("seed, case", list(enumerate(TOKEN_CASES)))
def test_06_4_class_token_in_front_then_positions(kata, monkeypatch, seed, case):
    B, S, P, C = case
    N, D = (S // P) ** 2, P * P * C
    torch.manual_seed(seed)
    embed = kata.PatchEmbedding(S, P, C, D)
    randomise_tokens(embed)
    images, x = torch.randn(B, C, S, S), torch.randn(B, N, D)
    where = embedding_call(S, P, C, D, images) + f"    (the patch tokens x of blank 06.3: random, {(B, N, D)})"
    out, error = feed_patch_tokens(kata, monkeypatch, embed, x).run(embed, images)
    if error is not None:
        raise error
    assert_tensor(out, shape=(B, N + 1, D), dtype=x.dtype, call=where, seed=seed)
    with torch.no_grad():
        for mistake, wrong in wrong_tokens(embed.cls_token, x, embed.positions).items():
            if torch.allclose(out, wrong, atol=1e-6):
                fail(said(f"tokens: {mistake}", ja=f"トークン: {mistake}"), where, seed)
        expected = tokens_by_loop(embed.cls_token, x, embed.positions)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("tokens (place 0: cls_token + positions[0]; place n + 1: patch n + positions[n + 1])",
                           ja="トークン（0 番目: cls_token + positions[0]、n + 1 番目: パッチ n + positions[n + 1]）"))  # fmt: skip


@pytest.mark.blank("06.4")
@pytest.mark.parametrize("seed, B", [(5, 3), (6, 1)])
def test_06_4_gradients(kata, monkeypatch, seed, B):
    torch.manual_seed(seed)
    embed = kata.PatchEmbedding(4, 2, 1, 4)
    randomise_tokens(embed)
    x = torch.randn(B, 4, 4, requires_grad=True)
    patch_tokens = said("the patch tokens x", ja="パッチトークン x")  # how the messages name it
    leaves = {patch_tokens: (x, x.detach().clone().requires_grad_()),
              "cls_token": (embed.cls_token, embed.cls_token.detach().clone().requires_grad_()),
              "positions": (embed.positions, embed.positions.detach().clone().requires_grad_())}  # fmt: skip
    images = torch.randn(B, 1, 4, 4)
    where = embedding_call(4, 2, 1, 4, images) + f"    (the patch tokens x of blank 06.3: random, {(B, 4, 4)})"
    out, error = feed_patch_tokens(kata, monkeypatch, embed, x).run(embed, images)
    if error is not None:
        raise error
    expected = tokens_by_loop(leaves["cls_token"][1], leaves[patch_tokens][1], leaves["positions"][1])
    assert_gradients(out, expected, leaves, call=where, seed=seed)


# --- 06.5, 06.6: ViT ----------------------------------------------------------------------------


def small_vit(kata, monkeypatch, seed, **sizes):
    """A small ViT whose patch embedding is the reference's, with random norms and tokens."""
    with_reference(monkeypatch, kata, "patchify", "unpatchify", "PatchEmbedding")
    torch.manual_seed(seed)
    config = kata.ViTConfig(**sizes)
    vit = kata.ViT(config)
    randomise_tokens(vit.embed)
    with torch.no_grad():
        for name, p in vit.named_parameters():
            if name.split(".")[-2].startswith("ln"):  # LayerNorms start all alike: weight 1, bias 0
                p.copy_(torch.randn_like(p))
    return vit, config


def vit_call(c, images):
    sizes = (f"image_size={c.image_size}, patch_size={c.patch_size}, channels={c.channels}, dim={c.dim}, "
             f"n_heads={c.n_heads}, n_layers={c.n_layers}, num_classes={c.num_classes}")  # fmt: skip
    return call(f"ViT(ViTConfig({sizes}))", images)


def features_by_spec(vit, images):
    """Patch tokens from the module's weights, class token in front, positions, every block, final norm."""
    e, c = vit.embed, vit.config
    B, D = images.shape[0], c.dim
    x = patchify_by_index(images, c.patch_size) @ e.proj.weight.T + e.proj.bias  # (B, N, D)
    x = torch.cat([e.cls_token.expand(B, 1, D), x], dim=1) + e.positions  # (B, N + 1, D)
    for block in vit.blocks:  # kata 05's TransformerBlock, no mask
        x = block(x)
    ln = vit.ln_final
    return F.layer_norm(x, (D,), ln.weight, ln.bias, ln.eps)


# (B, config)
VIT_CASES = [
    (2, dict(image_size=8, patch_size=4, channels=3, dim=16, n_heads=2, n_layers=2, num_classes=5)),
    (1, dict(image_size=4, patch_size=1, channels=1, dim=8, n_heads=2, n_layers=1, num_classes=3)),
    (3, dict(image_size=8, patch_size=2, channels=1, dim=12, n_heads=3, n_layers=3, num_classes=4)),
]


@pytest.mark.blank("06.5")
@pytest.mark.parametrize("seed, case", list(enumerate(VIT_CASES)))
def test_06_5_features(kata, monkeypatch, seed, case):
    B, sizes = case
    vit, c = small_vit(kata, monkeypatch, seed, **sizes)
    images = torch.randn(B, c.channels, c.image_size, c.image_size)
    where = vit_call(c, images) + ".features(images)"
    out = vit.features(images)
    N = (c.image_size // c.patch_size) ** 2
    assert_tensor(out, shape=(B, N + 1, c.dim), dtype=images.dtype, call=where, seed=seed)
    with torch.no_grad():
        expected = features_by_spec(vit, images)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("features (patch embedding, every block with no mask, final LayerNorm)",
                           ja="features（パッチ埋め込み、マスクなしの全ブロック、最後の LayerNorm）"))  # fmt: skip


@pytest.mark.blank("06.5")
def test_06_5_gradients_reach_every_parameter(kata, monkeypatch):
    vit, c = small_vit(kata, monkeypatch, 7, **VIT_CASES[0][1])
    oracle = copy.deepcopy(vit)
    images = torch.randn(2, c.channels, c.image_size, c.image_size, requires_grad=True)
    images2 = images.detach().clone().requires_grad_()
    leaves = {"images": (images, images2)}
    leaves.update((name, (p, p2)) for (name, p), p2 in zip(vit.named_parameters(), oracle.parameters())
                  if not name.startswith("head."))  # fmt: skip
    where = vit_call(c, images) + ".features(images)"
    assert_gradients(vit.features(images), features_by_spec(oracle, images2), leaves, call=where, seed=7)


@pytest.mark.blank("06.5")
def test_06_5_default_config(kata, monkeypatch):
    vit, c = small_vit(kata, monkeypatch, 8)
    images = torch.rand(2, 3, 16, 16)
    where = vit_call(c, images) + ".features(images)"
    assert_tensor(vit.features(images), shape=(2, 17, 64), call=where, seed=8, name="features")


class FeaturesStub:
    """Stands for ViT.features: returns the test's tokens, and counts its calls."""

    def __init__(self, tokens):
        self.tokens, self.calls = tokens, 0

    def __call__(self, images):
        self.calls += 1
        return self.tokens


def stubbed_vit(kata, seed, B, N, D, K):
    torch.manual_seed(seed)
    config = kata.ViTConfig(image_size=4 * int(N**0.5), patch_size=4, channels=1, dim=D, n_heads=1,
                            n_layers=1, num_classes=K)  # fmt: skip
    vit = kata.ViT(config)
    tokens = torch.randn(B, N + 1, D, requires_grad=True)
    vit.features = FeaturesStub(tokens)  # an instance attribute: forward's self.features is the stub
    images = torch.randn(B, 1, config.image_size, config.image_size)
    where = vit_call(config, images) + f"    (features: random, {(B, N + 1, D)})"
    return vit, tokens, images, where


@pytest.mark.blank("06.6")
@pytest.mark.parametrize("seed, case", list(enumerate([(2, 4, 8, 5), (1, 1, 6, 3), (3, 9, 4, 2)])))
def test_06_6_head_reads_the_class_token(kata, seed, case):
    B, N, D, K = case
    vit, tokens, images, where = stubbed_vit(kata, seed, B, N, D, K)
    out = vit(images)
    if vit.features.calls == 0:
        fail(said("forward did not call self.features: the logits are the head of its class token",
                  ja="forward が self.features を呼んでいません: logits は、その出力のクラストークンに head を適用したもの"
                     "です"), where, seed)  # fmt: skip
    assert_tensor(out, shape=(B, K), dtype=images.dtype, call=where, seed=seed, name="logits")
    with torch.no_grad():
        head = vit.head
        for mistake, read in {said("the mean of all tokens", ja="全トークンの平均"): tokens.mean(dim=1),
                              said("the last token", ja="最後のトークン"): tokens[:, -1],
                              said("the first patch token (place 1)", ja="最初のパッチトークン（1 番目）"): tokens[:, 1]
                              }.items():  # fmt: skip
            if torch.allclose(out, head(read), atol=1e-6):
                fail(said(f"logits are the head of {mistake}: the head reads the class token alone, features[:, 0]",
                          ja=f"logits が{mistake}に head を適用したものになっています: head が読むのはクラストークン"
                             "だけ、features[:, 0] です"), where, seed)  # fmt: skip
        expected = tokens[:, 0] @ head.weight.T + head.bias
    assert_close(out, expected, call=where, seed=seed,
                 name=said("logits (head of features[:, 0])", ja="logits（features[:, 0] に head を適用したもの）"))


@pytest.mark.blank("06.6")
def test_06_6_gradients(kata):
    vit, tokens, images, where = stubbed_vit(kata, 9, 2, 4, 8, 5)
    tokens2 = tokens.detach().clone().requires_grad_()
    weight = vit.head.weight.detach().clone().requires_grad_()
    bias = vit.head.bias.detach().clone().requires_grad_()
    leaves = {said("the features", ja="features"): (tokens, tokens2), "head.weight": (vit.head.weight, weight),
              "head.bias": (vit.head.bias, bias)}  # fmt: skip
    assert_gradients(vit(images), tokens2[:, 0] @ weight.T + bias, leaves, call=where, seed=9)


@pytest.mark.blank("06.6")
def test_06_6_default_config(kata, monkeypatch):
    vit, c = small_vit(kata, monkeypatch, 10)
    reference = importlib.import_module(kata.__name__.split(".")[-1])
    vit.features = reference.ViT.features.__get__(vit)  # grade 06.6, not 06.5
    images = torch.rand(2, 3, 16, 16)
    assert_tensor(vit(images), shape=(2, c.num_classes), call=vit_call(c, images), seed=10, name="logits")
