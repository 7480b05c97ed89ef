"""Tests of kata 19: the VAE.

Oracles: z = μ + exp(½ log σ²) ε and the loss written out in float64 (the loss image by image);
torch.distributions (Normal and kl_divergence) for the KL; statistics over many draws where
reparameterize draws its own noise; the VAE's own layers (vae.encoder and vae.decoder, given
code) for the wiring of encode and forward. forward is graded with the reference reparameterize
and an encode written in the test, so 19.4 does not depend on 19.1 or 19.3; vae_loss with the
reference kl_divergence. Gradients: backward through the learner's output and the oracle's, the
oracle run on its own leaves or a deep copy of the VAE (assert_gradients).
"""

import copy

import pytest
import torch
import torch.nn.functional as F
from support import assert_close, assert_gradients, assert_tensor, call, fail, randomise_group_norms, said, with_reference
from torch.distributions import Normal
from torch.distributions import kl_divergence as torch_kl

LOGVAR_MIN, LOGVAR_MAX = -30.0, 20.0


def leaves(*tensors):
    """Copies that require gradients: the learner's inputs, and the oracle's own."""
    return [t.detach().clone().requires_grad_() for t in tensors]


def parameter_pairs(module, oracle, *prefixes):
    """{"self.name": (the module's parameter, the oracle's)} for the parameters under `prefixes`."""
    theirs = dict(oracle.named_parameters())
    return {f"self.{n}": (p, theirs[n]) for n, p in module.named_parameters() if n.split(".")[0] in prefixes}


