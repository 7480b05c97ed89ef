"""Plausible wrong answers for kata 05: each must fail the tests of its blank (the self-check runs them)."""

MUTANTS = {
    "05.1": {
        "unbiased variance (divides by D - 1)": """
            mean = x.mean(dim=-1, keepdim=True)
            var = x.var(dim=-1, keepdim=True)
            x_hat = (x - mean) / torch.sqrt(var + self.eps)
        """,
        "eps outside the square root": """
            mean = x.mean(dim=-1, keepdim=True)
            std = x.std(dim=-1, keepdim=True, unbiased=False)
            x_hat = (x - mean) / (std + self.eps)
        """,
        "statistics over the batch, not over the features": """
            mean = x.mean(dim=0, keepdim=True)
            var = x.var(dim=0, keepdim=True, unbiased=False)
            x_hat = (x - mean) / torch.sqrt(var + self.eps)
        """,
        "eps hard-coded to 1e-5": """
            mean = x.mean(dim=-1, keepdim=True)
            var = x.var(dim=-1, keepdim=True, unbiased=False)
            x_hat = (x - mean) / torch.sqrt(var + 1e-5)
        """,
        "divides by the variance, not the standard deviation": """
            mean = x.mean(dim=-1, keepdim=True)
            var = x.var(dim=-1, keepdim=True, unbiased=False)
            x_hat = (x - mean) / (var + self.eps)
        """,
        "subtracts the mean in place: changes the caller's x": """
            mean = x.mean(dim=-1, keepdim=True)
            var = x.var(dim=-1, keepdim=True, unbiased=False)
            x -= mean
            x_hat = x / torch.sqrt(var + self.eps)
        """,
        "statistics detached, as if constants: right values, wrong gradients": """
            mean = x.mean(dim=-1, keepdim=True).detach()
            var = x.var(dim=-1, keepdim=True, unbiased=False).detach()
            x_hat = (x - mean) / torch.sqrt(var + self.eps)
        """,
    },
    "05.2": {
        "forgets the shift": "return x_hat * self.weight",
        "shift before scale": "return (x_hat + self.bias) * self.weight",
        "scales and shifts x, not x_hat": "return x * self.weight + self.bias",
        "weight and bias swapped": "return x_hat * self.bias + self.weight",
    },
    "05.3": {
        "ReLU instead of GELU": "return self.fc2(torch.relu(self.fc1(x)))",
        "no activation: two linear maps make one": "return self.fc2(self.fc1(x))",
        "GELU after the second layer": "return nn.functional.gelu(self.fc2(self.fc1(x)))",
        "SiLU instead of GELU": "return self.fc2(nn.functional.silu(self.fc1(x)))",
        "GELU's tanh approximation (GPT-2's)": 'return self.fc2(nn.functional.gelu(self.fc1(x), approximate="tanh"))',
    },
    "05.4": {
        "post-norm (the original Transformer)": """
            x = self.ln1(x + self.attn(x, mask=mask))
            x = self.ln2(x + self.ff(x))
            return x
        """,
        "no residual around the attention": """
            x = self.attn(self.ln1(x), mask=mask)
            x = x + self.ff(self.ln2(x))
            return x
        """,
        "no residual around the feed-forward": """
            x = x + self.attn(self.ln1(x), mask=mask)
            return self.ff(self.ln2(x))
        """,
        "residual from the normalised x": """
            h = self.ln1(x)
            x = h + self.attn(h, mask=mask)
            h = self.ln2(x)
            return h + self.ff(h)
        """,
        "ln1 used twice": """
            x = x + self.attn(self.ln1(x), mask=mask)
            x = x + self.ff(self.ln1(x))
            return x
        """,
        "forgets the mask": """
            x = x + self.attn(self.ln1(x))
            x = x + self.ff(self.ln2(x))
            return x
        """,
        "both sub-layers read the block's input (parallel)": """
            return x + self.attn(self.ln1(x), mask=mask) + self.ff(self.ln2(x))
        """,
        "adds in place: changes the caller's x": """
            x += self.attn(self.ln1(x), mask=mask)
            x += self.ff(self.ln2(x))
            return x
        """,
    },
    "05.5": {
        "plain mean: counts the padding": "return x.mean(dim=1)",
        "divides by T": """
            m = mask[..., None].to(x.dtype)
            return (x * m).sum(dim=1) / x.shape[1]
        """,
        "sums the padding too, divides by the real count": """
            m = mask[..., None].to(x.dtype)
            return x.sum(dim=1) / m.sum(dim=1)
        """,
        "the first token only": "return x[:, 0]",
        "sum, not mean": """
            m = mask[..., None].to(x.dtype)
            return (x * m).sum(dim=1)
        """,
        "zeros the padding in place: changes the caller's x": """
            m = mask[..., None].to(x.dtype)
            x *= m
            return x.sum(dim=1) / m.sum(dim=1)
        """,
        "unsqueeze_ in place: changes the caller's mask": """
            m = mask.unsqueeze_(-1).to(x.dtype)
            return (x * m).sum(dim=1) / m.sum(dim=1)
        """,
    },
    "05.6": {
        "positions not added": """
            mask = tokens != self.config.pad_id
            x = self.embed(tokens)
            for block in self.blocks:
                x = block(x, mask=mask[:, None, :])
            x = self.ln_final(x)
        """,
        "mask from tokens == pad_id: attends only to padding": """
            mask = tokens == self.config.pad_id
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, mask=mask[:, None, :])
            x = self.ln_final(x)
        """,
        "no mask for the blocks: tokens attend to padding": """
            mask = tokens != self.config.pad_id
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x)
            x = self.ln_final(x)
        """,
        "pad id hard-coded to 0": """
            mask = tokens != 0
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, mask=mask[:, None, :])
            x = self.ln_final(x)
        """,
        "passes the padding mask 2-D: (B, T) is read as a (Tq, Tk) pattern": """
            mask = tokens != self.config.pad_id
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, mask=mask)
            x = self.ln_final(x)
        """,
        "forgets the final LayerNorm": """
            mask = tokens != self.config.pad_id
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = block(x, mask=mask[:, None, :])
        """,
        "final LayerNorm after every block": """
            mask = tokens != self.config.pad_id
            x = self.positions(self.embed(tokens))
            for block in self.blocks:
                x = self.ln_final(block(x, mask=mask[:, None, :]))
        """,
        "only the first block": """
            mask = tokens != self.config.pad_id
            x = self.positions(self.embed(tokens))
            x = self.blocks[0](x, mask=mask[:, None, :])
            x = self.ln_final(x)
        """,
    },
}
