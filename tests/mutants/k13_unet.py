"""Plausible wrong answers for kata 13: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right: in 13.1, the two lines in either order, or self.time(t.long());
in 13.2, a loop over range(len(self.down_blocks)) with indices, the attention called with keywords
(attn(h, context=context, context_mask=context_mask)), or h = down(skips[-1]) after the append;
in 13.3, the same keywords, or the three calls nested in one line; in 13.4, torch.cat((h, skip), 1),
torch.concat, skips[-1 - j] over an index j (the list read from its end), or the skip in a
variable of its own first; in 13.5, nn.functional.silu, or the three steps in three lines.
"""

MUTANTS = {
    "13.1": {
        "time not passed: temb of zeros": """
            temb = torch.zeros(x.shape[0], self.config.time_dim)
            h = self.inc(x)
        """,
        "SiLU on the time vector": """
            temb = F.silu(self.time(t))
            h = self.inc(x)
        """,
        "SiLU after the input conv": """
            temb = self.time(t)
            h = F.silu(self.inc(x))
        """,
        "the image not through the input conv": """
            temb = self.time(t)
            h = x
        """,
    },
    "13.2": {
        "skip kept after downsampling": """
            for block, attn, down in zip(self.down_blocks, self.down_attn, self.downsamples):
                h = block(h, temb)
                h = attn(h, context, context_mask)
                h = down(h)
                skips.append(h)
        """,
        "skip kept before the attention": """
            for block, attn, down in zip(self.down_blocks, self.down_attn, self.downsamples):
                h = block(h, temb)
                skips.append(h)
                h = attn(h, context, context_mask)
                h = down(h)
        """,
        "attention skipped in the down path": """
            for block, attn, down in zip(self.down_blocks, self.down_attn, self.downsamples):
                h = block(h, temb)
                skips.append(h)
                h = down(h)
        """,
        "downsample before the ResBlock": """
            for block, attn, down in zip(self.down_blocks, self.down_attn, self.downsamples):
                h = down(h)
                h = block(h, temb)
                h = attn(h, context, context_mask)
                skips.append(h)
        """,
        "context not passed to the attention": """
            for block, attn, down in zip(self.down_blocks, self.down_attn, self.downsamples):
                h = block(h, temb)
                h = attn(h)
                skips.append(h)
                h = down(h)
        """,
        "the context's mask not passed to the attention": """
            for block, attn, down in zip(self.down_blocks, self.down_attn, self.downsamples):
                h = block(h, temb)
                h = attn(h, context)
                skips.append(h)
                h = down(h)
        """,
        "context and mask swapped": """
            for block, attn, down in zip(self.down_blocks, self.down_attn, self.downsamples):
                h = block(h, temb)
                h = attn(h, context_mask, context)
                skips.append(h)
                h = down(h)
        """,
    },
    "13.3": {
        "middle attention skipped": """
            h = self.mid1(h, temb)
            h = self.mid2(h, temb)
        """,
        "attention after both ResBlocks": """
            h = self.mid1(h, temb)
            h = self.mid2(h, temb)
            h = self.mid_attn(h, context, context_mask)
        """,
        "the attention's output thrown away": """
            h = self.mid1(h, temb)
            self.mid_attn(h, context, context_mask)
            h = self.mid2(h, temb)
        """,
        "mid1 twice, mid2 never": """
            h = self.mid1(h, temb)
            h = self.mid_attn(h, context, context_mask)
            h = self.mid1(h, temb)
        """,
        "context not passed to the middle attention": """
            h = self.mid1(h, temb)
            h = self.mid_attn(h)
            h = self.mid2(h, temb)
        """,
        "the context's mask not passed to the middle attention": """
            h = self.mid1(h, temb)
            h = self.mid_attn(h, context)
            h = self.mid2(h, temb)
        """,
    },
    "13.4": {
        "skips used first-in, first-out (pop(0))": """
            for block, attn, up in zip(self.up_blocks, self.up_attn, self.upsamples):
                h = torch.cat([h, skips.pop(0)], dim=1)
                h = block(h, temb)
                h = attn(h, context, context_mask)
                h = up(h)
        """,
        "concatenated in the wrong order ([skip, h])": """
            for block, attn, up in zip(self.up_blocks, self.up_attn, self.upsamples):
                h = torch.cat([skips.pop(), h], dim=1)
                h = block(h, temb)
                h = attn(h, context, context_mask)
                h = up(h)
        """,
        "concatenated along the batch (torch.cat's default dim=0)": """
            for block, attn, up in zip(self.up_blocks, self.up_attn, self.upsamples):
                h = torch.cat([h, skips.pop()])
                h = block(h, temb)
                h = attn(h, context, context_mask)
                h = up(h)
        """,
        "skip connections dropped": """
            for block, attn, up in zip(self.up_blocks, self.up_attn, self.upsamples):
                h = block(h, temb)
                h = attn(h, context, context_mask)
                h = up(h)
        """,
        "upsample before the ResBlock": """
            for block, attn, up in zip(self.up_blocks, self.up_attn, self.upsamples):
                h = up(h)
                h = torch.cat([h, skips.pop()], dim=1)
                h = block(h, temb)
                h = attn(h, context, context_mask)
        """,
        "attention skipped in the up path": """
            for block, attn, up in zip(self.up_blocks, self.up_attn, self.upsamples):
                h = torch.cat([h, skips.pop()], dim=1)
                h = block(h, temb)
                h = up(h)
        """,
        "context not passed to the attention": """
            for block, attn, up in zip(self.up_blocks, self.up_attn, self.upsamples):
                h = torch.cat([h, skips.pop()], dim=1)
                h = block(h, temb)
                h = attn(h)
                h = up(h)
        """,
    },
    "13.5": {
        "output without the norm": "return self.out_conv(F.silu(h))",
        "output without SiLU": "return self.out_conv(self.out_norm(h))",
        "post-activation: conv, then norm and SiLU": "return F.silu(self.out_norm(self.out_conv(h)))",
        "ReLU instead of SiLU": "return self.out_conv(F.relu(self.out_norm(h)))",
        "tanh on the output: the noise is not in [-1, 1]": "return torch.tanh(self.out_conv(F.silu(self.out_norm(h))))",
        "adds the input x back": "return x + self.out_conv(F.silu(self.out_norm(h)))",
    },
}
