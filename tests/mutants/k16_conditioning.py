"""Plausible wrong answers for kata 16: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right: in 16.1, .permute(0, 2, 3, 1).reshape(B, H * W, C),
.flatten(2).mT, .flatten(2).transpose(-1, -2), .view(B, C, H * W).transpose(1, 2) or
.reshape(B, C, -1).permute(0, 2, 1), in one line or several; in 16.2, keywords
(self.cross_attn(self.ln2(h), context=context, mask=context_mask)), self.self_attn(self.ln1(h),
None, None), or the sub-layers' outputs in variables of their own first; in 16.3,
.transpose(1, 2).view(B, C, H, W) (the view only splits the last dimension),
.permute(0, 2, 1).reshape(B, C, H, W), .reshape(B, H, W, C).permute(0, 3, 1, 2),
.mT.unflatten(2, (H, W)), or self.proj_out(...) + x; in 16.4, keywords
(context_dim=self.config.context_dim, n_heads=..., groups=...); in 16.6,
torch.bernoulli(torch.full((B,), p), generator=generator).bool() for the coins,
torch.empty(B).uniform_(generator=generator) < p, <= p, drop.unsqueeze(1) or drop.view(-1, 1),
empty_caption(B, T).where(drop[:, None], tokens), or out = tokens.clone() then
out[drop] = empty_caption(B, T)[drop]. (h += ... in 16.2 or 16.3 gives the right values but
changes in place a tensor the LayerNorm saved for backward: the gradient tests fail it, and
16.3 lists it.)
"""

