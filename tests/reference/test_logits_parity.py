"""Our Llama-family decoder against transformers, through files as a user would use it: tiny random Hugging Face
models (Llama with GQA, tied/untied heads, explicit head_dim, Llama-3 rope scaling, large theta; Qwen2 with q/k/v
biases; Mistral) are saved with save_pretrained, loaded by `align-lm logprobs`, and every token log-prob must
match transformers' within 1e-5 (fp32). The other way round, a model `align-lm init` writes loads in
transformers unchanged and gives the same log-probs. Broken checkpoints give an error naming file and field."""
import json
import os
import subprocess

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from conftest import BUILD_DIR

ALIGN_LM = BUILD_DIR / "bin" / "align-lm"
VOCAB = 300


def small(**overrides):
    base = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-6, tie_word_embeddings=False)
    base.update(overrides)
    return base


CONFIGS = {
    "llama_gqa": lambda: transformers.LlamaConfig(**small()),
    "llama_mha_tied": lambda: transformers.LlamaConfig(**small(num_key_value_heads=4, tie_word_embeddings=True)),
    "llama_head_dim": lambda: transformers.LlamaConfig(**small(head_dim=32)),
    "llama3_rope_scaling": lambda: transformers.LlamaConfig(**small(rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 32})),
    "llama_theta_bias": lambda: transformers.LlamaConfig(**small(
        rope_scaling={"rope_type": "default", "rope_theta": 500000.0}, attention_bias=True, mlp_bias=True)),
    "qwen2": lambda: transformers.Qwen2Config(**small(tie_word_embeddings=True)),
    "mistral": lambda: transformers.MistralConfig(**small(sliding_window=None)),
}

SEQUENCES = [[5, 17], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
             [(i * 37 + 11) % VOCAB for i in range(96)], [299, 0, 299, 0, 150]]


def randomize(model):
    """Weights large enough that log-probs differ clearly from uniform (the default init is nearly uniform)."""
    gen = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)


def hf_logprobs(model, ids):
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits.float()
    logp = torch.log_softmax(logits[0, :-1], dim=-1)
    return logp.gather(-1, torch.tensor(ids[1:]).unsqueeze(-1)).squeeze(-1).tolist()


