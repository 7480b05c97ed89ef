"""Tests of kata 20: latent diffusion.

Oracles: a small VAE of kata 19 with its latent means made far from unit variance (each channel
its own spread and offset, a large log-variance, so that std, variance, per-channel stds, the
log-variance and a sample all give different numbers), its moments read from its own encoder
(the first Cz channels are the mean); 1 / torch's std of those means; mean · s and
VAE.decode(z / s) written in the test; kata 14's loss written as its closed form
mean((ε − ε_θ(√ᾱ_t z + √(1 − ᾱ_t) ε, t))²) with a small model that records what it was given.
latent_diffusion_loss is graded with a codec written in the test, so 20.4 does not depend on
20.2. Gradients: backward through the learner's loss and the closed form (assert_gradients),
and none may reach the VAE, even one left trainable.
"""

import copy

import pytest
import torch
from k09_schedules import Schedule
from k19_vae import VAE, VAEConfig
from support import assert_close, assert_gradients, assert_tensor, call, fail, randomise_group_norms, said
from torch import nn

CZ = 2  # latent channels of the test VAEs


class Label(str):
    """An argument shown in a call as written: call("f", VAE_LABEL) reads f(VAE(...))."""

    def __repr__(self) -> str:
        return str(self)


VAE_LABEL = Label("VAE(VAEConfig(latent_channels=2, channels=(4, 8), groups=2))")


def make_vae(seed: int, spreads=(3.0, 0.5), offsets=(1.5, -0.8), logvar_bias: float = 2.0) -> VAE:
    """A kata 19 VAE whose latent mean channel c is about spreads[c] · N(0, 1) + offsets[c]
    (far from unit variance, each channel its own), and whose σ² is about e² (a sample is not the mean)."""
    torch.manual_seed(seed)
    vae = VAE(VAEConfig(latent_channels=CZ, channels=(4, 8), groups=2))
    randomise_group_norms(vae)
    last = vae.encoder[-1]  # the 1×1 conv that makes the moments
    with torch.no_grad():
        for c in range(CZ):
            last.weight[c] *= spreads[c] / last.weight[c].norm()
            last.bias[c] = offsets[c]
        last.bias[CZ:] = logvar_bias
    return vae.eval()


def moments(vae: VAE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, logvar) from the VAE's own encoder: its first Cz channels, and the last Cz."""
    with torch.no_grad():
        m = vae.encoder(x)  # (B, 2·Cz, h, w)
    return m[:, :CZ], m[:, CZ:].clamp(-30.0, 20.0)


def images(B: int, H: int, W: int) -> torch.Tensor:
    return torch.rand(B, 3, H, W) * 2 - 1


