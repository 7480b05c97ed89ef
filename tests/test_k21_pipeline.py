"""Tests of kata 21: the text-to-image pipeline.

Oracles: a small text encoder that records the tokens it is given (its features are an embedding
of each token), with the captions tokenized by hand (<bos>, the words' IDs, <eos>, <pad>s);
a small U-Net (a 1×1 convolution, a term linear in t, one from the prompt's masked mean) that
records the batches it sees; DDIM with classifier-free guidance and without the x̂_0 clip,
written out here as a loop in float64 from x_T drawn with torch.Generator().manual_seed(seed);
VAE.decode(z / s) and (x + 1) / 2 clamped, for the decoding; and a plain loop that pastes image
i at row i // ncol, column i % ncol of a black canvas, compared with the PNG read back by Pillow.
The two blanks of forward are graded apart: 21.3 by the latents ddim_sample returns (forward
stops there), 21.4 with a ddim_sample that returns latents the test chose; both with the
prompts encoded as the test says, so they do not depend on 21.2.
"""

import importlib
import math

import numpy as np
import pytest
import torch
from k09_schedules import Schedule
from k18_ddim import ddim_sample
from k19_vae import VAE, VAEConfig
from k20_latent import LatentCodec
from PIL import Image
from support import assert_close, assert_tensor, call, fail, randomise_group_norms, said, with_reference
from torch import nn

VOCAB = {"<pad>": 0, "<bos>": 1, "<eos>": 2, "<unk>": 3, "a": 4, "red": 5, "blue": 6, "circle": 7, "square": 8,
         "above": 9, "left": 10, "of": 11, "the": 12}  # fmt: skip
PAD, BOS, EOS = 0, 1, 2
D = 5  # width of the text features
CZ = 2  # latent channels
T_TRAIN = 20


class Label(str):
    """An argument shown in a call as written."""

    def __repr__(self) -> str:
        return str(self)


class TinyTextEncoder(nn.Module):
    """features = an embedding of each token (B, T, D); pooled = their mean. Records the tokens of each call."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(len(VOCAB), D)
        self.calls = []

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.calls.append(tokens.detach().clone())
        features = self.embed(tokens)  # (B, T, D)
        return features, features.mean(dim=1)


class TinyUNet(nn.Module):
    """ε(z_t, t, context, mask): a 1×1 convolution, a term linear in t/T, and the prompt's masked mean
    through a Linear, image by image. Records the batch size of each call."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(CZ, CZ, 1)
        self.time = nn.Parameter(torch.randn(CZ))
        self.prompt = nn.Linear(D, CZ)
        self.batches = []

    def forward(self, x, t, context, context_mask):
        self.batches.append(x.shape[0])
        m = context_mask.transpose(1, 2).float()  # (B, T, 1) from the key padding mask (B, 1, T)
        pooled = (context * m).sum(dim=1) / m.sum(dim=1)  # (B, D)
        time = (t.float() / T_TRAIN)[:, None, None, None] * self.time[None, :, None, None]
        return 0.5 * self.conv(x) + time + 2 * self.prompt(pooled)[:, :, None, None]


def tokens_by_hand(captions: list[str]) -> torch.Tensor:
    """<bos>, each word's ID, <eos>, then <pad> up to the longest: (N, T) long."""
    rows = [[BOS] + [VOCAB[w] for w in caption.lower().split()] + [EOS] for caption in captions]
    T = max(len(r) for r in rows)
    return torch.tensor([r + [PAD] * (T - len(r)) for r in rows])


def prompts_by_hand(pipe, prompts):
    """(context, mask, uncond_context, uncond_mask) as encode_prompts gives them, written out."""
    B = len(prompts)
    tokens = tokens_by_hand(prompts + [""] * B)  # (2B, T)
    with torch.no_grad():
        features = pipe.text_encoder.embed(tokens)  # (2B, T, D)
    mask = (tokens != PAD)[:, None, :]  # (2B, 1, T)
    return features[:B], mask[:B], features[B:], mask[B:]


def make_pipeline(kata, seed, latent_shape=(CZ, 3, 4), scale=2.5, decoder_gain=1.0):
    torch.manual_seed(seed)
    vae = VAE(VAEConfig(latent_channels=CZ, channels=(4, 8), groups=2))
    randomise_group_norms(vae)
    with torch.no_grad():
        vae.decoder[-1].weight *= decoder_gain
    codec = LatentCodec(vae, scale)
    schedule = Schedule(torch.linspace(1e-3, 0.3, T_TRAIN, dtype=torch.float64))
    pipe = kata.TextToImage(VOCAB, TinyTextEncoder(), TinyUNet(), codec, schedule, latent_shape)
    reference = importlib.import_module("k21_pipeline").TextToImage
    pipe.check_words = reference.check_words.__get__(pipe)  # blank 21.1 is graded by its own tests
    return pipe


