"""Plausible wrong answers for kata 20: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right (tried, they pass): in 20.1, mean.flatten().std(),
torch.std(mean), the std without Bessel's correction (mean.std(correction=0): the test images
give at least 600 latent values, and the two agree within its tolerance),
float(1 / mean.std()), (1 / mean.std()).item(), mean.var().rsqrt().item(), or the std written
out as ((mean - mean.mean()) ** 2).mean().sqrt(); in 20.2, self.vae.encode(x)[0] * self.scale,
mean.mul(self.scale), or self.scale * mean; in 20.3, self.vae.decode(z / self.scale),
self.vae.decoder(z / self.scale), self.vae.decode(z * (1 / self.scale)) or z.div(self.scale);
in 20.4, diffusion_loss with keywords (t=t, noise=noise, context=context,
context_mask=context_mask), or the latents from self-written no_grad code
(with torch.no_grad(): z0 = codec.vae.encode(x0)[0] * codec.scale).
"""

MUTANTS = {
    "20.1": {
        "the std itself, not 1 / std": """
            mean, _ = vae.encode(images)
            return mean.std().item()
        """,
        "1 / the variance, not 1 / the standard deviation": """
            mean, _ = vae.encode(images)
            return 1.0 / mean.var().item()
        """,
        "the std of the log-variances (encode's second output), not of the means": """
            _, logvar = vae.encode(images)
            return 1.0 / logvar.std().item()
        """,
        "one std per latent channel, averaged": """
            mean, _ = vae.encode(images)
            return 1.0 / mean.std(dim=(0, 2, 3)).mean().item()
        """,
        "the mean absolute value, not the standard deviation": """
            mean, _ = vae.encode(images)
            return 1.0 / mean.abs().mean().item()
        """,
        "samples of q(z | x), not its means": """
            mean, logvar = vae.encode(images)
            z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
            return 1.0 / z.std().item()
        """,
        "returns a 0-d tensor, not a Python float": """
            mean, _ = vae.encode(images)
            return 1.0 / mean.std()
        """,
    },
    "20.2": {
        "latents not scaled": """
            mean, _ = self.vae.encode(x)
            return mean
        """,
        "divides by the scale, not multiplies": """
            mean, _ = self.vae.encode(x)
            return mean / self.scale
        """,
        "a sample of q(z | x) (reparameterized), not its mean": """
            mean, logvar = self.vae.encode(x)
            return (mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)) * self.scale
        """,
        "the log-variance scaled: encode returns (mean, logvar), the mean first": """
            _, logvar = self.vae.encode(x)
            return logvar * self.scale
        """,
        "mean and log-variance both returned, scaled": """
            mean, logvar = self.vae.encode(x)
            return mean * self.scale, logvar * self.scale
        """,
    },
    "20.3": {
        "the scale not undone": "return self.vae.decode(z)",
        "scaled twice: decode multiplies by the scale again": "return self.vae.decode(z * self.scale)",
        "the scale undone after decoding, on the image": "return self.vae.decode(z) / self.scale",
    },
    "20.4": {
        "the loss on the images, not their latents": """
            return diffusion_loss(model, x0, schedule, t, noise, context, context_mask)
        """,
        "latents not scaled (the VAE's mean as it is)": """
            with torch.no_grad():
                z0, _ = codec.vae.encode(x0)
            return diffusion_loss(model, z0, schedule, t, noise, context, context_mask)
        """,
        "encodes through codec.vae.encode with gradients: the loss trains the VAE too": """
            mean, _ = codec.vae.encode(x0)
            return diffusion_loss(model, mean * codec.scale, schedule, t, noise, context, context_mask)
        """,
        "context not passed on to the model": """
            z0 = codec.encode(x0)
            return diffusion_loss(model, z0, schedule, t, noise)
        """,
        "arguments in this function's order: context where diffusion_loss takes t": """
            z0 = codec.encode(x0)
            return diffusion_loss(model, z0, schedule, context, context_mask, t, noise)
        """,
    },
}
