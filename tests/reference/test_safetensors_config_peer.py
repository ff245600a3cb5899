"""Our safetensors and config.json I/O against the real peers, through files in both directions.

The runtime's GoogleTest binary has `*Peer*` tests that, with ALIGN_PEER_DIR set, write `peer.safetensors`,
`config.json` (Llama) and `ours-{qwen2,mistral}/config.json` there and read back `py.safetensors` and `py-{llama,qwen2,mistral}/config.json` written here by
the Python `safetensors` library and transformers. Here we check that our files load unchanged in Python
(byte-identical to what `safetensors.torch.save` produces, and a config transformers builds a model from)."""
import os
import subprocess

import pytest

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")
transformers = pytest.importorskip("transformers")

from conftest import BUILD_DIR

RUNTIME_TESTS = BUILD_DIR / "bin" / "align_runtime_tests"
PEER_TESTS = [
    "SafeTensorsPeer.WritesFileForPython",
    "SafeTensorsPeer.ReadsFileFromPython",
    "ModelConfigPeer.WritesConfigForTransformers",
    "ModelConfigPeer.ReadsConfigsFromTransformers",
]


def peer_tensors():
    """The same dictionary as peerTensors() in tests/unit/runtime/SafeTensorsTest.cpp."""
    return {
        "f32": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1,
        "f16": torch.tensor([1.5, -2.0, 0.25, 1024.0]).to(torch.float16),
        "bf16": torch.tensor([1.0, -1.0, 0.5, 256.0]).to(torch.bfloat16).reshape(2, 2),
        "f64": torch.tensor([1.0 / 3.0, -2.5, 1e300], dtype=torch.float64),
        "i64": torch.tensor([-(2**63), 2**40], dtype=torch.int64),
        "i32": torch.tensor([[-7, 8], [2**31 - 1, -(2**31)]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 0, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 128, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, False, True]),
        "scalar": torch.tensor(3.25, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
    }


SMALL = dict(vocab_size=128, hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2)
LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 256}


def write_python_side(peer_dir):
    safetensors_torch.save_file(peer_tensors(), str(peer_dir / "py.safetensors"), metadata={"format": "pt"})
    configs = {
        "py-llama": transformers.LlamaConfig(**SMALL, max_position_embeddings=512, rope_theta=500000.0,
                                             rope_scaling=LLAMA3_SCALING, bos_token_id=1, eos_token_id=[2, 3]),
        "py-qwen2": transformers.Qwen2Config(**SMALL, tie_word_embeddings=True, rope_theta=1000000.0),
        "py-mistral": transformers.MistralConfig(**SMALL, head_dim=32, sliding_window=64),
    }
    for name, config in configs.items():
        config.save_pretrained(str(peer_dir / name))


@pytest.fixture(scope="module")
def peer_dir(tmp_path_factory):
    if not RUNTIME_TESTS.exists():
        pytest.skip(f"{RUNTIME_TESTS} is not built (ninja align_runtime_tests)")
    peer_dir = tmp_path_factory.mktemp("peer")
    write_python_side(peer_dir)
    run = subprocess.run([str(RUNTIME_TESTS), "--gtest_filter=*Peer*"], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "ALIGN_PEER_DIR": str(peer_dir)})
    assert run.returncode == 0, run.stdout + run.stderr
    for test in PEER_TESTS:  # a skipped test would pass silently otherwise
        assert f"[       OK ] {test}" in run.stdout, f"{test} did not run and pass:\n{run.stdout}"
    return peer_dir


def test_runtime_reads_python_files_and_writes_its_own(peer_dir):
    assert (peer_dir / "peer.safetensors").exists()
    assert (peer_dir / "config.json").exists()
    assert not [p.name for p in peer_dir.iterdir() if ".tmp-" in p.name]


def test_runtime_safetensors_load_in_python(peer_dir):
    expected = peer_tensors()
    loaded = safetensors_torch.load_file(str(peer_dir / "peer.safetensors"))
    assert sorted(loaded) == sorted(expected)
    for name, want in expected.items():
        got = loaded[name]
        assert got.dtype == want.dtype, name
        assert got.shape == want.shape, name
        assert torch.equal(got, want), name
    from safetensors import safe_open
    with safe_open(str(peer_dir / "peer.safetensors"), framework="pt") as f:
        assert f.metadata() == {"format": "pt"}


