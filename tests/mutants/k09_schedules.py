"""Plausible wrong answers for kata 09: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right (each tried against the tests): in 09.1
`beta_start + (beta_end - beta_start) * torch.arange(T, dtype=torch.float64) / (T - 1)`; in 09.2
f(0) as `math.cos(...) ** 2` or as the same torch expression at `torch.zeros_like(t)`, torch.pi for
math.pi; in 09.3 `.clamp(max=max_beta)`, `.clip(0, max_beta)` or
`torch.minimum(betas, torch.tensor(max_beta, dtype=torch.float64))`; in 09.4 `torch.cumprod(1 - self.betas, 0)`,
`self.alphas.cumprod(0)` or `torch.exp(torch.cumsum(torch.log(self.alphas), 0))` (equal to float64's
last digits); in 09.5 `torch.nn.functional.pad(self.alpha_bar[:-1], (1, 0), value=1.0)`,
`self.alpha_bar.new_ones(1)` for the 1, a float32 `torch.tensor([1.0])` (torch.cat promotes it
to float64: 1 is exact), or `self.alpha_bar / self.alphas` (ᾱ_t / α_t = ᾱ_{t-1}); in 09.6 the factors in any order.

Not mutants, because they give the same output as one here: `clamp(max=1.0)` in 09.3 is
"clip forgotten" (1 − ᾱ(t+1)/ᾱ(t) never exceeds 1; the last β is 1).
"""

MUTANTS = {
    "09.1": {
        "float32: linspace without dtype": "return torch.linspace(beta_start, beta_end, T)",
        "computed in float32, converted to float64 after": (
            "return torch.linspace(beta_start, beta_end, T).double()"
        ),
        "end excluded: arange with step (end − start)/T": (
            "return beta_start + (beta_end - beta_start) * torch.arange(T, dtype=torch.float64) / T"
        ),
        "T + 1 points, the last dropped": (
            "return torch.linspace(beta_start, beta_end, T + 1, dtype=torch.float64)[:-1]"
        ),
        "start and end swapped: β falling": "return torch.linspace(beta_end, beta_start, T, dtype=torch.float64)",
        "DDPM's 1e-4 and 0.02 whatever is asked": "return torch.linspace(1e-4, 0.02, T, dtype=torch.float64)",
    },
    "09.2": {
        "f(0) normalisation forgotten: ᾱ(0) ≠ 1": "return torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2",
        "cosine not squared": """
            f = torch.cos((t / T + s) / (1 + s) * math.pi / 2)
            return f / math.cos(s / (1 + s) * math.pi / 2)
        """,
        "offset s left out of the numerator: (t/T) / (1 + s)": """
            f = torch.cos(t / T / (1 + s) * math.pi / 2) ** 2
            return f / math.cos(s / (1 + s) * math.pi / 2) ** 2
        """,
        "no division by 1 + s": """
            f = torch.cos((t / T + s) * math.pi / 2) ** 2
            return f / math.cos(s * math.pi / 2) ** 2
        """,
        "π, not π/2: the cosine goes past zero": """
            f = torch.cos((t / T + s) / (1 + s) * math.pi) ** 2
            return f / math.cos(s / (1 + s) * math.pi) ** 2
        """,
        "f(0) computed in float32": """
            f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
            return f / torch.cos(torch.tensor(s / (1 + s) * math.pi / 2)) ** 2
        """,
    },
    "09.3": {
        "clip forgotten: the last β is 1": "return 1 - alpha_bar[1:] / alpha_bar[:-1]",
        "ratio upside down: ᾱ(t)/ᾱ(t+1)": """
            betas = 1 - alpha_bar[:-1] / alpha_bar[1:]
            return betas.clamp(max=max_beta)
        """,
        "β = 1 − ᾱ: ᾱ taken for α": """
            betas = 1 - alpha_bar[1:]
            return betas.clamp(max=max_beta)
        """,
        "clamped from below (min=), not above": """
            betas = 1 - alpha_bar[1:] / alpha_bar[:-1]
            return betas.clamp(min=max_beta)
        """,
        "0.999 whatever max_beta is": """
            betas = 1 - alpha_bar[1:] / alpha_bar[:-1]
            return betas.clamp(max=0.999)
        """,
        "a difference ᾱ(t) − ᾱ(t+1), not 1 − a ratio": """
            betas = alpha_bar[:-1] - alpha_bar[1:]
            return betas.clamp(max=max_beta)
        """,
    },
    "09.4": {
        "a running sum (cumsum), not a product": """
            self.alphas = 1 - self.betas
            self.alpha_bar = torch.cumsum(self.alphas, dim=0)
        """,
        "no product: ᾱ_t = α_t": """
            self.alphas = 1 - self.betas
            self.alpha_bar = self.alphas
        """,
        "product of the betas, not of the alphas": """
            self.alphas = 1 - self.betas
            self.alpha_bar = torch.cumprod(self.betas, dim=0)
        """,
        "α_t^(t+1): right only when every β is the same": """
            self.alphas = 1 - self.betas
            self.alpha_bar = self.alphas ** torch.arange(1, self.betas.shape[0] + 1)
        """,
        "1 − cumprod(β)": """
            self.alphas = 1 - self.betas
            self.alpha_bar = 1 - torch.cumprod(self.betas, dim=0)
        """,
        "alphas from the `betas` argument: float32 stays float32": """
            self.alphas = 1 - betas
            self.alpha_bar = torch.cumprod(self.alphas, dim=0)
        """,
        "in place: 1 − β written over the betas": """
            self.alphas = self.betas.neg_().add_(1)
            self.alpha_bar = torch.cumprod(self.alphas, dim=0)
        """,
        "product over the whole schedule: ᾱ_{T-1} at every t": """
            self.alphas = 1 - self.betas
            self.alpha_bar = self.alphas.prod().expand(self.betas.shape[0])
        """,
    },
    "09.5": {
        "not shifted: ᾱ_t, not ᾱ_{t-1}": "self.alpha_bar_prev = self.alpha_bar",
        "shifted the wrong way: ᾱ_{t+1}": (
            "self.alpha_bar_prev = torch.cat([self.alpha_bar[1:], torch.ones(1, dtype=torch.float64)])"
        ),
        "starts with 0, not 1": (
            "self.alpha_bar_prev = torch.cat([torch.zeros(1, dtype=torch.float64), self.alpha_bar[:-1]])"
        ),
        "torch.roll: ᾱ_{T-1} wraps round to t = 0": "self.alpha_bar_prev = torch.roll(self.alpha_bar, 1)",
        "α_{t-1} shifted, not ᾱ_{t-1}": (
            "self.alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alphas[:-1]])"
        ),
    },
    "09.6": {
        "ᾱ_t and ᾱ_{t-1} swapped": (
            "self.posterior_variance = self.betas * (1 - self.alpha_bar) / (1 - self.alpha_bar_prev)"
        ),
        "β_t left out": "self.posterior_variance = (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)",
        "α_t, not β_t": "self.posterior_variance = self.alphas * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)",
        "σ² = β_t: the other choice of DDPM §3.2, not Eq. 7": "self.posterior_variance = self.betas",
        "the standard deviation, not the variance": (
            "self.posterior_variance = (self.betas * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)).sqrt()"
        ),
        "ᾱ where 1 − ᾱ belongs": (
            "self.posterior_variance = self.betas * self.alpha_bar_prev / self.alpha_bar"
        ),
    },
}