MUTANTS = {
    "16.1": {
        "channels and pixels mixed: .view(B, H·W, C) without the transpose": (
            "h = self.proj_in(self.norm(x)).view(B, H * W, C)"
        ),
        "channels as tokens: flatten(2) without the transpose": "h = self.proj_in(self.norm(x)).flatten(2)",
        "pixels in column order: permute(0, 3, 2, 1)": (
            "h = self.proj_in(self.norm(x)).permute(0, 3, 2, 1).reshape(B, H * W, C)"
        ),
        "GroupNorm skipped": "h = self.proj_in(x).flatten(2).transpose(1, 2)",
        "proj_in skipped": "h = self.norm(x).flatten(2).transpose(1, 2)",
        "proj_in before the GroupNorm": "h = self.norm(self.proj_in(x)).flatten(2).transpose(1, 2)",
        "SiLU after the GroupNorm, as in a ResBlock": (
            "h = self.proj_in(nn.functional.silu(self.norm(x))).flatten(2).transpose(1, 2)"
        ),
    },
    "16.2": {
        "padding attended to: the mask not passed to the cross-attention": """
            h = h + self.self_attn(self.ln1(h))
            h = h + self.cross_attn(self.ln2(h), context)
        """,
        "self-attention given the context": """
            h = h + self.self_attn(self.ln1(h), context, context_mask)
            h = h + self.cross_attn(self.ln2(h), context, context_mask)
        """,
        "cross-attention given no context: self-attention twice": """
            h = h + self.self_attn(self.ln1(h))
            h = h + self.cross_attn(self.ln2(h))
        """,
        "post-norm: the LayerNorms after the residual sums": """
            h = self.ln1(h + self.self_attn(h))
            h = self.ln2(h + self.cross_attn(h, context, context_mask))
        """,
        "residual missing on the self-attention": """
            h = self.self_attn(self.ln1(h))
            h = h + self.cross_attn(self.ln2(h), context, context_mask)
        """,
        "residual missing on the cross-attention": """
            h = h + self.self_attn(self.ln1(h))
            h = self.cross_attn(self.ln2(h), context, context_mask)
        """,
        "cross-attention before self-attention": """
            h = h + self.cross_attn(self.ln2(h), context, context_mask)
            h = h + self.self_attn(self.ln1(h))
        """,
        "LayerNorms skipped": """
            h = h + self.self_attn(h)
            h = h + self.cross_attn(h, context, context_mask)
        """,
    },
    "16.3": {
        "reshape(B, C, H, W) without transposing back: pixels scrambled": """
            h = h + self.ff(self.ln3(h))
            return x + self.proj_out(h.reshape(B, C, H, W))
        """,
        "x not added back": """
            h = h + self.ff(self.ln3(h))
            return self.proj_out(h.transpose(1, 2).reshape(B, C, H, W))
        """,
        "the normalised x added back": """
            h = h + self.ff(self.ln3(h))
            return self.norm(x) + self.proj_out(h.transpose(1, 2).reshape(B, C, H, W))
        """,
        "proj_out skipped": """
            h = h + self.ff(self.ln3(h))
            return x + h.transpose(1, 2).reshape(B, C, H, W)
        """,
        "residual missing on the feed-forward": """
            h = self.ff(self.ln3(h))
            return x + self.proj_out(h.transpose(1, 2).reshape(B, C, H, W))
        """,
        "post-norm feed-forward": """
            h = self.ln3(h + self.ff(h))
            return x + self.proj_out(h.transpose(1, 2).reshape(B, C, H, W))
        """,
        "LayerNorm skipped before the feed-forward": """
            h = h + self.ff(h)
            return x + self.proj_out(h.transpose(1, 2).reshape(B, C, H, W))
        """,
        "h += ...: in place, backward breaks": """
            h += self.ff(self.ln3(h))
            return x + self.proj_out(h.transpose(1, 2).reshape(B, C, H, W))
        """,
    },
    "16.4": {
        "context_dim not passed: the channels used as the text's width": (
            "return SpatialTransformer(channels, channels, self.config.n_heads, self.config.groups)"
        ),
        "kata 13's attention kept: SelfAttention2d never reads the text": "return super().attention(channels)",
        "n_heads and groups swapped": (
            "return SpatialTransformer(channels, self.config.context_dim, self.config.groups, self.config.n_heads)"
        ),
        "the config's n_heads and groups not passed (the defaults used)": (
            "return SpatialTransformer(channels, self.config.context_dim)"
        ),
    },
    "16.5": {
        "all <pad>: the empty caption without <bos> <eos>": "return torch.full((batch_size, length), PAD_ID, dtype=torch.long)",
        "<eos> <bos>: the two specials swapped": """
            tokens = torch.full((batch_size, length), PAD_ID, dtype=torch.long)
            tokens[:, 0], tokens[:, 1] = EOS_ID, BOS_ID
            return tokens
        """,
        "<bos> <eos> in rows 0 and 1 instead of columns": """
            tokens = torch.full((batch_size, length), PAD_ID, dtype=torch.long)
            tokens[0], tokens[1 % batch_size] = BOS_ID, EOS_ID
            return tokens
        """,
        "floats, not token IDs": """
            tokens = torch.full((batch_size, length), float(PAD_ID))
            tokens[:, 0], tokens[:, 1] = BOS_ID, EOS_ID
            return tokens
        """,
    },
    "16.6": {
        "one draw per token, not per caption": """
            drop = torch.rand(tokens.shape, generator=generator) < p
            return torch.where(drop, empty_caption(*tokens.shape), tokens)
        """,
        "one draw per position (tokens.shape[1]), not per caption": """
            drop = torch.rand(tokens.shape[1], generator=generator) < p
            return torch.where(drop[None, :], empty_caption(*tokens.shape), tokens)
        """,
        "keeps with probability p: the comparison the wrong way round": """
            drop = torch.rand(tokens.shape[0], generator=generator) > p
            return torch.where(drop[:, None], empty_caption(*tokens.shape), tokens)
        """,
        "a dropped caption all <pad>, without <bos> <eos>": """
            drop = torch.rand(tokens.shape[0], generator=generator) < p
            return torch.where(drop[:, None], torch.full_like(tokens, PAD_ID), tokens)
        """,
        "ignores the generator: torch's global random numbers": """
            drop = torch.rand(tokens.shape[0]) < p
            return torch.where(drop[:, None], empty_caption(*tokens.shape), tokens)
        """,
        "drops in place: changes the caller's tokens": """
            drop = torch.rand(tokens.shape[0], generator=generator) < p
            tokens[drop] = empty_caption(*tokens.shape)[drop]
            return tokens
        """,
        "one draw for the whole batch": """
            drop = torch.rand(1, generator=generator) < p
            return torch.where(drop[:, None], empty_caption(*tokens.shape), tokens)
        """,
    },
}
