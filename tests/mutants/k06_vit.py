"""Plausible wrong answers for kata 06: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right: reshape in place of view in 06.1 and 06.2 (also
`.contiguous().view`); Tensor.unfold twice, `images.unfold(2, P, P).unfold(3, P, P)` (B, C,
H/P, W/P, P, P), then permute(0, 2, 3, 4, 5, 1) and reshape, in 06.1; F.unfold followed by the
permutation from (c, p1, p2) to (p1, p2, c) in 06.1, and F.fold after the inverse permutation
in 06.2; two transposes or a permute in any order that gives the same axes; flattening the
patches to (B·N, P·P·C) for self.proj and viewing the result back to (B, N, D) in 06.3;
`repeat(B, 1, 1)` in place of `expand` and `x.shape[0]` or `images.shape[0]` for B in 06.4;
`x = block(x, mask=None)` in 06.5; `features[:, 0, :]` or `select(1, 0)` in 06.6.
"""

MUTANTS = {
    "06.1": {
        "reshape without the permute: pixels of different patches mixed": (
            "return images.reshape(B, (H // P) * (W // P), P * P * C)"
        ),
        "patches flattened (c, p1, p2), as F.unfold does": """
            x = images.view(B, C, H // P, P, W // P, P).permute(0, 2, 4, 1, 3, 5)
            return x.reshape(B, (H // P) * (W // P), P * P * C)
        """,
        "columns before rows: patches numbered column by column": """
            x = images.view(B, C, H // P, P, W // P, P).permute(0, 4, 2, 3, 5, 1)
            return x.reshape(B, (H // P) * (W // P), P * P * C)
        """,
        "pixel columns before pixel rows inside a patch: (p2, p1, c)": """
            x = images.view(B, C, H // P, P, W // P, P).permute(0, 2, 4, 5, 3, 1)
            return x.reshape(B, (H // P) * (W // P), P * P * C)
        """,
        "viewed as (B, C, P, H/P, P, W/P): every (H/P)-th pixel, not a P×P square": """
            x = images.view(B, C, P, H // P, P, W // P).permute(0, 3, 5, 2, 4, 1)
            return x.reshape(B, (H // P) * (W // P), P * P * C)
        """,
        "H and W swapped in the view (right for square images only)": """
            x = images.view(B, C, W // P, P, H // P, P).permute(0, 2, 4, 3, 5, 1)
            return x.reshape(B, (H // P) * (W // P), P * P * C)
        """,
    },
    "06.2": {
        "reshape without the permute": "return patches.reshape(B, C, H, W)",
        "permutes with patchify's permutation (0, 2, 4, 3, 5, 1), not its inverse": """
            x = patches.view(B, H // P, W // P, P, P, C).permute(0, 2, 4, 3, 5, 1)
            return x.reshape(B, C, H, W)
        """,
        "reads each patch as (c, p1, p2)": """
            x = patches.view(B, H // P, W // P, C, P, P).permute(0, 3, 1, 4, 2, 5)
            return x.reshape(B, C, H, W)
        """,
        "reads the patches column by column": """
            x = patches.view(B, W // P, H // P, P, P, C).permute(0, 5, 2, 3, 1, 4)
            return x.reshape(B, C, H, W)
        """,
        "pixel rows and columns swapped inside each patch": """
            x = patches.view(B, H // P, W // P, P, P, C).permute(0, 5, 1, 4, 2, 3)
            return x.reshape(B, C, H, W)
        """,
    },
    "06.3": {
        "patch size hard-coded to 4 (the default)": "x = self.proj(patchify(images, 4))",
        "one token per pixel, not per patch": "x = self.proj(images.flatten(2).transpose(1, 2))",
        "patches cut with F.unfold: flattened (c, p1, p2)": (
            "x = self.proj(nn.functional.unfold(images, self.patch_size, stride=self.patch_size).transpose(1, 2))"
        ),
        "forgets the projection: the raw patches are the tokens": "x = patchify(images, self.patch_size)",
        "forgets the bias: patches @ proj.weight.T": "x = patchify(images, self.patch_size) @ self.proj.weight.T",
    },
    "06.4": {
        "class token appended at the end": """
            x = torch.cat([x, self.cls_token.expand(x.shape[0], -1, -1)], dim=1)
            return x + self.positions
        """,
        "positions added to the patches before the class token goes in front": """
            x = x + self.positions[:, 1:]
            return torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        """,
        "positions added before the class token: N + 1 positions on N patches": """
            x = x + self.positions
            return torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        """,
        "positions missing": "return torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)",
        "class token not expanded per image: one (1, 1, D) for the whole batch": """
            x = torch.cat([self.cls_token, x], dim=1)
            return x + self.positions
        """,
        "class token expanded by the number of patches, not the batch size": """
            x = torch.cat([self.cls_token.expand(x.shape[1], -1, -1), x], dim=1)
            return x + self.positions
        """,
        "class token added to every patch, not put in front": """
            x = x + self.cls_token
            return x + self.positions[:, 1:]
        """,
    },
    "06.5": {
        "forgets the final LayerNorm": """
            x = self.embed(images)
            for block in self.blocks:
                x = block(x)
            return x
        """,
        "blocks skipped: the norm of the embeddings": "return self.ln_final(self.embed(images))",
        "only the first block": """
            x = self.embed(images)
            x = self.blocks[0](x)
            return self.ln_final(x)
        """,
        "final LayerNorm after every block": """
            x = self.embed(images)
            for block in self.blocks:
                x = self.ln_final(block(x))
            return x
        """,
        "a causal mask, as in a decoder: patches do not see the ones after them": """
            x = self.embed(images)
            T = x.shape[1]
            for block in self.blocks:
                x = block(x, mask=torch.ones(T, T, dtype=torch.bool).tril())
            return self.ln_final(x)
        """,
        "returns the class token only": """
            x = self.embed(images)
            for block in self.blocks:
                x = block(x)
            return self.ln_final(x)[:, 0]
        """,
    },
    "06.6": {
        "the mean of all tokens": "return self.head(self.features(images).mean(dim=1))",
        "the last token": "return self.head(self.features(images)[:, -1])",
        "the first patch token (place 1)": "return self.head(self.features(images)[:, 1])",
        "the first image of the batch, not the class token of each: features[0]": (
            "return self.head(self.features(images)[0])"
        ),
        "the head on every token": "return self.head(self.features(images))",
        "softmax on the logits": "return torch.softmax(self.head(self.features(images)[:, 0]), dim=-1)",
    },
}