def pipe_call(pipe, method, *args, **kwargs) -> str:
    return call(f"TextToImage(vocab, TinyTextEncoder, TinyUNet, LatentCodec(vae, scale={pipe.codec.scale.item():g}), "
                f"Schedule(T={T_TRAIN}), latent_shape={pipe.latent_shape}).{method}", *args, **kwargs)  # fmt: skip


def close(a, b, atol: float = 1e-5) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a.double(), b.double(), atol=atol, rtol=1e-4))


# --- 21.2: encode_prompts ---------------------------------------------------------------------

PROMPT_CASES = [
    ["a red circle"],
    ["a red circle above a blue square", "Blue  SQUARE", "circle"],
    ["red", "the blue square left of the red circle"],
]


@pytest.mark.blank("21.1")
@pytest.mark.parametrize("prompts, unknown", [(["a purple circle"], "purple"), (["a red circle", "a red blob left of a blue cube"], "blob"),
                                             (["A RED Circle", "a blue square"], None), (["a red circle above a blue square"], None)])
def test_21_1_a_word_the_model_never_learned_is_named(kata, prompts, unknown):
    pipe = kata.TextToImage(VOCAB, TinyTextEncoder(), TinyUNet(), None, None, (CZ, 3, 4))
    where = call("TextToImage(vocab, ...).check_words", prompts)
    try:
        pipe.check_words(prompts)
    except ValueError as e:
        if unknown is None:
            fail(said(f"check_words refused prompts made of known words (split and lowercased as kata 01's words_of does): "
                      f"{e}",
                      ja=f"check_words が既知の単語だけでできたプロンプトを拒否しました（単語は kata 01 の words_of と同じく、"
                         f"分割して小文字にしたもの）: {e}"), where)  # fmt: skip
        if f"{unknown!r}" not in str(e).split(" in ")[0]:
            fail(said(f"the message names the wrong word: {e}; the first unknown word is {unknown!r}",
                      ja=f"メッセージが挙げている単語が違います: {e}。最初の未知語は {unknown!r} です"), where)  # fmt: skip
        return
    if unknown is not None:
        fail(said(f"check_words accepted {prompts}, where {unknown!r} is not in the vocabulary: find the words of each "
                  "prompt that the vocabulary lacks",
                  ja=f"check_words が {prompts} を受け付けましたが、{unknown!r} は語彙にありません: 各プロンプトの単語"
                     "のうち、語彙にないものを見つけてください"), where)  # fmt: skip


