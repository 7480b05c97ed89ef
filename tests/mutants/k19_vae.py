"""Plausible wrong answers for kata 19: each must fail the tests of its blank (the self-check runs them).

Not mutants, because they are right: in 19.1, logvar.mul(0.5).exp(), (0.5 * logvar).exp(),
torch.sqrt(torch.exp(logvar)) or logvar.exp().sqrt() for σ, torch.randn(mean.shape) for the
draw, or `noise = torch.randn_like(mean) if noise is None else noise` in one line; in 19.2,
.sum(dim=(1, 2, 3)) or .view(mean.shape[0], -1).sum(-1) for the sum, the paper's form
−½ Σ (1 + log σ² − μ² − σ²), or mean * mean and torch.exp(logvar); in 19.3,
moments[:, :Cz] and moments[:, Cz:] with Cz = self.config.latent_channels, torch.chunk or
moments.split(self.config.latent_channels, dim=1), torch.clamp(logvar, min=..., max=...), or the
clamp on the same line as the split; in 19.4, z written out as mean + torch.exp(0.5 * logvar) *
noise (drawing it when None), self.decoder(z) for self.decode(z), or the moments split here
instead of through self.encode (as encode does); in 19.5, F.mse_loss(recon, x,
reduction="none").flatten(1).sum(1), ((recon - x) ** 2).sum(dim=(1, 2, 3)), or the two means
taken apart: reconstruction.mean() + kl_weight * kl_divergence(mean, logvar).mean().
"""

MUTANTS = {
    "19.1": {
        "scales the noise by the variance exp(logvar), not the std exp(logvar / 2)": """
            if noise is None:
                noise = torch.randn_like(mean)
            return mean + torch.exp(logvar) * noise
        """,
        "std as exp(logvar) / 2, not exp(logvar / 2)": """
            if noise is None:
                noise = torch.randn_like(mean)
            return mean + torch.exp(logvar) / 2 * noise
        """,
        "std as sqrt(logvar): logvar is already a logarithm": """
            if noise is None:
                noise = torch.randn_like(mean)
            return mean + torch.sqrt(logvar) * noise
        """,
        "logvar used as the std itself": """
            if noise is None:
                noise = torch.randn_like(mean)
            return mean + logvar * noise
        """,
        "the noise given is ignored: always draws its own": "return mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)",
        "samples with torch.normal(mean, std): the noise given is ignored, and no gradient flows": (
            "return torch.normal(mean, torch.exp(0.5 * logvar))"
        ),
        "uniform noise (torch.rand_like) when none is given": """
            if noise is None:
                noise = torch.rand_like(mean)
            return mean + torch.exp(0.5 * logvar) * noise
        """,
    },
    "19.2": {
        "wrong sign: −KL (the ELBO's term)": """
            kl = -0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar)
            return kl.flatten(1).sum(dim=1)
        """,
        "mean over the latent values, not their sum": """
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar)
            return kl.flatten(1).mean(dim=1)
        """,
        "the ½ forgotten": """
            kl = mean.pow(2) + logvar.exp() - 1 - logvar
            return kl.flatten(1).sum(dim=1)
        """,
        "− 2·logvar: log σ² taken for log σ": """
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - 2 * logvar)
            return kl.flatten(1).sum(dim=1)
        """,
        "− logvar / 2: log σ taken for log σ²": """
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar / 2)
            return kl.flatten(1).sum(dim=1)
        """,
        "σ² as exp(logvar / 2), the std": """
            kl = 0.5 * (mean.pow(2) + torch.exp(logvar / 2) - 1 - logvar)
            return kl.flatten(1).sum(dim=1)
        """,
        "the − 1 forgotten": """
            kl = 0.5 * (mean.pow(2) + logvar.exp() - logvar)
            return kl.flatten(1).sum(dim=1)
        """,
        "summed over the batch too: one number, not one per image": """
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar)
            return kl.sum()
        """,
    },
    "19.3": {
        "mean and logvar swapped": """
            logvar, mean = moments.chunk(2, dim=1)
            logvar = logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)
        """,
        "logvar not clamped": "mean, logvar = moments.chunk(2, dim=1)",
        "the mean clamped too": """
            mean, logvar = moments.clamp(LOGVAR_MIN, LOGVAR_MAX).chunk(2, dim=1)
        """,
        "split along the width (dim=-1), not the channels": """
            mean, logvar = moments.chunk(2, dim=-1)
            logvar = logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)
        """,
        "channels interleaved (even ones the mean, odd ones logvar), not halves": """
            mean, logvar = moments[:, 0::2], moments[:, 1::2]
            logvar = logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)
        """,
        "clamped to [-30, 20] after exp: the variance, not its log": """
            mean, logvar = moments.chunk(2, dim=1)
            logvar = logvar.exp().clamp(LOGVAR_MIN, LOGVAR_MAX)
        """,
    },
    "19.4": {
        "decodes the mean: no sample of q(z | x)": """
            mean, logvar = self.encode(x)
            return self.decode(mean), mean, logvar
        """,
        "the noise given not passed on: reparameterize draws its own": """
            mean, logvar = self.encode(x)
            z = reparameterize(mean, logvar)
            return self.decode(z), mean, logvar
        """,
        "samples only when noise is given: decodes the mean otherwise": """
            mean, logvar = self.encode(x)
            z = mean if noise is None else reparameterize(mean, logvar, noise)
            return self.decode(z), mean, logvar
        """,
        "returns z in place of the mean": """
            mean, logvar = self.encode(x)
            z = reparameterize(mean, logvar, noise)
            return self.decode(z), z, logvar
        """,
        "mean and logvar swapped in the call to reparameterize": """
            mean, logvar = self.encode(x)
            z = reparameterize(logvar, mean, noise)
            return self.decode(z), mean, logvar
        """,
        "adds the noise unscaled: z = mean + noise": """
            mean, logvar = self.encode(x)
            z = mean + noise if noise is not None else reparameterize(mean, logvar)
            return self.decode(z), mean, logvar
        """,
    },
    "19.5": {
        "mean squared error per value (F.mse_loss), not the sum over each image": """
            reconstruction = (recon - x).pow(2).flatten(1).mean(dim=1)
            return (reconstruction + kl_weight * kl_divergence(mean, logvar)).mean()
        """,
        "the KL not weighted": """
            reconstruction = (recon - x).pow(2).flatten(1).sum(dim=1)
            return (reconstruction + kl_divergence(mean, logvar)).mean()
        """,
        "the KL weight on the reconstruction": """
            reconstruction = (recon - x).pow(2).flatten(1).sum(dim=1)
            return (kl_weight * reconstruction + kl_divergence(mean, logvar)).mean()
        """,
        "summed over the batch, not averaged": """
            reconstruction = (recon - x).pow(2).flatten(1).sum(dim=1)
            return (reconstruction + kl_weight * kl_divergence(mean, logvar)).sum()
        """,
        "absolute errors, not squared": """
            reconstruction = (recon - x).abs().flatten(1).sum(dim=1)
            return (reconstruction + kl_weight * kl_divergence(mean, logvar)).mean()
        """,
        "the KL subtracted": """
            reconstruction = (recon - x).pow(2).flatten(1).sum(dim=1)
            return (reconstruction - kl_weight * kl_divergence(mean, logvar)).mean()
        """,
    },
}
