"""Plausible wrong answers for kata 17: each must fail the tests of its blank (the self-check runs them).

The kata's scale g is Stable Diffusion's (g = 1: the conditional model); the paper's w is g − 1,
so "(1 + g) used as the weight" is listed as a mistake here.

Not mutants, because they are right (tried, they pass): in 17.1, (1 − g) ε_∅ + g ε_c,
g ε_c − (g − 1) ε_∅, torch.lerp(eps_uncond, eps_cond, scale); in 17.2, torch.cat((a, b), dim=0),
x_t.repeat(2, 1, 1, 1) and t.repeat(2) for the doubled images and timesteps, torch.chunk(eps, 2)
or eps[:B], eps[B:], `if uncond_mask is not None` as the None test (both masks are None, or
neither), the model called with keywords; in 17.3, the guidance written inline
(eps_uncond + scale * (eps_cond - eps_uncond)); in 17.4, keywords in guided_eps's call.
"""

MUTANTS = {
    "17.1": {
        "the difference points the wrong way: eps_cond + g (eps_uncond − eps_cond)":
            "return eps_cond + scale * (eps_uncond - eps_cond)",
        "scale on eps_cond alone: eps_uncond + g · eps_cond": "return eps_uncond + scale * eps_cond",
        "the paper's (1 + w) form with w = scale: eps_uncond + (1 + g)(eps_cond − eps_uncond), "
        "the same as eps_cond + g (eps_cond − eps_uncond)":
            "return eps_uncond + (1 + scale) * (eps_cond - eps_uncond)",
        "no eps_uncond base: g (eps_cond − eps_uncond) alone": "return scale * (eps_cond - eps_uncond)",
        "g ε_c − (1 − g) ε_∅: the weight of ε_∅ has the wrong sign":
            "return scale * eps_cond - (1 - scale) * eps_uncond",
    },
    "17.2": {
        "the halves swapped in the split: eps_cond, eps_uncond = eps.chunk(2)": """
            mask = None if context_mask is None else torch.cat([uncond_mask, context_mask])
            eps = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([uncond_context, context]), mask)
            eps_cond, eps_uncond = eps.chunk(2)
        """,
        "the prompt's half first in the stack": """
            mask = None if context_mask is None else torch.cat([context_mask, uncond_mask])
            eps = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([context, uncond_context]), mask)
            eps_uncond, eps_cond = eps.chunk(2)
        """,
        "two model calls, one per half": """
            eps_uncond = model(x_t, t, uncond_context, uncond_mask)
            eps_cond = model(x_t, t, context, context_mask)
        """,
        "the masks stacked the other way round": """
            mask = None if context_mask is None else torch.cat([context_mask, uncond_mask])
            eps = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([uncond_context, context]), mask)
            eps_uncond, eps_cond = eps.chunk(2)
        """,
        "no mask given to the model: the padding is attended to": """
            eps = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([uncond_context, context]), None)
            eps_uncond, eps_cond = eps.chunk(2)
        """,
        "the prompt's mask for both halves": """
            mask = None if context_mask is None else torch.cat([context_mask, context_mask])
            eps = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([uncond_context, context]), mask)
            eps_uncond, eps_cond = eps.chunk(2)
        """,
        "the timesteps not doubled: t is (B,), the images (2B, ...)": """
            mask = None if context_mask is None else torch.cat([uncond_mask, context_mask])
            eps = model(torch.cat([x_t, x_t]), t, torch.cat([uncond_context, context]), mask)
            eps_uncond, eps_cond = eps.chunk(2)
        """,
        "the masks stacked even when None": """
            mask = torch.cat([uncond_mask, context_mask])
            eps = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([uncond_context, context]), mask)
            eps_uncond, eps_cond = eps.chunk(2)
        """,
    },
    "17.3": {
        "eps_cond and eps_uncond swapped in the call": "return classifier_free_guidance(eps_cond, eps_uncond, scale)",
        "no guidance: returns the conditional half": "return eps_cond",
        "the paper's w: 1 + scale passed as the scale":
            "return classifier_free_guidance(eps_uncond, eps_cond, 1 + scale)",
        "the sum of the halves, unguided": "return eps_uncond + eps_cond",
    },
    "17.4": {
        "the prompt's features used as the unconditional ones too: the prompt's effect is lost":
            "return guided_eps(self.model, x_t, t, context, context_mask, context, context_mask, self.scale)",
        "the prompt and the empty caption swapped":
            "return guided_eps(self.model, x_t, t, self.uncond_context, self.uncond_mask, context, context_mask, self.scale)",
        "calls the wrapped model directly: no guidance": "return self.model(x_t, t, context, context_mask)",
        "the stored mask used for the prompt too":
            "return guided_eps(self.model, x_t, t, context, self.uncond_mask, self.uncond_context, self.uncond_mask, self.scale)",
        "the scale not passed on: 1, the plain conditional model":
            "return guided_eps(self.model, x_t, t, context, context_mask, self.uncond_context, self.uncond_mask, 1.0)",
    },
}
