"""Tests of kata 01: the tokenizer. Oracles: plain-Python specs written here (a count-then-sort
vocabulary, loops for encode, decode, padding and masks) and Sennrich et al.'s original BPE,
which works on space-separated strings with a regex; plus properties (round trips, joins)."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from support import assert_tensor, call, fail, said, with_reference

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
KNOWN = ["a", "red", "circle", "blue", "square", "on", "the", "left"]
VOCAB = {token: i for i, token in enumerate(SPECIALS + KNOWN)}  # a: 4, red: 5, circle: 6, blue: 7, ...
QUICK = settings(max_examples=15, deadline=None, derandomize=True, database=None)

# Texts of a few words, in any case, with any whitespace between and around them.
spaces = st.sampled_from([" ", "  ", "\t", "\n"])


def texts_of(words: list[str]):
    word = st.sampled_from([form for w in words for form in (w, w.upper(), w.capitalize())])
    return st.tuples(st.sampled_from(["", " "]), st.lists(st.tuples(word, spaces), max_size=6)).map(
        lambda t: t[0] + "".join(w + s for w, s in t[1])
    )


def shown_vocab() -> str:
    words = ", ".join(f"{w} {i}" for w, i in VOCAB.items() if i > 3)
    return said(f"vocab: specials 0-3, {words}", ja=f"vocab: 特殊トークン 0-3, {words}")


def first_difference(got: list, expected: list, what: str) -> str:
    """`what`: the items' name, in the learner's language ("ID", or said("merge", ja=...))."""
    for i, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            return said(f"{what} {i} is {g!r}, expected {e!r}", ja=f"{what} {i} が {g!r} です（期待される値は {e!r}）")
    if len(got) < len(expected):
        return said(f"{len(got)} {what}s, expected {len(expected)}: {what} {len(got)} should be {expected[len(got)]!r}",
                    ja=f"{what}が {len(got)} 個です（期待される数は {len(expected)}）: {what} {len(got)} は "
                       f"{expected[len(got)]!r} のはずです")  # fmt: skip
    return said(f"{len(got)} {what}s, expected {len(expected)}: {what} {len(expected)} ({got[len(expected)]!r}) is extra",
                ja=f"{what}が {len(got)} 個です（期待される数は {len(expected)}）: {what} {len(expected)}"
                   f"（{got[len(expected)]!r}）が余分です")  # fmt: skip


# --- 01.1 build_vocab -----------------------------------------------------------------------


def vocab_spec(texts: list[str], min_freq: int) -> list[str]:
    """The tokens in ID order: the specials, then for each count from the highest down, its words A→Z."""
    counts = Counter(w for text in texts for w in text.lower().split())
    tokens = list(SPECIALS)
    for n in sorted(set(counts.values()), reverse=True):
        if n >= min_freq:
            tokens += sorted(w for w, c in counts.items() if c == n)
    return tokens


def check_vocab(kata, texts: list[str], min_freq: int) -> None:
    __tracebackhide__ = True
    where = call("build_vocab", texts, min_freq=min_freq)
    vocab = kata.build_vocab(texts, min_freq=min_freq)
    if not isinstance(vocab, dict):
        fail(said(f"returned a {type(vocab).__name__}, expected a dict {{token: ID}}",
                  ja=f"戻り値は dict {{token: ID}} であるべきですが、{type(vocab).__name__} です"), where)  # fmt: skip
    if sorted(vocab.values()) != list(range(len(vocab))):
        fail(said(f"the IDs are {sorted(vocab.values())}, expected 0, 1, 2, ... with no gap or repeat",
                  ja=f"ID が {sorted(vocab.values())} です。0, 1, 2, ... と抜けも重複もなく並ぶはずです"), where)  # fmt: skip
    got, expected = sorted(vocab, key=vocab.get), vocab_spec(texts, min_freq)
    if got != expected:
        difference = first_difference(got, expected, "ID")
        fail(said(f"{difference}\ntokens by ID: {got}\nexpected:     {expected}",
                  ja=f"{difference}\nID 順のトークン: {got}\n期待される並び:  {expected}"), where)  # fmt: skip


@pytest.mark.blank("01.1")
@pytest.mark.parametrize("min_freq", [1, 2])
def test_01_1_specials_then_words_by_count(kata, min_freq):
    # counts: a 3, red 2, square 2, circle 1, blue 1 (seen in that order: ties go A→Z, not first seen)
    check_vocab(kata, ["a red circle", "a blue square", "A red square"], min_freq)


@pytest.mark.blank("01.1")
@pytest.mark.parametrize("min_freq", [1, 2, 3, 4])
def test_01_1_min_freq_keeps_words_seen_that_often(kata, min_freq):
    check_vocab(kata, ["c b a a", "b a  c", "d\ta"], min_freq)  # a 4, b 2, c 2, d 1


@pytest.mark.blank("01.1")
def test_01_1_matches_a_count_then_sort_spec(kata):
    @QUICK
    @given(texts=st.lists(texts_of(KNOWN + ["green", "triangle"]), max_size=5), min_freq=st.integers(1, 3))
    def check(texts, min_freq):
        check_vocab(kata, texts, min_freq)

    check()


# --- 01.2 encode ----------------------------------------------------------------------------


def encode_spec(text: str, vocab: dict[str, int]) -> list[int]:
    ids = [BOS]
    for word in text.lower().split():
        ids.append(vocab[word] if word in vocab else UNK)
    return ids + [EOS]


def check_encode(kata, text: str) -> None:
    __tracebackhide__ = True
    out, expected = kata.encode(text, dict(VOCAB)), encode_spec(text, VOCAB)
    if not isinstance(out, list) or out != expected:
        fail(said(f"encode({text!r}, vocab) gave {out!r}, expected {expected}\n{shown_vocab()}",
                  ja=f"encode({text!r}, vocab) の結果が {out!r} です（期待される値は {expected}）\n{shown_vocab()}"))


ENCODE_CASES = [
    pytest.param("a red circle", id="known_words"),
    pytest.param("a green circle", id="unknown_word"),
    pytest.param("A Red CIRCLE", id="lowercased"),
    pytest.param("  a\tblue\nsquare ", id="any_whitespace"),
    pytest.param("", id="empty"),
]


@pytest.mark.blank("01.2")
@pytest.mark.parametrize("text", ENCODE_CASES)
def test_01_2_encode_frames_words_with_bos_eos(kata, text):
    check_encode(kata, text)


@pytest.mark.blank("01.2")
def test_01_2_matches_a_loop_spec(kata):
    @QUICK
    @given(text=texts_of(KNOWN + ["green", "triangle", "<unk>x"]))
    def check(text):
        check_encode(kata, text)

    check()


# --- 01.3 decode ----------------------------------------------------------------------------

DECODE_CASES = [
    pytest.param([BOS, 4, 5, 6, EOS], "a red circle", id="encoded"),
    pytest.param([BOS, 4, 7, 8, EOS, PAD, PAD], "a blue square", id="padded"),
    pytest.param([BOS, 4, 5, EOS, 6, 6], "a red", id="stops_at_first_eos"),
    pytest.param([PAD, PAD, BOS, 8, EOS], "square", id="skips_pads_anywhere"),
    pytest.param([BOS, 4, UNK, 6, EOS], "a <unk> circle", id="keeps_unk"),
    pytest.param([4, 5, 6], "a red circle", id="no_bos_eos"),
    pytest.param([BOS, EOS, PAD], "", id="empty"),
]


def check_decode(kata, ids, expected: str) -> None:
    __tracebackhide__ = True
    out = kata.decode(ids, dict(VOCAB))
    if out != expected:
        shown = f"torch.tensor({ids.tolist()})" if isinstance(ids, torch.Tensor) else ids
        fail(said(f"decode({shown}, vocab) gave {out!r}, expected {expected!r}\n{shown_vocab()}",
                  ja=f"decode({shown}, vocab) の結果が {out!r} です（期待される値は {expected!r}）\n{shown_vocab()}"))


@pytest.mark.blank("01.3")
@pytest.mark.parametrize("ids, expected", DECODE_CASES)
def test_01_3_decode_skips_pads_stops_at_eos(kata, ids, expected):
    check_decode(kata, ids, expected)
    check_decode(kata, torch.tensor(ids, dtype=torch.long), expected)


@pytest.mark.blank("01.3")
def test_01_3_decode_undoes_encode(kata):
    @QUICK
    @given(text=texts_of(KNOWN), pads=st.integers(0, 3))
    def check(text, pads):
        check_decode(kata, encode_spec(text, VOCAB) + [PAD] * pads, " ".join(text.lower().split()))

    check()


# --- 01.4 pad_batch and 01.5 padding_mask ----------------------------------------------------


def pad_spec(seqs: list[list[int]], pad_id: int) -> list[list[int]]:
    T = max(len(seq) for seq in seqs)
    return [seq + [pad_id] * (T - len(seq)) for seq in seqs]


def random_batch(seed: int, pad_id: int) -> list[list[int]]:
    rng = random.Random(seed)
    B, T = rng.choice([1, 2, 3, 5]), rng.randint(1, 6)
    ids = [i for i in range(12) if i != pad_id]
    return [[rng.choice(ids) for _ in range(rng.randint(1, T))] for _ in range(B)]


FIXED_BATCHES = {"captions": [[1, 5, 6, 2], [1, 7, 2], [1, 2]], "B1": [[1, 4, 2]], "equal_lengths": [[4, 5], [6, 7]],
                 "T1": [[4], [5], [6]], "shortest_first": [[4], [5, 6]]}  # fmt: skip
BATCHES = [pytest.param(batch, PAD, None, id=name) for name, batch in FIXED_BATCHES.items()]
BATCHES += [pytest.param(random_batch(s, p), p, s, id=f"seed{s}_pad{p}") for s in range(6) for p in (PAD, 9)]


def check_rows(out: torch.Tensor, expected: list[list], name: str, explain, where: str, seed) -> None:
    __tracebackhide__ = True
    for b, row in enumerate(expected):
        if out[b].tolist() != row:
            fail(said(f"{name}[{b}] is {out[b].tolist()}, expected {row}\n{explain(b)}",
                      ja=f"{name}[{b}] が {out[b].tolist()} です（期待される値は {row}）\n{explain(b)}"), where, seed)


@pytest.mark.blank("01.4")
@pytest.mark.parametrize("seqs, pad_id, seed", BATCHES)
def test_01_4_pad_batch_pads_on_the_right(kata, seqs, pad_id, seed):
    where = call("pad_batch", seqs, pad_id=pad_id)
    expected = pad_spec(seqs, pad_id)
    out = kata.pad_batch([list(seq) for seq in seqs], pad_id=pad_id)
    assert_tensor(out, shape=(len(expected), len(expected[0])), dtype=torch.long, call=where, seed=seed, name="tokens")
    explain = lambda b: said(f"(seqs[{b}] = {seqs[b]}, then pad_id = {pad_id} up to the longest length)",  # noqa: E731
                             ja=f"（seqs[{b}] = {seqs[b]} のあと、いちばん長い長さまで pad_id = {pad_id} を並べます）")
    check_rows(out, expected, "tokens", explain, where, seed)


@pytest.mark.blank("01.5")
@pytest.mark.parametrize("seqs, pad_id, seed", BATCHES)
def test_01_5_padding_mask_is_true_at_real_tokens(kata, seqs, pad_id, seed):
    tokens = torch.tensor(pad_spec(seqs, pad_id), dtype=torch.long)
    where = call("padding_mask", tokens, pad_id=pad_id)
    expected = [[t != pad_id for t in row] for row in tokens.tolist()]
    out = kata.padding_mask(tokens.clone(), pad_id=pad_id)
    assert_tensor(out, shape=tokens.shape, dtype=torch.bool, call=where, seed=seed, name="mask")
    explain = lambda b: said(  # noqa: E731
        f"(tokens[{b}] = {tokens[b].tolist()}: True at a real token, False at pad_id = {pad_id})",
        ja=f"（tokens[{b}] = {tokens[b].tolist()}: 実際のトークンでは True、pad_id = {pad_id} では False）")
    check_rows(out, expected, "mask", explain, where, seed)


# --- BPE: Sennrich et al. 2016's own code, on strings like "l o w </w>" ------------------------


def merge_in_string(word: str, pair: tuple[str, str]) -> str:
    pattern = re.compile(r"(?<!\S)" + re.escape(" ".join(pair)) + r"(?!\S)")
    return pattern.sub("".join(pair), word)


def sennrich_train(words: list[str], num_merges: int) -> list[tuple[str, str]]:
    vocab = Counter(" ".join(word) + " </w>" for word in words)
    merges = []
    for _ in range(num_merges):
        pairs: Counter = Counter()
        for word, freq in vocab.items():
            symbols = word.split()
            for i in range(len(symbols) - 1):
                pairs[symbols[i], symbols[i + 1]] += freq
        if not pairs:
            break
        top = max(pairs.values())
        best = min(pair for pair, n in pairs.items() if n == top)
        merges.append(best)
        vocab = Counter({merge_in_string(word, best): freq for word, freq in vocab.items()})
    return merges


def sennrich_encode(word: str, merges: list[tuple[str, str]]) -> list[str]:
    text = " ".join(word) + " </w>"
    for pair in merges:
        text = merge_in_string(text, pair)
    return text.split()


def times(n: int) -> str:
    return said("once", ja="1 回") if n == 1 else said(f"{n} times", ja=f"{n} 回")


def show_corpus(corpus: dict) -> str:
    entries = ", ".join(f"{' '.join(s)!r}: {f}" for s, f in corpus.items())
    return said(f"corpus: {{{entries}}}  (symbols joined by spaces)", ja=f"corpus: {{{entries}}}（記号はスペースで区切って表示）")


SENNRICH_WORDS = ["low"] * 5 + ["lower"] * 2 + ["newest"] * 6 + ["widest"] * 3
SENNRICH_CORPUS = {tuple(w) + ("</w>",): n for w, n in Counter(SENNRICH_WORDS).items()}
word_lists = st.lists(st.text("abc", min_size=1, max_size=5), min_size=1, max_size=6)

# --- 01.6 pair_counts -------------------------------------------------------------------------


def check_pair_counts(kata, corpus: dict) -> None:
    __tracebackhide__ = True
    expected: dict = {}
    for symbols, freq in corpus.items():
        for i in range(len(symbols) - 1):
            expected[symbols[i], symbols[i + 1]] = expected.get((symbols[i], symbols[i + 1]), 0) + freq
    out = kata.pair_counts(dict(corpus))
    got = {pair: n for pair, n in dict(out).items() if n}
    for pair in sorted(set(got) | set(expected)):
        if got.get(pair, 0) != expected.get(pair, 0):
            fail(said(f"pair_counts(corpus) counted pair {pair} {times(got.get(pair, 0))}, expected {expected.get(pair, 0)}\n"
                      f"{show_corpus(corpus)}",
                      ja=f"pair_counts(corpus) がペア {pair} を {times(got.get(pair, 0))}数えています（期待される回数は "
                         f"{expected.get(pair, 0)}）\n{show_corpus(corpus)}"))  # fmt: skip


PAIR_CASES = [
    pytest.param({("a", "a", "a", "</w>"): 1}, id="pair_twice_in_a_word"),
    pytest.param({("l", "o", "w", "</w>"): 5, ("l", "o", "w", "e", "r", "</w>"): 2}, id="word_frequencies"),
    pytest.param(SENNRICH_CORPUS, id="sennrich_example"),
    pytest.param({("a",): 3, ("ab", "c", "</w>"): 1}, id="multi_char_symbols"),
]


@pytest.mark.blank("01.6")
@pytest.mark.parametrize("corpus", PAIR_CASES)
def test_01_6_pair_counts_weighted_by_word_frequency(kata, corpus):
    check_pair_counts(kata, corpus)


@pytest.mark.blank("01.6")
def test_01_6_matches_a_loop_spec(kata):
    word = st.lists(st.sampled_from(["a", "b", "ab", "c"]), max_size=5).map(lambda s: (*s, "</w>"))

    @QUICK
    @given(corpus=st.dictionaries(word, st.integers(1, 5), max_size=5))
    def check(corpus):
        check_pair_counts(kata, corpus)

    check()


# --- 01.7 merge_pair --------------------------------------------------------------------------


def merge_spec(symbols: tuple, pair: tuple) -> tuple:
    """Recursive: merge at the front if the pair is there, then merge the rest."""
    if len(symbols) < 2:
        return tuple(symbols)
    if (symbols[0], symbols[1]) == pair:
        return (symbols[0] + symbols[1], *merge_spec(symbols[2:], pair))
    return (symbols[0], *merge_spec(symbols[1:], pair))


def check_merge(kata, symbols: tuple, pair: tuple) -> None:
    __tracebackhide__ = True
    out, expected = kata.merge_pair(symbols, pair), merge_spec(symbols, pair)
    if not isinstance(out, tuple):
        fail(said(f"returned a {type(out).__name__}, expected a tuple (bpe_train uses it as a dict key)",
                  ja=f"戻り値は tuple であるべきですが、{type(out).__name__} です（bpe_train が dict のキーに使います）"),
             f"merge_pair({symbols}, {pair})")  # fmt: skip
    if out != expected:
        fail(said(f"merge_pair({symbols}, {pair}) gave {out}, expected {expected}",
                  ja=f"merge_pair({symbols}, {pair}) の結果が {out} です（期待される値は {expected}）"))  # fmt: skip


MERGE_CASES = [
    pytest.param(("l", "o", "w", "</w>"), ("l", "o"), id="at_the_start"),
    pytest.param(("a", "b", "a", "b", "</w>"), ("a", "b"), id="every_occurrence"),
    pytest.param(("a", "a", "a"), ("a", "a"), id="left_to_right"),
    pytest.param(("b", "a", "b"), ("a", "b"), id="at_the_end"),
    pytest.param(("x", "ab", "c"), ("b", "c"), id="whole_symbols_only"),
    pytest.param(("ab", "a"), ("a", "ba"), id="same_letters_other_symbols"),
    pytest.param(("a",), ("a", "b"), id="one_symbol"),
]


@pytest.mark.blank("01.7")
@pytest.mark.parametrize("symbols, pair", MERGE_CASES)
def test_01_7_merge_pair_merges_every_occurrence(kata, symbols, pair):
    check_merge(kata, symbols, pair)


@pytest.mark.blank("01.7")
def test_01_7_matches_a_recursive_spec(kata):
    @QUICK
    @given(symbols=st.lists(st.sampled_from(["a", "b", "ab", "ba", "</w>"]), max_size=7).map(tuple),
           pair=st.tuples(st.sampled_from(["a", "b", "ab"]), st.sampled_from(["a", "b", "ba", "</w>"])))  # fmt: skip
    def check(symbols, pair):
        check_merge(kata, symbols, pair)

    check()


# --- 01.8 bpe_train ---------------------------------------------------------------------------


def check_train(kata, words: list[str], num_merges: int) -> None:
    __tracebackhide__ = True
    out, expected = kata.bpe_train(list(words), num_merges), sennrich_train(words, num_merges)
    if out != expected:
        shown = f"{Counter(words)} (word: how often)" if len(words) > 6 else repr(words)
        difference = first_difference(out, expected, said("merge", ja="マージ"))
        fail(said(f"{difference}\ngot:      {out}\nexpected: {expected}",
                  ja=f"{difference}\n得られた値:   {out}\n期待される値: {expected}"),
             f"bpe_train(words, {num_merges}) with words {shown}")  # fmt: skip


TRAIN_CASES = [
    pytest.param(["ab"], 5, id="stops_when_no_pair_is_left"),  # after 2 merges, "ab</w>" is one symbol
    pytest.param(["ba"], 1, id="tie_smaller_pair_wins"),  # ("a", "</w>") < ("b", "a")
    pytest.param(["abc", "abc", "ad", "ad"], 2, id="tie_compares_pairs_not_strings"),  # ("a", "d") < ("ab", "c")
    pytest.param(SENNRICH_WORDS, 10, id="sennrich_example"),
    pytest.param(["abc"], 0, id="no_merges"),
]


@pytest.mark.blank("01.8")
@pytest.mark.parametrize("words, num_merges", TRAIN_CASES)
def test_01_8_bpe_train_merges_the_most_frequent_pair(kata, monkeypatch, words, num_merges):
    with_reference(monkeypatch, kata, "pair_counts", "merge_pair")
    check_train(kata, words, num_merges)


@pytest.mark.blank("01.8")
def test_01_8_matches_sennrichs_code(kata, monkeypatch):
    with_reference(monkeypatch, kata, "pair_counts", "merge_pair")

    @QUICK
    @given(words=word_lists, num_merges=st.integers(0, 12))
    def check(words, num_merges):
        check_train(kata, words, num_merges)

    check()


# --- 01.9 bpe_encode --------------------------------------------------------------------------


def check_encode_word(kata, word: str, merges: list) -> None:
    __tracebackhide__ = True
    out, expected = kata.bpe_encode(word, list(merges)), sennrich_encode(word, merges)
    if out != expected:
        fail(said(f"bpe_encode({word!r}, merges) gave {out!r}, expected {expected}\nmerges: {merges}",
                  ja=f"bpe_encode({word!r}, merges) の結果が {out!r} です（期待される値は {expected}）\nmerges: {merges}"))


ENCODE_WORD_CASES = [
    pytest.param("abc", [], id="no_merges"),
    pytest.param("lower", [("r", "</w>")], id="end_of_word_from_the_start"),
    pytest.param("abc", [("a", "b"), ("b", "c")], id="in_the_order_learned"),
    pytest.param("lowest", sennrich_train(SENNRICH_WORDS, 10), id="unseen_word"),
    pytest.param("newer", sennrich_train(SENNRICH_WORDS, 10), id="unseen_word_2"),
]


@pytest.mark.blank("01.9")
@pytest.mark.parametrize("word, merges", ENCODE_WORD_CASES)
def test_01_9_bpe_encode_applies_merges_in_order(kata, monkeypatch, word, merges):
    with_reference(monkeypatch, kata, "merge_pair")
    check_encode_word(kata, word, merges)


@pytest.mark.blank("01.9")
def test_01_9_matches_sennrichs_code(kata, monkeypatch):
    with_reference(monkeypatch, kata, "merge_pair")

    @QUICK
    @given(train=word_lists, new=st.text("abcd", min_size=1, max_size=6), num_merges=st.integers(0, 10))
    def check(train, new, num_merges):
        merges = sennrich_train(train, num_merges)
        for word in [*train[:2], new]:
            check_encode_word(kata, word, merges)

    check()