def latents(shape, seed):
    """mean ~ 1.5·N(0, 1) and logvar uniform in [-3, 2], both (B, Cz, h, w)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g) * 1.5, torch.rand(shape, generator=g) * 5 - 3


# (B, Cz, h, w): batch 1, odd sizes, one channel
LATENT_CASES = [(2, 4, 3, 3), (1, 2, 4, 2), (3, 1, 2, 5), (4, 3, 1, 1)]


# --- 19.1: reparameterize ---------------------------------------------------------------------


def z_by_hand(mean, logvar, noise):
    """μ + exp(½ log σ²) ε in float64, returned in float32."""
    return (mean.double() + (0.5 * logvar.double()).exp() * noise.double()).float()


@pytest.mark.blank("19.1")
@pytest.mark.parametrize("seed, shape", list(enumerate(LATENT_CASES)))
def test_19_1_shifts_and_scales_the_given_noise(kata, seed, shape):
    mean, logvar = latents(shape, seed)
    noise = torch.randn(shape)
    where = call("reparameterize", mean, logvar, noise)
    z = kata.reparameterize(mean, logvar, noise)
    assert_tensor(z, shape=shape, dtype=torch.float32, call=where, seed=seed, name="z")
    if torch.allclose(z, mean + logvar.exp() * noise, atol=1e-5):
        fail(said("z is mean + exp(logvar) · noise: that scales the noise by the variance σ²; scale it by the "
                  "standard deviation σ = exp(logvar / 2)",
                  ja="z が mean + exp(logvar) · noise になっています: これではノイズに分散 σ² を掛けています。"
                     "標準偏差 σ = exp(logvar / 2) を掛けてください"), where, seed)  # fmt: skip
    assert_close(z, z_by_hand(mean, logvar, noise), call=where, seed=seed,
                 name=said("z (mean + exp(logvar / 2) · noise: the noise given, scaled by σ, shifted by μ)",
                           ja="z（mean + exp(logvar / 2) · noise: 与えられたノイズを σ 倍し、μ だけずらしたもの）"))  # fmt: skip


@pytest.mark.blank("19.1")
@pytest.mark.parametrize("seed", [0, 1])
def test_19_1_draws_standard_normal_noise_when_none_is_given(kata, seed):
    torch.manual_seed(seed)
    N = 20_000  # draws of each latent value
    mean = torch.randn(1, 2, 2, 2) * 1.5
    logvar = torch.tensor([-2.0, -1.2, -0.6, 0.7, 1.0, -1.6, 0.5, -0.8]).view(1, 2, 2, 2)  # |log σ²| ≥ 0.5
    means, logvars = mean.repeat(N, 1, 1, 1), logvar.repeat(N, 1, 1, 1)  # (N, 2, 2, 2)
    where = call("reparameterize", means, logvars) + said(f"    ({N} copies of one (1, 2, 2, 2) latent, no noise given)",
                                                          ja=f"    （1 つの (1, 2, 2, 2) の潜在表現を {N} 個複製、ノイズは与えない）")  # fmt: skip
    z = kata.reparameterize(means, logvars)
    assert_tensor(z, shape=means.shape, dtype=torch.float32, call=where, seed=seed, name="z")
    if (z == z[:1]).all():
        fail(said("every copy of the latent gave the same z: with no noise given, draw ε ~ N(0, I) "
                  "(torch.randn_like(mean)), a new value for each",
                  ja="潜在表現のどの複製からも同じ z が得られました: ノイズが与えられないときは ε ~ N(0, I) を"
                     "（torch.randn_like(mean) で）引き、複製ごとに新しい値にしてください"), where, seed)  # fmt: skip
    std = (0.5 * logvar).exp()
    assert_close(z.mean(dim=0, keepdim=True), mean, call=where, seed=seed, atol=0.06,
                 name=said("the mean of z over the draws (μ: the noise has mean 0)",
                           ja="多数回引いた z の平均（μ: ノイズの平均は 0）"))  # fmt: skip
    assert_close(z.std(dim=0, keepdim=True), std, call=where, seed=seed, atol=0, rtol=0.04,
                 name=said("the standard deviation of z over the draws (σ = exp(logvar / 2): the noise has std 1)",
                           ja="多数回引いた z の標準偏差（σ = exp(logvar / 2): ノイズの標準偏差は 1）"))  # fmt: skip


@pytest.mark.blank("19.1")
@pytest.mark.parametrize("seed, shape", list(enumerate(LATENT_CASES[:3])))
def test_19_1_gradients_reach_mean_and_logvar(kata, seed, shape):
    mean, logvar = latents(shape, seed)
    noise = torch.randn(shape)
    (mean, mean_o), (logvar, logvar_o) = leaves(mean, mean), leaves(logvar, logvar)
    where = call("reparameterize", mean, logvar, noise) + said(", then backward() (∂z/∂μ = 1, ∂z/∂logvar = ½ σ ε)",
                                                               ja="、続けて backward()（∂z/∂μ = 1、∂z/∂logvar = ½ σ ε）")  # fmt: skip
    z = kata.reparameterize(mean, logvar, noise)
    expected = mean_o + torch.exp(0.5 * logvar_o) * noise
    assert_gradients(z, expected, {"mean": (mean, mean_o), "logvar": (logvar, logvar_o)}, call=where, seed=seed)


# --- 19.2: kl_divergence ----------------------------------------------------------------------


def kl_by_torch(mean, logvar):
    """KL(N(μ, σ²) ‖ N(0, 1)) of each value by torch.distributions, summed over each image: (B,)."""
    q = Normal(mean.double(), (0.5 * logvar.double()).exp())
    prior = Normal(torch.zeros_like(mean, dtype=torch.float64), torch.ones_like(mean, dtype=torch.float64))
    return torch_kl(q, prior).flatten(1).sum(dim=1)


@pytest.mark.blank("19.2")
@pytest.mark.parametrize("seed, shape", list(enumerate(LATENT_CASES)))
def test_19_2_matches_torch_distributions(kata, seed, shape):
    mean, logvar = latents(shape, seed)
    where = call("kl_divergence", mean, logvar)
    kl = kata.kl_divergence(mean, logvar)
    assert_tensor(kl, shape=(shape[0],), dtype=torch.float32, call=where, seed=seed,
                  name=said("the KL (one value per image: summed over its latent values, not over the batch)",
                            ja="KL（画像ごとに 1 つの値: バッチについてではなく、その画像の潜在表現の値について合計したもの）"))  # fmt: skip
    assert_close(kl, kl_by_torch(mean, logvar).float(), call=where, seed=seed, atol=1e-4,
                 name=said("the KL of each image (½ Σ (μ² + σ² − 1 − log σ²), torch.distributions as the oracle)",
                           ja="各画像の KL（½ Σ (μ² + σ² − 1 − log σ²)、正解は torch.distributions で計算）"))  # fmt: skip


@pytest.mark.blank("19.2")
def test_19_2_zero_at_the_prior(kata):
    mean, logvar = torch.zeros(3, 2, 2, 2), torch.zeros(3, 2, 2, 2)  # N(0, 1) itself
    where = call("kl_divergence", mean, logvar) + said("    (mean 0 and logvar 0: the prior itself)",
                                                       ja="    （mean 0、logvar 0: 事前分布そのもの）")
    kl = kata.kl_divergence(mean, logvar)
    assert_tensor(kl, shape=(3,), dtype=torch.float32, call=where, name=said("the KL", ja="KL"))
    assert_close(kl, torch.zeros(3), call=where, atol=1e-7,
                 name=said("the KL of the prior from itself (0: μ² + σ² − 1 − log σ² = 0 + 1 − 1 − 0)",
                           ja="事前分布とそれ自身との KL（0: μ² + σ² − 1 − log σ² = 0 + 1 − 1 − 0）"))  # fmt: skip


@pytest.mark.blank("19.2")
@pytest.mark.parametrize("seed", [0, 1])
def test_19_2_one_sum_per_image(kata, seed):
    a, b = latents((2, 2, 3, 3), seed)
    a[0], b[0] = 0.0, 0.0  # image 0 is the prior: its KL is 0 whatever the others are
    twice_a, twice_b = torch.cat([a, a], dim=1), torch.cat([b, b], dim=1)  # (2, 4, 3, 3): each value twice
    where = call("kl_divergence", twice_a, twice_b) + said("    (each image's latent values twice over)",
                                                           ja="    （各画像の潜在表現の値をそれぞれ 2 回ずつ）")
    once = kl_by_torch(a, b).float()
    kl = kata.kl_divergence(twice_a, twice_b)
    assert_tensor(kl, shape=(2,), dtype=torch.float32, call=where, seed=seed, name=said("the KL", ja="KL"))
    assert_close(kl, 2 * once, call=where, seed=seed, atol=1e-4,
                 name=said("the KL of a latent holding each value twice (twice the KL: a sum over the values, "
                           "not their mean; image 0 is the prior, KL 0)",
                           ja="各値を 2 回ずつ持つ潜在表現の KL（元の KL の 2 倍: 値の平均ではなく和のため。"
                              "画像 0 は事前分布そのもので KL は 0）"))  # fmt: skip


@pytest.mark.blank("19.2")
@pytest.mark.parametrize("seed, shape", list(enumerate(LATENT_CASES[:3])))
def test_19_2_gradients(kata, seed, shape):
    mean, logvar = (t.double() for t in latents(shape, seed))
    (mean, mean_o), (logvar, logvar_o) = leaves(mean, mean), leaves(logvar, logvar)
    where = call("kl_divergence", mean, logvar) + said(", then backward()", ja="、続けて backward()")
    kl = kata.kl_divergence(mean, logvar)
    assert_gradients(kl, kl_by_torch(mean_o, logvar_o), {"mean": (mean, mean_o), "logvar": (logvar, logvar_o)},
                     call=where, seed=seed)  # fmt: skip


# --- the VAE ------------------------------------------------------------------------------------


def vae_case(kata, seed, case):
    """A VAE with random GroupNorm weights, x in [-1, 1], the call that names them."""
    B, config, H, W = case
    torch.manual_seed(seed)
    vae = kata.VAE(kata.VAEConfig(**config))
    randomise_group_norms(vae)
    x = torch.rand(B, vae.config.in_channels, H, W) * 2 - 1
    return vae, x, f"VAE(VAEConfig({', '.join(f'{k}={v}' for k, v in config.items())}))"


def encode_by_spec(vae, x):
    """(mean, logvar): the first Cz channels of the encoder's moments, and the last Cz clamped."""
    moments = vae.encoder(x)  # (B, 2·Cz, h, w)
    Cz = moments.shape[1] // 2
    return moments[:, :Cz], moments[:, Cz:].clamp(LOGVAR_MIN, LOGVAR_MAX)


