"""Tokenizer parity: our tokenizer.json loader (runtime/src/tokenizer) against the `tokenizers` library.

Byte-level BPE tokenizers are trained offline with `tokenizers` on the text of the DSP preference data
(../shared/data/dsp, Cheng et al. 2023, CC BY-NC 4.0), saved as tokenizer.json, and both implementations
encode the same few thousand lines of that data plus hand-picked hard cases (non-ASCII scripts, whitespace
runs, digits, special tokens embedded in text). Ids, ids with special tokens read as plain text, and
decodings (with and without special tokens) must be identical, and where the tokenizer adds no prefix space
decoding must give the text back exactly. Our side runs through the `*Peer*` GoogleTest of
align_runtime_tests (ALIGN_TOKENIZER_JSON / _INPUT / _OUTPUT).
"""
import json
import os
import random
import subprocess

import pytest

from conftest import BUILD_DIR, SOURCE_DIR

tokenizers = pytest.importorskip("tokenizers")
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

DATA_DIR = SOURCE_DIR.parent / "shared" / "data" / "dsp"
TEST_BINARY = BUILD_DIR / "bin" / "align_runtime_tests"

# Meta's Llama-3 split (tokenizer.json of Meta-Llama-3-8B).
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                   "<|eot_id|>"]

HARD_CASES = [
    "", " ", "  ", "\n", "\n\n\n", "\t", " \n ", "x", " x", "x ",
    "Hello, world!  Multiple   spaces\tand\t\ttabs\r\nCRLF line\r\n\r\n",
    "   leading spaces and trailing   ", " " * 50 + "x" + "\t" * 20 + "\n" * 5,
    "Numbers: 1 12 123 1234 12345 3.14159 1,000,000 007 ٣٤٥ ௧௨௩ ½ ² ③ Ⅻ",
    "1234567890" * 12,
    "Ünïcödé: naïve café résumé — “quotes” ‘single’ … «guillemets» ¿qué? ¡sí!",
    "日本語のテキスト、中文文本。한국어 텍스트 ｆｕｌｌｗｉｄｔｈ",
    "Привет мир! Γειά σου Κόσμε! مرحبا بالعالم שלום עולם नमस्ते दुनिया ภาษาไทย",
    "Emoji 🙂👍🏽 👨‍👩‍👧 flags 🇫🇷🇯🇵 keycap 1️⃣",
    "Combining: e\u0301 a\u0308 Z\u0351\u0352 \u0915\u094d\u0937",
    # U+180E is not White_Space (Oniguruma's \s) but is in PCRE2's \s: the rewrite in BpeTokenizer.cpp.
    "Wow!!\u180e!! ok...\u180e... \u180e\u180e", "  \u180e!!  ", "\u180e\u180e\n\u180e",
    "Spaces: a\u00a0b a\u180eb a\u2003b a\u3000b a\u0085b a\u2028b a\u2029b a\u000bb a\u000cb a\u001cb",
    "zero\u200bwidth\u200djoiner\ufeffbom\u00adsoft",
    "Controls \x00\x01\x1f\x7f end",
    "Contractions: I'm you're he's she'll we've they'd DON'T I'M 'S 'ſ 'Ll",
    "Code: def f(x):\n    return x**2  # square\n\n\tif (a&&b) { c++; }",
    "URL https://example.com/a?b=c&d=e#f and e-mail a.b@c.de",
    "supercalifragilisticexpialidocious" * 5,
    "Human: hi\n\nAssistant: hello\n\nHuman:what?\n\n## Assistant: x",
]


def corpus_texts():
    if not DATA_DIR.is_dir():
        pytest.skip(f"{DATA_DIR} is missing (the shared data folder sits beside the checkout)")
    texts = []
    for name in ["helpful.json", "harmless.json", "webgpt.json"]:
        for row in json.loads((DATA_DIR / name).read_text(encoding="utf-8")):
            texts.extend(row["text"])
    for row in json.loads((DATA_DIR / "domain_specific_preference.json").read_text(encoding="utf-8")):
        texts.append(row["query"])
        texts.extend(row["responses"].values())
    return texts


@pytest.fixture(scope="module")
def corpus():
    return corpus_texts()


def comparison_lines(texts, specials, seed):
    """A few thousand lines of the data, some whole multi-line documents, the hard cases, and copies of
    them with special tokens inserted at random places (and with their spellings broken)."""
    rng = random.Random(seed)
    lines = [line for text in texts for line in text.split("\n") if line.strip()]
    picked = rng.sample(lines, 2500) + [t[:3000] for t in rng.sample(texts, 200)] + HARD_CASES
    with_specials = []
    for text in rng.sample(picked, 400) + HARD_CASES:
        for _ in range(rng.randint(1, 3)):
            cut = rng.randint(0, len(text))
            token = rng.choice(specials)
            if rng.random() < 0.2:
                token = token[:-1]  # A spelling that is not the token.
            pad = rng.choice(["", " ", "  ", "\n"])
            text = text[:cut] + pad + token + pad + text[cut:]
        with_specials.append(text)
    return picked + with_specials


