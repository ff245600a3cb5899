#!/usr/bin/env python3
"""Data parallelism changes nothing but speed: tests/e2e/Inputs/distributed.align (SFT, DPO with micro-batches,
P-DPO with a users model, a DSP ranking-loss reward stage) trained for 20 steps per stage on one process and
under torchrun on two (Gloo, CPU) at the same global batch gives the same loss at every step (1e-5 relative)
and the same final weights (fp32 tolerance). Only rank 0 writes the output directory, and the other rank's
scratch directory is gone at the end. Usage: distributed.py BUILD_DIR SOURCE_DIR SHARED_DATA_DIR"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

from safetensors.numpy import load_file

build, source, shared = sys.argv[1:4]
steps = "20"
recipe = os.path.join(source, "tests", "e2e", "Inputs", "distributed.align")
if not os.path.isdir(os.path.join(shared, "dsp")):
    print(f"skipped: {shared}/dsp is absent")
    sys.exit(77)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_records(out, key):
    values = {}
    with open(os.path.join(out, "metrics.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("split") == "train":
                values[(r["stage"], r["step"])] = r[key]
    return values


with tempfile.TemporaryDirectory() as work:
    data = os.path.join(work, "data")
    run([os.path.join(build, "bin", "align-data"), "length-task", "--out", data, "--pairs-per-user", "20",
         "--sft-rows", "200"])
    os.symlink(os.path.abspath(os.path.join(shared, "dsp")), os.path.join(data, "dsp"))
    trainer = os.path.join(work, "trainer")
    run([os.path.join(build, "bin", "alignc"), "build", recipe, "-o", trainer])
    args = ["--data-root", data, "--steps", steps, "--threads", "1"]

    one = os.path.join(work, "one")
    run([trainer, "--out", one, *args])

    two = os.path.join(work, "two")
    scratch = os.path.join(work, "tmp")
    os.makedirs(scratch)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    env.update(TMPDIR=scratch, OMP_NUM_THREADS="1", ALIGN_PLAIN_PROGRESS="1")
    run([sys.executable, "-m", "torch.distributed.run", "--no-python", "--nnodes", "1", "--nproc-per-node", "2",
         "--master-addr", "127.0.0.1", "--master-port", str(free_port()), trainer, "--out", two, *args], env=env)

    failures = []

    def compare_curves(key, tolerance):
        """Every logged train step's `key` on one and two processes; returns the one-process records and the
        largest relative difference."""
        a, b = train_records(one, key), train_records(two, key)
        if sorted(a) != sorted(b):
            failures.append(f"{key}: logged steps differ: {sorted(set(a) ^ set(b))[:8]}")
        worst = 0.0
        for step in sorted(set(a) & set(b)):
            rel = abs(a[step] - b[step]) / max(abs(a[step]), 1e-12)
            worst = max(worst, rel)
            if rel > tolerance:
                failures.append(f"{step}: {key} {a[step]!r} on one process, {b[step]!r} on two ({rel:.2e} relative)")
        return a, worst

    a, worst_loss = compare_curves("loss", 1e-5)
    # The gradient norm (before clipping) is what would show a gradient summed wrongly over ranks (an Adam
    # step barely depends on the gradient's scale, so the losses alone would not).
    _, worst_grad = compare_curves("grad_norm", 1e-4)
    stages = sorted({s for s, _ in a})
    worst = 0.0
    for stage in stages:
        wa = load_file(os.path.join(one, "checkpoints", stage, "model.safetensors"))
        wb = load_file(os.path.join(two, "checkpoints", stage, "model.safetensors"))
        if sorted(wa) != sorted(wb):
            failures.append(f"{stage}: tensor names differ")
            continue
        for name in wa:
            diff = float(abs(wa[name].astype("float64") - wb[name].astype("float64")).max())
            scale = float(abs(wa[name].astype("float64")).max())
            worst = max(worst, diff / max(scale, 1e-12))
            if diff > 1e-5 + 1e-4 * scale:
                failures.append(f"{stage}: {name} differs by {diff:.3e} (largest |w| {scale:.3e})")
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
    print(f"{len(a)} steps over {len(stages)} stages agree: largest relative loss difference {worst_loss:.2e}, "
          f"gradient norm {worst_grad:.2e}, weight difference {worst:.2e} (relative to the tensor's largest value)")
