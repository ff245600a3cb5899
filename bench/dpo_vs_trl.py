#!/usr/bin/env python3
"""DPO training: the trainer alignc emits for recipes/dpo_pairs.align against TRL's DPOTrainer, side by side.

Builds the shared inputs once, then trains the same Llama on the same pairs with each implementation, each in its
own process, and compares throughput, peak memory and the per-step loss curves. The alignc sides are the shipped
recipe's trainer (`alignc build recipes/dpo_pairs.align`; `unfused`: with --no-fuse, `unshared`: with
--no-share-prefix, `recompute`: with --set dpo.schedule.activations=recompute), pointed at the generated files
with --set and run as a user runs it:

  * tokenizer: a byte-level BPE tokenizer.json trained with `tokenizers` on the HH texts of
    ../shared/data/dsp (or --data; helpful + harmless, in file order; deterministic), vocabulary 32000, with <pad>, <s>
    (BOS) and </s> (EOS); its post-processor prepends BOS, as Llama tokenizers do, so TRL's
    `tokenizer(prompt)` gives [BOS] + prompt, the runtime's addBos the same;
  * model: LlamaForCausalLM from transformers with a fixed seed (vocab 32000, untied LM head, fp32), saved
    as one safetensors checkpoint that both sides load;
  * data: pairs from helpful.json (whole "\\n\\nHuman: … \\n\\nAssistant: …" dialogues, score [1, 0]): the
    prompt is the texts' common prefix up to and including the last "\\n\\nAssistant:", chosen and rejected
    the rest, written as pairwise jsonl {prompt, chosen, rejected}, in file order, exactly steps × batch pairs
    (one epoch: both sides score the same reference set). Left out, counted in the report: rows whose prompt
    alone ([BOS] + prompt) has max_length tokens or more (TRL 1.16 drops them, the runtime would keep them with
    an empty response), and rows where BPE merges across the prompt/response boundary (TRL tokenizes
    prompt + response as one text, the runtime separately; on those the two tokenisations differ);
  * settings, equal on both sides: loss sigmoid (DPO), beta, AdamW (lr, betas, eps, weight decay 0), constant
    lr, no warmup, max gradient norm 1, batch / gradient accumulation, max_length with TRL's keep_start
    truncation (the runtime: prompt limit = max_length, so only the response's end is cut), reference log-probs
    precomputed before training, data order fixed (TRL: a SequentialSampler; runtime: shuffle=false), no
    dropout, fp32, the same number of torch threads (and OMP/MKL threads) in every process.

Measured per process: per-step loss (before each optimizer step), wall time of the training loop (the reference
precompute excluded on both sides: TRL precomputes in DPOTrainer.__init__, the trainer before its loop; the
trainer's metrics.jsonl gives each step's `seconds` and non-pad `tokens` with log_every 1), non-pad tokens of the
chosen + rejected sequences per step, peak RSS (ru_maxrss of the whole process: loading, precompute, loop, the
final checkpoint). Writes bench/results/dpo_vs_trl.json and prints a table with the ratios runtime / TRL.

    .venv/bin/python bench/dpo_vs_trl.py [--threads 2] [--steps 50] [--build build] [--small]
    .venv/bin/python bench/dpo_vs_trl.py --threads 2 --steps 10 --batch 4 --layers 12 --hidden 768 --heads 12 \
        --intermediate 2048 --precision bf16          # the ~134M shape
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "dsp")  # --data replaces it
BOS, EOS, PAD = "<s>", "</s>", "<pad>"

TRL_CHILD = r"""
import json, os, resource, sys, time
cfg = json.loads(sys.argv[1])
import torch
torch.set_num_threads(cfg["threads"])
import datasets, transformers, trl
from torch.utils.data import SequentialSampler
from transformers import AutoTokenizer, LlamaForCausalLM, TrainerCallback
from trl import DPOConfig, DPOTrainer
datasets.disable_progress_bars()
transformers.logging.set_verbosity_error()

def vm_kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1
rss_after_import = vm_kib("VmRSS") * 1024

class SequentialDPOTrainer(DPOTrainer):
    # Batches in data order, as the runtime's shuffle=false.
    def _get_train_sampler(self, train_dataset=None):
        return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        value = loss[0] if isinstance(loss, tuple) else loss
        if model.training:
            self.bench_losses.append(value.detach().item())
            self.bench_tokens.append(int(inputs["attention_mask"].sum().item()))
            self.bench_sequences.append(int(inputs["input_ids"].size(0)))
        return loss

