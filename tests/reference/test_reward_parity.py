"""Reward models against transformers' sequence classification, through files: a random
Llama/Qwen2ForSequenceClassification saved with save_pretrained is scored by `align-lm score` with the same
rewards (transformers reads the final non-pad token: our `eos` pooling); a reward model `align-lm init-reward`
writes loads in transformers as *ForSequenceClassification with the same rewards; and `align-lm score-pairs`
reports exactly the accuracy those rewards imply on DSP-format data (byte tokenizer: BOS + UTF-8 bytes + EOS,
truncated from the left)."""
import json
import subprocess

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from conftest import BUILD_DIR

ALIGN_LM = BUILD_DIR / "bin" / "align-lm"
BOS, EOS, PAD = 256, 257, 258


@pytest.fixture(scope="module", autouse=True)
def built():
    if not ALIGN_LM.exists():
        pytest.skip(f"{ALIGN_LM} is not built")


def run(*args):
    r = subprocess.run([str(ALIGN_LM), *map(str, args)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def hf_rewards(model, sequences):
    with torch.no_grad():
        return [model(torch.tensor([s])).logits[0].tolist() for s in sequences]


SEQUENCES = [[5, 6, 7], [1] * 20, [(i * 13) % 250 + 1 for i in range(70)], [9]]


@pytest.mark.parametrize("family", ["llama", "qwen2"])
def test_score_matches_sequence_classification(family, tmp_path):
    cls = {"llama": (transformers.LlamaConfig, transformers.LlamaForSequenceClassification),
           "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForSequenceClassification)}[family]
    config = cls[0](vocab_size=259, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, num_labels=2, pad_token_id=PAD, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = cls[1](config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(1 + 0.1 * torch.randn_like(p) if "norm" in name else 0.3 * torch.randn_like(p))
    model.save_pretrained(tmp_path / "rm")
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"input_ids": s}) + "\n" for s in SEQUENCES))
    ours = [json.loads(line)["rewards"] for line in run("score", "--model", tmp_path / "rm", "--input", inputs).splitlines()]
    expected = hf_rewards(model, SEQUENCES)
    for got, want in zip(ours, expected):
        assert len(got) == 2
        assert max(abs(a - b) for a, b in zip(got, want)) < 1e-4, (got, want)


def test_saved_reward_model_loads_in_transformers(tmp_path):
    run("init", "--preset", "tiny", "--vocab", "259", "--seed", "5", "--out", tmp_path / "lm")
    run("init-reward", "--from", tmp_path / "lm", "--outputs", "3", "--pooling", "eos", "--seed", "1",
        "--out", tmp_path / "rm")
    model = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path / "rm").eval()
    assert type(model).__name__ == "LlamaForSequenceClassification"
    assert model.config.num_labels == 3
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"input_ids": s}) + "\n" for s in SEQUENCES))
    ours = [json.loads(line)["rewards"] for line in run("score", "--model", tmp_path / "rm", "--input", inputs).splitlines()]
    for got, want in zip(ours, hf_rewards(model, SEQUENCES)):
        assert max(abs(a - b) for a, b in zip(got, want)) < 1e-5


def test_score_pairs_accuracy_is_what_the_rewards_imply(tmp_path):
    run("init", "--preset", "tiny", "--vocab", "259", "--seed", "2", "--out", tmp_path / "lm")
    run("init-reward", "--from", tmp_path / "lm", "--pooling", "last", "--seed", "7", "--out", tmp_path / "rm")
    texts = [["## Human:\nhi\n\n## Assistant:\nhello there", "## Human:\nhi\n\n## Assistant:\nno"],
             ["a longer answer, with ünïcode", "short", "middle one"],
             ["tie a", "tie b"]]
    scores = [[1.0, 0.0], [2.0, 0.0, 1.0], [0.5, 0.5]]
    data = tmp_path / "dsp.json"
    data.write_text(json.dumps([{"text": t, "score": s} for t, s in zip(texts, scores)]))
    # Long enough that nothing is cut: score-pairs tokenizes as the trainer does (prompt cut first, then the
    # response), which the trainer's own tests cover; here the pairing and the tie rule are the point.
    result = json.loads(run("score-pairs", "--model", tmp_path / "rm", "--data", data, "--max-length", "64"))

    # The same rewards through `score` on the same token ids: BOS + bytes + EOS.
    def ids(text):
        return [BOS, *text.encode("utf-8"), EOS]
    flat = [t for group in texts for t in group]
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"input_ids": ids(t)}) + "\n" for t in flat))
    rewards = [json.loads(line)["rewards"][0] for line in run("score", "--model", tmp_path / "rm", "--input", inputs).splitlines()]
    correct, pairs, k = 0, 0, 0
    for group, sc in zip(texts, scores):
        r = rewards[k:k + len(group)]
        k += len(group)
        for a in range(len(group)):
            for b in range(a + 1, len(group)):
                if sc[a] == sc[b]:
                    continue
                pairs += 1
                hi, lo = (a, b) if sc[a] > sc[b] else (b, a)
                correct += r[hi] > r[lo]
    assert result["pairs"] == pairs == 4
    assert result["ties_skipped"] == 1
    assert result["correct"] == correct
    assert abs(result["accuracy"] - correct / pairs) < 1e-12


def test_score_pairs_errors_name_file_and_field(tmp_path):
    run("init", "--preset", "tiny", "--vocab", "259", "--out", tmp_path / "lm")
    run("init-reward", "--from", tmp_path / "lm", "--out", tmp_path / "rm")
    data = tmp_path / "bad.json"
    data.write_text(json.dumps([{"text": ["a", "b"], "score": [1, 0]}, {"text": ["a", 3], "score": [1, 0]}]))
    r = subprocess.run([str(ALIGN_LM), "score-pairs", "--model", str(tmp_path / "rm"), "--data", str(data)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "bad.json:1: field 'text'[1]: expected a string, got number" in r.stderr