# (B, config, H, W): the defaults (16×16 → 8×8), H ≠ W, batch 1, one image channel, odd Cz
VAE_CASES = [
    (2, {}, 16, 16),
    (1, {"in_channels": 1, "latent_channels": 2, "channels": (4, 8), "groups": 2}, 6, 4),
    (3, {"latent_channels": 3, "channels": (8, 16), "groups": 4}, 4, 6),
    (2, {"channels": (8, 8), "groups": 8}, 8, 8),
]


def unpack(out, n, names, where, seed):
    if not isinstance(out, tuple) or len(out) != n:
        fail(said(f"should return a tuple ({names}), got {type(out).__name__}"
                  + (f" of {len(out)}" if isinstance(out, (tuple, list)) else ""),
                  ja=f"タプル ({names}) を返すはずですが、返ってきたのは {type(out).__name__} です"
                     + (f"（要素 {len(out)} 個）" if isinstance(out, (tuple, list)) else "")),
             where, seed)  # fmt: skip
    return out


# --- 19.3: encode -----------------------------------------------------------------------------


@pytest.mark.blank("19.3")
@pytest.mark.parametrize("seed, case", list(enumerate(VAE_CASES)))
def test_19_3_moments_split_into_mean_and_logvar(kata, seed, case):
    vae, x, name = vae_case(kata, seed, case)
    where = call(f"{name}.encode", x)
    with torch.no_grad():
        mean, logvar = unpack(vae.encode(x), 2, "mean, logvar", where, seed)
        expected_mean, expected_logvar = encode_by_spec(vae, x)
    B, Cz, h, w = expected_mean.shape
    for value, what in ((mean, "mean"), (logvar, "logvar")):
        assert_tensor(value, shape=(B, Cz, h, w), dtype=torch.float32, call=where, seed=seed,
                      name=said(f"{what} (half of the moments' 2·Cz channels, at H/2 × W/2)",
                                ja=f"{what}（moments の 2·Cz チャネルの半分、大きさは H/2 × W/2）"))  # fmt: skip
    if torch.allclose(mean, expected_logvar) and not torch.allclose(mean, expected_mean):
        fail(said("mean is the last Cz channels of the moments: mean and logvar are swapped (mean is the first half)",
                  ja="mean が moments の最後の Cz チャネルになっています: mean と logvar が入れ替わっています"
                     "（mean は前半です）"),
             where, seed)  # fmt: skip
    assert_close(mean, expected_mean, call=where, seed=seed,
                 name=said("mean (the first Cz channels of the moments)", ja="mean（moments の最初の Cz チャネル）"))  # fmt: skip
    assert_close(logvar, expected_logvar, call=where, seed=seed,
                 name=said("logvar (the last Cz channels of the moments, clamped to [-30, 20])",
                           ja="logvar（moments の最後の Cz チャネルを [-30, 20] にクランプしたもの）"))  # fmt: skip


