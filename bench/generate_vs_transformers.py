#!/usr/bin/env python3
"""Batched sampling: `align-lm generate --input` against transformers' `generate`, side by side, from one command.

Builds the shared inputs once, then generates prompts × samples continuations with each implementation, each in its
own process, and compares throughput (new tokens per second of generation) and peak memory:

  * tokenizer: a byte-level BPE tokenizer.json trained with `tokenizers` on the HH texts of ../shared/data/dsp
    (or --data; helpful + harmless, file order; deterministic), --vocab entries, with <pad>, <s> (BOS) and </s>
    (EOS); its post-processor prepends BOS, so transformers' `tokenizer(prompt)` is align-lm's [BOS] + prompt;
  * model: LlamaForCausalLM from transformers with a fixed seed (default: the runtime's `tiny` preset shape —
    2 layers, hidden 64, 4 heads, 2 key/value heads, intermediate 176 — with the tokenizer's vocabulary and an
    untied LM head, fp32), saved as one safetensors checkpoint that both sides load;
  * prompts: the first human turn of helpful.json's dialogues ("\\n\\nHuman: ... \\n\\nAssistant:"), in file order,
    those of at most --max-prompt-tokens tokens, --prompts of them, written as {"prompt": TEXT} lines;
  * settings, equal on both sides: --samples per prompt, rows per batch (--batch: transformers gets --batch /
    --samples prompts per `generate` call with num_return_sequences = --samples; align-lm --batch ROWS),
    left padding, temperature, top-p, top-k (0: off on both: transformers' default top_k=50 is overridden), exactly
    --max-new-tokens per sample (no EOS stop on either side: transformers' eos_token_id is None, align-lm
    --eos none; the driver checks every sample has max_new_tokens ids), KV cache, fp32, the same number of torch
    threads (torch.set_num_threads / align-lm --threads, and OMP/MKL_NUM_THREADS in both environments).

Measured per process: the seconds spent generating (transformers: the `generate` calls; align-lm: the time it
reports on stderr, model loading and tokenization excluded on both sides), the new tokens, and the process's peak
RSS (ru_maxrss from wait4 of that child alone). A greedy check first runs both sides at temperature 0 on a few
prompts: identical ids show that both decode the same prompts with the same model.
Writes bench/results/generate_vs_transformers.json and prints the ratios align-lm / transformers.

    ninja -C build align-lm
    .venv/bin/python bench/generate_vs_transformers.py [--threads 2] [--prompts 32] [--samples 4] [--max-new-tokens 64]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "dsp")  # --data replaces it
BOS, EOS, PAD = "<s>", "</s>", "<pad>"

HF_CHILD = r"""
import json, sys, time
cfg = json.loads(sys.argv[1])
import torch
torch.set_num_threads(cfg["threads"])
import transformers
from transformers import AutoTokenizer, LlamaForCausalLM
transformers.logging.set_verbosity_error()
tok = AutoTokenizer.from_pretrained(cfg["model"], padding_side="left")
model = LlamaForCausalLM.from_pretrained(cfg["model"], torch_dtype=torch.float32, attn_implementation="sdpa").eval()
model.generation_config.eos_token_id = None  # no stop token: every sample has max_new_tokens
model.generation_config.pad_token_id = tok.pad_token_id
prompts = [json.loads(line)["prompt"] for line in open(cfg["input"]) if line.strip()]
per_call = max(1, cfg["batch"] // cfg["samples"])
sample = cfg["temperature"] > 0
kwargs = dict(max_new_tokens=cfg["max_new_tokens"], do_sample=sample, num_return_sequences=cfg["samples"],
              use_cache=True)
if sample:
    kwargs.update(temperature=cfg["temperature"], top_p=cfg["top_p"], top_k=cfg["top_k"])
else:
    kwargs.update(temperature=None, top_p=None, top_k=None)
torch.manual_seed(cfg["seed"])
rows, seconds = [], 0.0
with torch.no_grad():
    for start in range(0, len(prompts), per_call):
        batch = tok(prompts[start:start + per_call], return_tensors="pt", padding=True)
        t = time.perf_counter()
        out = model.generate(**batch, **kwargs)
        seconds += time.perf_counter() - t
        rows += out[:, batch["input_ids"].size(1):].tolist()
print(json.dumps({"impl": "transformers-" + transformers.__version__, "seconds": seconds, "rows": rows,
                  "threads": torch.get_num_threads(), "torch": torch.__version__}))
"""


def hh_prompts(data, tok, count, max_tokens):
    """The first human turn of helpful.json's dialogues, in file order, of at most max_tokens tokens ([BOS] included)."""
    with open(os.path.join(data, "helpful.json")) as f:
        rows = json.load(f)
    prompts = []
    for row in rows:
        text = row["text"][0]
        cut = text.find("\n\nAssistant:")
        if cut < 0:
            continue
        prompt = text[:cut + len("\n\nAssistant:")]
        if len(tok.encode(prompt).ids) <= max_tokens and prompt not in prompts:
            prompts.append(prompt)
        if len(prompts) == count:
            return prompts
    sys.exit(f"only {len(prompts)} prompts of at most {max_tokens} tokens in helpful.json, {count} needed")


def train_tokenizer(data, vocab, out_dir):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    texts = []
    for name in ("helpful.json", "harmless.json"):
        with open(os.path.join(data, name)) as f:
            texts += [t for row in json.load(f) for t in row["text"]]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=[PAD, BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B",
                                                       special_tokens=[(BOS, tok.token_to_id(BOS))])
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD).save_pretrained(out_dir)
    return tok


