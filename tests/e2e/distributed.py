#!/usr/bin/env python3
"""Data parallelism changes nothing but speed: tests/e2e/Inputs/distributed.align (SFT, DPO with micro-batches,
P-DPO with a users model, a DSP ranking-loss reward stage) trained for 20 steps per stage on one process and
under torchrun on two (Gloo, CPU) at the same global batch gives the same loss at every step (1e-5 relative)
and the same final weights (fp32 tolerance), and eval.json's numbers agree (the eval block's pair metrics are
scored over the ranks). An RSF run (recipes/dpa_directions.align, short) samples and scores over the ranks
and must give every sample's tokens and rewards of one process. Only rank 0 writes the output directory, and the other rank's
scratch directory is gone at the end. Usage: distributed.py BUILD_DIR SOURCE_DIR SHARED_DATA_DIR"""
import json
import os
import sys
import tempfile

from distributed_runs import compare_curves, compare_weights, prepare, run, torchrun_command, torchrun_env

build, source, shared = sys.argv[1:4]
steps = "20"
if not os.path.isdir(os.path.join(shared, "dsp")):
    print(f"skipped: {shared}/dsp is absent")
    sys.exit(77)

with tempfile.TemporaryDirectory() as work:
    trainer, data = prepare(build, source, shared, work)
    args = ["--data-root", data, "--steps", steps, "--threads", "1"]

    one = os.path.join(work, "one")
    run([trainer, "--out", one, *args])

    two = os.path.join(work, "two")
    scratch = os.path.join(work, "tmp")
    os.makedirs(scratch)
    run(torchrun_command(2, trainer, ["--out", two, *args]), env=torchrun_env(scratch))

    failures = []
    a, worst_loss = compare_curves(one, two, "loss", 1e-5, failures)
    # The gradient norm (before clipping) is what would show a gradient summed wrongly over ranks (an Adam
    # step barely depends on the gradient's scale, so the losses alone would not).
    _, worst_grad = compare_curves(one, two, "grad_norm", 1e-4, failures)
    stages = sorted({s for s, _ in a})
    worst = compare_weights(one, two, stages, failures)
    # The eval block's pair metrics are scored over the ranks and gathered: every number as on one process.
    def leaves(tree, prefix=""):
        if isinstance(tree, dict):
            for k, v in tree.items():
                yield from leaves(v, f"{prefix}/{k}")
        elif isinstance(tree, (int, float)):
            yield prefix, float(tree)
    ea, eb = (dict(leaves(json.load(open(os.path.join(d, "eval.json"))))) for d in (one, two))
    if sorted(ea) != sorted(eb):
        failures.append(f"eval.json: keys differ: {sorted(set(ea) ^ set(eb))[:8]}")
    for k in sorted(set(ea) & set(eb)):
        if abs(ea[k] - eb[k]) > 1e-4 * max(1.0, abs(ea[k])):
            failures.append(f"eval.json {k}: {ea[k]!r} on one process, {eb[k]!r} on two")
    if not any("accuracy" in k for k in ea):
        failures.append("eval.json holds no accuracy: the eval block was not computed")
    # RSF (recipes/dpa_directions.align, a short run): its generation and scoring are split over the ranks
    # by sampling block and scoring batch, so each sample is the one process's: the same tokens (sampling is
    # seeded per block) and rewards within fp32 tolerance (the scorer was trained on 2 processes).
    dpa_data = os.path.join(work, "dpa-data")
    run([os.path.join(build, "bin", "align-data"), "dpa-task", "--out", dpa_data, "--prompts", "60", "--sft-rows",
         "100", "--rated-rows", "100"])
    dpa = os.path.join(work, "dpa-trainer")
    # In float32 (the recipe says auto, bf16 on a CPU that has it): samples must match to the token.
    with open(os.path.join(source, "recipes", "dpa_directions.align")) as fh:
        recipe = fh.read().replace("schedule { max_length:", "schedule { precision: fp32; max_length:", 1)
    dpa_recipe = os.path.join(work, "dpa_directions_fp32.align")
    with open(dpa_recipe, "w") as fh:
        fh.write(recipe)
    run([os.path.join(build, "bin", "alignc"), "build", dpa_recipe, "-o", dpa])
    dpa_args = ["--data-root", dpa_data, "--steps", "2", "--threads", "1", "--set", "rsf.rsf.iterations=1",
                "--set", "rsf.rsf.samples=2", "--set", "rsf.rsf.max_new_tokens=16", "--set",
                "rsf.rsf.prompts_per_iteration=8", "--eval-limit", "4"]
    run([dpa, "--out", os.path.join(work, "dpa-one"), *dpa_args])
    run(torchrun_command(2, dpa, ["--out", os.path.join(work, "dpa-two"), *dpa_args]), env=torchrun_env(scratch))
    samples = [[json.loads(line) for line in open(os.path.join(work, d, "state", "rsf", "samples_1.jsonl"))]
               for d in ("dpa-one", "dpa-two")]
    if len(samples[0]) != len(samples[1]) or not samples[0]:
        failures.append(f"RSF: {len(samples[0])} samples on one process, {len(samples[1])} on two")
    for x, y in zip(*samples):
        if x["ids"] != y["ids"] or x["prompt_index"] != y["prompt_index"]:
            failures.append(f"RSF sample {x['prompt_index']}.{x['sample']}: other tokens on two processes")
        elif any(abs(u - v) > 1e-4 * max(1.0, abs(u)) for u, v in zip(x["rewards"], y["rewards"])):
            failures.append(f"RSF sample {x['prompt_index']}.{x['sample']}: rewards {x['rewards']} vs {y['rewards']}")
    for name in ("eval.json", "metrics.csv", "curves.svg"):
        if not os.path.exists(os.path.join(two, name)):
            failures.append(f"rank 0 did not write {name}")
    left = [n for n in os.listdir(scratch) if n.startswith("align-rank")]  # torchrun keeps its own files there
    if left:
        failures.append(f"rank 1's scratch directory was left behind: {left}")
    if len(a) != 4 * int(steps):
        failures.append(f"expected {4 * int(steps)} logged train steps, got {len(a)}")
    if failures:
        sys.exit("\n".join(failures[:20]))
    print(f"{len(samples[0])} RSF samples agree; {len(a)} steps over {len(stages)} stages agree: largest relative loss difference {worst_loss:.2e}, "
          f"gradient norm {worst_grad:.2e}, weight difference {worst:.2e} (relative to the tensor's largest value)")
