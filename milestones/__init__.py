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
}
