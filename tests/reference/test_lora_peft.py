"""LoRA adapters against `peft`: a recipe trains a policy `lm with lora8` for a few steps; the adapter it saves
(OUT/checkpoints/<stage>/adapter: adapter_model.safetensors + adapter_config.json) must load with
peft.PeftModel.from_pretrained on the stage's starting model, and give the logits of the merged checkpoint the stage
also saves (OUT/checkpoints/<stage>), both as a PeftModel and after merge_and_unload(), in fp32 within 1e-5.
Two shapes of run: the LoRA stage starts from a declared checkpoint, or from an earlier (full fine-tuning) stage."""
import json
from pathlib import Path
import subprocess

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")
safetensors_torch = pytest.importorskip("safetensors.torch")

from conftest import BUILD_DIR

ALIGN_LM = BUILD_DIR / "bin" / "align-lm"
ALIGNC = BUILD_DIR / "bin" / "alignc"
VOCAB = 259
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"]
ADAPTER = f"adapter lora8 = lora(r: 8, alpha: 16, dropout: 0, targets: {json.dumps(TARGETS)});"
INPUTS = [[(i * 7) % VOCAB for i in range(40)], [72, 101, 108, 108, 111], [(i * 37 + 11) % VOCAB for i in range(96)]]

# The LoRA stage starts from the declared checkpoint ({base} is filled in).
FROM_CHECKPOINT = """recipe lora_peft {
  tokenizer tok = bytes();
  model lm = llama(checkpoint: "{base}", tokenizer: tok);
  data corpus = sft("sft.jsonl") { prompt: "prompt"; response: "response"; };
  ADAPTER
  stage tune {
    policy pi = lm with lora8;
    train pi on corpus;
    objective nll();
  }
}
"""
# The LoRA stage (DPO) starts from an earlier stage's checkpoint, which full fine-tuning changed.
FROM_STAGE = """recipe lora_peft {
  tokenizer tok = bytes();
  model lm = llama(preset: "tiny", tokenizer: tok, seed: 5);
  data corpus = sft("sft.jsonl") { prompt: "prompt"; response: "response"; };
  data prefs = pairwise("prefs.jsonl");
  ADAPTER
  stage sft { train lm on corpus; objective nll(); }
  stage tune {
    init from sft;
    policy pi = lm with lora8;
    reference ref = frozen(sft);
    train pi on prefs;
    objective dpo(beta: 0.1);
  }
}
"""


@pytest.fixture(scope="module", autouse=True)
def built():
    for tool in (ALIGN_LM, ALIGNC):
        if not tool.exists():
            pytest.skip(f"{tool} is not built")


def write_data(root):
    sft = [{"prompt": f"Q: {i}+{i + 1}=", "response": f" {2 * i + 1}"} for i in range(16)]
    (root / "sft.jsonl").write_text("".join(json.dumps(r) + "\n" for r in sft))
    prefs = [{"prompt": f"Say {i}: ", "chosen": f"{i} {i}", "rejected": f"no {i * 3}"} for i in range(16)]
    (root / "prefs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in prefs))


def train(tmp_path, recipe_text, stages=("tune",)):
    """Compiles and runs the recipe for 3 steps per stage; returns OUT."""
    write_data(tmp_path)
    recipe = tmp_path / "lora_peft.align"
    recipe.write_text(recipe_text.replace("ADAPTER", ADAPTER))
    trainer = tmp_path / "trainer"
    r = subprocess.run([str(ALIGNC), "build", str(recipe), "-o", str(trainer)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    # lr 1e-2 (not the default 1e-5) so that 3 steps move B (and an earlier stage's weights) far from where they were.
    settings = [arg for stage in stages for arg in ("--set", f"{stage}.schedule.lr=0.01")]
    r = subprocess.run([str(trainer), "--out", str(out), "--data-root", str(tmp_path), "--steps", "3",
                        "--threads", "1", *settings],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


def load(path):
    return transformers.LlamaForCausalLM.from_pretrained(path, dtype=torch.float32).eval()


def logits(model):
    with torch.no_grad():
        return [model(torch.tensor([ids])).logits[0].float() for ids in INPUTS]


def max_diff(xs, ys):
    return max((x - y).abs().max().item() for x, y in zip(xs, ys))


def check_adapter(start_dir, stage_dir):
    adapter_dir = stage_dir / "adapter"
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 8 and config["lora_alpha"] == 16
    assert config["lora_dropout"] == 0 and sorted(config["target_modules"]) == sorted(TARGETS)
    # The adapter names the model it applies to, so PEFT's AutoPeftModel finds it.
    assert Path(config["base_model_name_or_path"]).resolve() == Path(start_dir).resolve(), config["base_model_name_or_path"]
    saved = safetensors_torch.load_file(adapter_dir / "adapter_model.safetensors")
    layers = load(start_dir).config.num_hidden_layers
    assert len(saved) == 2 * len(TARGETS) * layers, sorted(saved)
    # Training happened: every B moved away from its zero initialisation.
    for name, tensor in saved.items():
        assert tensor.dtype == torch.float32, name
        if ".lora_B." in name:
            assert tensor.abs().max().item() > 1e-4, f"{name} is still zero"

    merged = logits(load(stage_dir))
    start = logits(load(start_dir))
    model = peft.PeftModel.from_pretrained(load(start_dir), adapter_dir).eval()
    # peft loaded every saved tensor under its own name (`...lora_A.default.weight`), none left at its init.
    params = {n.replace(".default", ""): p for n, p in model.named_parameters() if "lora_" in n}
    assert sorted(params) == sorted(saved)
    for name, tensor in saved.items():
        assert torch.equal(params[name].detach(), tensor), name

    # The adapter changes the model by far more than the tolerance, so the comparison can fail.
    assert max_diff(start, merged) > 1e-2
    with_adapter = logits(model)
    diff = max_diff(with_adapter, merged)
    print(f"{stage_dir}: start vs merged {max_diff(start, merged):g}; PeftModel vs merged {diff:g}")
    assert diff < 1e-5, f"PeftModel vs merged checkpoint: max |Δ logit| = {diff:g}"
    unloaded = model.merge_and_unload()
    diff = max_diff(logits(unloaded), merged)
    print(f"{stage_dir}: merge_and_unload() vs merged {diff:g}")
    assert diff < 1e-5, f"merge_and_unload() vs merged checkpoint: max |Δ logit| = {diff:g}"


def test_adapter_from_checkpoint_loads_in_peft(tmp_path):
    base = tmp_path / "base"
    r = subprocess.run([str(ALIGN_LM), "init", "--preset", "tiny", "--vocab", str(VOCAB), "--seed", "3", "--out",
                        str(base)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = train(tmp_path, FROM_CHECKPOINT.replace("{base}", str(base)))
    check_adapter(base, out / "checkpoints" / "tune")


def test_adapter_after_full_stage_loads_in_peft(tmp_path):
    out = train(tmp_path, FROM_STAGE, stages=("sft", "tune"))
    # The adapter is relative to the sft stage's result, not to the preset the recipe starts from.
    check_adapter(out / "checkpoints" / "sft", out / "checkpoints" / "tune")
    assert not (out / "checkpoints" / "sft" / "adapter").exists()