def test_runtime_safetensors_are_byte_identical_to_python(peer_dir):
    ours = (peer_dir / "peer.safetensors").read_bytes()
    theirs = safetensors_torch.save(peer_tensors(), metadata={"format": "pt"})
    assert ours == theirs


def rope_of(config):
    """transformers 5 keeps theta and scaling in rope_parameters, 4 in rope_theta and rope_scaling."""
    params = getattr(config, "rope_parameters", None)
    if params:
        return params.get("rope_theta"), params
    return config.rope_theta, config.rope_scaling or {}


def test_runtime_config_loads_in_transformers(peer_dir):
    config = transformers.AutoConfig.from_pretrained(str(peer_dir))
    assert type(config).__name__ == "LlamaConfig"
    assert config.architectures == ["LlamaForCausalLM"]
    assert (config.vocab_size, config.hidden_size, config.intermediate_size) == (320, 64, 176)
    assert (config.num_hidden_layers, config.num_attention_heads, config.num_key_value_heads) == (2, 4, 2)
    assert config.head_dim == 16
    assert config.max_position_embeddings == 512
    assert config.rms_norm_eps == pytest.approx(1e-5)
    assert config.tie_word_embeddings is False
    assert config.attention_bias is False and config.mlp_bias is False
    assert config.hidden_act == "silu"
    assert (config.bos_token_id, config.eos_token_id, config.pad_token_id) == (1, [2, 3], None)
    theta, scaling = rope_of(config)
    assert theta == 10000.0
    assert scaling.get("rope_type", scaling.get("type")) == "llama3"
    assert scaling["factor"] == 8.0
    assert (scaling["low_freq_factor"], scaling["high_freq_factor"]) == (1.0, 4.0)
    assert scaling["original_max_position_embeddings"] == 256
    dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    assert dtype in (torch.float32, "float32")

    model = transformers.AutoModelForCausalLM.from_config(config)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert len(model.model.layers) == 2
    assert model.model.embed_tokens.weight.shape == (320, 64)
    assert model.lm_head.weight.shape == (320, 64)
    assert model.model.layers[0].self_attn.k_proj.weight.shape == (2 * 16, 64)
    assert model.model.layers[0].self_attn.q_proj.bias is None
    assert model.model.layers[0].mlp.gate_proj.weight.shape == (176, 64)
    with torch.no_grad():
        logits = model(torch.tensor([[1, 5, 9]])).logits
    assert logits.shape == (1, 3, 320)


def test_runtime_qwen2_and_mistral_configs_load_in_transformers(peer_dir):
    qwen2 = transformers.AutoConfig.from_pretrained(str(peer_dir / "ours-qwen2"))
    assert type(qwen2).__name__ == "Qwen2Config"
    assert qwen2.architectures == ["Qwen2ForCausalLM"]
    assert qwen2.tie_word_embeddings is True
    assert rope_of(qwen2)[0] == 1000000.0
    assert not qwen2.use_sliding_window
    model = transformers.AutoModelForCausalLM.from_config(qwen2)
    attention = model.model.layers[0].self_attn
    assert attention.q_proj.bias is not None and attention.k_proj.bias is not None
    assert attention.o_proj.bias is None
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()

    mistral = transformers.AutoConfig.from_pretrained(str(peer_dir / "ours-mistral"))
    assert type(mistral).__name__ == "MistralConfig"
    assert (mistral.sliding_window, mistral.head_dim) == (128, 32)
    model = transformers.AutoModelForCausalLM.from_config(mistral)
    assert model.model.layers[0].self_attn.q_proj.weight.shape == (4 * 32, 64)
    assert model.model.layers[0].self_attn.q_proj.bias is None
    with torch.no_grad():
        assert model(torch.tensor([[1, 2, 3]])).logits.shape == (1, 3, 320)
