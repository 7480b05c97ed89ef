"""Kata 16's pictures: condition dropout and the padding mask of cross-attention (no training
needed), and, with milestone text2image's U-Net, where the image tokens look among the words."""

from __future__ import annotations

import torch

from pictures import plot
from pictures.checkpoints import milestone_model, run_first
from pictures.hooks import attention_weights
from shapes.world import VOCABULARY, make_scenes

T_NOISE = 300  # the step the scene is noised to before the U-Net reads it


def draw(mods, show) -> None:
    tok, cond = mods.tokenizer, mods.conditioning
    vocab = tok.build_vocab([" ".join(VOCABULARY)])
    words = [w for w, _ in sorted(vocab.items(), key=lambda item: item[1])]
    captions = make_scenes(10, seed=6).captions
    tokens = tok.pad_batch([tok.encode(c, vocab) for c in captions])  # (B, T)
    dropped = cond.drop_condition(tokens, 0.3, torch.Generator().manual_seed(0))  # (B, T)
    gone = (dropped != tokens).any(dim=1)

    torch.manual_seed(0)
    layer = cond.SpatialTransformer(32, context_dim=24)
    x = torch.randn(1, 32, 4, 4)
    context = torch.randn(1, tokens.shape[1], 24)
    real = tokens[1:2] != tok.PAD_ID  # (1, T): the second caption's real tokens
    with torch.no_grad(), attention_weights(mods) as seen:
        layer(x, context, real[:, None, :])
    cross = seen[1][0].mean(dim=0)  # (16 pixels, T): the second attention is the cross-attention, heads averaged

    fig = plot.figure(16, 6.4, f"drop_condition and the SpatialTransformer's cross-attention mask ({show.whose})")
    left, right = fig.subplots(1, 2, width_ratios=[1.5, 1])
    colours = torch.tensor([[0.92, 0.92, 0.92], [0.80, 0.87, 0.95], [1.0, 0.9, 0.55]])  # pad, token, token of a dropped row
    kind = (dropped != tok.PAD_ID).long() * (1 + gone[:, None].long())  # (B, T): 0, 1 or 2
    left.imshow(colours[kind].numpy(), aspect="auto", interpolation="nearest")
    for b in range(dropped.shape[0]):
        for t in range(dropped.shape[1]):
            left.text(t, b, words[int(dropped[b, t])], ha="center", va="center", fontsize=7,
                      color="grey" if int(dropped[b, t]) == tok.PAD_ID else "black")  # fmt: skip
    plot.labels(left, [("dropped: " if g else "") + c for c, g in zip(captions, gone)], None)
    left.set_xticks([])
    left.set_title(f"drop_condition(tokens, p = 0.3): {int(gone.sum())} of {len(captions)} captions became the empty "
                   "caption <bos> <eos>", fontsize=9)  # fmt: skip
    names = [words[i] for i in tokens[1].tolist()]
    plot.heat(right, cross, None, cmap="Blues", vmin=0, colorbar=False)
    plot.masked_cells(right, real.expand(cross.shape[0], -1))
    plot.labels(right, [f"pixel {i}" for i in range(cross.shape[0])], names, fontsize=7)
    right.set_title(f"cross-attention of a 4×4 map's pixels to '{captions[1]}' (random weights):\n"
                    "the key padding mask (B, 1, Tc) keeps every pixel off <pad> (grey)", fontsize=9)  # fmt: skip
    show.save(fig, "conditioning")

    model = milestone_model("text2image", mods, show)
    if model is None:
        show.note(f"No text2image checkpoint fits, so no trained cross-attention maps. {run_first('text2image')}")
        return
    cross_attention_maps(mods, show, model)


def cross_attention_maps(mods, show, model) -> None:
    """Where each 8×8 image token of the trained U-Net looks among the words of its prompt."""
    tok = mods.tokenizer
    scenes = make_scenes(40, seed=7, kinds=("pair",))
    i = next(k for k in range(len(scenes)) if scenes.colour[k, 0] != scenes.colour[k, 1])  # two colours
    prompt = scenes.captions[i]
    x0 = mods.forward.to_model_range(scenes.images[i : i + 1]).to(show.device)
    t = torch.tensor([T_NOISE], device=show.device)
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0)).to(show.device)
    x_t = mods.forward.q_sample(x0, t, noise, model.schedule)
    tokens = tok.pad_batch([tok.encode(prompt, model.vocab)]).to(show.device)
    context, mask = model.encode(mods, tokens)
    with torch.no_grad(), attention_weights(mods) as seen:
        model.ema_unet(x_t, t, context, mask)
    T = tokens.shape[1]
    at_8x8 = [w[0].mean(dim=0) for w in seen if w.shape[-1] == T and w.shape[-2] == 64]  # (64, T) per layer
    maps = torch.stack(at_8x8).mean(dim=0).T.reshape(T, 8, 8)  # (T, 8, 8): each word's share of each image token
    words = [w for w, _ in sorted(model.vocab.items(), key=lambda item: item[1])]
    names = [words[k] for k in tokens[0].tolist()]

    columns = (T + 2) // 2
    fig = plot.figure(1.9 * columns, 4.8, f"Cross-attention of milestone text2image's U-Net ({show.whose}) at 8×8, heads "
                                          f"and its {len(at_8x8)} layers there averaged:\nthe scene noised to t = {T_NOISE}, "
                                          f"prompt '{prompt}'. Each word's weight at each image token")  # fmt: skip
    axes = fig.subplots(2, columns).flatten()
    for ax in axes[T + 1 :]:
        ax.set_axis_off()
    plot.image(axes[0], scenes.images[i], "the scene")
    for k in range(T):
        plot.heat(axes[k + 1], maps[k], f"'{names[k]}'", cmap="magma", vmin=0, vmax=float(maps.max()), colorbar=False,
                  aspect="equal")  # fmt: skip
        axes[k + 1].set_xticks([])
        axes[k + 1].set_yticks([])
    show.save(fig, "cross_attention")
