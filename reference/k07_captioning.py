"""Kata 07: Captioning: a Transformer decoder that reads an image.

A captioner is an encoder–decoder (Vaswani et al. 2017, §3.1; "Show, Attend and Tell", Xu et
al. 2015). The encoder is kata 06's ViT: an image becomes N + 1 image tokens (B, N + 1, D), the
class token first. The decoder writes the caption one token at a time, and each of its blocks
has three residual sub-layers, pre-norm as in kata 05:

    x = x + SelfAttention(LN1(x), causal mask)    the words read the words before them
    x = x + CrossAttention(LN2(x), image tokens)  the words read the image
    x = x + FeedForward(LN3(x))

Cross-attention is kata 04's: the queries come from the text, the keys and values from the
image tokens, and no mask: every word may look at every image token.

Training uses teacher forcing: the model is given the true caption `<bos> a red circle <eos>`
and, at every position t at once, predicts the token t + 1. The logits of position t are
compared with tokens[:, t + 1]: the targets are the caption shifted left by one, and the last
position has no target. For this to be honest, position t must not see tokens after t: the
self-attention is causal (kata 03's causal_mask), else the model would copy the next word
instead of predicting it. Captions of a batch are padded on the right with <pad>; the mask
hides pad keys too, and the loss counts real targets only, averaged over them (a pad target
is no word to predict, and longer captions would otherwise weigh more).

At test time there is no caption to read: greedy decoding starts every row with <bos>, runs
the model on what it has, appends each row's most likely next token, and repeats. A row ends
when it writes <eos>; after that it gets only <pad>, since captions of a batch end at
different steps. Decoding stops as soon as every row has ended, or when the rows reach max_len
tokens (<bos> included).

Special IDs as in kata 01: <pad> 0, <bos> 1, <eos> 2, <unk> 3. Every caption starts with <bos>.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   T: caption length (<bos> included)   L: decoded length so far   V: vocabulary size
    D: model width   Dc: context width   C: channels   H, W: image height and width
    N: number of image patches (the image tokens are N + 1, the class token included)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from k02_embeddings import LearnedPositions, TokenEmbedding
from k03_attention import causal_mask
from k04_multihead import MultiHeadAttention
from k05_transformer import FeedForward, LayerNorm
from k06_vit import ViT, ViTConfig


def caption_mask(tokens: torch.Tensor, pad_id: int) -> torch.Tensor:
    """The decoder's self-attention mask: query i may attend to key j when j <= i and key j is
    not padding.

    tokens: (B, T) long  →  (B, T, T) bool, True where query i may attend to key j.
    """
    T = tokens.shape[1]
    # BLANK 07.1 (about 2 lines): the causal mask (T, T) and the key padding mask (B, 1, T), both True where allowed, combined with "and".
    # HINT: A key is visible when it is in the past (or the present) AND it is a real token: two masks, each True where allowed.
    # HINT: causal_mask(T) is (T, T); (tokens != pad_id)[:, None, :] is (B, 1, T): key j of sequence b. `&` broadcasts them to (B, T, T).
    # HINT: keys = (tokens != pad_id)[:, None, :]; return causal_mask(T)[None] & keys
    keys = (tokens != pad_id)[:, None, :]  # (B, 1, T): key j is a real token
    return causal_mask(T)[None] & keys  # (1, T, T) & (B, 1, T) → (B, T, T)
    # END BLANK 07.1


class DecoderBlock(nn.Module):
    """A pre-norm decoder block: causal self-attention, cross-attention to the image, feed-forward."""

    def __init__(self, dim: int, n_heads: int, context_dim: int | None = None, mlp_ratio: int = 4) -> None:
        super().__init__()
        self.ln1 = LayerNorm(dim)
        self.self_attn = MultiHeadAttention(dim, n_heads)
        self.ln2 = LayerNorm(dim)
        self.cross_attn = MultiHeadAttention(dim, n_heads, context_dim=context_dim)
        self.ln3 = LayerNorm(dim)
        self.ff = FeedForward(dim, mlp_ratio * dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, T, D) text   context: (B, N + 1, Dc) image tokens
        mask: the self-attention's, as in kata 04 (True: may attend), e.g. caption_mask (B, T, T); or None.
        Returns (B, T, D)."""
        # BLANK 07.2 (about 4 lines): three residual sub-layers, pre-norm: self-attention with the mask, cross-attention to the context, feed-forward.
        # HINT: kata 05's block with one more sub-layer in the middle: each sub-layer reads its own LayerNorm of x and adds its output to x.
        # HINT: self.self_attn(h, mask=mask) reads the text; self.cross_attn(h, context=context) takes its keys and values from the image (no mask).
        # HINT: x = x + self.self_attn(self.ln1(x), mask=mask); x = x + self.cross_attn(self.ln2(x), context=context); return x + self.ff(self.ln3(x))
        x = x + self.self_attn(self.ln1(x), mask=mask)  # (B, T, D): words read earlier words
        x = x + self.cross_attn(self.ln2(x), context=context)  # (B, T, D): words read the image
        return x + self.ff(self.ln3(x))  # (B, T, D)
        # END BLANK 07.2


