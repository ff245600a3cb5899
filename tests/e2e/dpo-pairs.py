#!/usr/bin/env python3
"""recipes/dpo_pairs.align on a Hugging Face checkpoint: a tiny LlamaForCausalLM and a BPE tokenizer.json made
here with transformers and tokenizers, TRL-style pairs, the trainer pointed at them with --set. DPO's first loss
is ln 2 (policy = reference), the metrics carry each step's tokens and seconds, and the trainer built with
--no-share-prefix (each response decoded with its own copy of the prompt) trains the same losses in float32, and so
do the cost model's other choices set by hand: activations recomputed, the head unfused, two micro-batches.
Usage: dpo-pairs.py BUILD_DIR SOURCE_DIR"""
import json
import math
import os
import subprocess
import sys
import tempfile

build, source = sys.argv[1], sys.argv[2]
BOS, EOS, PAD = "<s>", "</s>", "<pad>"
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print(f"FAIL: {what}")


def make_inputs(work):
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    topics = ["tea", "maps", "rain", "bread", "chess", "boats", "stars", "clocks"]
    pairs = []
    for i in range(24):
        topic = topics[i % len(topics)]
        pairs.append({"prompt": f"\n\nHuman: tell me about {topic} {i}\n\nAssistant:",
                      "chosen": f" {topic} are lovely, and here is why: " + " ".join([topic] * (3 + i % 5)),
                      "rejected": f" no idea about {topic}."})
    texts = [p["prompt"] + p["chosen"] for p in pairs] + [p["prompt"] + p["rejected"] for p in pairs]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=400, special_tokens=[PAD, BOS, EOS],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                       show_progress=False))
    tok.post_processor = processors.TemplateProcessing(single=f"{BOS} $A", special_tokens=[(BOS, tok.token_to_id(BOS))])
    model_dir = os.path.join(work, "model")
    transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS,
                                         pad_token=PAD).save_pretrained(model_dir)
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=128,
                                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                      max_position_embeddings=256, tie_word_embeddings=False,
                                      bos_token_id=tok.token_to_id(BOS), eos_token_id=tok.token_to_id(EOS),
                                      pad_token_id=tok.token_to_id(PAD))
    transformers.LlamaForCausalLM(config).save_pretrained(model_dir, safe_serialization=True)
    data = os.path.join(work, "data")
    os.makedirs(data)
    with open(os.path.join(data, "pairs.jsonl"), "w") as f:
        for p in pairs:
            f.write(json.dumps(p) + "\n")
    return model_dir, data


def train(work, name, flags, model_dir, data, *settings):
    trainer = os.path.join(work, f"trainer-{name}")
    subprocess.run([os.path.join(build, "bin", "alignc"), "build", os.path.join(source, "recipes", "dpo_pairs.align"),
                    "-o", trainer, *flags], check=True)
    out = os.path.join(work, f"out-{name}")
    cmd = [trainer, "--out", out, "--data-root", data, "--steps", "3", "--threads", "1",
           "--set", f"lm.path={model_dir}", "--set", f"ref.path={model_dir}",
           "--set", f"tok.path={os.path.join(model_dir, 'tokenizer.json')}", "--set", "dpo.schedule.batch=4", "--set", "dpo.schedule.micro_batch=4"]
    for s in settings:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True)
    check(os.path.isfile(os.path.join(out, "checkpoints", "dpo", "model.safetensors")), f"{name}: a checkpoint")
    rows = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]
    return [r for r in rows if r["stage"] == "dpo" and r["split"] == "train"]


with tempfile.TemporaryDirectory() as work:
    model_dir, data = make_inputs(work)
    auto = train(work, "auto", [], model_dir, data)
    check(len(auto) == 3, f"three step lines, got {len(auto)}")
    check(abs(auto[0]["loss"] - math.log(2)) < 1e-4, f"first DPO loss is ln 2, got {auto[0]['loss']}")
    check(all(r["tokens"] > 0 and r["seconds"] > 0 for r in auto), "each line has its tokens and seconds")
    shared = train(work, "shared", [], model_dir, data, "dpo.schedule.precision=fp32")
    unshared = train(work, "unshared", ["--no-share-prefix"], model_dir, data, "dpo.schedule.precision=fp32")
    check([r["tokens"] for r in shared] == [r["tokens"] for r in unshared], "the same tokens per step")
    for a, b in zip(shared, unshared):
        check(abs(a["loss"] - b["loss"]) <= 1e-5 * max(1.0, abs(b["loss"])),
              f"step {a['step']}: shared loss {a['loss']} = unshared {b['loss']}")
    # The cost model's other settings change how the step runs, not what it computes: layers recomputed in
    # backward, two micro-batches, the head unfused.
    recomputed = train(work, "recomputed", [], model_dir, data, "dpo.schedule.precision=fp32",
                       "dpo.schedule.activations=recompute", "dpo.schedule.fused_logprobs=false")
    halves = train(work, "halves", [], model_dir, data, "dpo.schedule.precision=fp32", "dpo.schedule.micro_batch=2")
    for other, name in ((recomputed, "recomputed and unfused"), (halves, "micro-batch 2")):
        check([r["tokens"] for r in other] == [r["tokens"] for r in shared], f"{name}: the same tokens per step")
        for a, b in zip(other, shared):
            check(abs(a["loss"] - b["loss"]) <= 1e-5 * max(1.0, abs(b["loss"])),
                  f"step {a['step']}: {name} loss {a['loss']} = {b['loss']}")

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
print("dpo_pairs: ok")
