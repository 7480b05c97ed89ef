"""Kata 05: The Transformer: LayerNorm, blocks, and a text encoder.

A Transformer block (Vaswani et al. 2017, §3.1) alternates two sub-layers: multi-head
self-attention (kata 04), where tokens exchange information, and a feed-forward network
applied to each token alone, where each token works on what it gathered. Each sub-layer is
wrapped in a residual connection (x + f(x)) and a layer normalisation.

LayerNorm (Ba et al. 2016) standardises each token's feature vector on its own, whatever the
batch: subtract its mean over the D features, divide by its standard deviation, then scale
and shift with learned per-feature weights:

    y = (x - mean) / sqrt(var + eps) * weight + bias      (var: the biased variance, over D)

Where the norm goes matters. The original Transformer normalised after the residual sum
("post-norm"); GPT-2, CLIP and most models since normalise the input of each sub-layer
("pre-norm"), which leaves the residual path x → x + ... untouched and trains without the
warm-up that post-norm needs (a learning rate ramped up from about 0 over the first steps;
Xiong et al. 2020). This kata uses pre-norm.

Stacked, with token and position embeddings below (kata 02) and a final LayerNorm on top,
the blocks make a text encoder: a caption (B, T) becomes one feature vector per token
(B, T, D), which the diffusion model's cross-attention reads later, and a pooled vector (B, D)
for the whole caption (CLIP compares these with images). Captions in a batch are padded to
the same length; padding must change nothing: attention never looks at a pad token, and the
pooled vector averages over the real tokens only. Every caption has at least one real token.
The blocks get the key padding mask as (B, 1, T): kata 04's masks broadcast to (B, Tq, Tk), so
a 2-D (B, T) mask would be read as a (Tq, Tk) pattern.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size   T: sequence length   D: model width   V: vocabulary size
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from k02_embeddings import LearnedPositions, TokenEmbedding
from k04_multihead import MultiHeadAttention


class LayerNorm(nn.Module):
    """Layer normalisation over the last dimension (Ba et al. 2016), as torch.nn.LayerNorm(dim)."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))  # (D,) scale, starts at 1
        self.bias = nn.Parameter(torch.zeros(dim))  # (D,) shift, starts at 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., D)  →  (..., D), each vector x[..., :] normalised on its own."""
        # BLANK 05.1 (about 3 lines): x_hat = (x - mean) / sqrt(var + eps), mean and biased variance over the last dimension.
        # HINT: Each token is normalised alone: the statistics are over its D features (the last dimension), not over the batch.
        # HINT: x.mean(dim=-1, keepdim=True); x.var(dim=-1, keepdim=True, unbiased=False) divides by D (biased); eps goes inside the sqrt.
        # HINT: mean = x.mean(-1, keepdim=True); var = x.var(-1, keepdim=True, unbiased=False); x_hat = (x - mean) / torch.sqrt(var + self.eps)
        mean = x.mean(dim=-1, keepdim=True)  # (..., 1)
        var = x.var(dim=-1, keepdim=True, unbiased=False)  # (..., 1), biased: divides by D
        x_hat = (x - mean) / torch.sqrt(var + self.eps)  # (..., D)
        # END BLANK 05.1
        # BLANK 05.2 (about 1 line): scale x_hat by self.weight and shift it by self.bias, feature by feature.
        # HINT: After normalising, the layer may learn to undo it: a per-feature scale and shift give that freedom back.
        # HINT: weight and bias are (D,): they broadcast against x_hat (..., D) along the last dimension.
        # HINT: return x_hat * self.weight + self.bias
        return x_hat * self.weight + self.bias
        # END BLANK 05.2