def close(a, b, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


# --- 20.1: estimate_scale ---------------------------------------------------------------------

# (N, H, W, spreads, offsets): at least 600 latent values each, so the std with or without
# Bessel's correction agree within the tolerance
SCALE_CASES = [
    (8, 16, 16, (3.0, 0.5), (1.5, -0.8)),
    (6, 12, 20, (0.2, 0.05), (0.1, -0.1)),
    (40, 4, 6, (4.0, 1.0), (-2.0, 0.0)),
]


@pytest.mark.blank("20.1")
@pytest.mark.parametrize("seed, case", list(enumerate(SCALE_CASES)))
def test_20_1_one_over_the_std_of_the_latent_means(kata, seed, case):
    N, H, W, spreads, offsets = case
    vae = make_vae(seed, spreads, offsets)
    x = images(N, H, W)
    where = call("estimate_scale", VAE_LABEL, x) + said(f"    (latent means with spreads {spreads}, offsets {offsets})",
                                                        ja=f"    （潜在表現の平均の広がり {spreads}、オフセット {offsets}）")  # fmt: skip
    s = kata.estimate_scale(vae, x)
    if isinstance(s, torch.Tensor):
        fail(said(f"estimate_scale returned a {tuple(s.shape)} tensor: return a Python float (.item() turns a "
                  "0-d tensor into one)",
                  ja=f"estimate_scale が {tuple(s.shape)} のテンソルを返しました: Python の float を返してください"
                     "（.item() で 0 次元テンソルを float にできます）"), where, seed)  # fmt: skip
    if not isinstance(s, float):
        fail(said(f"estimate_scale returned a {type(s).__name__}: return a Python float",
                  ja=f"estimate_scale が {type(s).__name__} を返しました: Python の float を返してください"), where, seed)  # fmt: skip
    if kata.estimate_scale(vae, x) != s:
        fail(said("two calls on the same images gave different scales: measure the means of q(z | x) "
                  "(vae.encode's first output), not samples drawn from it",
                  ja="同じ画像で 2 回呼ぶと、違うスケールが返ってきました: q(z | x) から引いたサンプルではなく、"
                     "その平均（vae.encode の 1 つ目の出力）を測ってください"), where, seed)  # fmt: skip
    mean, logvar = moments(vae, x)
    std = mean.double().std()
    named = {
        said("the std of the means itself, not 1 / std: s multiplies the latents, so it must be small where they "
             "are spread wide",
             ja="潜在表現の平均の 1 / std ではなく、std そのものです: s は潜在表現に掛ける値なので、"
                "潜在表現が広く散らばっているほど小さくなければなりません"): std,
        said("1 / the variance of the means, not 1 / their standard deviation",
             ja="潜在表現の平均の 1 / 標準偏差ではなく、1 / 分散です"): 1 / mean.double().var(),
        said("1 / the std of the log-variances, not of the means (encode returns mean first)",
             ja="平均ではなく対数分散の 1 / std です: encode は mean を先に返します"): 1 / logvar.double().std(),
        said("1 / the std of each channel, averaged: one std for every latent value together, not one per channel",
             ja="チャネルごとの 1 / std を平均したものです: std はチャネルごとに 1 つではなく、"
                "すべての潜在表現の値をまとめて 1 つだけ求めます"):
            1 / mean.double().std(dim=(0, 2, 3)).mean(),
        said("1 / the mean absolute value of the means, not 1 / their standard deviation",
             ja="潜在表現の平均の 1 / 標準偏差ではなく、1 / 絶対値の平均です"): 1 / mean.double().abs().mean(),
    }  # fmt: skip
    for problem, value in named.items():
        if close(s, value, rtol=2e-3, atol=0) and not close(s, 1 / std, rtol=2e-3, atol=0):
            fail(said(f"s = {s:.5g} is {problem} (1 / std = {1 / std.item():.5g})",
                      ja=f"s = {s:.5g} は{problem}（1 / std = {1 / std.item():.5g}）"), where, seed)
    assert_close(torch.tensor(s, dtype=torch.float64), 1 / std, call=where, seed=seed, atol=0, rtol=2e-3,
                 name=said("s (1 / the standard deviation of every latent mean of every image together)",
                           ja="s（すべての画像のすべての潜在表現の平均をまとめて求めた 1 / 標準偏差）"))  # fmt: skip
    assert_close((mean.double() * s).std(), torch.tensor(1.0, dtype=torch.float64), call=where, seed=seed, atol=0,
                 rtol=2e-3, name=said("the std of the scaled latent means s · mean (1: unit variance)",
                                      ja="スケーリングした潜在表現の平均 s · mean の std（1: 分散 1）"))  # fmt: skip


@pytest.mark.blank("20.1")
@pytest.mark.parametrize("seed", [0, 1])
def test_20_1_the_mean_not_a_sample(kata, seed):
    vae = make_vae(seed, logvar_bias=3.0)  # σ ≈ 4.5: a sample's spread is mostly noise
    x = images(8, 16, 16)
    where = call("estimate_scale", VAE_LABEL, x) + said(
        "    (log σ² about 3: samples of q(z | x) spread far wider than its means)",
        ja="    （log σ² は約 3: q(z | x) のサンプルは平均よりずっと広く散らばる）")  # fmt: skip
    torch.manual_seed(seed)
    s = kata.estimate_scale(vae, x)
    if not isinstance(s, (float, torch.Tensor)):
        fail(said(f"estimate_scale returned a {type(s).__name__}: return a Python float",
                  ja=f"estimate_scale が {type(s).__name__} を返しました: Python の float を返してください"), where, seed)  # fmt: skip
    mean, _ = moments(vae, x)
    assert_close(torch.as_tensor(s, dtype=torch.float64), 1 / mean.double().std(), call=where, seed=seed, atol=0,
                 rtol=2e-3, name=said("s (1 / the std of the latent means: the mean of q(z | x), no random draw)",
                                      ja="s（潜在表現の平均の 1 / std: q(z | x) の平均を使い、乱数は引かない）"))  # fmt: skip


# --- 20.2 and 20.3: LatentCodec ---------------------------------------------------------------

# (B, H, W, scale): s above and below 1, batch 1, H ≠ W
CODEC_CASES = [(2, 8, 8, 2.5), (1, 6, 4, 0.4), (3, 4, 6, 7.0)]


def codec_call(method: str, scale: float, *args) -> str:
    return call(f"LatentCodec(vae, scale={scale}).{method}", *args)


@pytest.mark.blank("20.2")
@pytest.mark.parametrize("seed, case", list(enumerate(CODEC_CASES)))
def test_20_2_encode_is_the_mean_times_the_scale(kata, seed, case):
    B, H, W, scale = case
    vae = make_vae(seed)
    codec = kata.LatentCodec(vae, scale)
    x = images(B, H, W)
    where = codec_call("encode", scale, x)
    z = codec.encode(x)
    mean, logvar = moments(vae, x)
    if isinstance(z, (tuple, list)):
        fail(said(f"encode returned a {type(z).__name__}: return one tensor, the scaled latent mean",
                  ja=f"encode が {type(z).__name__} を返しました: スケーリングした潜在表現の平均を、テンソル 1 つで"
                     "返してください"), where, seed)  # fmt: skip
    assert_tensor(z, shape=mean.shape, dtype=torch.float32, call=where, seed=seed,
                  name=said("z (the latent mean's shape (B, Cz, h, w))",
                            ja="z（潜在表現の平均と同じ形状 (B, Cz, h, w)）"))  # fmt: skip
    if not torch.equal(codec.encode(x), z):
        fail(said("two calls on the same images gave different latents: encode to the mean of q(z | x), "
                  "not a sample drawn from it",
                  ja="同じ画像で 2 回呼ぶと、違う潜在表現が返ってきました: q(z | x) から引いたサンプルではなく、"
                     "その平均にエンコードしてください"), where, seed)  # fmt: skip
    named = {
        said("the latent mean, not scaled: multiply it by self.scale",
             ja="スケーリングしていない潜在表現の平均です: self.scale を掛けてください"): mean,
        said("the latent mean divided by the scale: encode multiplies (decode divides)",
             ja="潜在表現の平均をスケールで割ったものです: encode では掛けます（割るのは decode です）"): mean / scale,
        said("the log-variance times the scale: encode returns (mean, logvar), the mean first",
             ja="対数分散にスケールを掛けたものです: encode は (mean, logvar) を返し、平均が先です"): logvar * scale,
    }  # fmt: skip
    for problem, value in named.items():
        if close(z, value):
            fail(said(f"z is {problem}", ja=f"z は{problem}"), where, seed)
    assert_close(z, mean * scale, call=where, seed=seed,
                 name=said("z (the VAE's latent mean times the scale s)",
                           ja="z（VAE の潜在表現の平均にスケール s を掛けたもの）"))  # fmt: skip


@pytest.mark.blank("20.3")
@pytest.mark.parametrize("seed, case", list(enumerate(CODEC_CASES)))
def test_20_3_decode_divides_by_the_scale_then_decodes(kata, seed, case):
    B, H, W, scale = case
    vae = make_vae(seed)
    codec = kata.LatentCodec(vae, scale)
    z = torch.randn(B, CZ, H // 2, W // 2) * 1.5
    where = codec_call("decode", scale, z)
    out = codec.decode(z)
    with torch.no_grad():
        expected = vae.decoder(z / scale)
        named = {
            said("the VAE's decoding of z itself: the scale is not undone (divide z by self.scale first)",
                 ja="z そのものを VAE でデコードしたものです: スケーリングが元に戻されていません"
                    "（先に z を self.scale で割ってください）"): vae.decoder(z),
            said("the decoding of z · s: decode multiplies by the scale again, where it should divide",
                 ja="z · s をデコードしたものです: decode はスケールで割るべきところで、もう一度掛けています"):
                vae.decoder(z * scale),
            said("the decoding of z divided by s afterwards: undo the scale before the decoder, on the latent",
                 ja="z をデコードしてから s で割ったものです: スケーリングはデコーダの前に、潜在表現の上で"
                    "元に戻してください"): (
                vae.decoder(z) / scale
            ),
        }  # fmt: skip
    assert_tensor(out, shape=(B, 3, H, W), dtype=torch.float32, call=where, seed=seed,
                  name=said("the image (B, C, H, W)", ja="画像 (B, C, H, W)"))  # fmt: skip
    for problem, value in named.items():
        if close(out, value):
            fail(said(f"the image is {problem}", ja=f"画像は {problem}"), where, seed)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("the image (VAE.decode(z / s))", ja="画像（VAE.decode(z / s)）"))  # fmt: skip


@pytest.mark.blank("20.3")
@pytest.mark.parametrize("seed, case", list(enumerate(CODEC_CASES[:2])))
def test_20_3_decode_of_encode_is_the_vae_decoding_the_mean(kata, seed, case):
    B, H, W, scale = case
    vae = make_vae(seed)
    codec = kata.LatentCodec(vae, scale)
    x = images(B, H, W)
    mean, _ = moments(vae, x)
    z = mean * scale  # what encode gives (written here: 20.3 is graded alone)
    where = codec_call("decode", scale, z) + said("    (z = s · the latent mean of x: decode(encode(x)))",
                                                  ja="    （z = s · x の潜在表現の平均: decode(encode(x))）")
    out = codec.decode(z)
    with torch.no_grad():
        expected = vae.decoder(mean)
    assert_close(out, expected, call=where, seed=seed,
                 name=said("decode(encode(x)) (the VAE's decoding of the mean: the scale undone exactly)",
                           ja="decode(encode(x))（VAE で平均をデコードしたもの: スケーリングはぴったり元に戻る）"))  # fmt: skip


# --- 20.4: latent_diffusion_loss --------------------------------------------------------------


class Codec(nn.Module):
    """A LatentCodec written in the test: a frozen VAE, and encode = its latent mean · s, without gradients."""

    def __init__(self, vae: VAE, scale: float) -> None:
        super().__init__()
        self.vae = vae.eval().requires_grad_(False)
        self.register_buffer("scale", torch.tensor(float(scale)))

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return moments(self.vae, x)[0] * self.scale

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.vae.decoder(z / self.scale)


class TinyEps(nn.Module):
    """ε_θ(z_t, t, context, context_mask) on latents (Cz channels): a 1×1 convolution, a term linear
    in t/T, and one from the prompt's masked mean vector. Records what each call was given, and
    says so when it is given anything but a (B, Cz, h, w) latent."""

    def __init__(self, T: int, D: int = 4, where: str = "", seed: int | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(CZ, CZ, 1)
        self.time = nn.Parameter(torch.randn(CZ))
        self.prompt = nn.Linear(D, CZ)
        self.T, self.where, self.seed = T, where, seed
        self.calls = []

    def forward(self, x, t, context=None, context_mask=None):
        if x.dim() != 4 or x.shape[1] != CZ:
            fail(said(f"the model was given x_t of shape {tuple(x.shape)}: the U-Net denoises latents of {CZ} channels "
                      "(B, Cz, h, w), the images' codec.encode(x0), not the images (B, C, H, W)",
                      ja=f"モデルに形状 {tuple(x.shape)} の x_t が渡されました: U-Net がノイズを除去するのは画像 "
                         f"(B, C, H, W) ではなく、{CZ} チャネルの潜在表現 (B, Cz, h, w)、つまり画像の codec.encode(x0) "
                         "です"), self.where, self.seed)  # fmt: skip
        self.calls.append((x.detach().clone(), t, context, context_mask))
        out = self.conv(x) + (t.float() / self.T)[:, None, None, None] * self.time[None, :, None, None]
        if isinstance(context, torch.Tensor) and isinstance(context_mask, torch.Tensor):
            m = context_mask[..., None].float()  # (B, L, 1)
            out = out + self.prompt((context * m).sum(1) / m.sum(1))[:, :, None, None]
        return out


T_TRAIN = 20
SCHEDULE = Label(f"Schedule(T={T_TRAIN})")


def make_schedule() -> Schedule:
    return Schedule(torch.linspace(1e-3, 0.3, T_TRAIN, dtype=torch.float64))


def prompt(B: int, L: int = 3, D: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, L, D) token vectors and a (B, L) bool mask, the last token of the first caption padding."""
    context = torch.randn(B, L, D) * 2
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[0, -1] = False
    return context, mask


def x_t_by_hand(z0, t, noise, schedule):
    """DDPM Eq. 4 in float64: √ᾱ_t z0 + √(1 − ᾱ_t) ε."""
    alpha_bar = schedule.alpha_bar[t].view(-1, 1, 1, 1)  # (B, 1, 1, 1) float64
    return alpha_bar.sqrt() * z0.double() + (1 - alpha_bar).sqrt() * noise.double()


def loss_by_hand(model, z_t, t, noise, context, context_mask):
    """Kata 14's loss: the mean over every value of (ε_θ(z_t, t) − ε)², in float64."""
    return ((model(z_t.float(), t, context, context_mask).double() - noise.double()) ** 2).mean()


# (B, H, W, scale, with a prompt)
LOSS_CASES = [(3, 8, 8, 2.5, True), (1, 6, 4, 0.4, False), (2, 4, 6, 5.0, True)]


def loss_case(seed, case):
    B, H, W, scale, with_prompt = case
    vae = make_vae(seed)
    codec = Codec(vae, scale)
    x0 = images(B, H, W)
    context = prompt(B) if with_prompt else (None, None)
    t = torch.randint(0, T_TRAIN, (B,))
    t[0] = T_TRAIN - 1
    noise = torch.randn(B, CZ, H // 2, W // 2)
    return codec, x0, context, t, noise


def loss_call(codec, x0, context, t=None, noise=None) -> str:
    kwargs = {"context": context[0], "context_mask": context[1]} if context[0] is not None else {}
    if t is not None:
        kwargs.update(t=t, noise=noise)
    codec_label = Label(f"LatentCodec(vae, scale={codec.scale.item():g})")
    return call("latent_diffusion_loss", Label("TinyEps"), codec_label, x0, SCHEDULE, **kwargs)


def run_loss(kata, model, codec, x0, schedule, context, t, noise, where, seed):
    try:
        return kata.latent_diffusion_loss(model, codec, x0, schedule, context[0], context[1], t=t, noise=noise)
    except RuntimeError as e:
        if "size of tensor" in str(e) and noise is not None:
            fail(said(f"RuntimeError: {str(e).splitlines()[0]}. The noise given has the latents' shape (B, Cz, h, w) = "
                      f"{tuple(noise.shape)} and x0 the images' {tuple(x0.shape)}: diffuse the latents codec.encode(x0), "
                      "not the images",
                      ja=f"RuntimeError: {str(e).splitlines()[0]}。与えられたノイズの形状は潜在表現の (B, Cz, h, w) = "
                         f"{tuple(noise.shape)} で、x0 の形状は画像の {tuple(x0.shape)} です: 画像ではなく、潜在表現 "
                         "codec.encode(x0) を拡散させてください"), where, seed)  # fmt: skip
        raise


@pytest.mark.blank("20.4")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES)))
def test_20_4_kata_14s_loss_on_the_scaled_latents(kata, seed, case):
    codec, x0, context, t, noise = loss_case(seed, case)
    schedule = make_schedule()
    where = loss_call(codec, x0, context, t, noise)
    model = TinyEps(T_TRAIN, where=where, seed=seed)
    loss = run_loss(kata, model, codec, x0, schedule, context, t, noise, where, seed)
    assert_tensor(loss, shape=(), dtype=torch.float32, call=where, seed=seed,
                  name=said("the loss (a scalar)", ja="損失（スカラー）"))
    if not model.calls:
        fail(said("the model was never called: it predicts ε from the noised latents z_t and t",
                  ja="モデルが一度も呼ばれていません: モデルは、ノイズを加えた潜在表現 z_t と t から ε を予測します"),
             where, seed)  # fmt: skip
    z_seen, t_seen, context_seen, mask_seen = model.calls[-1]
    z0 = codec.encode(x0)  # (B, Cz, h, w): the scaled latent mean
    z_t = x_t_by_hand(z0, t, noise, schedule).float()
    if close(z_seen, x_t_by_hand(z0 / codec.scale, t, noise, schedule).float()):
        fail(said("the model was given noised latents that are not scaled: diffuse codec.encode(x0), the VAE's mean "
                  "times s (unit variance), not the VAE's mean as it is",
                  ja="モデルに渡された、ノイズを加えた潜在表現がスケーリングされていません: VAE の平均をそのまま"
                     "使うのではなく、VAE の平均に s を掛けた codec.encode(x0)（分散 1）を拡散させてください"),
             where, seed)  # fmt: skip
    assert_close(z_seen, z_t, call=where, seed=seed,
                 name=said("the latents given to the model (z_t = √ᾱ_t z + √(1 − ᾱ_t) ε, z = codec.encode(x0), the t "
                           "and ε passed in)",
                           ja="モデルに渡された潜在表現（z_t = √ᾱ_t z + √(1 − ᾱ_t) ε、z = codec.encode(x0)、"
                              "t と ε は渡されたもの）"))  # fmt: skip
    if context[0] is not None and (context_seen is None or mask_seen is None):
        fail(said("the model was not given the prompt: pass context and context_mask on (diffusion_loss takes them "
                  "after t and noise)",
                  ja="モデルにプロンプトが渡されていません: context と context_mask も渡してください"
                     "（diffusion_loss はこれらを t と noise のあとに受け取ります）"), where, seed)  # fmt: skip
    with torch.no_grad():
        expected = loss_by_hand(model, z_t, t, noise, *context).float()
    assert_close(loss, expected, call=where, seed=seed, atol=1e-6, rtol=1e-5,
                 name=said("the loss (kata 14's: the mean of (ε − ε_θ(z_t, t, context))² over every latent value)",
                           ja="損失（kata 14 のもの: すべての潜在表現の値にわたる (ε − ε_θ(z_t, t, context))² の平均）"))  # fmt: skip