class Clock(TrainerCallback):
    def __init__(self):
        self.begin, self.ends = None, []
    def on_train_begin(self, args, state, control, **kwargs):
        self.begin = time.perf_counter()
    def on_step_end(self, args, state, control, **kwargs):
        self.ends.append(time.perf_counter())

tokenizer = AutoTokenizer.from_pretrained(cfg["tokenizer_dir"])
model = LlamaForCausalLM.from_pretrained(cfg["model_dir"], dtype=torch.float32)
rows = [json.loads(line) for line in open(cfg["data"])]
dataset = datasets.Dataset.from_list(rows)
accum = cfg["batch"] // cfg["micro_batch"]
args = DPOConfig(
    output_dir=cfg["out_dir"], max_steps=cfg["steps"], per_device_train_batch_size=cfg["micro_batch"],
    gradient_accumulation_steps=accum, learning_rate=cfg["lr"], adam_beta1=cfg["beta1"], adam_beta2=cfg["beta2"],
    adam_epsilon=cfg["eps"], weight_decay=cfg["weight_decay"], lr_scheduler_type="constant", warmup_steps=0,
    max_grad_norm=cfg["clip"], beta=cfg["beta"], loss_type=["sigmoid"], max_length=cfg["max_length"],
    truncation_mode="keep_start", precompute_ref_log_probs=True, disable_dropout=True,
    bf16=cfg["precision"] == "bf16", fp16=False,
    use_cpu=True, report_to="none", logging_steps=1, save_strategy="no", eval_strategy="no", seed=cfg["seed"],
    dataloader_num_workers=0, disable_tqdm=True, remove_unused_columns=False)
rss_before_trainer = vm_kib("VmRSS") * 1024
init_start = time.perf_counter()
trainer = SequentialDPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
init_s = time.perf_counter() - init_start
trainer.bench_losses, trainer.bench_tokens, trainer.bench_sequences = [], [], []
clock = Clock()
trainer.add_callback(clock)
train_start = time.perf_counter()
trainer.train()
train_s = time.perf_counter() - train_start
# Per optimizer step: micro-batch losses averaged (Trainer divides each by the accumulation steps), tokens summed.
losses = [sum(trainer.bench_losses[i:i + accum]) / accum for i in range(0, len(trainer.bench_losses), accum)]
tokens = [sum(trainer.bench_tokens[i:i + accum]) for i in range(0, len(trainer.bench_tokens), accum)]
sequences = [sum(trainer.bench_sequences[i:i + accum]) for i in range(0, len(trainer.bench_sequences), accum)]
marks = [clock.begin] + clock.ends
step_s = [b - a for a, b in zip(marks, marks[1:])]
loop_s = clock.ends[-1] - clock.begin
print(json.dumps({"impl": "trl-" + trl.__version__, "steps": len(clock.ends), "examples": len(dataset),
                  "losses": losses, "step_tokens": tokens, "step_sequences": sequences, "step_s": step_s,
                  "loop_s": loop_s, "train_s": train_s, "init_s": init_s, "tokens": sum(tokens),
                  "tokens_per_s": sum(tokens) / loop_s,
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "rss_after_import_bytes": rss_after_import, "rss_before_trainer_bytes": rss_before_trainer,
                  "threads": torch.get_num_threads(), "pad_id": tokenizer.pad_token_id,
                  "optimizer": args.optim if isinstance(args.optim, str) else args.optim.value,
                  "versions": {"trl": trl.__version__, "transformers": transformers.__version__,
                               "torch": torch.__version__, "datasets": datasets.__version__}}))
