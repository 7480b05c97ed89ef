"""Plausible wrong answers for kata 11: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right (each tried against the tests): in 11.1
`max_period ** (-torch.arange(half, dtype=torch.float32) / half)`, `torch.arange(half).float()`;
in 11.2 `torch.outer(t.float(), freqs)`, `t[:, None].float() * freqs`, `t.to(torch.float32)`,
`torch.cat([args.cos(), args.sin()], 1)`; in 11.3 `torch.nn.functional.pad(emb, (0, 1))`,
`torch.cat([emb, torch.zeros(emb.shape[0], 1)], dim=1)`; in 11.4 `nn.SiLU()(...)`,
`h * torch.sigmoid(h)` for the SiLU.

Not mutants, because they give the same output as one here: `max_period ** (i / half)` is
"no minus sign"; `torch.linspace(0, 1, half)` for i / half is "i / (half − 1)" (but at half = 1).

Not a mutant, because it is right here: `t[:, None] * freqs[None, :]` with a long t (torch
promotes the product to float32); without .float(), a float64 t gives a float64 code, which
"t's dtype kept" below is.
"""

MUTANTS = {
    "11.1": {
        "i / (half − 1) (or linspace(0, 1, half)): the last frequency is 1/max_period": (
            "return torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / (half - 1))"
        ),
        "no minus sign: frequencies rise from 1 to max_period": (
            "return torch.exp(math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)"
        ),
        "log10 for ln": (
            "return torch.exp(-math.log10(max_period) * torch.arange(half, dtype=torch.float32) / half)"
        ),
        "10000 whatever max_period is": (
            "return torch.exp(-math.log(10_000.0) * torch.arange(half, dtype=torch.float32) / half)"
        ),
        "kata 02's 2i/D with D = half: every other frequency": (
            "return torch.exp(-math.log(max_period) * torch.arange(0, half, 2, dtype=torch.float32) / half)"
        ),
    },
    "11.2": {
        "sin and cos halves swapped": """
            args = t.float()[:, None] * freqs[None, :]
            emb = torch.cat([torch.sin(args), torch.cos(args)], dim=-1)
        """,
        "interleaved sin/cos, as in kata 02": """
            args = t.float()[:, None] * freqs[None, :]
            emb = torch.stack([torch.sin(args), torch.cos(args)], dim=-1).flatten(1)
        """,
        "interleaved cos/sin": """
            args = t.float()[:, None] * freqs[None, :]
            emb = torch.stack([torch.cos(args), torch.sin(args)], dim=-1).flatten(1)
        """,
        "t's dtype kept (no .float()): a float64 t gives a float64 code": """
            args = t[:, None] * freqs[None, :]
            emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
        """,
        "t made long: a fractional timestep rounded down": """
            args = t.long()[:, None] * freqs[None, :]
            emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
        """,
        "divided by the frequencies, not multiplied": """
            args = t.float()[:, None] / freqs[None, :]
            emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
        """,
        "cosines and sines stacked as rows (dim 0)": """
            args = t.float()[:, None] * freqs[None, :]
            emb = torch.cat([torch.cos(args), torch.sin(args)], dim=0)
        """,
    },
    "11.3": {
        "odd dim not padded": "pass",
        "zero column at the front": "emb = torch.cat([torch.zeros_like(emb[:, :1]), emb], dim=-1)",
        "a row of zeros, not a column": "emb = torch.cat([emb, torch.zeros_like(emb[:1])], dim=0)",
        "the first column copied, not zeros": "emb = torch.cat([emb, emb[:, :1]], dim=-1)",
    },
    "11.4": {
        "ReLU for SiLU": "return self.fc2(nn.functional.relu(self.fc1(timestep_embedding(t, self.embed_dim))))",
        "GELU for SiLU": "return self.fc2(nn.functional.gelu(self.fc1(timestep_embedding(t, self.embed_dim))))",
        "sigmoid alone: SiLU is x · σ(x)": (
            "return self.fc2(torch.sigmoid(self.fc1(timestep_embedding(t, self.embed_dim))))"
        ),
        "no activation: two linears make one": "return self.fc2(self.fc1(timestep_embedding(t, self.embed_dim)))",
        "fc2 left out": "return nn.functional.silu(self.fc1(timestep_embedding(t, self.embed_dim)))",
        "without the embedding: fc1 of t itself": "return self.fc2(nn.functional.silu(self.fc1(t.float()[:, None])))",
        "the code as wide as the output (D), not embed_dim": (
            "return self.fc2(nn.functional.silu(self.fc1(timestep_embedding(t, self.fc2.out_features))))"
        ),
    },
}
