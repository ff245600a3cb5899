#!/usr/bin/env python3
"""Forward+backward step of a Llama model: the runtime against transformers, side by side.

Runs build/bin/bench_model_step (unfused and fused log-prob paths) and transformers' LlamaForCausalLM on the
same configuration, batch and thread count, each in its own process (so peak RSS is per implementation),
and writes bench/results/model_step.json with the ratios runtime / transformers. Loss on both sides:
−mean log p(next token) over every position (transformers: `labels=input_ids`).

    ninja -C build bench_model_step
    .venv/bin/python bench/model_step_vs_transformers.py [--threads 2] [--runs 3] [--small]
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TRANSFORMERS_CHILD = r"""
import json, resource, statistics, sys, time, torch, transformers
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
config = transformers.LlamaConfig(vocab_size=cfg["vocab"], hidden_size=cfg["hidden"], intermediate_size=cfg["intermediate"],
    num_hidden_layers=cfg["layers"], num_attention_heads=cfg["heads"], num_key_value_heads=cfg["kv_heads"],
    max_position_embeddings=max(cfg["seq"], 512), tie_word_embeddings=False, attn_implementation="sdpa")
model = transformers.LlamaForCausalLM(config).train()
ids = torch.randint(0, cfg["vocab"], (cfg["batch"], cfg["seq"]))
def step():
    model.zero_grad(set_to_none=True)
    model(input_ids=ids, labels=ids).loss.backward()
step()
times = []
for _ in range(cfg["runs"]):
    t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
print(json.dumps({"impl": "transformers-" + transformers.__version__, "median_step_s": statistics.median(times),
                  "steps_s": times, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "threads": torch.get_num_threads()}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="seq 128, batch 2: a quick smoke run")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "model_step.json"))
    args = parser.parse_args()
    cfg = {"layers": 4, "hidden": 256, "heads": 4, "kv_heads": 4, "intermediate": 688, "vocab": 32000,
           "seq": 512, "batch": 8, "runs": args.runs, "threads": args.threads}
    if args.small:
        cfg.update(seq=128, batch=2)
    binary = os.path.join(args.build, "bin", "bench_model_step")
    if not os.path.exists(binary):
        sys.exit(f"{binary} is missing: run `ninja -C {args.build} bench_model_step`")
    flags = []
    for key in ("layers", "hidden", "heads", "intermediate", "vocab", "seq", "batch", "runs", "threads"):
        flags += ["--" + key, str(cfg[key])]
    flags += ["--kv-heads", str(cfg["kv_heads"])]
    results = []
    for path in ("unfused", "fused"):
        out = subprocess.run([binary, *flags, "--path", path], check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    out = subprocess.run([sys.executable, "-c", TRANSFORMERS_CHILD, json.dumps(cfg)], check=True, capture_output=True,
                         text=True).stdout
    peer = json.loads(out.strip().splitlines()[-1])
    results.append(peer)
    ratios = {r["impl"]: {"time": r["median_step_s"] / peer["median_step_s"],
                          "peak_rss": r["peak_rss_bytes"] / peer["peak_rss_bytes"]} for r in results[:-1]}
    report = {"config": cfg, "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"), "results": results,
              "ratios_vs_transformers": ratios}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"{'impl':28} {'step s':>9} {'peak RSS MiB':>13} {'time ×':>7} {'RSS ×':>7}")
    for r in results:
        ratio = ratios.get(r["impl"], {"time": 1.0, "peak_rss": 1.0})
        print(f"{r['impl']:28} {r['median_step_s']:9.3f} {r['peak_rss_bytes'] / 2**20:13.0f} "
              f"{ratio['time']:7.2f} {ratio['peak_rss']:7.2f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
