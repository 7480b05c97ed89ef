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
from support import assert_close, assert_gradients, assert_tensor, call, fail, randomise_group_norms
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
    where = call("estimate_scale", VAE_LABEL, x) + f"    (latent means with spreads {spreads}, offsets {offsets})"
    s = kata.estimate_scale(vae, x)
    if isinstance(s, torch.Tensor):
        fail(f"estimate_scale returned a {tuple(s.shape)} tensor: return a Python float (.item() turns a "
             "0-d tensor into one)", where, seed)  # fmt: skip
    if not isinstance(s, float):
        fail(f"estimate_scale returned a {type(s).__name__}: return a Python float", where, seed)
    if kata.estimate_scale(vae, x) != s:
        fail("two calls on the same images gave different scales: measure the means of q(z | x) "
             "(vae.encode's first output), not samples drawn from it", where, seed)  # fmt: skip
    mean, logvar = moments(vae, x)
    std = mean.double().std()
    named = {
        "the std of the means itself, not 1 / std: s multiplies the latents, so it must be small where they "
        "are spread wide": std,
        "1 / the variance of the means, not 1 / their standard deviation": 1 / mean.double().var(),
        "1 / the std of the log-variances, not of the means (encode returns mean first)": 1 / logvar.double().std(),
        "1 / the std of each channel, averaged: one std for every latent value together, not one per channel":
            1 / mean.double().std(dim=(0, 2, 3)).mean(),
        "1 / the mean absolute value of the means, not 1 / their standard deviation": 1 / mean.double().abs().mean(),
    }  # fmt: skip
    for problem, value in named.items():
        if close(s, value, rtol=2e-3, atol=0) and not close(s, 1 / std, rtol=2e-3, atol=0):
            fail(f"s = {s:.5g} is {problem} (1 / std = {1 / std.item():.5g})", where, seed)
    assert_close(torch.tensor(s, dtype=torch.float64), 1 / std, call=where, seed=seed, atol=0, rtol=2e-3,
                 name="s (1 / the standard deviation of every latent mean of every image together)")  # fmt: skip
    assert_close((mean.double() * s).std(), torch.tensor(1.0, dtype=torch.float64), call=where, seed=seed, atol=0,
                 rtol=2e-3, name="the std of the scaled latent means s · mean (1: unit variance)")  # fmt: skip


@pytest.mark.blank("20.1")
@pytest.mark.parametrize("seed", [0, 1])
def test_20_1_the_mean_not_a_sample(kata, seed):
    vae = make_vae(seed, logvar_bias=3.0)  # σ ≈ 4.5: a sample's spread is mostly noise
    x = images(8, 16, 16)
    where = call("estimate_scale", VAE_LABEL, x) + "    (log σ² about 3: samples of q(z | x) spread far wider than its means)"
    torch.manual_seed(seed)
    s = kata.estimate_scale(vae, x)
    if not isinstance(s, (float, torch.Tensor)):
        fail(f"estimate_scale returned a {type(s).__name__}: return a Python float", where, seed)
    mean, _ = moments(vae, x)
    assert_close(torch.as_tensor(s, dtype=torch.float64), 1 / mean.double().std(), call=where, seed=seed, atol=0,
                 rtol=2e-3, name="s (1 / the std of the latent means: the mean of q(z | x), no random draw)")  # fmt: skip


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
        fail(f"encode returned a {type(z).__name__}: return one tensor, the scaled latent mean", where, seed)
    assert_tensor(z, shape=mean.shape, dtype=torch.float32, call=where, seed=seed,
                  name="z (the latent mean's shape (B, Cz, h, w))")  # fmt: skip
    if not torch.equal(codec.encode(x), z):
        fail("two calls on the same images gave different latents: encode to the mean of q(z | x), "
             "not a sample drawn from it", where, seed)  # fmt: skip
    named = {
        "the latent mean, not scaled: multiply it by self.scale": mean,
        "the latent mean divided by the scale: encode multiplies (decode divides)": mean / scale,
        "the log-variance times the scale: encode returns (mean, logvar), the mean first": logvar * scale,
    }
    for problem, value in named.items():
        if close(z, value):
            fail(f"z is {problem}", where, seed)
    assert_close(z, mean * scale, call=where, seed=seed, name="z (the VAE's latent mean times the scale s)")


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
            "the VAE's decoding of z itself: the scale is not undone (divide z by self.scale first)": vae.decoder(z),
            "the decoding of z · s: decode multiplies by the scale again, where it should divide": vae.decoder(z * scale),
            "the decoding of z divided by s afterwards: undo the scale before the decoder, on the latent": (
                vae.decoder(z) / scale
            ),
        }  # fmt: skip
    assert_tensor(out, shape=(B, 3, H, W), dtype=torch.float32, call=where, seed=seed, name="the image (B, C, H, W)")
    for problem, value in named.items():
        if close(out, value):
            fail(f"the image is {problem}", where, seed)
    assert_close(out, expected, call=where, seed=seed, name="the image (VAE.decode(z / s))")


@pytest.mark.blank("20.3")
@pytest.mark.parametrize("seed, case", list(enumerate(CODEC_CASES[:2])))
def test_20_3_decode_of_encode_is_the_vae_decoding_the_mean(kata, seed, case):
    B, H, W, scale = case
    vae = make_vae(seed)
    codec = kata.LatentCodec(vae, scale)
    x = images(B, H, W)
    mean, _ = moments(vae, x)
    z = mean * scale  # what encode gives (written here: 20.3 is graded alone)
    where = codec_call("decode", scale, z) + "    (z = s · the latent mean of x: decode(encode(x)))"
    out = codec.decode(z)
    with torch.no_grad():
        expected = vae.decoder(mean)
    assert_close(out, expected, call=where, seed=seed,
                 name="decode(encode(x)) (the VAE's decoding of the mean: the scale undone exactly)")  # fmt: skip


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
            fail(f"the model was given x_t of shape {tuple(x.shape)}: the U-Net denoises latents of {CZ} channels "
                 "(B, Cz, h, w), the images' codec.encode(x0), not the images (B, C, H, W)", self.where, self.seed)  # fmt: skip
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
            fail(f"RuntimeError: {str(e).splitlines()[0]}. The noise given has the latents' shape (B, Cz, h, w) = "
                 f"{tuple(noise.shape)} and x0 the images' {tuple(x0.shape)}: diffuse the latents codec.encode(x0), "
                 "not the images", where, seed)  # fmt: skip
        raise


