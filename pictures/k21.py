"""Kata 21's picture: the pipeline's grid for a few prompts, drawn by your TextToImage and written by
your save_grid, with milestone latent's model; where no checkpoint fits, with stand-ins for the
trained parts (the ideal denoiser of 64 scenes' latents, a text encoder that reads the prompt as
which of them it means, a VAE trained for seconds), so that everything your pipeline does runs."""

from __future__ import annotations

import time
from functools import partial

import torch

from milestones import latent
from pictures import plot
from pictures.checkpoints import milestone_model, run_first
from pictures.ideal import IdealDenoiser, PromptPrior
from pictures.vae import trained_vae
from shapes.world import VOCABULARY, make_scenes

PROMPTS = ("a red circle", "a green triangle on the left", "a yellow square at the top", "a blue triangle",
           "a red circle above a blue square", "a green circle left of a red square", "a blue square below a yellow circle",
           "a yellow triangle")  # fmt: skip
NEEDS = ("21.1", "21.2", "21.3", "21.4", "21.5", "21.6")  # the blanks it runs: named before the VAE trains, not after


def draw(mods, show) -> None:
    model = milestone_model("latent", mods, show)
    if model is not None:
        pipe, prompts = model.pipeline(mods, model.vocab), list(PROMPTS)
        scale, about = latent.GUIDANCE, "milestone latent's model"
        show.now(f"Drawing {len(prompts)} prompts with milestone latent's model (DDIM 50 steps): about 10-30 s.")
    else:
        pipe, prompts = stand_in_pipeline(mods, show)
        scale = 1.0
        about = "stand-ins for the trained parts: the ideal denoiser of 64 scenes' latents, the prompt read as which of them it means"
        show.note(f"No latent checkpoint fits: stand-ins replace the trained parts (a VAE trained for seconds among them). "
                  f"{run_first('latent')}")  # fmt: skip
    start = time.perf_counter()
    images = pipe(prompts, steps=50, guidance_scale=scale, seed=0)  # (B, 3, 16, 16) in [0, 1]
    seconds = time.perf_counter() - start
    again = pipe(prompts[:2], steps=50, guidance_scale=scale, seed=0)
    same = bool(torch.equal(again, images[:2]))

    path = mods.pipeline.save_grid(images, show.out / "pipeline_grid.png", ncol=4)  # your save_grid: 16 pixels an image
    show.paths.append(path)
    fig = plot.figure(12, 6.4, f"TextToImage ({show.whose}): prompt → tokens → text features → DDIM 50 steps with guidance "
                               f"{scale:g} in latent space → VAE decoder, {seconds:.1f} s.\n{about}.\n"
                               f"The same prompts and seed again give {'the same' if same else 'DIFFERENT'} images; "
                               f"{path.name} is your save_grid's own PNG")  # fmt: skip
    for ax, image, prompt in zip(fig.subplots(2, 4).flatten(), images, prompts):
        plot.image(ax, image, prompt, fontsize=9, wrap=24)
    show.save(fig, "pipeline")


def stand_in_pipeline(mods, show):
    """Your TextToImage around stand-ins: (the pipeline, prompts that 64 scenes hold)."""
    vae, _, _ = trained_vae(mods, show, note=False)
    scenes = make_scenes(64, seed=1)
    x = mods.forward.to_model_range(scenes.images).to(show.device)
    codec = mods.latent.LatentCodec(vae, mods.latent.estimate_scale(vae, x)).to(show.device)
    schedule = mods.schedules.Schedule(mods.schedules.cosine_beta_schedule(latent.T))
    unet = IdealDenoiser(codec.encode(x), schedule).to(show.device)
    vocab = mods.tokenizer.build_vocab([" ".join(VOCABULARY)])
    text = PromptPrior(partial(mods.tokenizer.decode, vocab=vocab), scenes.labels())
    prompts = list(dict.fromkeys(scenes.captions))[:8]
    z_shape = tuple(codec.encode(x[:1]).shape[1:])
    return mods.pipeline.TextToImage(vocab, text, unet, codec, schedule, z_shape), prompts
