"""Kata 01: Tokenizer: words to IDs and back, padding, and a tiny BPE.

A model reads numbers, not text. A tokenizer cuts a text into tokens and gives each token an
integer ID from a vocabulary; decoding maps the IDs back to text. Here a token is a word: a
text is lowercased and split on whitespace, so "A red  circle" gives ["a", "red", "circle"].

Special tokens are vocabulary entries that are not words:
    <pad> (ID 0)  fills the end of short sequences, so that a batch is a rectangle;
    <bos> (ID 1)  begins every sequence, and <eos> (ID 2) ends it: a decoder learns to stop;
    <unk> (ID 3)  stands for every word the vocabulary does not have.

Captions differ in length; a batch of them becomes one (B, T) tensor by right-padding with
<pad>. The model must then ignore the pads, and a padding mask says where the real tokens
are. The convention for every mask in these katas: a bool tensor, True where a position may
be attended to (here: a real token), False where it may not (here: padding); the same as the
boolean `attn_mask` of `torch.nn.functional.scaled_dot_product_attention`.

A word vocabulary cannot spell a word it has never seen. Byte-pair encoding (BPE; Sennrich et
al. 2016, "Neural Machine Translation of Rare Words with Subword Units", Algorithm 1) learns
subwords instead: write each word as its characters plus an end-of-word symbol `</w>` (so a
suffix differs from the same letters inside a word), then again and again merge the most
frequent adjacent pair of symbols into one new symbol. The merges, in the order learned, are
the tokenizer: to encode a word, apply them to it in that same order.

Edit only inside the blanks; leave names, signatures and the code around them as they are.

Shapes used in this file:
    B: batch size (number of sequences)   T: length of the longest sequence
"""

from __future__ import annotations

from collections import Counter

import torch

SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")  # their IDs are their positions here
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
END_OF_WORD = "</w>"


def words_of(text: str) -> list[str]:
    """The words of a text: lowercased, split on any whitespace."""
    return text.lower().split()


def build_vocab(texts: list[str], min_freq: int = 1) -> dict[str, int]:
    """The vocabulary {token: ID}: the specials with IDs 0..3, then every word that occurs at
    least `min_freq` times in `texts`, the most frequent first, words of equal count in
    alphabetical order."""
    counts = Counter(word for text in texts for word in words_of(text))
    # BLANK 01.1 (about 2 lines): specials first, then the words with count >= min_freq by descending count, ties alphabetically.
    # HINT: The ID of a token is its position in one list: the 4 specials, then the kept words in order.
    # HINT: sorted(words, key=...) sorts by a key; a tuple key (-count, word) sorts by count descending, then alphabetically.
    # HINT: kept = sorted((w for w, n in counts.items() if n >= min_freq), key=lambda w: (-counts[w], w)); return {tok: i for i, tok in enumerate([*SPECIALS, *kept])}
    kept = sorted((word for word, n in counts.items() if n >= min_freq), key=lambda word: (-counts[word], word))
    return {token: i for i, token in enumerate([*SPECIALS, *kept])}
    # END BLANK 01.1


def encode(text: str, vocab: dict[str, int]) -> list[int]:
    """[BOS_ID] + the ID of each word of `text` (UNK_ID for a word not in `vocab`) + [EOS_ID]."""
    # BLANK 01.2 (about 1 line): look each word up (UNK_ID when missing) and frame the IDs with BOS_ID and EOS_ID.
    # HINT: Split the text with words_of, as build_vocab did, so "Red" finds "red".
    # HINT: dict.get(key, default) gives the default for a missing key.
    # HINT: return [BOS_ID] + [vocab.get(word, UNK_ID) for word in words_of(text)] + [EOS_ID]
    return [BOS_ID] + [vocab.get(word, UNK_ID) for word in words_of(text)] + [EOS_ID]
    # END BLANK 01.2


def decode(ids: list[int] | torch.Tensor, vocab: dict[str, int]) -> str:
    """The inverse of encode: skip <pad> and <bos>, stop at the first <eos>, and join the
    tokens with single spaces. An unknown word comes back as "<unk>".

    ids: a list of ints, or a (T,) tensor.
    """
    token_of = {i: token for token, i in vocab.items()}
    if isinstance(ids, torch.Tensor):
        ids = ids.tolist()
    # BLANK 01.3 (about 7 lines): walk the IDs: stop at EOS_ID, skip PAD_ID and BOS_ID, collect the other tokens, join them.
    # HINT: A padded, encoded caption looks like [BOS, w, w, EOS, PAD, PAD]: only the w's are words.
    # HINT: Loop over ids: `break` on EOS_ID, `continue` on PAD_ID or BOS_ID, else append token_of[i]; then " ".join.
    # HINT: words = []; for i in ids: (if i == EOS_ID: break) (if i in (PAD_ID, BOS_ID): continue) words.append(token_of[i]); return " ".join(words)
    words = []
    for i in ids:
        if i == EOS_ID:
            break
        if i in (PAD_ID, BOS_ID):
            continue
        words.append(token_of[i])
    return " ".join(words)
    # END BLANK 01.3


