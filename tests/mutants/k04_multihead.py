"""Plausible wrong answers for kata 04: each must fail the tests of its blank (the self-check runs them)."""

MUTANTS = {
    "04.1": {
        "views as (B, H, T, Dh) without a transpose: tokens and features mixed up": (
            "return x.view(B, n_heads, T, D // n_heads)"
        ),
        "forgets to move the heads: (B, T, H, Dh)": "return x.view(B, T, n_heads, D // n_heads)",
        "splits D as (Dh, H): each head gets every H-th feature": (
            "return x.view(B, T, D // n_heads, n_heads).permute(0, 3, 1, 2)"
        ),
        "transposes the wrong pair: (B, T, Dh, H)": "return x.view(B, T, n_heads, D // n_heads).transpose(2, 3)",
    },
    "04.2": {
        "no transpose: reshapes (B, H, T, Dh) straight to (B, T, D)": "return x.reshape(B, T, H * Dh)",
        "view after transpose: not contiguous": "return x.transpose(1, 2).view(B, T, H * Dh)",
        "permutes to (B, T, Dh, H): features interleaved": "return x.permute(0, 2, 3, 1).reshape(B, T, H * Dh)",
        "transpose_ in place: changes the caller's x": """
            x.transpose_(1, 2)
            return x.reshape(B, T, H * Dh)
        """,
    },
    "04.3": {
        "keys and values from x even when a context is given": """
            q = self.q_proj(x)
            k = self.k_proj(x)
            v = self.v_proj(x)
        """,
        "q_proj used for the keys": """
            context = x if context is None else context
            q = self.q_proj(x)
            k = self.q_proj(context)
            v = self.v_proj(context)
        """,
        "values through k_proj": """
            context = x if context is None else context
            q = self.q_proj(x)
            k = self.k_proj(context)
            v = self.k_proj(context)
        """,
        "keys and values swapped": """
            context = x if context is None else context
            q = self.q_proj(x)
            k = self.v_proj(context)
            v = self.k_proj(context)
        """,
        "queries from the context, keys and values from x": """
            context = x if context is None else context
            q = self.q_proj(context)
            k = self.k_proj(x)
            v = self.v_proj(x)
        """,
    },
    "04.4": {
        "mask left as it is: its B lines up with the heads H": "pass",
        "unsqueeze_ in place: changes the caller's mask": "mask = mask.unsqueeze_(-3)",
        "unsqueeze(1): a (Tq, Tk) mask becomes (Tq, 1, Tk), Tq lined up with H": "mask = mask.unsqueeze(1)",
        "unsqueeze(0): a (B, Tq, Tk) mask becomes (1, B, Tq, Tk), B lined up with H": "mask = mask.unsqueeze(0)",
        "unsqueeze(-1): (..., Tq, Tk, 1), every dimension shifted": "mask = mask.unsqueeze(-1)",
        "head dimension after Tq: (..., Tq, 1, Tk)": "mask = mask.unsqueeze(-2)",
        "inverted: True taken as 'hidden', as in nn.MultiheadAttention": "mask = ~mask.unsqueeze(-3)",
        "the old rule: every 2-D mask read as (B, Tk) key padding": """
            if mask.dim() == 2:
                mask = mask[:, None, None, :]
            else:
                mask = mask[:, None]
        """,
        "nn.MultiheadAttention's layout: (B*H, Tq, Tk)": (
            "mask = mask.expand(q.shape[0], q.shape[2], k.shape[2]).repeat_interleave(self.n_heads, dim=0)"
        ),
    },
    "04.5": {
        "forgets the output projection": """
            out, _ = scaled_dot_product_attention(q, k, v, mask)
            return merge_heads(out)
        """,
        "forgets to pass the mask on": """
            out, _ = scaled_dot_product_attention(q, k, v)
            return self.out_proj(merge_heads(out))
        """,
        "reshapes (B, H, Tq, Dh) to (B, Tq, D) without merging the heads": """
            out, _ = scaled_dot_product_attention(q, k, v, mask)
            return self.out_proj(out.reshape(x.shape[0], x.shape[1], -1))
        """,
        "averages the heads instead of joining them": """
            out, _ = scaled_dot_product_attention(q, k, v, mask)
            return self.out_proj(out.mean(dim=1).repeat(1, 1, self.n_heads))
        """,
    },
}