@pytest.mark.blank("21.2")
@pytest.mark.parametrize("seed, prompts", list(enumerate(PROMPT_CASES)))
def test_21_2_one_batch_prompts_then_empty_captions(kata, seed, prompts):
    pipe = make_pipeline(kata, seed)
    B = len(prompts)
    where = pipe_call(pipe, "encode_prompts", prompts)
    out = pipe.encode_prompts(prompts)
    calls = pipe.text_encoder.calls
    if len(calls) != 1:
        fail(said(f"the text encoder ran {len(calls)} times: run it once, on one padded batch of the {B} prompts and "
                  f"{B} empty captions, so that both halves have the same length T",
                  ja=f"テキストエンコーダが {len(calls)} 回実行されました: {B} 個のプロンプトと {B} 個の空のキャプションを"
                     "パディングして 1 つのバッチにし、1 回だけ実行してください。そうすれば両方の半分が同じ長さ T に"
                     "なります"), where, seed)  # fmt: skip
    tokens, expected = calls[0], tokens_by_hand(prompts + [""] * B)
    assert_tensor(tokens, shape=expected.shape, dtype=torch.long, call=where, seed=seed,
                  name=said(f"the tokens given to the text encoder (2B = {2 * B} captions, padded to the longest)",
                            ja=f"テキストエンコーダに渡されたトークン（2B = {2 * B} 個のキャプションを、いちばん長いものに"
                               "合わせてパディング）"))  # fmt: skip
    if (tokens[B:] == PAD).all():
        fail(said("the empty captions were given to the text encoder as padding only: the empty caption \"\" is "
                  "<bos> <eos> (encode(\"\", vocab)), then padding",
                  ja="空のキャプションがパディングだけでテキストエンコーダに渡されています: 空のキャプション \"\" は "
                     "<bos> <eos>（encode(\"\", vocab)）で、そのあとがパディングです"), where, seed)  # fmt: skip
    if torch.equal(tokens[:B], expected[B:]) and torch.equal(tokens[B:], expected[:B]):
        fail(said("the text encoder was given the empty captions first: the prompts come first, then the empty "
                  "captions",
                  ja="テキストエンコーダに空のキャプションが先に渡されています: 先にプロンプト、そのあとに空の"
                     "キャプションです"), where, seed)  # fmt: skip
    assert_close(tokens, expected, call=where, seed=seed,
                 name=said("the tokens given to the text encoder (the prompts, then the empty captions <bos> <eos> "
                           "<pad>..., each <bos> words <eos> padded with <pad> to one length T)",
                           ja="テキストエンコーダに渡されたトークン（プロンプト、続いて空のキャプション <bos> <eos> "
                              "<pad>...。どれも <bos> 単語 <eos> を <pad> で同じ長さ T までパディングしたもの）"))  # fmt: skip
    if not isinstance(out, tuple) or len(out) != 4:
        fail(said("encode_prompts should return 4 tensors (context, mask, uncond_context, uncond_mask)",
                  ja="encode_prompts は 4 つのテンソル (context, mask, uncond_context, uncond_mask) を返す必要があります"),
             where, seed)  # fmt: skip
    context, mask, uncond_context, uncond_mask = out
    e_context, e_mask, e_uncond, e_uncond_mask = prompts_by_hand(pipe, prompts)
    if isinstance(context, torch.Tensor) and context.shape == e_uncond.shape and close(context, e_uncond) \
            and not close(context, e_context):  # fmt: skip
        fail(said("context holds the empty captions' features and uncond_context the prompts': the halves are "
                  "swapped (the prompts are the first B rows)",
                  ja="context に空のキャプションの特徴量が、uncond_context にプロンプトの特徴量が入っています: "
                     "2 つの半分が入れ替わっています（プロンプトは最初の B 行です）"), where, seed)  # fmt: skip
    T = expected.shape[1]
    assert_close(context, e_context, call=where, seed=seed,
                 name=said("context (B, T, D): the prompts' text features, the first B rows of the encoder's first output",
                           ja="context (B, T, D): プロンプトのテキスト特徴量、つまりエンコーダの 1 つ目の出力の最初の "
                              "B 行"))  # fmt: skip
    assert_close(uncond_context, e_uncond, call=where, seed=seed,
                 name=said("uncond_context (B, T, D): the empty captions' text features, the last B rows",
                           ja="uncond_context (B, T, D): 空のキャプションのテキスト特徴量、つまり最後の B 行"))  # fmt: skip
    for value, right, what in ((mask, e_mask, "mask"), (uncond_mask, e_uncond_mask, "uncond_mask")):
        assert_tensor(value, shape=(B, 1, T), dtype=torch.bool, call=where, seed=seed,
                      name=said(f"{what} (a key padding mask (B, 1, T): one row per caption, read by every query)",
                                ja=f"{what}（キーのパディングマスク (B, 1, T): キャプションごとに 1 行で、すべてのクエリが"
                                   "同じ行を読む）"))  # fmt: skip
        if torch.equal(value, ~right):
            fail(said(f"{what} is True at the padding and False at the real tokens: masks are True where "
                      "attending is allowed (tokens != <pad>)",
                      ja=f"{what} がパディングの位置で True、実際のトークンの位置で False になっています: マスクは"
                         "注意を向けてよい位置（tokens != <pad>）で True です"), where, seed)  # fmt: skip
        assert_close(value, right, call=where, seed=seed,
                     name=said(f"{what} (True exactly at the real tokens)",
                               ja=f"{what}（実際のトークンの位置でだけ True）"))  # fmt: skip


# --- 21.3: sampling the latents -------------------------------------------------------------


class Sampled(Exception):
    """Raised by the ddim_sample spy with the latents it returned: forward stops there (21.4 is graded alone)."""


def sampled_latents(kata, monkeypatch, pipe, prompts, steps, scale, seed, where):
    """The latents forward's ddim_sample call returns (kata 18's own ddim_sample, stopped right after)."""

    def spy(*args, **kwargs):
        raise Sampled(ddim_sample(*args, **kwargs))

    monkeypatch.setattr(kata, "ddim_sample", spy)
    pipe.encode_prompts = lambda prompts: prompts_by_hand(pipe, prompts)
    try:
        pipe(prompts, steps, scale, seed)
    except Sampled as done:
        return done.args[0]
    fail(said("forward never called ddim_sample: sample the latents with kata 18's ddim_sample",
              ja="forward が ddim_sample を一度も呼んでいません: kata 18 の ddim_sample で潜在表現をサンプリングして"
                 "ください"), where, seed)  # fmt: skip


