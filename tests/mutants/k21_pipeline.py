"""Plausible wrong answers for kata 21: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right (tried, they pass): in 21.2, the captions built as
prompts + [""] * B or [*prompts, *([""] * B)], encode(p, self.vocab) for each of them,
padding_mask(tokens).unsqueeze(1), (tokens != PAD_ID)[:, None] or
tokens.ne(0).view(2 * B, 1, -1) for the mask, features.split(B) or features.chunk(2) for the
halves, and the tokens moved to the device after pad_batch or not at all on the CPU; in 21.3,
torch.Generator(device="cpu").manual_seed(seed), the sampler called with keywords
(eta=0.0, generator=generator, context=context, context_mask=mask, clip_x0=False), the shape
as (len(prompts),) + tuple(self.latent_shape), and Guided built with keywords; in 21.4,
to_image_range(self.codec.decode(z)).clamp(0, 1) (to_image_range clamps already),
((self.codec.decode(z) + 1) / 2).clamp(0, 1) written out, or
self.codec.vae.decode(z / self.codec.scale) for the decoding; in 21.6, padded.reshape(rows, ncol,
C, H, W).permute(0, 3, 1, 4, 2).reshape(...), torch.einsum("rnchw->rhnwc", ...), or the
permute done in two steps (.permute(0, 1, 3, 4, 2) to channels last, then .transpose(1, 2)), or
the rows built by torch.cat of each row's images (channels last) along the width, then the rows
along the height.
"""

