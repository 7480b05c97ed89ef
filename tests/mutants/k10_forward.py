"""Plausible wrong answers for kata 10: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right (each tried against the tests): in 10.1 `2 * images - 1`,
`(images - 0.5) * 2`, `(images - 0.5) / 0.5`; in 10.2 `(x * 0.5 + 0.5).clamp(0, 1)`,
`torch.clamp((x + 1) / 2, 0.0, 1.0)`, `((x + 1) / 2).clip(0, 1)`; in 10.3
`a.gather(0, t).float().reshape(-1, *[1] * (len(shape) - 1))`, `a.float()[t].view(...)` (float32
first, then read), `a[t].to(torch.float32)[(...,) + (None,) * (len(shape) - 1)]`; in 10.4
`torch.sqrt(alpha_bar)`, extract of `schedule.alpha_bar.sqrt()` and of `(1 - schedule.alpha_bar).sqrt()`
(the roots taken in float64 before the read), `noise.shape` for `x0.shape`.
"""

MUTANTS = {
    "10.1": {
        "not converted: [0, 1] images left as they are": "return images",
        "centred but not stretched: x − 0.5": "return images - 0.5",
        "stretched but not shifted: 2x": "return images * 2",
        "shifted but not stretched: x − 1": "return images - 1",
        "halved, not doubled: x / 2 − 1": "return images / 2 - 1",
        "in place: changes the caller's images": "return images.mul_(2).sub_(1)",
    },
    "10.2": {
        "no clamp: overshoots leave [0, 1]": "return (x + 1) / 2",
        "clamped before rescaling: to [0.5, 1]": "return (x.clamp(0, 1) + 1) / 2",
        "clamped to [-1, 1], the model's range": "return ((x + 1) / 2).clamp(-1, 1)",
        "not rescaled: clamp alone": "return x.clamp(0, 1)",
        "(x − 1) / 2: the shift the wrong way": "return ((x - 1) / 2).clamp(0, 1)",
        "in place: changes the caller's x": "return x.add_(1).div_(2).clamp_(0, 1)",
    },
    "10.3": {
        "a[t + 1]: one step late": "return a[t + 1].float().view(t.shape[0], *[1] * (len(shape) - 1))",
        "a[t − 1]: 1-based timesteps": "return a[t - 1].float().view(t.shape[0], *[1] * (len(shape) - 1))",
        "not reshaped: (B,)": "return a[t].float()",
        "always (B, 1, 1, 1), whatever the shape": "return a[t].float().view(-1, 1, 1, 1)",
        "left in float64": "return a[t].view(t.shape[0], *[1] * (len(shape) - 1))",
        "one timestep for the whole batch: a[t[0]]": (
            "return a[t[0]].float().expand(t.shape[0]).reshape(t.shape[0], *[1] * (len(shape) - 1))"
        ),
        "trailing ones before the batch: (1, ..., 1, B)": "return a[t].float().view(*[1] * (len(shape) - 1), -1)",
    },
    "10.4": {
        "square root taken twice: √√ᾱ (seen in a public answer notebook)": """
            alpha_bar = extract(schedule.alpha_bar, t, x0.shape)
            return alpha_bar.sqrt().sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
        """,
        "ᾱ_{t-1}: alpha_bar_prev for alpha_bar": """
            alpha_bar = extract(schedule.alpha_bar_prev, t, x0.shape)
            return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
        """,
        "ᾱ read at t + 1": """
            alpha_bar = extract(schedule.alpha_bar, t + 1, x0.shape)
            return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
        """,
        "no square roots: ᾱ x0 + (1 − ᾱ) ε": """
            alpha_bar = extract(schedule.alpha_bar, t, x0.shape)
            return alpha_bar * x0 + (1 - alpha_bar) * noise
        """,
        "α_t (one step), not ᾱ_t": """
            alpha = extract(schedule.alphas, t, x0.shape)
            return alpha.sqrt() * x0 + (1 - alpha).sqrt() * noise
        """,
        "√β_t for the noise, not √(1 − ᾱ_t)": """
            alpha_bar = extract(schedule.alpha_bar, t, x0.shape)
            return alpha_bar.sqrt() * x0 + extract(schedule.betas, t, x0.shape).sqrt() * noise
        """,
        "ᾱ read without extract: (B,) broadcasts along the width": """
            alpha_bar = schedule.alpha_bar[t]
            return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
        """,
        "x0 converted again: it is already in [-1, 1]": """
            alpha_bar = extract(schedule.alpha_bar, t, x0.shape)
            return alpha_bar.sqrt() * to_model_range(x0) + (1 - alpha_bar).sqrt() * noise
        """,
    },
}