def sample_by_hand(unet, shape, schedule, steps, x_T, cond, uncond, scale, clip=False):
    """DDIM (η = 0) with classifier-free guidance, in float64: ε̃ = ε_∅ + g (ε_c − ε_∅);
    x̂_0 = (x_t − √(1 − ᾱ_t) ε̃) / √ᾱ_t (clipped only if clip); x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s) ε̃."""
    timesteps = torch.linspace(schedule.T - 1, 0, steps).round().long().tolist()
    alpha_bar = schedule.alpha_bar
    x = x_T.double()
    with torch.no_grad():
        for i, t in enumerate(timesteps):
            t_batch = torch.full((shape[0],), t, dtype=torch.long)
            eps_cond = unet(x.float(), t_batch, *cond).double()
            eps_uncond = unet(x.float(), t_batch, *uncond).double()
            eps = eps_uncond + scale * (eps_cond - eps_uncond)
            a_t = alpha_bar[t]
            a_s = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else torch.tensor(1.0, dtype=torch.float64)
            x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
            if clip:
                x0 = x0.clamp(-1, 1)
            x = a_s.sqrt() * x0 + (1 - a_s).sqrt() * eps
    return x.float()


def x_T_of(shape, seed=None, state=None) -> torch.Tensor:
    """x_T drawn from torch.Generator().manual_seed(seed), or from an unseeded generator, or from the random state given."""
    generator = torch.Generator() if seed is None else torch.Generator().manual_seed(seed)
    if state is not None:
        generator.set_state(state)
    return torch.randn(shape, generator=generator)


# (prompts, steps, guidance scale): batch 1 and more, scales other than forward's default 4
SAMPLE_CASES = [
    (["a red circle"], 3, 2.5),
    (["a red circle above a blue square", "blue square", "circle"], 4, 7.0),
    (["red", "the blue square left of the red circle"], 2, 3.0),
]