"""


def hh_texts(name):
    with open(os.path.join(DATA, name)) as f:
        return json.load(f)


def split_pair(row):
    """prompt = common prefix up to and including the last "\\n\\nAssistant:"; the responses are the rest."""
    texts, scores = row["text"], row["score"]
    if len(texts) != 2 or scores[0] == scores[1]:
        return None
    chosen, rejected = (texts[0], texts[1]) if scores[0] > scores[1] else (texts[1], texts[0])
    n = 0
    while n < min(len(chosen), len(rejected)) and chosen[n] == rejected[n]:
        n += 1
    marker = "\n\nAssistant:"
    cut = chosen[:n].rfind(marker)
    if cut < 0:
        return None
    cut += len(marker)
    prompt = chosen[:cut]
    return {"prompt": prompt, "chosen": chosen[cut:], "rejected": rejected[cut:]}


def train_tokenizer(out_dir):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    texts = [t for name in ("helpful.json", "harmless.json") for row in hh_texts(name) for t in row["text"]]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=32000, special_tokens=[PAD, BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B",
                                                       special_tokens=[(BOS, bos_id)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD)
    fast.save_pretrained(out_dir)
    return tok


def make_pairs(tok, max_length, count, path):
    """The first `count` usable pairs of helpful.json, in file order; returns the counts of what was left out."""
    bos = tok.token_to_id(BOS)
    kept, skipped = [], {"no_prompt": 0, "prompt_too_long": 0, "boundary_merge": 0}
    for row in hh_texts("helpful.json"):
        if len(kept) == count:
            break
        pair = split_pair(row)
        if pair is None or not pair["chosen"] or not pair["rejected"]:
            skipped["no_prompt"] += 1
            continue
        prompt_ids = tok.encode(pair["prompt"], add_special_tokens=False).ids
        if 1 + len(prompt_ids) >= max_length:
            skipped["prompt_too_long"] += 1
            continue
        if any(tok.encode(pair["prompt"] + r, add_special_tokens=False).ids !=
               prompt_ids + tok.encode(r, add_special_tokens=False).ids for r in (pair["chosen"], pair["rejected"])):
            skipped["boundary_merge"] += 1
            continue
        kept.append(pair)
    if len(kept) < count:
        sys.exit(f"only {len(kept)} usable pairs in helpful.json, {count} needed")
    with open(path, "w") as f:
        for pair in kept:
            f.write(json.dumps(pair) + "\n")
    return skipped


def make_model(cfg, tok, out_dir):
    import torch
    import transformers

    torch.manual_seed(cfg["seed"])
    config = transformers.LlamaConfig(
        vocab_size=cfg["vocab"], hidden_size=cfg["hidden"], intermediate_size=cfg["intermediate"],
        num_hidden_layers=cfg["layers"], num_attention_heads=cfg["heads"], num_key_value_heads=cfg["heads"],
        max_position_embeddings=max(1024, cfg["max_length"]), tie_word_embeddings=False, attention_dropout=0.0,
        bos_token_id=tok.token_to_id(BOS), eos_token_id=tok.token_to_id(EOS), pad_token_id=tok.token_to_id(PAD))
    model = transformers.LlamaForCausalLM(config).to(torch.float32)
    model.save_pretrained(out_dir, safe_serialization=True)


def model_flops(cfg, tok, path):
    """Floating-point operations of the training loop's forward and backward passes (no optimizer), counted
    from the pairs as both sides tokenize them: every matrix product of the decoder (6 per parameter and token:
    forward, and backward's two), attention's two products (causal: half of L² per layer, times 3), and the LM
    head at the response tokens (the positions the loss reads; TRL's and the runtime's chunked heads both
    skip the rest). The runtime's chunked head recomputes large blocks' logits in backward: `head_recompute` is
    that extra product. The runtime decodes the tokens chosen and rejected share (the prompt, and any common start
    of the responses) once (share-prefix): `decoder_shared` is the decoder work that saves (attention counted
    unshared, an overestimate of a few per cent of its 2%)."""
    h, layers, inter, vocab = cfg["hidden"], cfg["layers"], cfg["intermediate"], cfg["vocab"]
    decoder_params = layers * (4 * h * h + 3 * h * inter)
    bos, eos = tok.token_to_id(BOS), tok.token_to_id(EOS)
    tokens = response = square = shared = 0
    micro_rows = []  # response rows of each micro-batch (pairs in file order, as both sides read them)
    with open(path) as f:
        for index, line in enumerate(f):
            pair = json.loads(line)
            if index % cfg["micro_batch"] == 0:
                micro_rows.append(0)
            prompt = 1 + len(tok.encode(pair["prompt"], add_special_tokens=False).ids)
            answers = [tok.encode(pair[key], add_special_tokens=False).ids + [eos] for key in ("chosen", "rejected")]
            common = next((i for i, (a, b) in enumerate(zip(*answers)) if a != b), min(map(len, answers)))
            shared += min(prompt + common, cfg["max_length"])
            for key in ("chosen", "rejected"):
                length = min(prompt + len(tok.encode(pair[key], add_special_tokens=False).ids) + 1, cfg["max_length"])
                tokens += length
                response += max(0, length - prompt)
                micro_rows[-1] += max(0, length - prompt)
                square += length * length
    flops = {"decoder": 6 * decoder_params * tokens, "attention": 3 * layers * 2 * square * h,
             "head": 6 * vocab * h * response}
    flops["total"] = sum(flops.values())
    # The runtime's chunked head keeps one block of at most 64 MiB of float32 softmax for backward
    # (runtime/src/objectives/ChunkedLogprobs.cpp, keepsBlock; chunk 1024 rows) and recomputes the rest.
    kept = min(1024, (64 << 20) // (4 * vocab))
    flops["head_recompute"] = 2 * vocab * h * sum(m for m in micro_rows if m > kept)
    flops["decoder_shared"] = 6 * decoder_params * shared
    flops.update(tokens=tokens, response_tokens=response, shared_tokens=shared, bos=bos, eos=eos)
    return flops


MATMUL_CHILD = r"""
import json, sys, time, torch
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
dtype = torch.bfloat16 if cfg["precision"] == "bf16" else torch.float32
rows, h, inter, vocab = 1024, cfg["hidden"], cfg["intermediate"], cfg["vocab"]
total_flops = total_s = 0.0
shapes = {}
for k, n in ((h, h), (h, inter), (inter, h), (h, vocab)):
    a, b = torch.randn(rows, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
    for _ in range(2):
        a @ b
    times = []
    for _ in range(5):
        t = time.perf_counter(); a @ b; times.append(time.perf_counter() - t)
    s = sorted(times)[2]
    shapes[f"{rows}x{k}x{n}"] = 2 * rows * k * n / s / 1e9
    total_flops += 2 * rows * k * n; total_s += s
print(json.dumps({"gflops_per_s": total_flops / total_s / 1e9, "by_shape": shapes, "dtype": str(dtype)}))
"""


def machine_facts(threads):
    facts = {"nproc": os.cpu_count(), "threads": threads, "cpu": platform.processor() or platform.machine()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and "model" not in facts:
                    facts["model"] = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    facts["isa"] = sorted(flags & {"avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile",
                                                   "avx512_vnni", "amx_int8"})
                    break
    except OSError:
        pass
    import importlib.metadata as md
    facts["versions"] = {name: md.version(name) for name in ("torch", "transformers", "trl")}
    return facts


RECIPE = os.path.join(ROOT, "recipes", "dpo_pairs.align")
TRAINER_FLAGS = {"fused": [], "unfused": ["--no-fuse"], "unshared": ["--no-share-prefix"], "recompute": []}
# Sides that are the default trainer with a setting changed: recompute = layers recomputed in backward.
SIDE_SETTINGS = {"recompute": {"dpo.schedule.activations": "recompute"}}


def build_trainer(build, side, work):
    path = os.path.join(work, f"trainer-{side}")
    cmd = [os.path.join(build, "bin", "alignc"), "build", RECIPE, "-o", path, *TRAINER_FLAGS[side]]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    return path


def run_trainer(trainer, side, cfg, work, model_dir, tok_path, data_path, env):
    """One run of the recipe's trainer with the bench's settings; its metrics give the loop's steps."""
    out = tempfile.mkdtemp(prefix=f"out-{side}.", dir=work)
    settings = {"lm.path": model_dir, "ref.path": model_dir, "tok.path": tok_path,
                "prefs.path": os.path.basename(data_path), "dpo.objective.dpo.beta": cfg["beta"],
                "dpo.schedule.lr": cfg["lr"], "dpo.schedule.beta1": cfg["beta1"], "dpo.schedule.beta2": cfg["beta2"],
                "dpo.schedule.eps": cfg["eps"], "dpo.schedule.weight_decay": cfg["weight_decay"],
                "dpo.schedule.clip": cfg["clip"], "dpo.schedule.batch": cfg["batch"],
                "dpo.schedule.micro_batch": cfg["micro_batch"], "dpo.schedule.max_length": cfg["max_length"],
                "dpo.schedule.max_prompt_length": cfg["max_length"] - 1, "dpo.schedule.seed": cfg["seed"],
                "dpo.schedule.precision": cfg["precision"], **SIDE_SETTINGS.get(side, {})}
    cmd = [trainer, "--out", out, "--data-root", os.path.dirname(data_path), "--steps", str(cfg["steps"]),
           "--threads", str(cfg["threads"])]
    for key, value in settings.items():
        cmd += ["--set", f"{key}={value}"]
    start = time.perf_counter()
    log_path = os.path.join(out, "trainer.log")
    with open(log_path, "w") as log:  # the trainer's own peak RSS: wait4 on its pid
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    process_s = time.perf_counter() - start
    log = open(log_path).read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(log[-8000:])
        sys.exit(f"alignc {side} failed with exit status {code}")
    steps = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]
    steps = [r for r in steps if r.get("stage") == "dpo" and r.get("split") == "train"]
    steps.sort(key=lambda r: r["step"])
    loop_s = sum(r["seconds"] for r in steps)
    tokens = sum(int(r["tokens"]) for r in steps)
    result = {"impl": f"alignc-{side}", "steps": len(steps), "losses": [r["loss"] for r in steps],
              "step_tokens": [int(r["tokens"]) for r in steps], "tokens": tokens, "loop_s": loop_s,
              "tokens_per_s": tokens / loop_s, "peak_rss_bytes": usage.ru_maxrss * 1024, "process_s": process_s,
              "precision_line": next((l.strip() for l in log.splitlines() if "precision" in l), "")}
    print(f"  alignc {side}: {len(steps)} steps, loop {loop_s:.1f} s, process {process_s:.1f} s", file=sys.stderr)
    return result


def run_json(cmd, env, label, quiet=False):
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        sys.exit(f"{label} failed with exit status {proc.returncode}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - start
    if quiet:
        return result
    print(f"  {label}: {result['steps']} steps, loop {result['loop_s']:.1f} s, process {result['process_s']:.1f} s",
          file=sys.stderr)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch", type=int, default=8, help="pairs per optimizer step")
    parser.add_argument("--micro-batch", type=int, default=0, help="pairs per forward (0: the whole batch)")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--intermediate", type=int, default=688)
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="bf16: autocast with fp32 master weights on both sides (TRL's bf16=True)")
    parser.add_argument("--small", action="store_true", help="5 steps of batch 4: a quick smoke run")
    parser.add_argument("--sides", default="fused,unfused,unshared,trl",
                        help="which runs to do (comma-separated: fused, unfused, unshared, recompute — the default "
                             "trainer with activations recomputed in backward —, trl; none: recompute --reuse's "
                             "report, FLOPs included)")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--work", default=None, help="directory for the generated inputs (default: a temp dir)")
    parser.add_argument("--reuse", default=None,
                        help="an earlier report with the same config: the sides not in --sides are taken from it "
                             "(to re-measure one side of a run that a busy machine disturbed)")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "dpo_vs_trl.json"))
    parser.add_argument("--data", default=DATA, help="the DSP release's folder (helpful.json, harmless.json)")
    args = parser.parse_args()
    globals()["DATA"] = args.data
    if args.small:
        args.steps, args.batch = 5, 4
    micro = args.micro_batch or args.batch
    if args.batch % micro:
        sys.exit("--batch must be a multiple of --micro-batch")
    cfg = {"vocab": 32000, "layers": args.layers, "hidden": args.hidden, "heads": args.heads,
           "intermediate": args.intermediate, "tied": False, "steps": args.steps, "batch": args.batch,
           "micro_batch": micro, "max_length": args.max_length, "beta": args.beta, "lr": args.lr, "beta1": 0.9,
           "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "clip": 1.0, "lr_schedule": "constant", "warmup": 0,
           "threads": args.threads, "seed": 42, "loss_type": "sigmoid", "truncation": "keep_start",
           "reference": "precomputed before training (excluded from loop time on both sides)",
           "precision": args.precision}
    sides = [] if args.sides == "none" else args.sides.split(",")  # none: only rebuild the report of --reuse
    if any(s in TRAINER_FLAGS for s in sides) and not os.path.exists(os.path.join(args.build, "bin", "alignc")):
        sys.exit(f"{args.build}/bin/alignc is missing: build the project first (bash scripts/test.sh or ninja)")

    work = args.work or tempfile.mkdtemp(prefix="dpo_vs_trl.")
    os.makedirs(work, exist_ok=True)
    tok_dir, model_dir = os.path.join(work, "tokenizer"), os.path.join(work, "model")
    data_path = os.path.join(work, "pairs.jsonl")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               TOKENIZERS_PARALLELISM="false", HF_DATASETS_CACHE=os.path.join(work, "hf_datasets"),
               HF_HUB_OFFLINE="1", TQDM_DISABLE="1")
    os.environ.update(RAYON_NUM_THREADS="1")  # deterministic, single-threaded BPE training here
    print(f"inputs in {work}", file=sys.stderr)
    tok = train_tokenizer(tok_dir)
    skipped = make_pairs(tok, args.max_length, args.steps * args.batch, data_path)
    make_model(cfg, tok, model_dir)

    results = {}
    flops = model_flops(cfg, tok, data_path)
    limit = run_json([sys.executable, "-c", MATMUL_CHILD, json.dumps(dict(cfg, precision=args.precision))], env,
                     "matmul limit", quiet=True)
    for side in sides:
        if side in TRAINER_FLAGS:  # unshared: fused, each response decoded with its own copy of the prompt
            trainer = build_trainer(args.build, side, work)
            results[side] = run_trainer(trainer, side, cfg, work, model_dir, os.path.join(tok_dir, "tokenizer.json"),
                                        data_path, env)
        elif side == "trl":
            child = dict(cfg, tokenizer_dir=tok_dir, model_dir=model_dir, data=data_path,
                         out_dir=os.path.join(work, "trl_out"))
            results["trl"] = run_json([sys.executable, "-c", TRL_CHILD, json.dumps(child)], env, "TRL DPOTrainer")
        else:
            sys.exit(f"unknown side {side}")

    reused = {}
    if args.reuse:
        with open(args.reuse) as fh:
            earlier = json.load(fh)
        if earlier["config"] != cfg or earlier["skipped_rows"] != skipped:
            sys.exit(f"{args.reuse} was measured with another configuration")
        for name, r in earlier["results"].items():
            if name not in results:
                results[name] = r
                reused[name] = earlier.get("reused", {}).get(name, earlier["measured_at"])
        results = {k: results[k] for k in ("fused", "unfused", "unshared", "recompute", "trl") if k in results}
    report = {"config": cfg, "skipped_rows": skipped, "reused": reused, "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
              "machine": machine_facts(args.threads), "flops": flops, "matmul_limit": limit,
              "results": results}
    # Achieved FLOP/s of each loop against this machine's matrix-product rate at the same precision and threads.
    for name, r in results.items():
        work = flops["total"] + (flops["head_recompute"] if name in ("fused", "unshared", "recompute") else 0)
        work -= flops["decoder_shared"] if name in ("fused", "unfused", "recompute") else 0  # the prompt once
        if name == "recompute":  # every layer's forward runs again in backward: a third of its products
            work += (flops["decoder"] - flops["decoder_shared"] + flops["attention"]) / 3
        r["achieved_gflops_per_s"] = work / r["loop_s"] / 1e9
        r["fraction_of_matmul_limit"] = r["achieved_gflops_per_s"] / limit["gflops_per_s"]
    peer = results.get("trl")
    checks = {}
    if peer:
        for name in ("fused", "unfused", "unshared", "recompute"):
            if name not in results:
                continue
            ours = results[name]
            n = min(len(ours["losses"]), len(peer["losses"]))
            rel = [abs(a - b) / max(abs(b), 1e-12) for a, b in zip(ours["losses"][:n], peer["losses"][:n])]
            checks[name] = {
                "tokens_per_s_ratio": ours["tokens_per_s"] / peer["tokens_per_s"],
                "peak_rss_ratio": ours["peak_rss_bytes"] / peer["peak_rss_bytes"],
                "step0_loss_abs_diff": abs(ours["losses"][0] - peer["losses"][0]),
                "step0_ok": abs(ours["losses"][0] - peer["losses"][0]) <= 1e-4,
                "max_curve_rel_dev": max(rel),
                "max_curve_abs_dev": max(abs(a - b) for a, b in zip(ours["losses"][:n], peer["losses"][:n])),
                "curve_ok": max(rel) <= 0.02 and n == args.steps,
                "same_step_tokens": ours["step_tokens"] == peer["step_tokens"],
            }
        report["vs_trl"] = checks
    if "fused" in results and "unshared" in results:
        f, u = results["fused"], results["unshared"]
        report["shared_vs_unshared"] = {"tokens_per_s_ratio": f["tokens_per_s"] / u["tokens_per_s"],
                                        "peak_rss_ratio": f["peak_rss_bytes"] / u["peak_rss_bytes"],
                                        "max_loss_abs_diff": max(abs(a - b) for a, b in zip(f["losses"], u["losses"]))}
    if "fused" in results and "unfused" in results:
        f, u = results["fused"], results["unfused"]
        report["fused_vs_unfused"] = {"tokens_per_s_ratio": f["tokens_per_s"] / u["tokens_per_s"],
                                      "peak_rss_ratio": f["peak_rss_bytes"] / u["peak_rss_bytes"],
                                      "max_loss_abs_diff": max(abs(a - b) for a, b in zip(f["losses"], u["losses"]))}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=2)

    print(f"DPO, {args.steps} steps of {args.batch} pairs (micro-batch {micro}), max_length {args.max_length}, "
          f"Llama {args.layers}x{args.hidden}, vocab 32000, {args.precision}, {args.threads} threads; left out: {skipped}")
    print(f"{'impl':18} {'loop s':>8} {'tokens':>8} {'tok/s':>8} {'peak RSS MiB':>13} {'tok/s x':>8} {'RSS x':>6} "
          f"{'step0 |d|':>10} {'max rel dev':>11} {'same tokens':>11}")
    for name, r in results.items():
        c = checks.get(name)
        extra = (f"{c['tokens_per_s_ratio']:8.2f} {c['peak_rss_ratio']:6.2f} {c['step0_loss_abs_diff']:10.2e} "
                 f"{c['max_curve_rel_dev']:11.2%} {str(c['same_step_tokens']):>11}") if c else f"{1.0:8.2f} {1.0:6.2f}"
        print(f"{r['impl']:18} {r['loop_s']:8.1f} {r['tokens']:8d} {r['tokens_per_s']:8.0f} "
              f"{r['peak_rss_bytes'] / 2**20:13.0f} {extra}")
    print(f"model FLOPs per token {flops['total'] / flops['tokens'] / 1e6:.0f} M (decoder, attention, head at "
          f"{flops['response_tokens']} response tokens); matmul limit {limit['gflops_per_s']:.0f} GFLOP/s "
          f"({args.precision}, {args.threads} threads)")
    for name, r in results.items():
        print(f"  {r['impl']:18} {r['achieved_gflops_per_s']:7.1f} GFLOP/s = {r['fraction_of_matmul_limit']:.0%} of the limit")
    if "shared_vs_unshared" in report:
        su = report["shared_vs_unshared"]
        print(f"shared / unshared prompt: tok/s x{su['tokens_per_s_ratio']:.2f}, peak RSS x{su['peak_rss_ratio']:.2f}, "
              f"max loss |d| {su['max_loss_abs_diff']:.2e} ({flops['shared_tokens']} of {flops['tokens']} tokens shared)")
    if "fused_vs_unfused" in report:
        fu = report["fused_vs_unfused"]
        print(f"fused / unfused: tok/s x{fu['tokens_per_s_ratio']:.2f}, peak RSS x{fu['peak_rss_ratio']:.2f}, "
              f"max loss |d| {fu['max_loss_abs_diff']:.2e}")
    for name, c in checks.items():
        verdict = "agree" if c["step0_ok"] and c["curve_ok"] else "DISAGREE: not the same work"
        print(f"{name} vs TRL: step-0 |d| {c['step0_loss_abs_diff']:.2e} (<= 1e-4: {c['step0_ok']}), "
              f"max curve deviation {c['max_curve_rel_dev']:.3%} (<= 2%: {c['curve_ok']}): {verdict}")
    if reused:
        print(f"taken from {args.reuse} (measured at): {reused}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