class FeedForward(nn.Module):
    """The position-wise feed-forward network (Vaswani et al. §3.3), with the exact (erf) GELU.

    GPT-2 and CLIP use approximations of it (a tanh form, a sigmoid form); nn.GELU's default is exact.
    """

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, D)  →  (B, T, D): fc2(GELU(fc1(x))), each token on its own."""
        # BLANK 05.3 (about 1 line): widen with fc1, apply GELU (the exact erf form: nn.GELU's default, not GPT-2's tanh approximation), come back to D with fc2.
        # HINT: Two linear layers with a non-linearity between them; without it the two would collapse into one linear map.
        # HINT: torch.nn.functional.gelu (the exact, erf form: nn.GELU's default) between self.fc1 and self.fc2.
        # HINT: return self.fc2(nn.functional.gelu(self.fc1(x)))
        return self.fc2(nn.functional.gelu(self.fc1(x)))  # (B, T, hidden) inside
        # END BLANK 05.3


class TransformerBlock(nn.Module):
    """A pre-norm Transformer block (Xiong et al. 2020): attention, then feed-forward, each residual."""

    def __init__(self, dim: int, n_heads: int, mlp_ratio: int = 4) -> None:
        super().__init__()
        self.ln1 = LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, n_heads)
        self.ln2 = LayerNorm(dim)
        self.ff = FeedForward(dim, mlp_ratio * dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, T, D)   mask: for the self-attention, as in kata 04 (True: may attend), or None.
        Returns (B, T, D)."""
        # BLANK 05.4 (about 3 lines): x + attention of ln1(x) (pass the mask), then x + feed-forward of ln2(x).
        # HINT: Pre-norm: normalise the input of each sub-layer, never the residual path itself; add each sub-layer's output to x.
        # HINT: x = x + self.attn(self.ln1(x), mask=mask) is the first half; the second half does the same with ln2 and ff.
        # HINT: x = x + self.attn(self.ln1(x), mask=mask); x = x + self.ff(self.ln2(x)); return x
        x = x + self.attn(self.ln1(x), mask=mask)  # (B, T, D)
        x = x + self.ff(self.ln2(x))  # (B, T, D)
        return x
        # END BLANK 05.4


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of each sequence's vectors over its real tokens only.

    x: (B, T, D)   mask: (B, T) bool, True at real tokens (at least one per row)  →  (B, D)
    """
    # BLANK 05.5 (about 2 lines): sum the vectors where the mask is True, divide by the number of real tokens.
    # HINT: A plain x.mean(dim=1) counts the padding too: zero the padded vectors out, and count only the real ones.
    # HINT: mask[..., None] is (B, T, 1) and broadcasts over D; as a float it is 1 at real tokens and 0 at padding.
    # HINT: m = mask[..., None].to(x.dtype); return (x * m).sum(dim=1) / m.sum(dim=1)
    m = mask[..., None].to(x.dtype)  # (B, T, 1)
    return (x * m).sum(dim=1) / m.sum(dim=1)  # (B, D) / (B, 1)
    # END BLANK 05.5


@dataclass(frozen=True)
class TextEncoderConfig:
    """The text encoder's sizes: tiny defaults that run on a CPU. pad_id: <pad>'s ID (0 in kata 01)."""

    vocab_size: int = 64
    dim: int = 64
    n_heads: int = 4
    n_layers: int = 2
    max_len: int = 32
    pad_id: int = 0


class TextEncoder(nn.Module):
    """Token and position embeddings, n_layers pre-norm blocks, a final LayerNorm (as in GPT-2 and CLIP)."""

    def __init__(self, config: TextEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = TokenEmbedding(config.vocab_size, config.dim)
        self.positions = LearnedPositions(config.max_len, config.dim)
        self.blocks = nn.ModuleList(TransformerBlock(config.dim, config.n_heads) for _ in range(config.n_layers))
        self.ln_final = LayerNorm(config.dim)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens: (B, T) long, padded with config.pad_id  →  (features (B, T, D), pooled (B, D)).

        Padding changes nothing: no token attends to a pad token, and pooled averages the real tokens.
        """
        # BLANK 05.6 (about 6 lines): mask (B, T) of the real tokens; embed and add positions; the blocks with mask (B, 1, T); final norm.
        # HINT: A pad token must never be attended to: every query may see the real tokens (a key padding mask), nothing else.
        # HINT: mask = tokens != self.config.pad_id; x = self.positions(self.embed(tokens)); pass mask[:, None, :] (B, 1, T) to every block.
        # HINT: mask = tokens != self.config.pad_id; x = self.positions(self.embed(tokens)); for block in self.blocks: x = block(x, mask[:, None, :]); x = self.ln_final(x)
        mask = tokens != self.config.pad_id  # (B, T), True at real tokens
        x = self.positions(self.embed(tokens))  # (B, T, D)
        for block in self.blocks:
            x = block(x, mask=mask[:, None, :])  # (B, 1, T): every query sees the real tokens
        x = self.ln_final(x)  # (B, T, D)
        # END BLANK 05.6
        return x, masked_mean(x, mask)