@pytest.mark.blank("21.3")
@pytest.mark.parametrize("seed, case", list(enumerate(SAMPLE_CASES)))
def test_21_3_guided_ddim_in_latent_space_without_the_clip(kata, monkeypatch, seed, case):
    prompts, steps, scale = case
    pipe = make_pipeline(kata, seed)
    B = len(prompts)
    shape = (B, *pipe.latent_shape)
    where = pipe_call(pipe, "forward", prompts, steps=steps, guidance_scale=scale, seed=seed)
    global_state = torch.get_rng_state()
    z = sampled_latents(kata, monkeypatch, pipe, prompts, steps, scale, seed, where)
    assert_tensor(z, shape=shape, dtype=torch.float32, call=where, seed=seed,
                  name=said("the sampled latents (B, Cz, h, w): noise of that shape, denoised",
                            ja="サンプリングした潜在表現 (B, Cz, h, w): その形状のノイズからノイズを除去したもの"))  # fmt: skip
    batches = set(pipe.unet.batches)
    if batches == {B}:
        fail(said(f"the U-Net only ever saw batches of B = {B}: sample with the guided model, Guided(self.unet, "
                  "uncond_context, uncond_mask, guidance_scale), which runs it on the prompts and the empty captions "
                  f"together ({2 * B})",
                  ja=f"U-Net には B = {B} のバッチしか渡されていません: ガイダンス付きのモデル Guided(self.unet, "
                     "uncond_context, uncond_mask, guidance_scale) でサンプリングしてください。これはプロンプトと空の"
                     f"キャプションをまとめて（{2 * B} 個）U-Net に通します"), where, seed)  # fmt: skip
    context, mask, uncond, uncond_mask = prompts_by_hand(pipe, prompts)
    x_T = x_T_of(shape, seed)
    expected = sample_by_hand(pipe.unet, shape, pipe.schedule, steps, x_T, (context, mask), (uncond, uncond_mask), scale)
    named = {
        said("x̂_0 was clipped to [-1, 1]: latents are not images, pass clip_x0=False to ddim_sample",
             ja="x̂_0 が [-1, 1] にクリップされています。潜在表現は画像ではないので、ddim_sample に clip_x0=False を"
                "渡してください"): sample_by_hand(
            pipe.unet, shape, pipe.schedule, steps, x_T, (context, mask), (uncond, uncond_mask), scale, clip=True),
        said("the prompt was dropped at sampling time: the sampler must be given the prompts' features (context, mask); "
             "Guided adds the empty captions'",
             ja="サンプリング時にプロンプトが落とされています。サンプラーにはプロンプトの特徴量 (context, mask) を"
                "渡す必要があります。空のキャプションの特徴量は Guided が加えます"): sample_by_hand(
            pipe.unet, shape, pipe.schedule, steps, x_T, (uncond, uncond_mask), (uncond, uncond_mask), scale),
        said(f"guided with scale 4 (forward's default), not the guidance_scale given ({scale})",
             ja=f"与えられた guidance_scale（{scale}）ではなく、スケール 4（forward の既定値）でガイダンスしています"):
            sample_by_hand(pipe.unet, shape, pipe.schedule, steps, x_T, (context, mask), (uncond, uncond_mask), 4.0),
        said("the generator was not seeded: torch.Generator().manual_seed(seed)",
             ja="generator にシードが設定されていません: torch.Generator().manual_seed(seed) としてください"):
            sample_by_hand(pipe.unet, shape, pipe.schedule, steps, x_T_of(shape), (context, mask), (uncond, uncond_mask),
                           scale),
        said("the noise came from torch's global random state, not the generator: pass the generator to ddim_sample",
             ja="ノイズが generator ではなく torch のグローバルな乱数状態から引かれています: generator を ddim_sample "
                "に渡してください"):
            sample_by_hand(pipe.unet, shape, pipe.schedule, steps, x_T_of(shape, state=global_state), (context, mask),
                           (uncond, uncond_mask), scale),
    }  # fmt: skip
    for problem, value in named.items():
        if close(z, value, atol=1e-4) and not close(z, expected, atol=1e-4):
            fail(said(f"the latents are those of DDIM with guidance where {problem}",
                      ja=f"潜在表現が、ガイダンス付き DDIM で次のようにした場合の結果と一致します。{problem}"), where, seed)  # fmt: skip
    assert_close(z, expected, call=where, seed=seed, atol=1e-4, rtol=1e-4,
                 name=said("the sampled latents (DDIM, η = 0, from x_T ~ torch.Generator().manual_seed(seed), guided "
                           "ε̃ = ε_∅ + g (ε_c − ε_∅), x̂_0 not clipped)",
                           ja="サンプリングした潜在表現（DDIM、η = 0、x_T ~ torch.Generator().manual_seed(seed) から始め、"
                              "ガイダンス ε̃ = ε_∅ + g (ε_c − ε_∅)、x̂_0 はクリップしない）"))  # fmt: skip


@pytest.mark.blank("21.3")
@pytest.mark.parametrize("seed, case", list(enumerate(SAMPLE_CASES[:2])))
def test_21_3_scale_one_is_the_conditional_model(kata, monkeypatch, seed, case):
    prompts, steps, _ = case
    pipe = make_pipeline(kata, seed)
    B = len(prompts)
    shape = (B, *pipe.latent_shape)
    where = pipe_call(pipe, "forward", prompts, steps=steps, guidance_scale=1.0, seed=seed)
    z = sampled_latents(kata, monkeypatch, pipe, prompts, steps, 1.0, seed, where)
    assert_tensor(z, shape=shape, dtype=torch.float32, call=where, seed=seed,
                  name=said("the sampled latents (B, Cz, h, w)", ja="サンプリングした潜在表現 (B, Cz, h, w)"))  # fmt: skip
    if set(pipe.unet.batches) != {2 * B}:
        fail(said(f"the U-Net saw batches of {sorted(set(pipe.unet.batches))}, not 2B = {2 * B}: sample with "
                  "Guided(self.unet, uncond_context, uncond_mask, guidance_scale), the prompts beside the empty "
                  "captions",
                  ja=f"U-Net に渡されたバッチの大きさが 2B = {2 * B} ではなく {sorted(set(pipe.unet.batches))} です: "
                     "Guided(self.unet, uncond_context, uncond_mask, guidance_scale) で、プロンプトと空のキャプションを"
                     "並べてサンプリングしてください"), where, seed)  # fmt: skip
    context, mask, _, _ = prompts_by_hand(pipe, prompts)
    conditional = sample_by_hand(pipe.unet, shape, pipe.schedule, steps, x_T_of(shape, seed), (context, mask),
                                 (context, mask), 1.0)  # fmt: skip
    assert_close(z, conditional, call=where, seed=seed, atol=1e-4, rtol=1e-4,
                 name=said("the sampled latents at guidance scale 1 (DDIM with the conditional model alone, ε_c)",
                           ja="ガイダンススケール 1 でサンプリングした潜在表現（条件付きモデル ε_c だけを使った DDIM）"))  # fmt: skip