@pytest.mark.blank("19.3")
@pytest.mark.parametrize("seed, case", list(enumerate(VAE_CASES[1:3])))
def test_19_3_logvar_clamped(kata, seed, case):
    vae, x, name = vae_case(kata, seed, case)
    last = vae.encoder[-1]  # the 1×1 conv that makes the moments
    with torch.no_grad():
        signs = torch.tensor([1.0, -1.0]).repeat(last.out_channels // 2 + 1)[: last.out_channels]
        last.bias.copy_(100 * signs)  # every moment near ±100: μ untouched, log σ² clamped
        mean, logvar = unpack(vae.encode(x), 2, "mean, logvar", call(f"{name}.encode", x), seed)
        expected_mean, expected_logvar = encode_by_spec(vae, x)
    where = call(f"{name}.encode", x) + said("    (the last conv's bias set to ±100)",
                                             ja="    （最後の畳み込みのバイアスを ±100 に設定）")
    assert_close(logvar, expected_logvar, call=where, seed=seed,
                 name=said("logvar (clamped to [-30, 20], as Stable Diffusion does: exp(±100) is inf or 0 in float32)",
                           ja="logvar（Stable Diffusion と同じく [-30, 20] にクランプ: float32 では exp(±100) は inf か 0 "
                              "になる）"))  # fmt: skip
    assert_close(mean, expected_mean, call=where, seed=seed, atol=1e-4,
                 name=said("mean (not clamped: only logvar goes through exp)",
                           ja="mean（クランプしない: exp を通るのは logvar だけ）"))  # fmt: skip


@pytest.mark.blank("19.3")
@pytest.mark.parametrize("seed, case", list(enumerate(VAE_CASES[1:3])))
def test_19_3_encode_gradients(kata, seed, case):
    vae, x, name = vae_case(kata, seed, case)
    oracle = copy.deepcopy(vae)
    x, x_o = leaves(x, x)
    mean, logvar = unpack(vae.encode(x), 2, "mean, logvar", call(f"{name}.encode", x), seed)
    expected = torch.cat(encode_by_spec(oracle, x_o), dim=1)
    inputs = {"x": (x, x_o), **parameter_pairs(vae, oracle, "encoder")}
    where = call(f"{name}.encode", x) + said(", then backward() from mean and logvar side by side",
                                             ja="、続けて mean と logvar を並べたものから backward()")
    assert_gradients(torch.cat([mean, logvar], dim=1), expected, inputs, call=where, seed=seed)


# --- 19.4: forward ----------------------------------------------------------------------------


def wired(monkeypatch, kata, vae):
    """Grade forward alone: the reference reparameterize, and encode as the spec says."""
    with_reference(monkeypatch, kata, "reparameterize")
    vae.encode = lambda x: encode_by_spec(vae, x)  # an attribute of this VAE: the class keeps its own


def forward_by_spec(vae, x, noise):
    mean, logvar = encode_by_spec(vae, x)
    return vae.decoder(mean + torch.exp(0.5 * logvar) * noise), mean, logvar


@pytest.mark.blank("19.4")
@pytest.mark.parametrize("seed, case", list(enumerate(VAE_CASES)))
def test_19_4_decodes_a_sample_of_q(kata, monkeypatch, seed, case):
    vae, x, name = vae_case(kata, seed, case)
    wired(monkeypatch, kata, vae)
    with torch.no_grad():
        mean, _ = encode_by_spec(vae, x)
        noise = torch.randn(mean.shape)
        where = call(name, x, noise)
        recon, mean_out, logvar_out = unpack(vae(x, noise), 3, "recon, mean, logvar", where, seed)
        expected, expected_mean, expected_logvar = forward_by_spec(vae, x, noise)
        decoded_mean = vae.decoder(mean)
    assert_tensor(recon, shape=x.shape, dtype=torch.float32, call=where, seed=seed,
                  name=said("recon (the shape of x)", ja="recon（x と同じ形状）"))  # fmt: skip
    if torch.allclose(recon, decoded_mean, atol=1e-5):
        fail(said("recon is decode(mean): forward decodes a sample z = reparameterize(mean, logvar, noise), "
                  "not the mean",
                  ja="recon が decode(mean) になっています: forward がデコードするのは平均ではなく、サンプル "
                     "z = reparameterize(mean, logvar, noise) です"), where, seed)  # fmt: skip
    assert_close(recon, expected, call=where, seed=seed,
                 name=said("recon (decode(z) with z = reparameterize(mean, logvar, noise), the noise given)",
                           ja="recon（z = reparameterize(mean, logvar, noise) とした decode(z)、noise は与えたもの）"))  # fmt: skip
    assert_close(mean_out, expected_mean, call=where, seed=seed,
                 name=said("the mean returned (encode's mean, not z)", ja="返された mean（z ではなく encode の mean）"))  # fmt: skip
    assert_close(logvar_out, expected_logvar, call=where, seed=seed,
                 name=said("the logvar returned (encode's logvar)", ja="返された logvar（encode の logvar）"))  # fmt: skip


@pytest.mark.blank("19.4")
@pytest.mark.parametrize("seed, case", list(enumerate(VAE_CASES[1:3])))
def test_19_4_draws_the_noise_when_none_is_given(kata, monkeypatch, seed, case):
    vae, x, name = vae_case(kata, seed, case)
    wired(monkeypatch, kata, vae)
    where = call(name, x) + said("    (no noise: reparameterize draws it, torch.randn_like(mean))",
                                 ja="    （noise なし: reparameterize が torch.randn_like(mean) で引く）")
    with torch.no_grad():
        mean, _ = encode_by_spec(vae, x)
        torch.manual_seed(seed)
        recon, _, _ = unpack(vae(x), 3, "recon, mean, logvar", where, seed)
        torch.manual_seed(seed)
        expected, _, _ = forward_by_spec(vae, x, torch.randn(mean.shape))
        decoded_mean = vae.decoder(mean)
    if torch.allclose(recon, decoded_mean, atol=1e-5):
        fail(said("with no noise given, recon is decode(mean): forward samples z all the same "
                  "(pass noise=None on to reparameterize, which draws it)",
                  ja="noise が与えられないときに recon が decode(mean) になっています: その場合も forward は z を"
                     "サンプリングします（noise=None をそのまま reparameterize に渡せば、そちらでノイズを引きます）"),
             where, seed)  # fmt: skip
    assert_close(recon, expected, call=where, seed=seed,
                 name=said("recon (decode(reparameterize(mean, logvar)), the noise drawn by reparameterize)",
                           ja="recon（decode(reparameterize(mean, logvar))、ノイズは reparameterize が引いたもの）"))  # fmt: skip


@pytest.mark.blank("19.4")
@pytest.mark.parametrize("seed, case", list(enumerate(VAE_CASES[1:3])))
def test_19_4_forward_gradients(kata, monkeypatch, seed, case):
    vae, x, name = vae_case(kata, seed, case)
    oracle = copy.deepcopy(vae)
    wired(monkeypatch, kata, vae)
    x, x_o = leaves(x, x)
    noise = torch.randn(encode_by_spec(oracle, x_o)[0].shape)
    where = call(name, x, noise) + said(", then backward() from recon", ja="、続けて recon から backward()")
    recon, _, _ = unpack(vae(x, noise), 3, "recon, mean, logvar", where, seed)
    expected, _, _ = forward_by_spec(oracle, x_o, noise)
    inputs = {"x": (x, x_o), **parameter_pairs(vae, oracle, "encoder", "decoder")}
    assert_gradients(recon, expected, inputs, call=where, seed=seed)


# --- 19.5: vae_loss ---------------------------------------------------------------------------


def loss_by_hand(recon, x, mean, logvar, kl_weight):
    """(1/B) Σ_i [Σ (x̂_i − x_i)² + kl_weight · ½ Σ (μ_i² + σ_i² − 1 − log σ_i²)], image by image in float64."""
    total = 0.0
    for i in range(x.shape[0]):
        squared_errors = (recon[i].double() - x[i].double()).pow(2).sum()
        m, lv = mean[i].double(), logvar[i].double()
        kl = 0.5 * (m.pow(2) + lv.exp() - 1 - lv).sum()
        total = total + squared_errors + kl_weight * kl
    return total / x.shape[0]


# (B, C, H, W, Cz, kl_weight): weights below, near and above 1
LOSS_CASES = [(4, 3, 4, 4, 2, 0.01), (1, 1, 2, 6, 3, 0.3), (3, 3, 2, 2, 1, 2.0), (2, 2, 4, 2, 4, 1e-3)]


def loss_case(seed, case):
    B, C, H, W, Cz, kl_weight = case
    torch.manual_seed(seed)
    x = torch.rand(B, C, H, W) * 2 - 1
    recon = x + 0.5 * torch.randn(B, C, H, W)
    mean, logvar = latents((B, Cz, H // 2 or 1, W // 2 or 1), seed)
    return recon, x, mean, logvar, kl_weight


@pytest.mark.blank("19.5")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES[:2])))
def test_19_5_reconstruction_summed_over_each_image(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "kl_divergence")
    recon, x, mean, logvar, _ = loss_case(seed, case)
    mean, logvar = torch.zeros_like(mean), torch.zeros_like(logvar)  # the prior itself: KL 0
    where = call("vae_loss", recon, x, mean, logvar, kl_weight=0.5) + said("    (mean 0, logvar 0: KL 0)",
                                                                           ja="    （mean 0、logvar 0: KL は 0）")
    loss = kata.vae_loss(recon, x, mean, logvar, 0.5)
    assert_tensor(loss, shape=(), dtype=torch.float32, call=where, seed=seed,
                  name=said("the loss (a scalar)", ja="損失（スカラー）"))
    if torch.allclose(loss, F.mse_loss(recon, x), rtol=1e-4):
        fail(said("the loss is the mean squared error over every value (F.mse_loss): sum the squared errors over "
                  "each image's C·H·W values, as −log p(x | z) does, then average over the images",
                  ja="損失がすべての値にわたる平均二乗誤差（F.mse_loss）になっています: −log p(x | z) と同じく、"
                     "二乗誤差を画像ごとにその C·H·W 個の値について合計し、それから画像について平均してください"),
             where, seed)  # fmt: skip
    expected = ((recon.double() - x.double()).pow(2).flatten(1).sum(dim=1).mean()).float()
    assert_close(loss, expected, call=where, seed=seed, atol=1e-4,
                 name=said("the loss at KL 0 (the mean over images of each one's sum of squared errors)",
                           ja="KL が 0 のときの損失（各画像の二乗誤差の和を、画像について平均したもの）"))  # fmt: skip


