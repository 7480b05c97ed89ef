"""Plausible wrong answers for kata 07: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right: in 07.1, causal_mask(T) & keys without the [None] (it
broadcasts), torch.tril(...) written out, or torch.logical_and; in 07.2, the cross-attention
called positionally, self.cross_attn(h, context); in 07.3, self.positions(...) or adding
self.positions.weight[:T] by hand, and lm_head(ln_final(x)) in two lines; in 07.4, F.cross_entropy
of logits[:, :-1].transpose(1, 2) against tokens[:, 1:] (class dimension second), or
reduction="none" with the loss of the real targets summed and divided by their count, or
log_softmax and gather written out the same way; in 07.5, torch.ones(B, 1, dtype=torch.long) * bos_id
or torch.tensor([[bos_id]] * B); in 07.6, logits.argmax(dim=-1)[:, -1] or torch.where(ended, pad_id, ...);
in 07.7, ended |= next_token == eos_id (ended is the function's own tensor) or bool(ended.all()).
"""

MUTANTS = {
    "07.1": {
        "padding only: no causal mask, the words see the future": "return (tokens != pad_id)[:, None, :].expand(-1, T, -1)",
        "causal only: padding keys not hidden": "return causal_mask(T)[None].expand(tokens.shape[0], T, T)",
        "upper triangle: the future, not the past": """
            keys = (tokens != pad_id)[:, None, :]
            return torch.triu(torch.ones(T, T, dtype=torch.bool))[None] & keys
        """,
        "padding on the queries, not the keys": """
            queries = (tokens != pad_id)[:, :, None]
            return causal_mask(T)[None] & queries
        """,
        "or, not and": """
            keys = (tokens != pad_id)[:, None, :]
            return causal_mask(T)[None] | keys
        """,
        "pad id hard-coded to 0": """
            keys = (tokens != 0)[:, None, :]
            return causal_mask(T)[None] & keys
        """,
        "key padding as (B, T): lined up as (Tq, Tk)": """
            keys = tokens != pad_id
            return causal_mask(T)[None] & keys
        """,
    },
    "07.2": {
        "post-norm": """
            x = self.ln1(x + self.self_attn(x, mask=mask))
            x = self.ln2(x + self.cross_attn(x, context=context))
            return self.ln3(x + self.ff(x))
        """,
        "no residual around the self-attention": """
            x = self.self_attn(self.ln1(x), mask=mask)
            x = x + self.cross_attn(self.ln2(x), context=context)
            return x + self.ff(self.ln3(x))
        """,
        "no residual around the cross-attention": """
            x = x + self.self_attn(self.ln1(x), mask=mask)
            x = self.cross_attn(self.ln2(x), context=context)
            return x + self.ff(self.ln3(x))
        """,
        "no residual around the feed-forward": """
            x = x + self.self_attn(self.ln1(x), mask=mask)
            x = x + self.cross_attn(self.ln2(x), context=context)
            return self.ff(self.ln3(x))
        """,
        "cross-attention given the mask": """
            x = x + self.self_attn(self.ln1(x), mask=mask)
            x = x + self.cross_attn(self.ln2(x), context=context, mask=mask)
            return x + self.ff(self.ln3(x))
        """,
        "cross-attention reads the text, not the image (context ignored)": """
            x = x + self.self_attn(self.ln1(x), mask=mask)
            x = x + self.cross_attn(self.ln2(x))
            return x + self.ff(self.ln3(x))
        """,
        "self-attention without the mask": """
            x = x + self.self_attn(self.ln1(x))
            x = x + self.cross_attn(self.ln2(x), context=context)
            return x + self.ff(self.ln3(x))
        """,
        "cross-attention before self-attention": """
            x = x + self.cross_attn(self.ln2(x), context=context)
            x = x + self.self_attn(self.ln1(x), mask=mask)
            return x + self.ff(self.ln3(x))
        """,
    },
    "07.3": {
        "no mask: the words see the future": """
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, context)
            return self.lm_head(self.ln_final(x))
        """,
        "padding mask alone: not causal": """
            mask = (tokens != self.config.pad_id)[:, None, :]
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, context, mask=mask)
            return self.lm_head(self.ln_final(x))
        """,
        "causal mask alone: padding keys visible": """
            mask = causal_mask(tokens.shape[1])
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, context, mask=mask)
            return self.lm_head(self.ln_final(x))
        """,
        "cross-attends to the text, not the image": """
            mask = caption_mask(tokens, self.config.pad_id)
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, x, mask=mask)
            return self.lm_head(self.ln_final(x))
        """,
        "positions not added": """
            mask = caption_mask(tokens, self.config.pad_id)
            x = self.embed(tokens)
            for block in self.blocks:
                x = block(x, context, mask=mask)
            return self.lm_head(self.ln_final(x))
        """,
        "forgets the final LayerNorm": """
            mask = caption_mask(tokens, self.config.pad_id)
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, context, mask=mask)
            return self.lm_head(x)
        """,
        "the class token alone as the image": """
            mask = caption_mask(tokens, self.config.pad_id)
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, context[:, :1], mask=mask)
            return self.lm_head(self.ln_final(x))
        """,
        "pad id hard-coded to 0": """
            mask = caption_mask(tokens, 0)
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, context, mask=mask)
            return self.lm_head(self.ln_final(x))
        """,
    },
    "07.4": {
        "not shifted: position t scored against token t": """
            return nn.functional.cross_entropy(logits.reshape(-1, V), tokens.reshape(-1), ignore_index=pad_id)
        """,
        "shifted the wrong way: position t against token t - 1": """
            prediction = logits[:, 1:].reshape(-1, V)
            target = tokens[:, :-1].reshape(-1)
            return nn.functional.cross_entropy(prediction, target, ignore_index=pad_id)
        """,
        "padding counted: no ignore_index": """
            prediction = logits[:, :-1].reshape(-1, V)
            target = tokens[:, 1:].reshape(-1)
            return nn.functional.cross_entropy(prediction, target)
        """,
        "mean over every position, pads included": """
            prediction = logits[:, :-1].reshape(-1, V)
            target = tokens[:, 1:].reshape(-1)
            losses = nn.functional.cross_entropy(prediction, target, reduction="none")
            return (losses * (target != pad_id)).mean()
        """,
        "padding mask from the inputs, not the targets": """
            prediction = logits[:, :-1].reshape(-1, V)
            target = tokens[:, 1:].reshape(-1)
            real = (tokens[:, :-1] != pad_id).reshape(-1)
            losses = nn.functional.cross_entropy(prediction, target, reduction="none")
            return (losses * real).sum() / real.sum()
        """,
        "pad id hard-coded to 0": """
            prediction = logits[:, :-1].reshape(-1, V)
            target = tokens[:, 1:].reshape(-1)
            return nn.functional.cross_entropy(prediction, target, ignore_index=0)
        """,
        "sum, not mean": """
            prediction = logits[:, :-1].reshape(-1, V)
            target = tokens[:, 1:].reshape(-1)
            return nn.functional.cross_entropy(prediction, target, ignore_index=pad_id, reduction="sum")
        """,
    },
    "07.5": {
        "starts with <pad>, not <bos>": """
            tokens = torch.full((B, 1), pad_id, dtype=torch.long)
            ended = torch.zeros(B, dtype=torch.bool)
        """,
        "no <bos>: starts from nothing": """
            tokens = torch.zeros(B, 0, dtype=torch.long)
            ended = torch.zeros(B, dtype=torch.bool)
        """,
        "<bos> hard-coded to 1": """
            tokens = torch.ones(B, 1, dtype=torch.long)
            ended = torch.zeros(B, dtype=torch.bool)
        """,
        "one <bos> for the whole batch: (1, 1)": """
            tokens = torch.full((1, 1), bos_id, dtype=torch.long)
            ended = torch.zeros(B, dtype=torch.bool)
        """,
        "float tokens": """
            tokens = torch.ones(B, 1) * bos_id
            ended = torch.zeros(B, dtype=torch.bool)
        """,
    },
    "07.6": {
        "keeps writing after <eos>: no <pad> for ended rows": "next_token = logits[:, -1].argmax(dim=-1)",
        "argmax over the positions, not the vocabulary": """
            next_token = logits.argmax(dim=1)[:, -1]
            next_token = next_token.masked_fill(ended, pad_id)
        """,
        "argmax at the first position, not the last": """
            next_token = logits[:, 0].argmax(dim=-1)
            next_token = next_token.masked_fill(ended, pad_id)
        """,
        "<eos> again after <eos>, not <pad>": """
            next_token = logits[:, -1].argmax(dim=-1)
            next_token = next_token.masked_fill(ended, eos_id)
        """,
        "argmin, not argmax": """
            next_token = logits[:, -1].argmin(dim=-1)
            next_token = next_token.masked_fill(ended, pad_id)
        """,
    },
    "07.7": {
        "does not stop early: always runs to max_len": "ended = ended | (next_token == eos_id)",
        "stops when the first row ends": """
            ended = ended | (next_token == eos_id)
            if ended.any():
                break
        """,
        "ended not kept: only this step's <eos> counts": """
            ended = next_token == eos_id
            if ended.all():
                break
        """,
        "stops only when every row writes <eos> at the same step": """
            ended = ended | (next_token == eos_id)
            if (next_token == eos_id).all():
                break
        """,
        "eos id hard-coded to 2": """
            ended = ended | (next_token == 2)
            if ended.all():
                break
        """,
    },
}