@dataclass(frozen=True)
class CaptionConfig:
    """The captioner's sizes: the decoder, then the image side (a ViT of kata 06). pad_id: <pad>'s ID."""

    vocab_size: int = 64
    dim: int = 64
    n_heads: int = 4
    n_layers: int = 2
    max_len: int = 16
    pad_id: int = 0
    image_size: int = 16
    patch_size: int = 4
    channels: int = 3
    vision_layers: int = 2


class CaptionModel(nn.Module):
    """A ViT image encoder (kata 06) and a Transformer decoder that cross-attends to its tokens."""

    def __init__(self, config: CaptionConfig) -> None:
        super().__init__()
        self.config = config
        vision = ViTConfig(
            image_size=config.image_size,
            patch_size=config.patch_size,
            channels=config.channels,
            dim=config.dim,
            n_heads=config.n_heads,
            n_layers=config.vision_layers,
        )
        self.vision = ViT(vision)  # its classifier head is not used: features() gives the image tokens
        self.embed = TokenEmbedding(config.vocab_size, config.dim)
        self.positions = LearnedPositions(config.max_len, config.dim)
        self.blocks = nn.ModuleList(DecoderBlock(config.dim, config.n_heads) for _ in range(config.n_layers))
        self.ln_final = LayerNorm(config.dim)
        self.lm_head = nn.Linear(config.dim, config.vocab_size)

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        """images: (B, C, H, W)  →  image tokens (B, N + 1, D), the class token first."""
        return self.vision.features(images)

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """images: (B, C, H, W)   tokens: (B, T) long, <bos> first, padded with config.pad_id
        Returns logits (B, T, V): position t predicts token t + 1."""
        context = self.encode_images(images)  # (B, N + 1, D)
        # BLANK 07.3 (about 5 lines): caption_mask; embed the tokens and add positions; every block with the image tokens and the mask; final norm; lm_head.
        # HINT: kata 05's text encoder, with decoder blocks: each block also gets the image tokens, and the mask is causal as well as padding.
        # HINT: mask = caption_mask(tokens, self.config.pad_id) is (B, T, T); x = self.positions(self.embed(tokens)); x = block(x, context, mask=mask).
        # HINT: mask = caption_mask(tokens, self.config.pad_id); x = self.positions(self.embed(tokens)); for block in self.blocks: x = block(x, context, mask=mask); return self.lm_head(self.ln_final(x))
        mask = caption_mask(tokens, self.config.pad_id)  # (B, T, T)
        x = self.positions(self.embed(tokens))  # (B, T, D)
        for block in self.blocks:
            x = block(x, context, mask=mask)  # (B, T, D)
        return self.lm_head(self.ln_final(x))  # (B, T, V)
        # END BLANK 07.3


