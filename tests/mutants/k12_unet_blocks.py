"""Plausible wrong answers for kata 12: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right: in 12.1, nn.functional.silu, or n = self.norm1(x) then
n * torch.sigmoid(n), in two lines; in 12.2, [..., None, None] or .unsqueeze(-1).unsqueeze(-1),
h += ... (h is the block's own tensor), or the time term in a variable of its own first; in 12.3,
self.skip(x) + h, or the two lines in one; in 12.4, F.interpolate(x, scale_factor=2.0) (nearest
is the default), mode="nearest-exact" (the same at a factor of 2), size=(2 * H, 2 * W),
x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3), or nn.Upsample(scale_factor=2)(x);
in 12.5, .reshape(B, C, H * W).permute(0, 2, 1) on the way in, .permute(0, 2, 3, 1).reshape(B, H * W, C)
and back with .reshape(B, H, W, C).permute(0, 3, 1, 2), .view(B, C, H, W) after the transpose
(it only splits the last dimension), or self.attn(h, None, None).
"""

MUTANTS = {
    "12.1": {
        "post-activation: conv first, then norm and SiLU": "h = F.silu(self.norm1(self.conv1(x)))",
        "no SiLU": "h = self.conv1(self.norm1(x))",
        "no GroupNorm": "h = self.conv1(F.silu(x))",
        "SiLU before the norm": "h = self.conv1(self.norm1(F.silu(x)))",
        "ReLU instead of SiLU": "h = self.conv1(F.relu(self.norm1(x)))",
        "another SiLU after conv1": "h = F.silu(self.conv1(F.silu(self.norm1(x))))",
    },
    "12.2": {
        "time embedding not added": "h = h",
        "temb without SiLU": "h = h + self.time_proj(temb)[:, :, None, None]",
        "SiLU after time_proj, not before": "h = h + F.silu(self.time_proj(temb))[:, :, None, None]",
        "time broadcast along W ([:, None, None, :])": "h = h + self.time_proj(F.silu(temb))[:, None, None, :]",
        "time added per row, not per channel ([:, None, :, None])": (
            "h = h + self.time_proj(F.silu(temb))[:, None, :, None]"
        ),
        "time added before conv1": (
            "h = self.conv1(F.silu(self.norm1(x)) + self.time_proj(F.silu(temb))[:, :, None, None])"
        ),
        "time multiplied, not added": "h = h * self.time_proj(F.silu(temb))[:, :, None, None]",
    },
    "12.3": {
        "skip (residual) forgotten": "return self.conv2(F.silu(self.norm2(h)))",
        "skip added before conv2": "return self.conv2(F.silu(self.norm2(h + self.skip(x))))",
        "adds x itself, not self.skip(x)": """
            h = self.conv2(F.silu(self.norm2(h)))
            return h + x
        """,
        "post-activation: conv2 first, then norm and SiLU": """
            h = F.silu(self.norm2(self.conv2(h)))
            return h + self.skip(x)
        """,
        "no SiLU in the second layer": """
            h = self.conv2(self.norm2(h))
            return h + self.skip(x)
        """,
        "norm1 used again in the second layer": """
            h = self.conv2(F.silu(self.norm1(h)))
            return h + self.skip(x)
        """,
        "the time added again after conv2": """
            h = self.conv2(F.silu(self.norm2(h))) + self.time_proj(F.silu(temb))[:, :, None, None]
            return h + self.skip(x)
        """,
    },
    "12.4": {
        "bilinear, not nearest": 'return self.conv(F.interpolate(x, scale_factor=2, mode="bilinear"))',
        "no conv after upsampling": 'return F.interpolate(x, scale_factor=2, mode="nearest")',
        "conv before upsampling": 'return F.interpolate(self.conv(x), scale_factor=2, mode="nearest")',
        "tiles the image (x.repeat) instead of repeating each pixel": "return self.conv(x.repeat(1, 1, 2, 2))",
        "doubles H only": "return self.conv(x.repeat_interleave(2, dim=2))",
    },
    "12.5": {
        "attention over the channels, not the pixels (transpose forgotten)": """
            h = self.norm(x).flatten(2)
            h = self.attn(h)
            return x + h.reshape(B, C, H, W)
        """,
        "no GroupNorm": """
            h = x.flatten(2).transpose(1, 2)
            h = self.attn(h)
            return x + h.transpose(1, 2).reshape(B, C, H, W)
        """,
        "no residual": """
            h = self.norm(x).flatten(2).transpose(1, 2)
            h = self.attn(h)
            return h.transpose(1, 2).reshape(B, C, H, W)
        """,
        "reshape instead of transpose back: pixels scrambled": """
            h = self.norm(x).flatten(2).transpose(1, 2)
            h = self.attn(h)
            return x + h.reshape(B, C, H, W)
        """,
        "reshape to (B, H·W, C) instead of transpose on the way in": """
            h = self.norm(x).reshape(B, H * W, C)
            h = self.attn(h)
            return x + h.transpose(1, 2).reshape(B, C, H, W)
        """,
        "residual from the normalised x": """
            n = self.norm(x)
            h = self.attn(n.flatten(2).transpose(1, 2))
            return n + h.transpose(1, 2).reshape(B, C, H, W)
        """,
        "attends to the context when one is given": """
            h = self.norm(x).flatten(2).transpose(1, 2)
            h = self.attn(h, context, context_mask)
            return x + h.transpose(1, 2).reshape(B, C, H, W)
        """,
    },
}