def make_model(cfg, tok, out_dir):
    import torch
    import transformers

    torch.manual_seed(cfg["model_seed"])
    config = transformers.LlamaConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=cfg["hidden"], intermediate_size=cfg["intermediate"],
        num_hidden_layers=cfg["layers"], num_attention_heads=cfg["heads"], num_key_value_heads=cfg["kv_heads"],
        max_position_embeddings=512, tie_word_embeddings=False, attention_dropout=0.0,
        bos_token_id=tok.token_to_id(BOS), eos_token_id=tok.token_to_id(EOS), pad_token_id=tok.token_to_id(PAD))
    transformers.LlamaForCausalLM(config).to(torch.float32).save_pretrained(out_dir, safe_serialization=True)


def run_child(cmd, env, out_path):
    """Runs cmd with stdout to out_path; returns (stdout, stderr, seconds, peak RSS bytes of that child alone)."""
    with open(out_path, "w") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()
    with open(out_path) as f:
        stdout = f.read()
    if proc.returncode != 0:
        sys.stderr.write(stdout[-4000:] + stderr[-8000:])
        sys.exit(f"{cmd[0]} failed with exit status {proc.returncode}")
    return stdout, stderr, seconds, usage.ru_maxrss * 1024


def run_ours(binary, cfg, env, work):
    cmd = [binary, "generate", "--model", cfg["model"], "--input", cfg["input"], "--samples", str(cfg["samples"]),
           "--batch", str(cfg["batch"]), "--max-new-tokens", str(cfg["max_new_tokens"]), "--temperature",
           str(cfg["temperature"]), "--top-p", str(cfg["top_p"]), "--top-k", str(cfg["top_k"]), "--seed",
           str(cfg["seed"]), "--eos", "none", "--threads", str(cfg["threads"])]
    stdout, stderr, process_s, rss = run_child(cmd, env, os.path.join(work, "ours.jsonl"))
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    rows = [line["ids"] for line in sorted(lines, key=lambda l: (l["prompt_index"], l["sample"]))]
    summary = [line for line in stderr.splitlines() if " new tokens in " in line][-1]
    seconds = float(summary.split(" new tokens in ")[1].split(" s ")[0])
    return {"impl": "align-lm", "seconds": seconds, "rows": rows, "process_s": process_s, "peak_rss_bytes": rss}


def run_hf(cfg, env, work):
    stdout, _, process_s, rss = run_child([sys.executable, "-c", HF_CHILD, json.dumps(cfg)], env,
                                          os.path.join(work, "hf.json"))
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(process_s=process_s, peak_rss_bytes=rss)
    return result