def caption_loss(logits: torch.Tensor, tokens: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Teacher forcing's loss: the logits of position t against the token t + 1.

    logits: (B, T, V) from CaptionModel(images, tokens)   tokens: (B, T) long, padded with pad_id
    Returns the cross-entropy () averaged over the real (non-pad) targets only.
    """
    V = logits.shape[-1]
    # BLANK 07.4 (about 3 lines): drop the last position's logits and the first token; cross-entropy that ignores pad targets.
    # HINT: Position t predicts token t + 1: predictions are positions 0..T-2, targets tokens 1..T-1. A pad target must not count, in the sum or in the mean.
    # HINT: logits[:, :-1] and tokens[:, 1:], flattened to (B·(T-1), V) and (B·(T-1),); F.cross_entropy's ignore_index leaves pad targets out of the mean.
    # HINT: prediction = logits[:, :-1].reshape(-1, V); target = tokens[:, 1:].reshape(-1); return nn.functional.cross_entropy(prediction, target, ignore_index=pad_id)
    prediction = logits[:, :-1].reshape(-1, V)  # (B·(T-1), V): positions 0..T-2
    target = tokens[:, 1:].reshape(-1)  # (B·(T-1),): tokens 1..T-1
    return nn.functional.cross_entropy(prediction, target, ignore_index=pad_id)
    # END BLANK 07.4


@torch.no_grad()
def greedy_decode(
    model: CaptionModel, images: torch.Tensor, bos_id: int, eos_id: int, pad_id: int, max_len: int
) -> torch.Tensor:
    """Caption images greedily: <bos>, then the most likely next token, step by step.

    images: (B, C, H, W)  →  tokens (B, L) long, L <= max_len, <bos> first. A row that has
    written <eos> gets only <pad> after it; decoding stops once every row has ended, or at max_len.
    """
    B = images.shape[0]
    # BLANK 07.5 (about 2 lines): every row starts as <bos> alone, (B, 1) long; and no row has ended yet, (B,) bool.
    # HINT: The decoder was trained on captions that start with <bos>: that is the one token it is given at first.
    # HINT: torch.full((B, 1), bos_id, dtype=torch.long) is (B, 1); torch.zeros(B, dtype=torch.bool) says that no row has ended.
    # HINT: tokens = torch.full((B, 1), bos_id, dtype=torch.long, device=images.device); ended = torch.zeros(B, dtype=torch.bool, device=images.device)
    tokens = torch.full((B, 1), bos_id, dtype=torch.long, device=images.device)  # (B, 1)
    ended = torch.zeros(B, dtype=torch.bool, device=images.device)  # (B,): has the row written <eos>?
    # END BLANK 07.5
    while tokens.shape[1] < max_len:
        logits = model(images, tokens)  # (B, L, V)
        # BLANK 07.6 (about 2 lines): each row's next token: the argmax over the vocabulary at the last position; <pad> for a row that has ended.
        # HINT: Only the last position predicts a token nobody has seen yet. A row that already wrote <eos> is finished: it only gets padding.
        # HINT: logits[:, -1] is (B, V); .argmax(dim=-1) picks a token per row, (B,). masked_fill(ended, pad_id) replaces the ended rows' tokens.
        # HINT: next_token = logits[:, -1].argmax(dim=-1); next_token = next_token.masked_fill(ended, pad_id)
        next_token = logits[:, -1].argmax(dim=-1)  # (B,)
        next_token = next_token.masked_fill(ended, pad_id)  # (B,)
        # END BLANK 07.6
        tokens = torch.cat([tokens, next_token[:, None]], dim=1)  # (B, L + 1)
        # BLANK 07.7 (about 3 lines): a row ends when it writes <eos> (and stays ended); stop as soon as every row has ended.
        # HINT: Rows end at different steps: remember which have ended so far, and stop only when none is still writing.
        # HINT: ended | (next_token == eos_id) keeps the rows that ended before; ended.all() is True when every row has.
        # HINT: ended = ended | (next_token == eos_id); if ended.all(): break
        ended = ended | (next_token == eos_id)  # (B,)
        if ended.all():
            break
        # END BLANK 07.7
    return tokens
