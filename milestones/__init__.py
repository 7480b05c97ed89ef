"""Milestones: the learner's own katas, chained end to end and trained for real on the shapes world.

Katas are graded one at a time, each on the reference versions of the katas below it. A
milestone is the opposite: it imports the learner's own files (katas/), trains on the CPU (or a
GPU where there is one) for a budget of steps, writes PNGs and out/<name>/result.json, and
ends with one line: the figure against its goal. Where a kata it needs does not pass yet, it
says which and stops; `--reference` fills those gaps with the reference versions.

This module lists them without importing torch (noxfile.py reads it to make its sessions).
"""

from __future__ import annotations

# name: (module in this package, the kata it comes after, what it shows)
MILESTONES = {
    "vit": ("milestones.vit", "06", "your ViT reads the colour, shape and position of scenes it never saw"),
    "caption": ("milestones.caption", "07", "your captioner describes scenes it never saw"),
    "clip": ("milestones.clip", "08", "your CLIP finds each scene's caption among all the others"),
    "ddpm": ("milestones.ddpm", "15", "your U-Net, trained with your DDPM, draws scenes from pure noise"),
    "text2image": ("milestones.text2image", "18", "your conditional U-Net draws the scene a sentence describes"),
    "latent": ("milestones.latent", "21", "your VAE and latent diffusion pipeline draw the scene a sentence describes"),
}


def draw(name: str, trained, prompts: list[str], steps: int, scale: float | None, seed: int):
    """What `katas generate` draws with: milestone `name`'s trained model (runner.trained), N prompts, DDIM steps,
    guidance scale (None: the milestone's own), seed  ->  images (N, 3, 16, 16) in [0, 1]."""
    import importlib

    module = importlib.import_module(MILESTONES[name][0])
    scale = module.GUIDANCE if scale is None else scale
    return module.draw(trained.mods, trained.model, trained.data.vocab, prompts, steps, scale, seed)


GENERATORS = ("text2image", "latent")  # the milestones whose model `katas generate` can draw with