def measure(side, cfg):
    """Tokens per second of one run, after checking every sample has exactly max_new_tokens ids."""
    rows = side.pop("rows")
    expected = cfg["prompts"] * cfg["samples"]
    if len(rows) != expected or any(len(r) != cfg["max_new_tokens"] for r in rows):
        sys.exit(f"{side['impl']}: expected {expected} samples of {cfg['max_new_tokens']} tokens, got lengths "
                 f"{sorted(set(len(r) for r in rows))} over {len(rows)} samples")
    side["tokens"] = sum(len(r) for r in rows)
    side["tokens_per_s"] = side["tokens"] / side["seconds"]
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--batch", type=int, default=0, help="rows per batch (default: prompts × samples)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--max-prompt-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.9)
    parser.add_argument("--top-k", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=2)
    parser.add_argument("--intermediate", type=int, default=176)
    parser.add_argument("--runs", type=int, default=1, help="runs of each side; the median tokens/s is reported")
    parser.add_argument("--greedy-check", type=int, default=4, help="prompts of the greedy parity check (0: none)")
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--work", default=None, help="keep the generated inputs and outputs here")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "generate_vs_transformers.json"))
    args = parser.parse_args()
    binary = os.path.join(args.build, "bin", "align-lm")
    if not os.path.exists(binary):
        sys.exit(f"{binary} is missing: run `ninja -C {args.build} align-lm`")
    work = args.work or tempfile.mkdtemp(prefix="generate_bench_")
    os.makedirs(work, exist_ok=True)
    model_dir, prompts_path = os.path.join(work, "model"), os.path.join(work, "prompts.jsonl")
    cfg = {"prompts": args.prompts, "samples": args.samples, "batch": args.batch or args.prompts * args.samples,
           "max_new_tokens": args.max_new_tokens, "temperature": args.temperature, "top_p": args.top_p,
           "top_k": args.top_k, "seed": args.seed, "threads": args.threads, "layers": args.layers,
           "hidden": args.hidden, "heads": args.heads, "kv_heads": args.kv_heads, "intermediate": args.intermediate,
           "vocab": args.vocab, "max_prompt_tokens": args.max_prompt_tokens, "model_seed": 42,
           "model": model_dir, "input": prompts_path}
    if cfg["batch"] % cfg["samples"]:
        sys.exit("--batch must be a multiple of --samples (transformers expands whole prompts)")
    print(f"building inputs in {work}", file=sys.stderr)
    tok = train_tokenizer(args.data, args.vocab, model_dir)
    make_model(cfg, tok, model_dir)
    prompts = hh_prompts(args.data, tok, args.prompts, args.max_prompt_tokens)
    with open(prompts_path, "w") as f:
        for p in prompts:
            f.write(json.dumps({"prompt": p}) + "\n")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))

    greedy = None
    if args.greedy_check > 0:
        check = dict(cfg, prompts=args.greedy_check, samples=1, batch=args.greedy_check, temperature=0.0,
                     max_new_tokens=min(16, args.max_new_tokens), input=os.path.join(work, "greedy.jsonl"))
        with open(check["input"], "w") as f:
            for p in prompts[:args.greedy_check]:
                f.write(json.dumps({"prompt": p}) + "\n")
        ours, hf = run_ours(binary, check, env, work), run_hf(check, env, work)
        a, b = measure(ours, check), measure(hf, check)
        greedy = {"prompts": args.greedy_check, "tokens": check["max_new_tokens"],
                  "identical_rows": sum(x == y for x, y in zip(a, b))}
        print(f"greedy check: {greedy['identical_rows']} of {args.greedy_check} rows identical", file=sys.stderr)

    runs = {"align-lm": [], "transformers": []}
    for run in range(args.runs):
        for name, fn in (("align-lm", lambda: run_ours(binary, cfg, env, work)), ("transformers", lambda: run_hf(cfg, env, work))):
            side = fn()
            measure(side, cfg)
            runs[name].append(side)
            print(f"  run {run}: {side['impl']}: {side['tokens']} tokens in {side['seconds']:.2f} s "
                  f"({side['tokens_per_s']:.0f} tokens/s), peak RSS {side['peak_rss_bytes'] / 2**20:.0f} MiB",
                  file=sys.stderr)
    summary = {}
    for name, sides in runs.items():
        summary[name] = {"impl": sides[0]["impl"], "tokens": sides[0]["tokens"],
                         "tokens_per_s": statistics.median(s["tokens_per_s"] for s in sides),
                         "seconds": [s["seconds"] for s in sides], "process_s": [s["process_s"] for s in sides],
                         "peak_rss_bytes": max(s["peak_rss_bytes"] for s in sides)}
    ours, peer = summary["align-lm"], summary["transformers"]
    ratios = {"tokens_per_s": ours["tokens_per_s"] / peer["tokens_per_s"],
              "peak_rss": ours["peak_rss_bytes"] / peer["peak_rss_bytes"]}
    public_cfg = {k: v for k, v in cfg.items() if k not in ("model", "input")}
    report = {"config": public_cfg, "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
              "machine": {"nproc": os.cpu_count(), "cpu": platform.processor() or platform.machine()},
              "versions": {"transformers": runs["transformers"][0]["impl"].split("-", 1)[1],
                           "torch": runs["transformers"][0]["torch"]},
              "greedy_check": greedy, "results": summary, "ratios_align_lm_vs_transformers": ratios}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"{cfg['prompts']} prompts x {cfg['samples']} samples x {cfg['max_new_tokens']} new tokens, batch "
          f"{cfg['batch']} rows, vocab {tok.get_vocab_size()}, T {cfg['temperature']} top-p {cfg['top_p']} "
          f"top-k {cfg['top_k']}, {cfg['threads']} threads")
    print(f"{'impl':22} {'tokens':>7} {'tokens/s':>9} {'peak RSS MiB':>13}")
    for side in (ours, peer):
        print(f"{side['impl']:22} {side['tokens']:7d} {side['tokens_per_s']:9.0f} {side['peak_rss_bytes'] / 2**20:13.0f}")
    print(f"align-lm / transformers: tokens/s x{ratios['tokens_per_s']:.2f}, peak RSS x{ratios['peak_rss']:.2f}")
    print(f"wrote {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