@pytest.mark.blank("20.4")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES[:2])))
def test_20_4_draws_t_and_noise_when_not_given(kata, seed, case):
    codec, x0, context, _, _ = loss_case(seed, case)
    schedule = make_schedule()
    where = loss_call(codec, x0, context) + said("    (no t, no noise: diffusion_loss draws them)",
                                                 ja="    （t も noise もなし: diffusion_loss が引く）")
    model = TinyEps(T_TRAIN, where=where, seed=seed)
    loss = kata.latent_diffusion_loss(model, codec, x0, schedule, context[0], context[1])
    assert_tensor(loss, shape=(), dtype=torch.float32, call=where, seed=seed,
                  name=said("the loss (a scalar)", ja="損失（スカラー）"))
    if not model.calls:
        fail(said("the model was never called: it predicts ε from the noised latents z_t and t",
                  ja="モデルが一度も呼ばれていません: モデルは、ノイズを加えた潜在表現 z_t と t から ε を予測します"),
             where, seed)  # fmt: skip
    z_seen, t_seen, _, _ = model.calls[-1]
    z0 = codec.encode(x0).double()
    alpha_bar = schedule.alpha_bar[t_seen].view(-1, 1, 1, 1)  # (B, 1, 1, 1)
    noise = ((z_seen.double() - alpha_bar.sqrt() * z0) / (1 - alpha_bar).sqrt()).float()  # the ε that made z_t
    with torch.no_grad():
        expected = loss_by_hand(model, z_seen, t_seen, noise, *context).float()
    assert_close(loss, expected, call=where, seed=seed, atol=1e-5, rtol=1e-4,
                 name=said("the loss (against the ε that made the z_t the model was given)",
                           ja="損失（モデルに渡された z_t を作った ε に対するもの）"))  # fmt: skip


