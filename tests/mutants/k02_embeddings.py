"""Plausible wrong answers for kata 02: each must fail the tests of its blank (the self-check runs them)."""

MUTANTS = {
    "02.1": {
        "forgets the √D scale": "return self.weight[tokens]",
        "scales by D, not √D": "return self.weight[tokens] * self.dim",
        "divides by √D": "return self.weight[tokens] / math.sqrt(self.dim)",
        "looks up positions, not tokens": "return self.weight[torch.arange(tokens.shape[1])] * math.sqrt(self.dim)",
        "one-hot without num_classes: width from the largest ID present": (
            "return torch.nn.functional.one_hot(tokens).float() @ self.weight * math.sqrt(self.dim)"
        ),
        "looks up self.weight.data: no gradient reaches the table": (
            "return self.weight.data[tokens] * math.sqrt(self.dim)"
        ),
    },
    "02.2": {
        "i/D, not 2i/D": "return 10000.0 ** (-torch.arange(D // 2, dtype=torch.float32) / D)",
        "base 1000, not 10000": "return 1000.0 ** (-torch.arange(0, D, 2, dtype=torch.float32) / D)",
        "not inverted: 10000^(2i/D)": "return 10000.0 ** (torch.arange(0, D, 2, dtype=torch.float32) / D)",
        "D frequencies, not D/2": "return 10000.0 ** (-torch.arange(D, dtype=torch.float32) / D)",
        "integer division: every exponent 0": "return 10000.0 ** (-(torch.arange(0, D, 2) // D)).float()",
    },
    "02.3": {
        "sin and cos swapped": """
            pe[:, 0::2] = torch.cos(angles)
            pe[:, 1::2] = torch.sin(angles)
        """,
        "halves side by side, not interleaved": "pe = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)",
        "stacked on the wrong dim: halves again": (
            "pe = torch.stack([torch.sin(angles), torch.cos(angles)], dim=1).flatten(1)"
        ),
        "sin in every column": """
            pe[:, 0::2] = torch.sin(angles)
            pe[:, 1::2] = torch.sin(angles)
        """,
        "even rows, not even columns": """
            pe[0::2] = torch.sin(angles)
            pe[1::2] = torch.cos(angles)
        """,
    },
    "02.4": {
        "positions taken from the end": "return x + self.weight[-T:]",
        "all max_len rows": "return x + self.weight",
        "multiplied, not added": "return x * self.weight[:T]",
        "off by one: positions 1..T": "return x + self.weight[1 : T + 1]",
        "rows by batch size, not by length": "return x + self.weight[: x.shape[0]]",
        "replaces x instead of adding to it": "return self.weight[:T].expand_as(x)",
        "detached table: positions never learn": "return x + self.weight[:T].detach()",
        "adds in place: changes the caller's x": """
            x += self.weight[:T]
            return x
        """,
    },
}
