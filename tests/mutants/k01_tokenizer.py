"""Plausible wrong answers for kata 01: each must fail the tests of its blank (the self-check runs them)."""

MUTANTS = {
    "01.1": {
        "forgets the specials": """
            kept = sorted((word for word, n in counts.items() if n >= min_freq), key=lambda word: (-counts[word], word))
            return {token: i for i, token in enumerate(kept)}
        """,
        "specials after the words": """
            kept = sorted((word for word, n in counts.items() if n >= min_freq), key=lambda word: (-counts[word], word))
            return {token: i for i, token in enumerate([*kept, *SPECIALS])}
        """,
        "ties in first-seen order (most_common)": """
            kept = [word for word, n in counts.most_common() if n >= min_freq]
            return {token: i for i, token in enumerate([*SPECIALS, *kept])}
        """,
        "ties reverse-alphabetical (reverse=True on the whole key)": """
            kept = sorted((word for word, n in counts.items() if n >= min_freq), key=lambda word: (counts[word], word), reverse=True)
            return {token: i for i, token in enumerate([*SPECIALS, *kept])}
        """,
        "count > min_freq instead of >=": """
            kept = sorted((word for word, n in counts.items() if n > min_freq), key=lambda word: (-counts[word], word))
            return {token: i for i, token in enumerate([*SPECIALS, *kept])}
        """,
    },
    "01.2": {
        "no <unk>: unknown words are dropped": "return [BOS_ID] + [vocab[word] for word in words_of(text) if word in vocab] + [EOS_ID]",
        "forgets BOS and EOS": "return [vocab.get(word, UNK_ID) for word in words_of(text)]",
        "EOS and BOS swapped": "return [EOS_ID] + [vocab.get(word, UNK_ID) for word in words_of(text)] + [BOS_ID]",
        "does not lowercase": "return [BOS_ID] + [vocab.get(word, UNK_ID) for word in text.split()] + [EOS_ID]",
        "splits on single spaces only": "return [BOS_ID] + [vocab.get(word, UNK_ID) for word in text.lower().split(' ')] + [EOS_ID]",
    },
    "01.3": {
        "does not stop at EOS, only skips it": """
            words = [token_of[i] for i in ids if i not in (PAD_ID, BOS_ID, EOS_ID)]
            return " ".join(words)
        """,
        "keeps the pads": """
            words = []
            for i in ids:
                if i == EOS_ID:
                    break
                if i != BOS_ID:
                    words.append(token_of[i])
            return " ".join(words)
        """,
        "strips the first and last ID, assuming BOS ... EOS": "return ' '.join(token_of[i] for i in ids[1:-1])",
        "stops at the first pad too": """
            words = []
            for i in ids:
                if i in (EOS_ID, PAD_ID):
                    break
                if i != BOS_ID:
                    words.append(token_of[i])
            return " ".join(words)
        """,
        "skips <unk> as well": """
            words = []
            for i in ids:
                if i == EOS_ID:
                    break
                if i not in (PAD_ID, BOS_ID, UNK_ID):
                    words.append(token_of[i])
            return " ".join(words)
        """,
    },
    "01.4": {
        "pads on the left": """
            T = max(len(seq) for seq in seqs)
            tokens = torch.full((len(seqs), T), pad_id, dtype=torch.long)
            for b, seq in enumerate(seqs):
                tokens[b, T - len(seq) :] = torch.tensor(seq, dtype=torch.long)
            return tokens
        """,
        "pads to a fixed length of 8": """
            tokens = torch.full((len(seqs), 8), pad_id, dtype=torch.long)
            for b, seq in enumerate(seqs):
                tokens[b, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            return tokens
        """,
        "pads with zeros whatever pad_id is": """
            T = max(len(seq) for seq in seqs)
            tokens = torch.zeros(len(seqs), T, dtype=torch.long)
            for b, seq in enumerate(seqs):
                tokens[b, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            return tokens
        """,
        "float tensor (torch.zeros default dtype)": """
            T = max(len(seq) for seq in seqs)
            tokens = torch.zeros(len(seqs), T) + pad_id
            for b, seq in enumerate(seqs):
                tokens[b, : len(seq)] = torch.tensor(seq)
            return tokens
        """,
        "T from the first sequence": """
            T = len(seqs[0])
            tokens = torch.full((len(seqs), T), pad_id, dtype=torch.long)
            for b, seq in enumerate(seqs):
                tokens[b, : len(seq)] = torch.tensor(seq[:T], dtype=torch.long)
            return tokens
        """,
    },
    "01.5": {
        "inverted: True at the pads": "return tokens == pad_id",
        "int mask, not bool": "return (tokens != pad_id).long()",
        "assumes the pad ID is 0": "return tokens != 0",
        "float mask": "return (tokens != pad_id).float()",
    },
    "01.6": {
        "ignores word frequency": """
            counts = Counter()
            for symbols, freq in corpus.items():
                for pair in zip(symbols, symbols[1:]):
                    counts[pair] += 1
            return counts
        """,
        "counts a pair once per word": """
            counts = Counter()
            for symbols, freq in corpus.items():
                for pair in set(zip(symbols, symbols[1:])):
                    counts[pair] += freq
            return counts
        """,
        "off by one: misses the last pair": """
            counts = Counter()
            for symbols, freq in corpus.items():
                for i in range(len(symbols) - 2):
                    counts[symbols[i], symbols[i + 1]] += freq
            return counts
        """,
        "sets the count instead of adding to it": """
            counts = Counter()
            for symbols, freq in corpus.items():
                for pair in zip(symbols, symbols[1:]):
                    counts[pair] = freq
            return counts
        """,
    },
    "01.7": {
        "merges only the first occurrence": """
            for i in range(len(symbols) - 1):
                if (symbols[i], symbols[i + 1]) == pair:
                    return symbols[:i] + (symbols[i] + symbols[i + 1],) + symbols[i + 2 :]
            return symbols
        """,
        "string replace: matches inside symbols": """
            return tuple(" ".join(symbols).replace(" ".join(pair), "".join(pair)).split(" "))
        """,
        "does not skip past a merged pair": """
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                    out.append(symbols[i] + symbols[i + 1])
                else:
                    out.append(symbols[i])
                i += 1
            return tuple(out)
        """,
        "drops the last symbol": """
            out, i = [], 0
            while i < len(symbols) - 1:
                if (symbols[i], symbols[i + 1]) == pair:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            return tuple(out)
        """,
        "compares the joined strings, not the symbols": """
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] + symbols[i + 1] == pair[0] + pair[1]:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            return tuple(out)
        """,
        "returns a list": """
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            return out
        """,
    },
    "01.8": {
        "ties: first seen wins (most_common)": """
            if not counts:
                break
            best = Counter(counts).most_common(1)[0][0]
            merges.append(best)
            corpus = {merge_pair(symbols, best): freq for symbols, freq in corpus.items()}
        """,
        "ties: the largest pair wins": """
            if not counts:
                break
            best = max(counts, key=lambda pair: (counts[pair], pair))
            merges.append(best)
            corpus = {merge_pair(symbols, best): freq for symbols, freq in corpus.items()}
        """,
        "ties broken by the joined string": """
            if not counts:
                break
            best = min(counts, key=lambda pair: (-counts[pair], pair[0] + pair[1]))
            merges.append(best)
            corpus = {merge_pair(symbols, best): freq for symbols, freq in corpus.items()}
        """,
        "no early stop": """
            best = min(counts, key=lambda pair: (-counts[pair], pair))
            merges.append(best)
            corpus = {merge_pair(symbols, best): freq for symbols, freq in corpus.items()}
        """,
        "records the pair but never merges it": """
            if not counts:
                break
            best = min(counts, key=lambda pair: (-counts[pair], pair))
            merges.append(best)
        """,
    },
    "01.9": {
        "applies the merges in reverse order": """
            symbols = tuple(word) + (END_OF_WORD,)
            for pair in reversed(merges):
                symbols = merge_pair(symbols, pair)
            return list(symbols)
        """,
        "forgets </w>": """
            symbols = tuple(word)
            for pair in merges:
                symbols = merge_pair(symbols, pair)
            return list(symbols)
        """,
        "adds </w> after merging": """
            symbols = tuple(word)
            for pair in merges:
                symbols = merge_pair(symbols, pair)
            return [*symbols, END_OF_WORD]
        """,
        "merges into the word's characters each time, not the running symbols": """
            symbols = tuple(word) + (END_OF_WORD,)
            for pair in merges:
                result = merge_pair(symbols, pair)
            return list(result) if merges else list(symbols)
        """,
        "returns the joined string": """
            symbols = tuple(word) + (END_OF_WORD,)
            for pair in merges:
                symbols = merge_pair(symbols, pair)
            return "".join(symbols)
        """,
    },
}