MUTANTS = {
    "21.1": {
        "split without lowercasing: 'Red' is unknown": "unknown = [w for w in prompt.split() if w not in self.vocab]",
        "the test the wrong way round: the known words": "unknown = [w for w in words_of(prompt) if w in self.vocab]",
        "the prompt's letters, not its words": "unknown = [w for w in prompt.lower() if w not in self.vocab and w != ' ']",
        "never finds one": "unknown = []",
    },
    "21.2": {
        "the prompts and the empty captions encoded apart (two calls, two lengths)": """
            tokens = pad_batch([encode(p, self.vocab) for p in prompts]).to(device)  # (B, T)
            empty = pad_batch([encode("", self.vocab) for _ in prompts]).to(device)  # (B, 2)
            context, _ = self.text_encoder(tokens)
            uncond_context, _ = self.text_encoder(empty)
            return context, padding_mask(tokens)[:, None, :], uncond_context, padding_mask(empty)[:, None, :]
        """,
        "the halves swapped: the empty captions' features returned as the prompts'": """
            tokens = pad_batch([encode(p, self.vocab) for p in prompts + [""] * B]).to(device)
            features, _ = self.text_encoder(tokens)
            mask = padding_mask(tokens)[:, None, :]
            return features[B:], mask[B:], features[:B], mask[:B]
        """,
        "the empty captions first in the batch": """
            tokens = pad_batch([encode(p, self.vocab) for p in [""] * B + prompts]).to(device)
            features, _ = self.text_encoder(tokens)
            mask = padding_mask(tokens)[:, None, :]
            return features[:B], mask[:B], features[B:], mask[B:]
        """,
        "the masks (B, T), not the key padding masks (B, 1, T)": """
            tokens = pad_batch([encode(p, self.vocab) for p in prompts + [""] * B]).to(device)
            features, _ = self.text_encoder(tokens)
            mask = padding_mask(tokens)
            return features[:B], mask[:B], features[B:], mask[B:]
        """,
        "the masks inverted: True at the padding": """
            tokens = pad_batch([encode(p, self.vocab) for p in prompts + [""] * B]).to(device)
            features, _ = self.text_encoder(tokens)
            mask = (tokens == 0)[:, None, :]
            return features[:B], mask[:B], features[B:], mask[B:]
        """,
        "the empty captions as padding only, not <bos> <eos>": """
            tokens = pad_batch([encode(p, self.vocab) for p in prompts]).to(device)  # (B, T)
            tokens = torch.cat([tokens, torch.zeros_like(tokens)])  # (2B, T)
            features, _ = self.text_encoder(tokens)
            mask = padding_mask(tokens)[:, None, :]
            return features[:B], mask[:B], features[B:], mask[B:]
        """,
        "the pooled vector (the encoder's second output), not the token features": """
            tokens = pad_batch([encode(p, self.vocab) for p in prompts + [""] * B]).to(device)
            _, features = self.text_encoder(tokens)
            mask = padding_mask(tokens)[:, None, :]
            return features[:B], mask[:B], features[B:], mask[B:]
        """,
    },
    "21.3": {
        "the global random state (torch.manual_seed), not a generator of its own": """
            torch.manual_seed(seed)
            guided = Guided(self.unet, uncond_context, uncond_mask, guidance_scale)
            z = ddim_sample(guided, (len(prompts), *self.latent_shape), self.schedule, steps, 0.0, None, context, mask,
                            clip_x0=False)
        """,
        "the generator not passed to ddim_sample": """
            generator = torch.Generator().manual_seed(seed)
            guided = Guided(self.unet, uncond_context, uncond_mask, guidance_scale)
            z = ddim_sample(guided, (len(prompts), *self.latent_shape), self.schedule, steps, 0.0, None, context, mask,
                            clip_x0=False)
        """,
        "the generator not seeded": """
            generator = torch.Generator()
            guided = Guided(self.unet, uncond_context, uncond_mask, guidance_scale)
            z = ddim_sample(guided, (len(prompts), *self.latent_shape), self.schedule, steps, 0.0, generator, context,
                            mask, clip_x0=False)
        """,
        "x̂_0 clipped to [-1, 1] (clip_x0 left True)": """
            generator = torch.Generator().manual_seed(seed)
            guided = Guided(self.unet, uncond_context, uncond_mask, guidance_scale)
            z = ddim_sample(guided, (len(prompts), *self.latent_shape), self.schedule, steps, 0.0, generator, context,
                            mask)
        """,
        "the guidance scale not passed on (forward's default 4)": """
            generator = torch.Generator().manual_seed(seed)
            guided = Guided(self.unet, uncond_context, uncond_mask, 4.0)
            z = ddim_sample(guided, (len(prompts), *self.latent_shape), self.schedule, steps, 0.0, generator, context,
                            mask, clip_x0=False)
        """,
        "no guidance: the U-Net sampled with the prompts alone": """
            generator = torch.Generator().manual_seed(seed)
            z = ddim_sample(self.unet, (len(prompts), *self.latent_shape), self.schedule, steps, 0.0, generator,
                            context, mask, clip_x0=False)
        """,
        "the prompt dropped at sampling time: the empty captions' features given as the prompts'": """
            generator = torch.Generator().manual_seed(seed)
            guided = Guided(self.unet, uncond_context, uncond_mask, guidance_scale)
            z = ddim_sample(guided, (len(prompts), *self.latent_shape), self.schedule, steps, 0.0, generator,
                            uncond_context, uncond_mask, clip_x0=False)
        """,
    },
    "21.4": {
        "to_image_range missing: the decoded latents clamped to [0, 1]": "return self.codec.decode(z).clamp(0, 1)",
        "the scale not undone: codec.vae.decode(z)": "return to_image_range(self.codec.vae.decode(z)).clamp(0, 1)",
        "(x + 1) / 2 written out, not clamped": "return (self.codec.decode(z) + 1) / 2",
        "mapped the wrong way (x · 2 − 1, to_model_range)": "return (self.codec.decode(z) * 2 - 1).clamp(0, 1)",
    },
    "21.5": {
        "truncated, not rounded": "return (x.clamp(0, 1) * 255).to(torch.uint8).numpy()",
        "× 256: 1.0 wraps around to 0": "return (x.clamp(0, 1) * 256).round().to(torch.uint8).numpy()",
        "not clamped: values outside [0, 1] wrap around": "return (x * 255).round().to(torch.uint8).numpy()",
        "a torch tensor, not a numpy array": "return (x.clamp(0, 1) * 255).round().to(torch.uint8)",
        "never scaled: 0 or 1 as bytes": "return x.clamp(0, 1).round().to(torch.uint8).numpy()",
    },
    "21.6": {
        "rows and columns swapped: image i at row i % rows, column i // rows": (
            "grid = padded.view(ncol, rows, C, H, W).permute(1, 3, 0, 4, 2).reshape(rows * H, ncol * W, C)"
        ),
        "H and W swapped in the permute": (
            "grid = padded.view(rows, ncol, C, H, W).permute(0, 4, 1, 3, 2).reshape(rows * H, ncol * W, C)"
        ),
        "channels first (C, rows·H, ncol·W): Pillow wants them last": (
            "grid = padded.view(rows, ncol, C, H, W).permute(2, 0, 3, 1, 4).reshape(C, rows * H, ncol * W)"
        ),
        "each tile transposed: (rows·W, ncol·H)": (
            "grid = padded.view(rows, ncol, C, H, W).permute(0, 4, 1, 3, 2).reshape(rows * W, ncol * H, C)"
        ),
        "reshaped without ordering the axes (rows, H, ncol, W, C)": (
            "grid = padded.permute(0, 2, 3, 1).reshape(rows * H, ncol * W, C)"
        ),
        "the axes ordered (rows, ncol, H, W, C): tiles side by side in memory, not on the canvas": (
            "grid = padded.view(rows, ncol, C, H, W).permute(0, 1, 3, 4, 2).reshape(rows * H, ncol * W, C)"
        ),
    },
}
