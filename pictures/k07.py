"""Kata 07's pictures: the decoder's self-attention mask (causal and padding at once), and the
captions your greedy_decode writes for scenes it never saw, with milestone caption's weights."""

from __future__ import annotations

import torch

from pictures import plot
from pictures.checkpoints import run_first
from shapes.world import VOCABULARY, make_scenes
from milestones.text import says_the_scene

CAPTIONS = ["a red circle above a blue square", "a green triangle", "a yellow square on the left"]


def draw(mods, show) -> None:
    tok, cap = mods.tokenizer, mods.captioning
    vocab = tok.build_vocab([" ".join(VOCABULARY)])
    words = [w for w, _ in sorted(vocab.items(), key=lambda item: item[1])]
    tokens = tok.pad_batch([tok.encode(c, vocab) for c in CAPTIONS])  # (B, T)
    mask = cap.caption_mask(tokens, tok.PAD_ID)  # (B, T, T)

    fig = plot.figure(16, 5.6, f"caption_mask ({show.whose}): query i may read key j (green) when j ≤ i and key j is not "
                               "<pad>; grey: masked")  # fmt: skip
    for b, ax in enumerate(fig.subplots(1, len(CAPTIONS))):
        names = [words[i] for i in tokens[b].tolist()]
        plot.heat(ax, mask[b].float(), f"'{CAPTIONS[b]}'", cmap="Greens", vmin=0, vmax=1.4, colorbar=False)
        plot.masked_cells(ax, mask[b])
        plot.labels(ax, names, names)
        ax.set_xlabel("keys", fontsize=8)
        ax.set_ylabel("queries", fontsize=8)
    show.save(fig, "caption_mask")

    state = show.trained("caption")
    if state is None:
        show.note(f"No caption checkpoint fits, so no captions. {run_first('caption')}")
        return
    max_len = state["positions.weight"].shape[0]  # the milestone's CaptionConfig: max_len = its data's + 1
    model = cap.CaptionModel(cap.CaptionConfig(vocab_size=len(vocab), max_len=max_len)).to(show.device)
    model.load_state_dict(state)
    model.eval()
    fresh, unseen = make_scenes(12, seed=2, split="train"), make_scenes(4, seed=3, split="heldout")
    images = torch.cat([fresh.images, unseen.images])
    truth = fresh.labels() + unseen.labels()
    ids = cap.greedy_decode(model, images.to(show.device), tok.BOS_ID, tok.EOS_ID, tok.PAD_ID, max_len - 1).cpu()
    said = [tok.decode(row, vocab) for row in ids]
    right = [says_the_scene(c, t) for c, t in zip(said, truth)]
    fig = plot.figure(14, 5.2, f"greedy_decode ({show.whose}) with milestone caption's weights: {sum(right)} of {len(right)} "
                               "right; the last four: colour–shape combinations it never trained on")  # fmt: skip
    for i, ax in enumerate(fig.subplots(2, 8).flatten()):
        plot.image(ax, images[i], said[i] + ("" if right[i] else "  ✗"), fontsize=7, wrap=20)
        if not right[i]:
            ax.title.set_color("red")
    show.save(fig, "captions")
