"""Kata 01's pictures: captions as token IDs in a padded batch, and words cut by a tiny BPE."""

from __future__ import annotations

from pictures import plot
from shapes.world import make_scenes

WORDS = ("triangle", "triangles", "square", "squared", "yellow", "yellowish")  # words of the world, and words it never says


def draw(mods, show) -> None:
    tok = mods.tokenizer
    corpus = make_scenes(500, seed=0).captions
    vocab = tok.build_vocab(corpus)  # the most frequent word first
    captions = ["a red circle above a blue square", "a green triangle", "a yellow square on the left",
                "a blue circle left of a purple square"]  # fmt: skip
    tokens = tok.pad_batch([tok.encode(c, vocab) for c in captions])  # (B, T)
    mask = tok.padding_mask(tokens)  # (B, T)
    token_of = {i: w for w, i in vocab.items()}

    fig = plot.figure(12, 6.4, f"encode, pad_batch, padding_mask and decode ({show.whose})")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.25, 1])
    ax = top.subplots()
    plot.heat(ax, tokens, None, cmap="Pastel1", colorbar=False)
    plot.masked_cells(ax, mask)
    for b in range(tokens.shape[0]):
        for t in range(tokens.shape[1]):
            i = int(tokens[b, t])
            ax.text(t, b, f"{token_of[i]}\n{i}", ha="center", va="center", fontsize=8,
                    color="grey" if not mask[b, t] else "black")  # fmt: skip
    plot.labels(ax, [f"decode: {tok.decode(row, vocab)!r}" for row in tokens], [f"t={t}" for t in range(tokens.shape[1])],
                rotate=0)  # fmt: skip
    ax.set_title(f"the batch (B, T) = {tuple(tokens.shape)}: each cell a token and its ID; grey: padding (padding_mask "
                 "False); 'purple' is not in the vocabulary: <unk>", fontsize=9)  # fmt: skip

    left, right = bottom.subplots(1, 2, width_ratios=[1, 1.4])
    words = sorted(vocab, key=vocab.get)
    left.axis("off")
    left.set_title(f"build_vocab of 500 captions: {len(vocab)} tokens, the most frequent words first", fontsize=9)
    half = (len(words) + 1) // 2
    for column, chunk in enumerate((words[:half], words[half:])):
        for row, word in enumerate(chunk):
            left.text(0.05 + 0.5 * column, 0.95 - row * 0.85 / max(half - 1, 1), f"{vocab[word]:>3}  {word}",
                      fontsize=8, family="monospace", va="top", transform=left.transAxes)  # fmt: skip

    merges = tok.bpe_train([w for c in corpus for w in c.split()], num_merges=60)
    right.axis("off")
    right.set_title(f"bpe_train on the same words ({len(merges)} merges): a word it saw is one piece, a new one is cut "
                    "into pieces it knows", fontsize=9)  # fmt: skip
    right.text(0.0, 0.98, "first merges: " + "  ".join(f"{a}+{b}" for a, b in merges[:12]), fontsize=7.5,
               family="monospace", va="top", transform=right.transAxes, wrap=True)  # fmt: skip
    colours = ("#fbb4ae", "#b3cde3", "#ccebc5", "#decbe4", "#fed9a6")
    for row, word in enumerate(WORDS):
        y = 0.8 - row * 0.14
        right.text(0.0, y, f"{word:<10}", fontsize=9, family="monospace", va="center", transform=right.transAxes)
        x = 0.22
        for k, piece in enumerate(tok.bpe_encode(word, merges)):
            box = {"boxstyle": "round,pad=0.25", "facecolor": colours[k % len(colours)], "edgecolor": "grey"}
            right.text(x, y, piece, fontsize=9, family="monospace", va="center", transform=right.transAxes, bbox=box)
            x += 0.03 + 0.022 * len(piece)
    show.save(fig, "tokens")