def pad_batch(seqs: list[list[int]], pad_id: int = PAD_ID) -> torch.Tensor:
    """Stack sequences of different lengths into one tensor, padding each on the right.

    seqs: B lists of IDs, each at least 1 long.
    Returns (B, T) long, T the length of the longest sequence; row b is seqs[b] then pad_id.
    """
    # BLANK 01.4 (about 4 lines): a (B, T) tensor full of pad_id, T the longest length; copy each sequence to the start of its row.
    # HINT: Find T first; start from a tensor of pads and overwrite the first len(seq) entries of each row.
    # HINT: torch.full((B, T), pad_id, dtype=torch.long); then tokens[b, :len(seq)] = torch.tensor(seq).
    # HINT: T = max(len(s) for s in seqs); tokens = torch.full((len(seqs), T), pad_id, dtype=torch.long); for b, seq in enumerate(seqs): tokens[b, :len(seq)] = torch.tensor(seq); return tokens
    T = max(len(seq) for seq in seqs)
    tokens = torch.full((len(seqs), T), pad_id, dtype=torch.long)  # (B, T)
    for b, seq in enumerate(seqs):
        tokens[b, : len(seq)] = torch.tensor(seq, dtype=torch.long)
    return tokens
    # END BLANK 01.4


def padding_mask(tokens: torch.Tensor, pad_id: int = PAD_ID) -> torch.Tensor:
    """Where the real tokens are. Masks in these katas are True where attending is allowed.

    tokens: (B, T) long.  Returns (B, T) bool: True at a real token, False at padding.
    """
    # BLANK 01.5 (about 1 line): True where the token is not pad_id.
    # HINT: Comparing a tensor with a number gives a bool tensor of the same shape.
    # HINT: True must mean "real token, may be attended to": compare with !=, not ==.
    # HINT: return tokens != pad_id
    return tokens != pad_id
    # END BLANK 01.5


def pair_counts(corpus: dict[tuple[str, ...], int]) -> dict[tuple[str, str], int]:
    """How often each adjacent pair of symbols occurs, over all words.

    corpus: {a word as its symbols, e.g. ("l", "o", "w", "</w>"): how often the word occurs}.
    """
    # BLANK 01.6 (about 4 lines): for every word, add its frequency to the count of each adjacent pair of its symbols.
    # HINT: A word that occurs 5 times contributes 5 to each of its pairs; a pair that occurs twice in one word counts twice.
    # HINT: zip(symbols, symbols[1:]) yields the adjacent pairs; a Counter starts every count at 0.
    # HINT: counts = Counter(); for symbols, freq in corpus.items(): for pair in zip(symbols, symbols[1:]): counts[pair] += freq; return counts
    counts = Counter()
    for symbols, freq in corpus.items():
        for pair in zip(symbols, symbols[1:]):
            counts[pair] += freq
    return counts
    # END BLANK 01.6


def merge_pair(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    """`symbols` with every occurrence of the adjacent `pair` joined into one symbol, from left
    to right: merge_pair(("a", "a", "a"), ("a", "a")) == ("aa", "a")."""
    # BLANK 01.7 (about 8 lines): scan left to right, joining each adjacent occurrence of `pair` into one symbol; a joined symbol is not matched again.
    # HINT: Match whole symbols, not characters: ("x", "ab", "c") holds no pair ("b", "c"). After a merge, skip past both symbols.
    # HINT: A while loop with an index i; the pair matches when i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair.
    # HINT: out, i = [], 0; while i < len(symbols): (if match: out.append(symbols[i] + symbols[i + 1]); i += 2) (else: out.append(symbols[i]); i += 1); return tuple(out)
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)
    # END BLANK 01.7


def bpe_train(words: list[str], num_merges: int) -> list[tuple[str, str]]:
    """Learn up to `num_merges` BPE merges from `words` (Sennrich et al. 2016, Algorithm 1).

    A word that occurs n times in `words` counts n times. Returns the merged pairs in the
    order learned; fewer than num_merges when every word has become one symbol.
    """
    corpus = dict(Counter(tuple(word) + (END_OF_WORD,) for word in words))  # {symbols: frequency}
    merges: list[tuple[str, str]] = []
    for _ in range(num_merges):
        counts = pair_counts(corpus)
        # BLANK 01.8 (about 5 lines): stop if no pair is left; else take the most frequent pair (ties: the smallest pair), record it, merge it in every word.
        # HINT: Equal counts are common; break the tie by comparing the pairs themselves, ("a", "b") < ("a", "c") < ("b", "a").
        # HINT: min(counts, key=lambda pair: (-counts[pair], pair)) is the most frequent pair, and the smallest of the tied ones.
        # HINT: if not counts: break; best = min(...); merges.append(best); corpus = {merge_pair(s, best): f for s, f in corpus.items()}
        if not counts:
            break
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        merges.append(best)
        corpus = {merge_pair(symbols, best): freq for symbols, freq in corpus.items()}
        # END BLANK 01.8
    return merges


def bpe_encode(word: str, merges: list[tuple[str, str]]) -> list[str]:
    """Split `word` into subwords: its characters plus END_OF_WORD, then each merge applied in
    the order learned. The pieces joined give back word + "</w>"."""
    # BLANK 01.9 (about 4 lines): start from the characters and END_OF_WORD, apply every merge in order, return the symbols as a list.
    # HINT: Encoding replays training on one word: the same start, the same merges, in the same order.
    # HINT: symbols = tuple(word) + (END_OF_WORD,); then for each pair in merges, symbols = merge_pair(symbols, pair).
    # HINT: symbols = tuple(word) + (END_OF_WORD,); for pair in merges: symbols = merge_pair(symbols, pair); return list(symbols)
    symbols = tuple(word) + (END_OF_WORD,)
    for pair in merges:
        symbols = merge_pair(symbols, pair)
    return list(symbols)
    # END BLANK 01.9