def ours(model_dir, sequences, tmp_path, extra=()):
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text("".join(json.dumps({"input_ids": s}) + "\n" for s in sequences))
    r = subprocess.run([str(ALIGN_LM), "logprobs", "--model", str(model_dir), "--input", str(inputs), *extra],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


@pytest.fixture(scope="module", autouse=True)
def built():
    if not ALIGN_LM.exists():
        pytest.skip(f"{ALIGN_LM} is not built")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_logprobs_match_transformers(name, tmp_path):
    torch.manual_seed(0)
    config = CONFIGS[name]()
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    randomize(model)
    model.save_pretrained(tmp_path / "model", safe_serialization=True)
    results = ours(tmp_path / "model", SEQUENCES, tmp_path)
    assert len(results) == len(SEQUENCES)
    every = []
    for ids, result in zip(SEQUENCES, results):
        expected = hf_logprobs(model, ids)
        got = result["token_logprobs"]
        assert len(got) == len(ids) - 1
        worst = max(abs(a - b) for a, b in zip(got, expected))
        assert worst < 1e-5, f"{name}: max |Δ log p| = {worst:g} over {len(ids)} tokens"
        assert abs(result["sum"] - sum(expected)) < 1e-4
        every += expected
    # The comparison means something only if the model is far from uniform.
    assert max(every) - min(every) > 1.0


def test_saved_preset_loads_in_transformers(tmp_path):
    out = tmp_path / "tiny"
    r = subprocess.run([str(ALIGN_LM), "init", "--preset", "tiny", "--vocab", "259", "--seed", "3", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    model = transformers.AutoModelForCausalLM.from_pretrained(out).eval()
    assert type(model).__name__ == "LlamaForCausalLM"
    seqs = [[(i * 7) % 259 for i in range(40)]]
    result = ours(out, seqs, tmp_path)[0]
    expected = hf_logprobs(model, seqs[0])
    assert max(abs(a - b) for a, b in zip(result["token_logprobs"], expected)) < 1e-5


def test_init_is_seeded(tmp_path):
    sums = []
    for run, seed in enumerate(["1", "1", "2"]):
        out = tmp_path / f"m{run}"
        subprocess.run([str(ALIGN_LM), "init", "--preset", "tiny", "--vocab", "259", "--seed", seed, "--out", str(out)],
                       check=True, capture_output=True, timeout=120)
        sums.append(ours(out, [[1, 2, 3, 4]], tmp_path)[0]["sum"])
    assert sums[0] == sums[1] and sums[0] != sums[2]


def broken(tmp_path, mutate):
    model_dir = tmp_path / "model"
    transformers.AutoModelForCausalLM.from_config(CONFIGS["llama_gqa"]()).save_pretrained(model_dir)
    mutate(model_dir)
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('{"input_ids": [1, 2, 3]}\n')
    return subprocess.run([str(ALIGN_LM), "logprobs", "--model", str(model_dir), "--input", str(inputs)],
                          capture_output=True, text=True, timeout=120)


def test_config_missing_field_is_a_clear_error(tmp_path):
    def drop_hidden_size(d):
        cfg = json.loads((d / "config.json").read_text())
        del cfg["hidden_size"]
        (d / "config.json").write_text(json.dumps(cfg))
    r = broken(tmp_path, drop_hidden_size)
    assert r.returncode == 1
    assert "config.json" in r.stderr and "hidden_size" in r.stderr


def test_truncated_safetensors_is_a_clear_error(tmp_path):
    def truncate(d):
        path = d / "model.safetensors"
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    r = broken(tmp_path, truncate)
    assert r.returncode == 1
    assert "model.safetensors" in r.stderr


def test_config_claiming_more_layers_than_the_checkpoint_is_refused_before_allocating(tmp_path):
    # A billion layers would be allocated (and hang) before the tensors were read; the check comes first.
    def billion_layers(d):
        cfg = json.loads((d / "config.json").read_text())
        cfg["num_hidden_layers"] = 1000000000
        (d / "config.json").write_text(json.dumps(cfg))
    r = broken(tmp_path, billion_layers)
    assert r.returncode == 1, r.stderr
    assert "config.json: field 'num_hidden_layers' = 1000000000, but the checkpoint holds 2 layers" in r.stderr


def test_generate_refuses_bad_sampling_settings(tmp_path):
    out = tmp_path / "tiny"
    subprocess.run([str(ALIGN_LM), "init", "--preset", "tiny", "--vocab", "259", "--out", str(out)], check=True,
                   capture_output=True, timeout=120)
    for flag, value, message in [("--max-new-tokens", "-5", "expected a positive number of tokens"),
                                 ("--max-new-tokens", "0", "expected a positive number of tokens"),
                                 ("--temperature", "nan", "expected a finite number >= 0"),
                                 ("--top-p", "1.5", "expected a number in (0, 1]")]:
        r = subprocess.run([str(ALIGN_LM), "generate", "--model", str(out), "--prompt-ids", "1,2", flag, value],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 1 and r.stdout == "", (flag, value, r.stdout, r.stderr)
        assert f"{flag}: {message}" in r.stderr, (flag, r.stderr)


def test_malformed_input_line_names_file_line_and_field(tmp_path):
    out = tmp_path / "tiny"
    subprocess.run([str(ALIGN_LM), "init", "--preset", "tiny", "--vocab", "259", "--out", str(out)], check=True,
                   capture_output=True, timeout=120)
    inputs = tmp_path / "bad.jsonl"
    inputs.write_text('{"input_ids": [1, 2]}\n{"input_ids": [1, "x"]}\n')
    r = subprocess.run([str(ALIGN_LM), "logprobs", "--model", str(out), "--input", str(inputs)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert f"{inputs}:2: field 'input_ids'[1]" in r.stderr


def test_greedy_generation_matches_transformers(tmp_path):
    config = transformers.LlamaConfig(**small(vocab_size=259, bos_token_id=256, eos_token_id=257, pad_token_id=258))
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    randomize(model)
    model.save_pretrained(tmp_path / "model")
    prompt = [256, 72, 101, 108, 108, 111]
    with torch.no_grad():
        expected = model.generate(torch.tensor([prompt]), do_sample=False, max_new_tokens=24,
                                  attention_mask=torch.ones(1, len(prompt), dtype=torch.long))[0, len(prompt):].tolist()
    r = subprocess.run([str(ALIGN_LM), "generate", "--model", str(tmp_path / "model"), "--prompt-ids",
                        ",".join(map(str, prompt)), "--temperature", "0", "--max-new-tokens", "24"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["ids"]
    # transformers stops after EOS (257) too; both sequences end there or run 24 tokens.
    assert got == expected
