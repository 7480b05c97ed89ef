"""Milestone latent (after kata 21): your VAE, your latent diffusion and your pipeline draw the
scene a sentence describes, as Stable Diffusion does.

Three stages, all your code: (1) your CLIP's text tower, as in milestone text2image; (2) your
VAE (kata 19) learns to squeeze 3×16×16 scenes into 4×8×8 latents and back, and your
estimate_scale (kata 20) brings the latents to unit variance; (3) your conditional U-Net
learns to denoise those latents (your LatentCodec encodes the training scenes once), with
condition dropout, your training step and EMA. Your TextToImage (kata 21) then draws: prompt →
text features → DDIM with guidance in latent space → VAE decoder → image.

The figure and the PNGs are those of milestone text2image: two-object prompt adherence on
scenes kept out of training, with single-object prompts and unseen combinations beside it.
The time includes every stage. The PNGs add the VAE's reconstructions (top: scenes, bottom:
decoded latents).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from milestones import text2image
from milestones.runner import Spec, train
from shapes.grid import save_grid

T = text2image.T
VAE_STEPS = 600  # stage 2
GUIDANCE = 1.25  # your TextToImage guides every step: a mild scale
KL_WEIGHT = 1e-3
LATENT_CHANNELS = 4


class LatentModel(nn.Module):
    """The frozen text tower and VAE, the latent scale, the U-Net being trained, its EMA copy and the schedule."""

    def __init__(self, mods, vocab_size: int, max_len: int) -> None:
        super().__init__()
        self.text = mods.transformer.TextEncoder(mods.transformer.TextEncoderConfig(vocab_size=vocab_size, dim=text2image.TEXT_DIM,
                                                                                    max_len=max_len))  # fmt: skip
        self.vae = mods.vae.VAE(mods.vae.VAEConfig(latent_channels=LATENT_CHANNELS))
        self.codec = mods.latent.LatentCodec(self.vae, 1.0)  # its scale is estimated after stage 2
        config = mods.unet.UNetConfig(in_channels=LATENT_CHANNELS, channels=(64, 64), attention=(True, True),
                                      context_dim=text2image.TEXT_DIM)  # fmt: skip
        self.unet = mods.conditioning.ConditionalUNet(config)
        self.ema = mods.training.EMA(self.unet, decay=0.995)
        self.ema_unet = self.ema.model
        self.schedule = mods.schedules.Schedule(mods.schedules.cosine_beta_schedule(T))

    encode = text2image.TextToImageModel.encode

    def pipeline(self, mods, vocab: dict[str, int]):
        """Your kata 21 TextToImage around the EMA U-Net."""
        shape = (LATENT_CHANNELS, 8, 8)
        return mods.pipeline.TextToImage(vocab, self.text, self.ema_unet, self.codec, self.schedule, shape)


def make_data(mods) -> SimpleNamespace:
    data = text2image.make_data(mods)
    data.latents = None  # the training scenes' latents, made after the VAE is trained (stage 2)
    return data


def build(mods, data) -> LatentModel:
    return LatentModel(mods, len(data.vocab), data.max_len)


def pretrain(mods, model: LatentModel, data, device, console) -> float:
    """Stages 1 and 2: the CLIP text tower (frozen), then the VAE (frozen), its scale, and the latents of every training scene."""
    seconds = text2image.pretrain(mods, model, data, device, console)
    vae_spec = dataclasses.replace(SPEC, name="latent: stage 2, VAE", steps=VAE_STEPS, lr=2e-3, step=None,
                                   loss=vae_loss, batch=lambda d, i, dev: d.images[i].to(dev))  # fmt: skip
    model.vae.requires_grad_(True)  # LatentCodec froze it: it trains here, then is frozen for good
    seconds += train(vae_spec, mods, model.vae, data, VAE_STEPS, device, console)
    start = time.perf_counter()
    model.vae.requires_grad_(False).eval()
    images = data.images.to(device)
    model.codec.scale.fill_(mods.latent.estimate_scale(model.vae, images[:2048]))
    data.latents = torch.cat([model.codec.encode(chunk) for chunk in images.split(1024)]).cpu()  # (N, Cz, 8, 8)
    return seconds + time.perf_counter() - start


def vae_loss(mods, vae, images: torch.Tensor) -> torch.Tensor:
    recon, mean, logvar = vae(images)
    return mods.vae.vae_loss(recon, images, mean, logvar, KL_WEIGHT)


def batch(data, indices: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return data.latents[indices].to(device), data.train_tokens[indices]


step = text2image.step  # the same training step, on latents instead of images


@torch.no_grad()
def draw(mods, model: LatentModel, vocab: dict[str, int], prompts: list[str], steps: int = text2image.DDIM_STEPS,
         scale: float = GUIDANCE, seed: int = 0, batch_size: int = 256) -> torch.Tensor:  # fmt: skip
    """Images (N, 3, 16, 16) in [0, 1]: your TextToImage, a chunk of prompts at a time (seeds seed, seed + 1, ...)."""
    pipe = model.pipeline(mods, vocab)
    chunks = [prompts[i : i + batch_size] for i in range(0, len(prompts), batch_size)]
    return torch.cat([pipe(chunk, steps, scale, seed + k).cpu() for k, chunk in enumerate(chunks)])


def evaluate(mods, model: LatentModel, data, out: Path, device) -> tuple[float, dict, list[Path]]:
    figure, details, pngs = text2image.evaluate_with(draw, mods, model, data, out)
    scenes = data.images[:8].to(device)
    recon = mods.forward.to_image_range(model.codec.decode(model.codec.encode(scenes))).clamp(0, 1).cpu()
    pngs.append(save_grid(torch.cat([mods.forward.to_image_range(scenes.cpu()), recon]), None, out / "vae.png"))
    details["vae_mse"] = round(torch.mean((recon - mods.forward.to_image_range(scenes.cpu())) ** 2).item(), 5)
    details["latent_scale"] = round(model.codec.scale.item(), 4)
    details["vae_steps"] = VAE_STEPS
    details["guidance"] = GUIDANCE  # latent's own scale, not text2image's
    return figure, details, pngs


SPEC = Spec(
    name="latent",
    needs=("01", "08", "14", "16", "17", "18", "19", "20", "21"),
    metric="pair_adherence",
    says="two-object prompt adherence",
    goal=0.80,
    steps=3000,
    minutes="about 16 minutes, CLIP and VAE stages included",
    batch_size=64,
    lr=1e-3,
    make_data=make_data,
    build=build,
    loss=None,
    batch=batch,
    train_size=lambda data: len(data.train),
    evaluate=evaluate,
    step=step,
    pretrain=pretrain,
)
