"""Plausible wrong answers for kata 03: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right: torch.softmax inside 03.6; masked_fill or torch.where in
03.5; a finite fill such as -1e9, -1e4 or torch.finfo(dtype).min in 03.5 (its weight is exactly
0 in float32, as long as a row keeps one key, which the mask convention promises); einsum or
matmul in 03.4; x.max(...).values in 03.1 (detached or not: softmax ignores the shift);
x.exp_() on 03.1's new x in 03.2 (no tensor autograd saved is changed after).
"""

MUTANTS = {
    "03.1": {
        "no max subtracted: exp overflows": "pass",
        "max without keepdim": "x = x - x.amax(dim=dim)",
        "min instead of max": "x = x - x.amin(dim=dim, keepdim=True)",
        "max over the last dim whatever `dim` is": "x = x - x.amax(dim=-1, keepdim=True)",
        "max over the whole tensor, not each slice": "x = x - x.max()",
        "x.max(dim) returns (values, indices)": "x = x - x.max(dim=dim, keepdim=True)",
        "in place: changes the caller's x": "x -= x.amax(dim=dim, keepdim=True)",
    },
    "03.2": {
        "normalises over the last dim whatever `dim` is": """
            e = x.exp()
            return e / e.sum(dim=-1, keepdim=True)
        """,
        "forgets keepdim": """
            e = x.exp()
            return e / e.sum(dim=dim)
        """,
        "divides by the sum of the whole tensor": """
            e = x.exp()
            return e / e.sum()
        """,
        "log-softmax": "return x - x.exp().sum(dim=dim, keepdim=True).log()",
        "forgets to exponentiate": "return x / x.sum(dim=dim, keepdim=True)",
        "divides in place (e.div_): right values, backward broken": """
            e = x.exp()
            return e.div_(e.sum(dim=dim, keepdim=True))
        """,
        "divides in place (e /= ...): right values, backward broken": """
            e = x.exp()
            e /= e.sum(dim=dim, keepdim=True)
            return e
        """,
    },
    "03.3": {
        "upper triangle: the future, not the past": "return torch.triu(torch.ones(T, T, dtype=torch.bool))",
        "diagonal excluded: a token cannot see itself": (
            "return torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1)"
        ),
        "float mask, not bool": "return torch.tril(torch.ones(T, T))",
        "inverted convention (True = hidden, as nn.Transformer)": (
            "return torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)"
        ),
        "strict <: key j < query i": "return torch.arange(T)[None, :] < torch.arange(T)[:, None]",
    },
    "03.4": {
        "forgets the √D": "scores = q @ k.transpose(-2, -1)",
        "divides by D, not √D": "scores = q @ k.transpose(-2, -1) / D",
        "multiplies by √D": "scores = q @ k.transpose(-2, -1) * math.sqrt(D)",
        "transposes the batch dims of k, not its last two": "scores = q @ k.transpose(0, 1) / math.sqrt(D)",
        "k.T on batched input reverses every dim": "scores = q @ k.T / math.sqrt(D)",
        "scales by √Tk": "scores = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-2])",
        "keys times queries: (Tk, Tq)": "scores = k @ q.transpose(-2, -1) / math.sqrt(D)",
        "scales the caller's q in place": """
            q /= math.sqrt(D)
            scores = q @ k.transpose(-2, -1)
        """,
    },
    "03.5": {
        "mask inverted": 'scores = scores.masked_fill(mask, float("-inf"))',
        "fills 0, not -inf": "scores = scores.masked_fill(~mask, 0.0)",
        "multiplies the scores by the mask": "scores = scores * mask",
        "-1e-9, not -1e9: a typo that hides nothing": "scores = scores.masked_fill(~mask, -1e-9)",
        "masked_fill's result dropped": 'scores.masked_fill(~mask, float("-inf"))',
        "boolean indexing does not broadcast the mask": 'scores[~mask] = float("-inf")',
        "mask transposed": 'scores = scores.masked_fill(~mask.transpose(-2, -1), float("-inf"))',
        "fills +inf: the sign": 'scores = scores.masked_fill(~mask, float("inf"))',
        "fills NaN": 'scores = scores.masked_fill(~mask, float("nan"))',
        "fills -1: too small to hide a key": "scores = scores.masked_fill(~mask, -1.0)",
    },
    "03.6": {
        "softmax over the queries (dim=-2)": """
            weights = softmax(scores, dim=-2)
            out = weights @ v
        """,
        "out = v @ weights": """
            weights = softmax(scores, dim=-1)
            out = v @ weights
        """,
        "weighted sum of the scores, not the weights": """
            weights = softmax(scores, dim=-1)
            out = scores @ v
        """,
        "no softmax": """
            weights = scores
            out = weights @ v
        """,
        "elementwise product, not a matrix product": """
            weights = softmax(scores, dim=-1)
            out = weights * v
        """,
        "softmax over the first dim": """
            weights = softmax(scores, dim=0)
            out = weights @ v
        """,
    },
}
