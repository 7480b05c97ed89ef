"""Plausible wrong answers for kata 15: each must fail the tests of its blank (the self-check runs them).

The kata's variance is the posterior's, σ_t² = β̃_t (DDPM §3.2 names σ_t² = β_t as the other
choice; both sample well): √β_t is listed as a mistake here.

Not mutants, because they are right: in 15.1, torch.clamp(..., -1, 1) or .clip(-1, 1), ᾱ read as
schedule.alpha_bar[t].float().view(-1, 1, 1, 1), or x_t / √ᾱ − √(1/ᾱ − 1) ε (the same
expression rearranged); in 15.2, the coefficients inline; in 15.3, the model called with
keywords (context=context, context_mask=context_mask); in 15.4, `if t > 0:` adding the noise to
the mean, then returning it, torch.randn(x_t.shape) for the draw, the variance read as
schedule.posterior_variance[t] (a float64 scalar: the image stays float32), and even no special
case at t = 0 at all: β̃_0 = β_0 (1 − ᾱ_{−1}) / (1 − ᾱ_0) = 0 (ᾱ_{−1} = 1), so √β̃_0 · z adds
exactly nothing; in 15.5, reversed(range(schedule.T)), list(range(schedule.T))[::-1],
range(schedule.T)[::-1], or torch.arange(schedule.T - 1, -1, -1) (p_sample takes a 0-d tensor too).
"""