@pytest.mark.blank("21.3")
@pytest.mark.parametrize("seed", [0, 1])
def test_21_3_a_generator_of_its_own(kata, monkeypatch, seed):
    prompts = ["a red circle", "blue square"]
    pipe = make_pipeline(kata, seed)
    where = pipe_call(pipe, "forward", prompts, steps=2, guidance_scale=3.0, seed=5)
    torch.manual_seed(100 + seed)
    state = torch.get_rng_state()
    first = sampled_latents(kata, monkeypatch, pipe, prompts, 2, 3.0, 5, where)
    if not torch.equal(torch.get_rng_state(), state):
        fail(said("forward changed torch's global random state: draw from a generator of its own, "
                  "torch.Generator().manual_seed(seed), and pass it to ddim_sample",
                  ja="forward が torch のグローバルな乱数状態を変えています: 専用の generator "
                     "torch.Generator().manual_seed(seed) から引き、それを ddim_sample に渡してください"),
             where, seed)  # fmt: skip
    torch.manual_seed(200 + seed)  # whatever ran before must not matter
    again = sampled_latents(kata, monkeypatch, pipe, prompts, 2, 3.0, 5, where)
    if not torch.equal(first, again):
        fail(said("the same seed gave different latents after other random draws: the noise came from torch's global "
                  "random state; pass the generator to ddim_sample",
                  ja="ほかの乱数を引いたあとでは、同じシードから違う潜在表現が得られました: ノイズが torch のグローバルな"
                     "乱数状態から引かれています。generator を ddim_sample に渡してください"), where, seed)  # fmt: skip
    other = sampled_latents(kata, monkeypatch, pipe, prompts, 2, 3.0, 6,
                            where + said("  and seed=6", ja="  および seed=6"))  # fmt: skip
    if torch.equal(first, other):
        fail(said("seeds 5 and 6 gave the same latents: seed the generator with `seed`",
                  ja="シード 5 と 6 で同じ潜在表現が得られました: generator のシードには `seed` を使ってください"),
             where, seed)  # fmt: skip


# --- 21.4: decoding -----------------------------------------------------------------------------

# (prompts, latent_shape, scale)
DECODE_CASES = [(["a red circle"], (CZ, 3, 4), 2.5), (["red", "blue square", "circle", "a"], (CZ, 2, 2), 0.5)]


@pytest.mark.blank("21.4")
@pytest.mark.parametrize("seed, case", list(enumerate(DECODE_CASES)))
def test_21_4_decoded_by_the_codec_into_0_1(kata, monkeypatch, seed, case):
    prompts, latent_shape, scale = case
    pipe = make_pipeline(kata, seed, latent_shape, scale, decoder_gain=4.0)  # the decoder overshoots [-1, 1]
    B, (Cz, h, w) = len(prompts), latent_shape
    z = torch.randn(B, Cz, h, w) * 2 * scale
    monkeypatch.setattr(kata, "ddim_sample", lambda *args, **kwargs: z.clone())
    pipe.encode_prompts = lambda prompts: prompts_by_hand(pipe, prompts)
    where = pipe_call(pipe, "forward", prompts, steps=2, guidance_scale=3.0, seed=seed) + \
        said(f"    (ddim_sample returning latents z {tuple(z.shape)} chosen by the test)",
             ja=f"    （ddim_sample はテストが選んだ潜在表現 z {tuple(z.shape)} を返す）")  # fmt: skip
    images = pipe(prompts, 2, 3.0, seed)
    vae = pipe.codec.vae
    with torch.no_grad():
        decoded = vae.decoder(z / scale)  # (B, C, H, W), about [-1, 1] and beyond
        unscaled = vae.decoder(z)
    expected = ((decoded + 1) / 2).clamp(0, 1)
    assert_tensor(images, shape=(B, 3, 2 * h, 2 * w), dtype=torch.float32, call=where, seed=seed,
                  name=said("the images (B, C, H, W)", ja="画像 (B, C, H, W)"))  # fmt: skip
    named = {
        said("(x + 1) / 2 of the decoded latents, not clamped: the images must lie in [0, 1]",
             ja="デコードした潜在表現の (x + 1) / 2 で、クランプされていません: 画像は [0, 1] に収まっていなければ"
                "なりません"): (decoded + 1) / 2,
        said("the decoded latents clamped to [0, 1] without to_image_range: the decoder gives [-1, 1], which "
             "to_image_range maps onto [0, 1]",
             ja="デコードした潜在表現を to_image_range を通さずに [0, 1] にクランプしたものです: デコーダが出すのは "
                "[-1, 1] で、それを [0, 1] に移すのが to_image_range です"): decoded.clamp(0, 1),
        said("the decoded latents mapped the wrong way (x · 2 − 1, to_model_range): from [-1, 1] to [0, 1] is (x + 1) / 2",
             ja="デコードした潜在表現を逆向きに変換したもの（x · 2 − 1、to_model_range）です: [-1, 1] から [0, 1] へは "
                "(x + 1) / 2 です"):
            (decoded * 2 - 1).clamp(0, 1),
        said("the VAE's decoding of z itself: the latents' scale was not undone (self.codec.decode(z) divides by s "
             "before the VAE's decoder)",
             ja="潜在表現 z をそのまま VAE でデコードしたものです: 潜在表現のスケーリングが元に戻されていません"
                "（self.codec.decode(z) は VAE のデコーダの前に s で割ります）"): ((unscaled + 1) / 2).clamp(0, 1),
    }  # fmt: skip
    for problem, value in named.items():
        if close(images, value) and not close(images, expected):
            fail(said(f"the images are {problem}", ja=f"画像は{problem}"), where, seed)
    assert_close(images, expected, call=where, seed=seed,
                 name=said("the images (to_image_range(codec.decode(z)): VAE.decode(z / s), then (x + 1) / 2, in [0, 1])",
                           ja="画像（to_image_range(codec.decode(z)): VAE.decode(z / s) のあと (x + 1) / 2 で [0, 1] に"
                              "収めたもの）"))  # fmt: skip


