#!/usr/bin/env python3
"""Train the DSP recipes' byte-level BPE tokenizer (recipes/tokenizers/dsp-bpe.json) on training-split text only.

Usage (repo root):  .venv/bin/python scripts/train-tokenizer.py --data-root ../shared/data \
                        [--vocab-size 4096] [--out recipes/tokenizers/dsp-bpe.json] [--report]

Why: with `bytes()` most DSP sequences ("## Human:\\n{query}\\n\\n## Assistant:\\n{response}", ~1 kB) exceed the
recipes' max_length, so the reward model never sees a response's end (the paper uses 512 LLaMA tokens, which
cuts almost nothing). A project-trained BPE brings them under the limit.

What it reads: the rows of dsp/helpful.json, dsp/harmless.json, dsp/webgpt.json and
dsp/domain_specific_preference.json that the recipes' `split eval = 10%/10%/20%/20%` leaves in `train`. The
split is the runtime's (runtime/src/data/Splits.cpp: assignSplits with one percentage split and the default
shuffle_seed 0): the row indices 0..n-1 shuffled by deterministicShuffle (Fisher-Yates from the back, SplitMix64,
Lemire's multiply-shift), the first round(f*n) to eval. No eval-split text reaches the tokenizer. Training
texts: every `text` of a scored row; for a DSP row, the query with each of its five responses in the recipes'
template.

The tokenizer: GPT-2 style byte-level BPE (ByteLevel pre-tokenizer, add_prefix_space false, the 256-byte
initial alphabet, ByteLevel decoder), special tokens <bos> <eos> <pad> (ids 0, 1, 2; the runtime's loader
finds them by these spellings, runtime/src/tokenizer/BpeTokenizer.cpp). Deterministic: same data, same
vocab size -> the same file (the texts go in file order, the trainer is single-pass and tie-breaks by
content; the script re-serialises with sorted keys off, pretty=False, as the library writes it).
"""
import argparse
import json
import os
import sys

MASK = (1 << 64) - 1
TEMPLATE = "## Human:\n{prompt}\n\n## Assistant:\n{response}"
# file, eval fraction (as in recipes/dsp_customized_rm.align and recipes/dsp_ablations.align)
SOURCES = [("dsp/helpful.json", 0.10), ("dsp/harmless.json", 0.10), ("dsp/webgpt.json", 0.20),
           ("dsp/domain_specific_preference.json", 0.20)]


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return (self.next() * n) >> 64


def shuffled_indices(n, seed):
    order = list(range(n))
    rng = SplitMix64(seed)
    for i in range(n, 1, -1):
        j = rng.below(i)
        order[i - 1], order[j] = order[j], order[i - 1]
    return order


def eval_rows(n, fraction, seed=0):
    """The runtime's assignSplits for a single percentage split `eval`: the rows it takes."""
    target = int(fraction * n + 0.5)  # llround, fraction*n >= 0
    return set(shuffled_indices(n, seed)[:target])


def row_texts(rel, row):
    if rel.endswith("domain_specific_preference.json"):
        return [TEMPLATE.format(prompt=row["query"], response=r) for r in row["responses"].values()]
    return list(row["text"])


def split_texts(data_root):
    """(train texts, eval texts) per source, in file order."""
    out = {}
    for rel, fraction in SOURCES:
        with open(os.path.join(data_root, rel), encoding="utf-8") as f:
            rows = json.load(f)
        held = eval_rows(len(rows), fraction)
        train, ev = [], []
        for i, row in enumerate(rows):
            (ev if i in held else train).extend(row_texts(rel, row))
        out[rel] = (train, ev)
    return out


def train_tokenizer(texts, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<bos>", "<eos>", "<pad>"])
    tok.train_from_iterator(texts, trainer)
    return tok


def fit_report(tok, splits, max_lengths):
    """Share of sequences with BOS + text + EOS <= max_length tokens, per source and split."""
    lines = []
    for rel, (train, ev) in splits.items():
        for name, texts in (("train", train), ("eval", ev)):
            lens = [len(e.ids) + 2 for e in tok.encode_batch(texts, add_special_tokens=False)]
            lens_sorted = sorted(lens)
            fits = " ".join(f"<={m}: {sum(l <= m for l in lens) / len(lens):.3f}" for m in max_lengths)
            lines.append(f"{rel:40s} {name:5s} n={len(lens):5d} median={lens_sorted[len(lens) // 2]:4d} "
                         f"p95={lens_sorted[int(0.95 * len(lens))]:4d} {fits}")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default="../shared/data")
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--out", default="recipes/tokenizers/dsp-bpe.json")
    ap.add_argument("--report", action="store_true", help="print the share of sequences within 256/384/512 tokens")
    args = ap.parse_args()

    splits = split_texts(args.data_root)
    texts = [t for train, _ in splits.values() for t in train]
    tok = train_tokenizer(texts, args.vocab_size)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    tok.save(args.out, pretty=False)
    with open(args.out, "a", encoding="utf-8") as f:
        f.write("\n")
    print(f"wrote {args.out}: vocab {tok.get_vocab_size()}, trained on {len(texts)} training-split texts",
          file=sys.stderr)
    if args.report:
        for line in fit_report(tok, splits, (256, 384, 512)):
            print(line)


if __name__ == "__main__":
    main()