def train(texts, vocab_size, pre_tokenizer, special_tokens=()):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=list(special_tokens))
    tok.train_from_iterator(texts, trainer)
    return tok


def gpt2_2000(texts):
    return train(texts, 2000, pre_tokenizers.ByteLevel(add_prefix_space=False), ["<|endoftext|>"]), \
        ["<|endoftext|>"], True


def gpt2_8000_with_added_token_rules(texts):
    tok = train(texts, 8000, pre_tokenizers.ByteLevel(add_prefix_space=True), ["<|endoftext|>"])
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False),
                            AddedToken("[SEP]", rstrip=True, lstrip=False)])
    tok.add_tokens([AddedToken("Assistant", single_word=True, normalized=True),
                    AddedToken("Human", normalized=False), AddedToken("café", normalized=True)])
    # With add_prefix_space the decoding carries the added spaces, so it is compared, not round-tripped.
    return tok, ["<|endoftext|>", "<mask>", "[SEP]", "Assistant", "Human", "café"], False


def llama3_style(texts):
    split = pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False)
    tok = train(texts, 4000, pre_tokenizers.Sequence(
        [split, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]))
    config = json.loads(tok.to_str())
    config["model"]["ignore_merges"] = True  # As Llama-3 ships it (the trainer does not keep the flag).
    # Frequent words the merges do not reach, added whole (as tiktoken-converted vocabularies have them),
    # so that ignore_merges changes ids.
    vocab = config["model"]["vocab"]
    counts = {}
    for text in texts[:3000]:
        for piece, _ in tok.pre_tokenizer.pre_tokenize_str(text):
            counts[piece] = counts.get(piece, 0) + 1
    for piece in sorted((p for p in counts if p not in vocab), key=lambda p: (-counts[p], p))[:50]:
        vocab[piece] = len(vocab)
    tok = Tokenizer.from_str(json.dumps(config))
    tok.add_special_tokens(LLAMA3_SPECIALS)
    return tok, LLAMA3_SPECIALS, True


def run_ours(tmp_path, tok, lines):
    tok_path, in_path, out_path = tmp_path / "tokenizer.json", tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    tok.save(str(tok_path))
    in_path.write_text("".join(json.dumps({"text": t}) + "\n" for t in lines), encoding="utf-8")
    env = {**os.environ, "ALIGN_TOKENIZER_JSON": str(tok_path), "ALIGN_TOKENIZER_INPUT": str(in_path),
           "ALIGN_TOKENIZER_OUTPUT": str(out_path)}
    proc = subprocess.run([str(TEST_BINARY), "--gtest_filter=TokenizerPeer.*"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "encoded" in proc.stdout, "the Peer test did not run:\n" + proc.stdout[-2000:]
    # split("\n"), not splitlines(): JSON leaves U+0085 and U+2028 unescaped inside strings.
    return [json.loads(line) for line in out_path.read_text(encoding="utf-8").split("\n") if line]


@pytest.mark.parametrize("make", [gpt2_2000, gpt2_8000_with_added_token_rules, llama3_style],
                         ids=lambda f: f.__name__)
def test_ids_and_decoding_match_tokenizers(make, corpus, tmp_path):
    if not TEST_BINARY.exists():
        pytest.skip(f"{TEST_BINARY} is not built")
    tok, specials, round_trips = make(corpus[::2])  # Half the data trains; lines come from all of it.
    lines = comparison_lines(corpus, specials, seed=len(specials))
    ours = run_ours(tmp_path, tok, lines)
    assert len(ours) == len(lines)

    theirs = [e.ids for e in tok.encode_batch(lines, add_special_tokens=False)]
    tok.encode_special_tokens = True
    theirs_plain = [e.ids for e in tok.encode_batch(lines, add_special_tokens=False)]
    tok.encode_special_tokens = False
    mismatches = []
    for text, row, ids, ids_plain in zip(lines, ours, theirs, theirs_plain):
        expected = {"ids": ids, "ids_plain": ids_plain,
                    "decoded": tok.decode(ids, skip_special_tokens=False),
                    "decoded_skip": tok.decode(ids, skip_special_tokens=True)}
        for key, value in expected.items():
            if row[key] != value:
                mismatches.append(f"{key} of {text[:200]!r}:\n  ours   {row[key]!r:.400}\n  theirs {value!r:.400}")
        if round_trips and row["decoded"] != text:
            mismatches.append(f"decode(encode({text[:200]!r})) gave {row['decoded'][:200]!r}")
    assert not mismatches, f"{len(mismatches)} mismatches over {len(lines)} lines; first ones:\n" + \
        "\n".join(mismatches[:10])
    assert sum(len(ids) for ids in theirs) > 100_000  # The comparison covered real volume.