@pytest.mark.blank("20.4")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES)))
def test_20_4_only_the_model_learns(kata, seed, case):
    codec, x0, context, t, noise = loss_case(seed, case)
    codec.vae.requires_grad_(True)  # even a VAE left trainable must not learn from this loss
    schedule = make_schedule()
    where = loss_call(codec, x0, context, t, noise) + said(", then backward()    (the VAE's weights left trainable)",
                                                           ja="、続けて backward()    （VAE の重みは学習可能なまま）")  # fmt: skip
    model = TinyEps(T_TRAIN, where=where, seed=seed)
    oracle = copy.deepcopy(model)
    loss = run_loss(kata, model, codec, x0, schedule, context, t, noise, where, seed)
    assert_tensor(loss, shape=(), dtype=torch.float32, call=where, seed=seed,
                  name=said("the loss (a scalar)", ja="損失（スカラー）"))
    vae_weights = [p for p in codec.vae.parameters()]
    if loss.requires_grad:
        grads = torch.autograd.grad(loss, vae_weights, retain_graph=True, allow_unused=True)
        if any(g is not None for g in grads):
            fail(said("gradients reach the VAE: the latent loss would train it too. The VAE is trained first and "
                      "frozen: encode with codec.encode(x0), which runs without gradients (torch.no_grad)",
                      ja="勾配が VAE に届いています: これでは潜在表現での損失が VAE まで学習させてしまいます。VAE は"
                         "先に学習させて凍結しておくものです: 勾配なし（torch.no_grad）で動く codec.encode(x0) で"
                         "エンコードしてください"), where, seed)  # fmt: skip
    z_t = x_t_by_hand(codec.encode(x0), t, noise, schedule).float()
    expected = loss_by_hand(oracle, z_t, t, noise, *context)
    theirs = dict(oracle.named_parameters())
    inputs = {said(f"the model's {n}", ja=f"モデルの {n}"): (p, theirs[n]) for n, p in model.named_parameters()}
    assert_gradients(loss, expected.float(), inputs, call=where, seed=seed)