@pytest.mark.blank("20.4")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES)))
def test_20_4_kata_14s_loss_on_the_scaled_latents(kata, seed, case):
    codec, x0, context, t, noise = loss_case(seed, case)
    schedule = make_schedule()
    where = loss_call(codec, x0, context, t, noise)
    model = TinyEps(T_TRAIN, where=where, seed=seed)
    loss = run_loss(kata, model, codec, x0, schedule, context, t, noise, where, seed)
    assert_tensor(loss, shape=(), dtype=torch.float32, call=where, seed=seed, name="the loss (a scalar)")
    if not model.calls:
        fail("the model was never called: it predicts ε from the noised latents z_t and t", where, seed)
    z_seen, t_seen, context_seen, mask_seen = model.calls[-1]
    z0 = codec.encode(x0)  # (B, Cz, h, w): the scaled latent mean
    z_t = x_t_by_hand(z0, t, noise, schedule).float()
    if close(z_seen, x_t_by_hand(z0 / codec.scale, t, noise, schedule).float()):
        fail("the model was given noised latents that are not scaled: diffuse codec.encode(x0), the VAE's mean "
             "times s (unit variance), not the VAE's mean as it is", where, seed)  # fmt: skip
    assert_close(z_seen, z_t, call=where, seed=seed,
                 name="the latents given to the model (z_t = √ᾱ_t z + √(1 − ᾱ_t) ε, z = codec.encode(x0), the t "
                      "and ε passed in)")  # fmt: skip
    if context[0] is not None and (context_seen is None or mask_seen is None):
        fail("the model was not given the prompt: pass context and context_mask on (diffusion_loss takes them "
             "after t and noise)", where, seed)  # fmt: skip
    with torch.no_grad():
        expected = loss_by_hand(model, z_t, t, noise, *context).float()
    assert_close(loss, expected, call=where, seed=seed, atol=1e-6, rtol=1e-5,
                 name="the loss (kata 14's: the mean of (ε − ε_θ(z_t, t, context))² over every latent value)")  # fmt: skip


@pytest.mark.blank("20.4")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES[:2])))
def test_20_4_draws_t_and_noise_when_not_given(kata, seed, case):
    codec, x0, context, _, _ = loss_case(seed, case)
    schedule = make_schedule()
    where = loss_call(codec, x0, context) + "    (no t, no noise: diffusion_loss draws them)"
    model = TinyEps(T_TRAIN, where=where, seed=seed)
    loss = kata.latent_diffusion_loss(model, codec, x0, schedule, context[0], context[1])
    assert_tensor(loss, shape=(), dtype=torch.float32, call=where, seed=seed, name="the loss (a scalar)")
    if not model.calls:
        fail("the model was never called: it predicts ε from the noised latents z_t and t", where, seed)
    z_seen, t_seen, _, _ = model.calls[-1]
    z0 = codec.encode(x0).double()
    alpha_bar = schedule.alpha_bar[t_seen].view(-1, 1, 1, 1)  # (B, 1, 1, 1)
    noise = ((z_seen.double() - alpha_bar.sqrt() * z0) / (1 - alpha_bar).sqrt()).float()  # the ε that made z_t
    with torch.no_grad():
        expected = loss_by_hand(model, z_seen, t_seen, noise, *context).float()
    assert_close(loss, expected, call=where, seed=seed, atol=1e-5, rtol=1e-4,
                 name="the loss (against the ε that made the z_t the model was given)")  # fmt: skip


@pytest.mark.blank("20.4")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES)))
def test_20_4_only_the_model_learns(kata, seed, case):
    codec, x0, context, t, noise = loss_case(seed, case)
    codec.vae.requires_grad_(True)  # even a VAE left trainable must not learn from this loss
    schedule = make_schedule()
    where = loss_call(codec, x0, context, t, noise) + ", then backward()    (the VAE's weights left trainable)"
    model = TinyEps(T_TRAIN, where=where, seed=seed)
    oracle = copy.deepcopy(model)
    loss = run_loss(kata, model, codec, x0, schedule, context, t, noise, where, seed)
    assert_tensor(loss, shape=(), dtype=torch.float32, call=where, seed=seed, name="the loss (a scalar)")
    vae_weights = [p for p in codec.vae.parameters()]
    if loss.requires_grad:
        grads = torch.autograd.grad(loss, vae_weights, retain_graph=True, allow_unused=True)
        if any(g is not None for g in grads):
            fail("gradients reach the VAE: the latent loss would train it too. The VAE is trained first and "
                 "frozen: encode with codec.encode(x0), which runs without gradients (torch.no_grad)", where, seed)  # fmt: skip
    z_t = x_t_by_hand(codec.encode(x0), t, noise, schedule).float()
    expected = loss_by_hand(oracle, z_t, t, noise, *context)
    theirs = dict(oracle.named_parameters())
    inputs = {f"the model's {n}": (p, theirs[n]) for n, p in model.named_parameters()}
    assert_gradients(loss, expected.float(), inputs, call=where, seed=seed)