# --- 21.5: to_pixels ---------------------------------------------------------------------------


@pytest.mark.blank("21.5")
@pytest.mark.parametrize("shape", [(7,), (2, 3, 4)])
def test_21_5_floats_in_0_1_become_bytes_rounded_to_the_nearest(kata, shape):
    torch.manual_seed(0)
    x = torch.rand(shape) * 1.4 - 0.2  # some below 0 and above 1: clamped
    x.view(-1)[:4] = torch.tensor([0.0, 1.0, 0.5, 0.999])[: x.numel()]  # 0 → 0, 1 → 255, 0.5 → 128 (127.5 rounds up), 0.999 → 255
    where = call("to_pixels", x)
    out = kata.to_pixels(x)
    if not isinstance(out, np.ndarray):
        fail(said(f"to_pixels returned a {type(out).__name__}: return a numpy array (.numpy()), which Pillow reads",
                  ja=f"to_pixels が {type(out).__name__} を返しました: Pillow が読める numpy 配列を（.numpy() で）"
                     "返してください"), where)  # fmt: skip
    got = torch.from_numpy(out)
    assert_tensor(got, shape=shape, dtype=torch.uint8, call=where, name=said("bytes", ja="バイト値"))
    expected = torch.tensor([min(max(v, 0.0), 1.0) * 255 for v in x.view(-1).double().tolist()]).round().to(torch.uint8)
    if torch.equal(got.view(-1), (x.view(-1).clamp(0, 1) * 255).to(torch.uint8)) and not torch.equal(got.view(-1), expected):
        fail(said("the bytes are truncated, not rounded: 0.999 · 255 = 254.7 became 254; round before converting to uint8",
                  ja="バイト値が丸められずに切り捨てられています: 0.999 · 255 = 254.7 が 254 になりました。uint8 に"
                     "変換する前に丸めてください"), where)  # fmt: skip
    assert_close(got.view(-1), expected, call=where,
                 name=said("bytes (clamp to [0, 1], × 255, round, uint8)",
                           ja="バイト値（[0, 1] にクランプ、× 255、丸め、uint8）"))  # fmt: skip


# --- 21.6: save_grid ----------------------------------------------------------------------------


def grid_by_hand(images: torch.Tensor, ncol: int) -> torch.Tensor:
    """A black canvas of ceil(B / ncol) rows of ncol tiles, image i pasted at row i // ncol, column i % ncol,
    as 8-bit pixels (rows·H, ncol·W, C)."""
    B, C, H, W = images.shape
    rows = math.ceil(B / ncol)
    canvas = torch.zeros(rows * H, ncol * W, C, dtype=torch.float64)
    for i in range(B):
        r, c = i // ncol, i % ncol
        canvas[r * H : (r + 1) * H, c * W : (c + 1) * W] = images[i].double().permute(1, 2, 0)  # (H, W, C)
    return (canvas * 255).round().to(torch.uint8)