@pytest.mark.blank("19.5")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES)))
def test_19_5_loss_is_the_weighted_sum_averaged_over_images(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "kl_divergence")
    recon, x, mean, logvar, kl_weight = loss_case(seed, case)
    where = call("vae_loss", recon, x, mean, logvar, kl_weight=kl_weight)
    loss = kata.vae_loss(recon, x, mean, logvar, kl_weight)
    assert_tensor(loss, shape=(), dtype=torch.float32, call=where, seed=seed,
                  name=said("the loss (a scalar)", ja="損失（スカラー）"))
    expected = loss_by_hand(recon, x, mean, logvar, kl_weight).float()
    assert_close(loss, expected, call=where, seed=seed, atol=1e-4,
                 name=said("the loss (the mean over images of Σ (x̂ − x)² + kl_weight · KL)",
                           ja="損失（Σ (x̂ − x)² + kl_weight · KL を画像について平均したもの）"))  # fmt: skip


@pytest.mark.blank("19.5")
@pytest.mark.parametrize("seed, case", list(enumerate(LOSS_CASES[:3])))
def test_19_5_gradients(kata, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "kl_divergence")
    recon, x, mean, logvar, kl_weight = loss_case(seed, case)
    recon, recon_o, mean, mean_o, logvar, logvar_o = leaves(recon, recon, mean, mean, logvar, logvar)
    where = call("vae_loss", recon, x, mean, logvar, kl_weight=kl_weight) + said(", then backward()",
                                                                                 ja="、続けて backward()")
    loss = kata.vae_loss(recon, x, mean, logvar, kl_weight)
    kl = 0.5 * (mean_o.pow(2) + logvar_o.exp() - 1 - logvar_o).flatten(1).sum(dim=1)  # (B,)
    expected = ((recon_o - x).pow(2).flatten(1).sum(dim=1) + kl_weight * kl).mean()
    inputs = {"recon": (recon, recon_o), "mean": (mean, mean_o), "logvar": (logvar, logvar_o)}
    assert_gradients(loss, expected, inputs, call=where, seed=seed, atol=1e-4)
