"""Plausible wrong answers for kata 18: each must fail the tests of its blank (the self-check runs them).

18.1 is graded by properties (length, long, T − 1 first, 0 last, strictly descending, gaps that
differ by at most 1), not by the reference's numbers: any rounding of the evenly spaced values
is right.

Not mutants, because they are right (tried, they pass): in 18.1, .floor(), .ceil() or plain
.long() (truncation) in place of .round(), torch.linspace(..., dtype=torch.float64),
torch.linspace(T - 1, 0, n, dtype=torch.long), torch.linspace(T, 1, n).round().long() - 1
(1-based, shifted), integer arithmetic ((T − 1) · k // (n − 1) for k = n − 1, ..., 0, with n = 1
apart); in 18.2, torch.clamp or .clip, x_t / √ᾱ_t − √(1/ᾱ_t − 1) ε; in 18.3, σ² computed
first (η² times the two ratios) and then its square root, or one square root of the product;
in 18.4, ε̂ computed only when clip_x0 (ε itself otherwise), σ z added always (σ = 0 adds nothing) once z is drawn when None, torch.randn(x_t.shape)
for the draw; in 18.5, the model and ddim_step called with keywords, ᾱ read as
schedule.alpha_bar[...] (0-d float64 tensors), `i < len(timesteps) - 1` as the test.
"""