def tile(pixels, r, c, H, W):
    return pixels[r * H : (r + 1) * H, c * W : (c + 1) * W]  # (H, W, C)


# (B, ncol, H, W): fewer images than columns, exactly one row, a last row part-filled, one image, H ≠ W
GRID_CASES = [(3, 5, 2, 3), (4, 4, 3, 2), (5, 2, 2, 3), (7, 3, 3, 4), (1, 8, 2, 2), (6, 3, 4, 2)]


@pytest.mark.blank("21.6")
@pytest.mark.parametrize("seed, case", list(enumerate(GRID_CASES)))
def test_21_6_image_i_at_row_i_div_ncol_column_i_mod_ncol(kata, tmp_path, monkeypatch, seed, case):
    with_reference(monkeypatch, kata, "to_pixels")
    B, ncol, H, W = case
    torch.manual_seed(seed)
    images = torch.rand(B, 3, H, W)
    path = tmp_path / "grid.png"
    where = call("save_grid", images, Label(str(path.name)), ncol=ncol)
    try:
        kata.save_grid(images, path, ncol)
    except TypeError as e:
        if "Cannot handle this data type" not in str(e):
            raise
        fail(said(f"Pillow could not write the grid ({e}): Image.fromarray takes (height, width, channels), the "
                  "channels last: the grid must be (rows·H, ncol·W, C)",
                  ja=f"Pillow がグリッドを書き出せませんでした（{e}）: Image.fromarray が受け取るのは、チャネルが最後の "
                     "(height, width, channels) です。グリッドは (rows·H, ncol·W, C) でなければなりません"),
             where, seed)  # fmt: skip
    rows = math.ceil(B / ncol)
    pixels = torch.from_numpy(np.array(Image.open(path).convert("RGB")))  # (rows·H, ncol·W, 3) uint8
    expected = grid_by_hand(images, ncol)
    assert_tensor(pixels, shape=expected.shape, call=where, seed=seed,
                  name=said(f"the PNG's pixels (height rows·H = {rows}·{H}, width ncol·W = {ncol}·{W}, 3 channels)",
                            ja=f"PNG のピクセル（高さ rows·H = {rows}·{H}、幅 ncol·W = {ncol}·{W}、3 チャネル）"))  # fmt: skip
    for i in range(B):
        r, c = i // ncol, i % ncol
        here = tile(pixels, r, c, H, W)
        if torch.equal(here, tile(expected, r, c, H, W)):
            continue
        others = [j for j in range(B) if torch.equal(here, tile(expected, j // ncol, j % ncol, H, W))]
        if others:
            j = others[0]
            fail(said(f"image {j} is at row {r}, column {c}, where image {i} belongs: image i goes to row i // ncol, "
                      f"column i % ncol (row by row, {ncol} to a row)",
                      ja=f"画像 {i} が入るべき行 {r}、列 {c} に画像 {j} があります: 画像 i は行 i // ncol、列 i % ncol "
                         f"に置きます（行の順に、1 行に {ncol} 枚ずつ）"), where, seed)  # fmt: skip
        if H == W and torch.equal(here, tile(expected, r, c, H, W).transpose(0, 1)):
            fail(said(f"image {i} is transposed (its rows became columns): order the axes (rows, H, ncol, W, C), "
                      "H before W",
                      ja=f"画像 {i} が転置されています（行が列になっています）: 軸を (rows, H, ncol, W, C) の順に、"
                         "W より H を先に並べてください"), where, seed)  # fmt: skip
        fail(said(f"the tile at row {r}, column {c} (pixels {r * H}:{(r + 1) * H}, {c * W}:{(c + 1) * W}) is not "
                  f"image {i}, nor any other image as it is: split the batch axis into (rows, ncol), then order the axes "
                  "(rows, H, ncol, W, C) before merging (rows, H) and (ncol, W)",
                  ja=f"行 {r}、列 {c} のタイル（ピクセル {r * H}:{(r + 1) * H}, {c * W}:{(c + 1) * W}）が、画像 {i} "
                     "でも、ほかのどの画像そのものでもありません: バッチの軸を (rows, ncol) に分け、軸を "
                     "(rows, H, ncol, W, C) の順に並べてから (rows, H) と (ncol, W) をまとめてください"),
             where, seed)  # fmt: skip
    assert_close(pixels, expected, call=where, seed=seed,
                 name=said("the PNG's pixels (image i at row i // ncol, column i % ncol, the rest black)",
                           ja="PNG のピクセル（画像 i は行 i // ncol、列 i % ncol、残りは黒）"))  # fmt: skip