MUTANTS = {
    "15.1": {
        "x̂_0 not clipped": """
            alpha_bar = extract(schedule.alpha_bar, t, x_t.shape)
            return (x_t - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()
        """,
        "clipped to [0, 1], the PNG range": """
            alpha_bar = extract(schedule.alpha_bar, t, x_t.shape)
            return ((x_t - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()).clamp(0, 1)
        """,
        "clipped before dividing by √ᾱ_t": """
            alpha_bar = extract(schedule.alpha_bar, t, x_t.shape)
            return (x_t - (1 - alpha_bar).sqrt() * eps).clamp(-1, 1) / alpha_bar.sqrt()
        """,
        "√ taken twice: ᾱ^¼": """
            alpha_bar = extract(schedule.alpha_bar, t, x_t.shape).sqrt()
            return ((x_t - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()).clamp(-1, 1)
        """,
        "no √: divides by ᾱ_t, subtracts (1 − ᾱ_t) ε": """
            alpha_bar = extract(schedule.alpha_bar, t, x_t.shape)
            return ((x_t - (1 - alpha_bar) * eps) / alpha_bar).clamp(-1, 1)
        """,
        "α_t of one step in place of ᾱ_t": """
            alpha_bar = extract(schedule.alphas, t, x_t.shape)
            return ((x_t - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()).clamp(-1, 1)
        """,
        "adds the noise instead of removing it": """
            alpha_bar = extract(schedule.alpha_bar, t, x_t.shape)
            return ((x_t + (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()).clamp(-1, 1)
        """,
        "ᾱ_t read as float64 without reshape: broadcasts along W": """
            alpha_bar = schedule.alpha_bar[t]
            return ((x_t - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()).clamp(-1, 1)
        """,
    },
    "15.2": {
        "the two coefficients swapped": """
            coef_x0 = alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar)
            coef_xt = alpha_bar_prev.sqrt() * beta / (1 - alpha_bar)
            return coef_x0 * x0 + coef_xt * x_t
        """,
        "ᾱ_t where ᾱ_{t−1} belongs, in x0's coefficient": """
            coef_x0 = alpha_bar.sqrt() * beta / (1 - alpha_bar)
            coef_xt = alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar)
            return coef_x0 * x0 + coef_xt * x_t
        """,
        "ᾱ_t where ᾱ_{t−1} belongs, in x_t's coefficient": """
            coef_x0 = alpha_bar_prev.sqrt() * beta / (1 - alpha_bar)
            coef_xt = alpha.sqrt() * (1 - alpha_bar) / (1 - alpha_bar)
            return coef_x0 * x0 + coef_xt * x_t
        """,
        "no √ on ᾱ_{t−1}": """
            coef_x0 = alpha_bar_prev * beta / (1 - alpha_bar)
            coef_xt = alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar)
            return coef_x0 * x0 + coef_xt * x_t
        """,
        "no √ on α_t": """
            coef_x0 = alpha_bar_prev.sqrt() * beta / (1 - alpha_bar)
            coef_xt = alpha * (1 - alpha_bar_prev) / (1 - alpha_bar)
            return coef_x0 * x0 + coef_xt * x_t
        """,
        "√ᾱ_t in place of √α_t": """
            coef_x0 = alpha_bar_prev.sqrt() * beta / (1 - alpha_bar)
            coef_xt = alpha_bar.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar)
            return coef_x0 * x0 + coef_xt * x_t
        """,
        "denominator 1 − ᾱ_{t−1}": """
            coef_x0 = alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_prev)
            coef_xt = alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_prev)
            return coef_x0 * x0 + coef_xt * x_t
        """,
    },
    "15.3": {
        "x̂_0 not clipped: Eq. 15 inline, without predict_x0": """
            eps = model(x_t, t_batch, context, context_mask)
            alpha_bar = extract(schedule.alpha_bar, t_batch, x_t.shape)
            x0 = (x_t - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()
            mean = posterior_mean(x0, x_t, t_batch, schedule)
        """,
        "the model given the int t, not the (B,) timesteps": """
            eps = model(x_t, t, context, context_mask)
            x0 = predict_x0(x_t, t_batch, eps, schedule)
            mean = posterior_mean(x0, x_t, t_batch, schedule)
        """,
        "the prompt not passed to the model": """
            eps = model(x_t, t_batch)
            x0 = predict_x0(x_t, t_batch, eps, schedule)
            mean = posterior_mean(x0, x_t, t_batch, schedule)
        """,
        "posterior mean of ε, not of x̂_0": """
            eps = model(x_t, t_batch, context, context_mask)
            x0 = predict_x0(x_t, t_batch, eps, schedule)
            mean = posterior_mean(eps, x_t, t_batch, schedule)
        """,
        "posterior_mean's x0 and x_t swapped": """
            eps = model(x_t, t_batch, context, context_mask)
            x0 = predict_x0(x_t, t_batch, eps, schedule)
            mean = posterior_mean(x_t, x0, t_batch, schedule)
        """,
        "jumps straight to x̂_0: no posterior mean": """
            eps = model(x_t, t_batch, context, context_mask)
            x0 = predict_x0(x_t, t_batch, eps, schedule)
            mean = x0
        """,
        "subtracts the predicted noise from x_t": """
            eps = model(x_t, t_batch, context, context_mask)
            mean = x_t - eps
        """,
    },
    "15.4": {
        "noise scaled by β̃_t, not √β̃_t": """
            if t == 0:
                return mean
            if noise is None:
                noise = torch.randn_like(x_t)
            return mean + extract(schedule.posterior_variance, t_batch, x_t.shape) * noise
        """,
        "noise scaled by √β_t (DDPM's other σ², not this kata's)": """
            if t == 0:
                return mean
            if noise is None:
                noise = torch.randn_like(x_t)
            return mean + extract(schedule.betas, t_batch, x_t.shape).sqrt() * noise
        """,
        "σ = √β_t, and noise at t = 0 too: it stays in the image": """
            if noise is None:
                noise = torch.randn_like(x_t)
            return mean + extract(schedule.betas, t_batch, x_t.shape).sqrt() * noise
        """,
        "noise scaled by √(1 − ᾱ_t), the forward process's": """
            if t == 0:
                return mean
            if noise is None:
                noise = torch.randn_like(x_t)
            return mean + (1 - extract(schedule.alpha_bar, t_batch, x_t.shape)).sqrt() * noise
        """,
        "no noise at any step": "return mean",
        "ignores the noise passed: always draws its own": """
            if t == 0:
                return mean
            return mean + extract(schedule.posterior_variance, t_batch, x_t.shape).sqrt() * torch.randn_like(x_t)
        """,
        "the last step returns x_t unchanged": """
            if t == 0:
                return x_t
            if noise is None:
                noise = torch.randn_like(x_t)
            return mean + extract(schedule.posterior_variance, t_batch, x_t.shape).sqrt() * noise
        """,
        "if t_batch == 0: a tensor of B booleans has no single truth value": """
            if t_batch == 0:
                return mean
            if noise is None:
                noise = torch.randn_like(x_t)
            return mean + extract(schedule.posterior_variance, t_batch, x_t.shape).sqrt() * noise
        """,
        "returns the mean when no noise is given": """
            if t == 0 or noise is None:
                return mean
            return mean + extract(schedule.posterior_variance, t_batch, x_t.shape).sqrt() * noise
        """,
    },
    "15.5": {
        "timesteps ascending: the cleanest step first": "steps = range(schedule.T)",
        "range(T, 0, −1): starts at T, stops before 0": "steps = range(schedule.T, 0, -1)",
        "starts at T − 2: skips the noisiest step": "steps = range(schedule.T - 2, -1, -1)",
        "stops at 1: the last step, t = 0, never runs": "steps = range(schedule.T - 1, 0, -1)",
        "range(T − 1, 0): empty, no step at all": "steps = range(schedule.T - 1, 0)",
        "every other step": "steps = range(schedule.T - 1, -1, -2)",
    },
}