MUTANTS = {
    "18.1": {
        "ascending: from 0 up to T − 1": "return torch.linspace(0, T - 1, n).round().long()",
        "ascending, then flipped: n = 1 gives [0], not [T − 1]":
            "return torch.linspace(0, T - 1, n).round().long().flip(0)",
        "starts at T, not T − 1 (timesteps are 0-based)": "return torch.linspace(T, 0, n).round().long()",
        "1-based: from T down to 1": "return torch.linspace(T, 1, n).round().long()",
        "every T // n steps from 0, reversed (\"leading\" spacing): misses T − 1":
            "return torch.arange(0, T, T // n).flip(0)[:n]",
        "every T // n steps from T − 1 (\"trailing\" spacing): misses 0":
            "return torch.arange(T - 1, -1, -(T // n))[:n]",
        "not rounded to whole steps: floats": "return torch.linspace(T - 1, 0, n)",
        "int32 (.int()), not long": "return torch.linspace(T - 1, 0, n).round().int()",
        "quadratic spacing (DDIM's \"quad\"), not even":
            "return (torch.linspace((T - 1) ** 0.5, 0, n) ** 2).round().long()",
    },
    "18.2": {
        "clips even when clip_x0 is False": "x0 = ((x_t - (1 - alpha_bar_t).sqrt() * eps) / alpha_bar_t.sqrt()).clamp(-1, 1)",
        "x̂_0 not clipped": "x0 = (x_t - (1 - alpha_bar_t).sqrt() * eps) / alpha_bar_t.sqrt()",
        "clipped to [0, 1], the PNG range":
            "x0 = ((x_t - (1 - alpha_bar_t).sqrt() * eps) / alpha_bar_t.sqrt()).clamp(0, 1)",
        "clipped before dividing by √ᾱ_t":
            "x0 = (x_t - (1 - alpha_bar_t).sqrt() * eps).clamp(-1, 1) / alpha_bar_t.sqrt()",
        "no √: divides by ᾱ_t, subtracts (1 − ᾱ_t) ε":
            "x0 = ((x_t - (1 - alpha_bar_t) * eps) / alpha_bar_t).clamp(-1, 1)",
        "adds the noise instead of removing it":
            "x0 = ((x_t + (1 - alpha_bar_t).sqrt() * eps) / alpha_bar_t.sqrt()).clamp(-1, 1)",
        "x_t − ε: the noise's weight √(1 − ᾱ_t) forgotten": "x0 = ((x_t - eps) / alpha_bar_t.sqrt()).clamp(-1, 1)",
    },
    "18.3": {
        "ᾱ_t and ᾱ_s swapped":
            "sigma = eta * ((1 - alpha_bar_t) / (1 - alpha_bar_prev)).sqrt() * (1 - alpha_bar_prev / alpha_bar_t).sqrt()",
        "no square roots: σ² (the variance) used as σ":
            "sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)) * (1 - alpha_bar_t / alpha_bar_prev)",
        "η forgotten: fresh noise even when η = 0":
            "sigma = ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()",
        "the ratio upside down: 1 − ᾱ_s/ᾱ_t":
            "sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_prev / alpha_bar_t).sqrt()",
        "the first factor upside down: √((1 − ᾱ_t)/(1 − ᾱ_s))":
            "sigma = eta * ((1 - alpha_bar_t) / (1 - alpha_bar_prev)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()",
        "only √(1 − ᾱ_t/ᾱ_s): DDPM's √β_t, not √β̃_t": "sigma = eta * (1 - alpha_bar_t / alpha_bar_prev).sqrt()",
        "η under the square root":
            "sigma = (eta * (1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()",
    },
    "18.4": {
        "the model's ε in the direction term, not ε̂ from the clipped x̂_0": """
            x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps
            if sigma > 0:
                x_prev = x_prev + sigma * (torch.randn_like(x_t) if noise is None else noise)
            return x_prev
        """,
        "ε̂ with the roots swapped: (x_t − √(1 − ᾱ_t) x̂_0) / √ᾱ_t": """
            eps_hat = (x_t - (1 - alpha_bar_t).sqrt() * x0) / alpha_bar_t.sqrt()
            x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps_hat
            if sigma > 0:
                x_prev = x_prev + sigma * (torch.randn_like(x_t) if noise is None else noise)
            return x_prev
        """,
        "ε̂ read from x_t alone: x_t / √(1 − ᾱ_t)": """
            eps_hat = x_t / (1 - alpha_bar_t).sqrt()
            x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps_hat
            if sigma > 0:
                x_prev = x_prev + sigma * (torch.randn_like(x_t) if noise is None else noise)
            return x_prev
        """,
        "σ² z: the variance where the standard deviation goes": """
            x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps
            if sigma > 0:
                x_prev = x_prev + sigma**2 * (torch.randn_like(x_t) if noise is None else noise)
            return x_prev
        """,
        "the direction term ignores σ: √(1 − ᾱ_s) ε": """
            x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev).sqrt() * eps
            if sigma > 0:
                x_prev = x_prev + sigma * (torch.randn_like(x_t) if noise is None else noise)
            return x_prev
        """,
        "σ not squared in the direction term: √(1 − ᾱ_s − σ)": """
            x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma).sqrt() * eps
            if sigma > 0:
                x_prev = x_prev + sigma * (torch.randn_like(x_t) if noise is None else noise)
            return x_prev
        """,
        "√ᾱ_s missing on x̂_0": """
            x_prev = x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps
            if sigma > 0:
                x_prev = x_prev + sigma * (torch.randn_like(x_t) if noise is None else noise)
            return x_prev
        """,
        "ᾱ_s without its √ on x̂_0": """
            x_prev = alpha_bar_prev * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps
            if sigma > 0:
                x_prev = x_prev + sigma * (torch.randn_like(x_t) if noise is None else noise)
            return x_prev
        """,
        "no fresh noise: σ z never added": """
            return alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps
        """,
        "ignores the noise passed: always draws its own": """
            x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps
            if sigma > 0:
                x_prev = x_prev + sigma * torch.randn_like(x_t)
            return x_prev
        """,
        "noise=None not handled: σ · None": """
            x_prev = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps
            return x_prev + sigma * noise
        """,
    },
    "18.5": {
        "clip_x0 not passed on to ddim_step": """
            eps = model(x, t_batch, context, context_mask)
            alpha_bar_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else 1.0
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev, eta, noise)
        """,
        "jumps to t − 1, not to the next timestep of the list": """
            eps = model(x, t_batch, context, context_mask)
            alpha_bar_prev = alpha_bar[t - 1] if t > 0 else 1.0
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev, eta, noise)
        """,
        "after the last step ᾱ = 0, not 1": """
            eps = model(x, t_batch, context, context_mask)
            alpha_bar_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else 0.0
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev, eta, noise)
        """,
        "after the last step ᾱ_0, not 1": """
            eps = model(x, t_batch, context, context_mask)
            alpha_bar_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else alpha_bar[0]
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev, eta, noise)
        """,
        "ᾱ at index i + 1 of the schedule, not at the timestep timesteps[i + 1]": """
            eps = model(x, t_batch, context, context_mask)
            alpha_bar_prev = alpha_bar[i + 1] if i + 1 < len(timesteps) else 1.0
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev, eta, noise)
        """,
        "the previous item of the list (i − 1), as if it were ascending": """
            eps = model(x, t_batch, context, context_mask)
            alpha_bar_prev = alpha_bar[timesteps[i - 1]] if i > 0 else 1.0
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev, eta, noise)
        """,
        "the model given the int t, not the (B,) timesteps": """
            eps = model(x, t, context, context_mask)
            alpha_bar_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else 1.0
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev, eta, noise)
        """,
        "the prompt not passed to the model": """
            eps = model(x, t_batch)
            alpha_bar_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else 1.0
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev, eta, noise)
        """,
        "ᾱ_t and ᾱ_s swapped in ddim_step's call": """
            eps = model(x, t_batch, context, context_mask)
            alpha_bar_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else 1.0
            x = ddim_step(x, eps, alpha_bar_prev, alpha_bar[t], eta, noise)
        """,
        "η and the noise not passed on: always deterministic": """
            eps = model(x, t_batch, context, context_mask)
            alpha_bar_prev = alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else 1.0
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar_prev)
        """,
    },
}
