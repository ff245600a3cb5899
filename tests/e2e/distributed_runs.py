"""What tests/e2e/distributed.py and distributed-failure.py share: the trainer of
tests/e2e/Inputs/distributed.align and its data, runs on one process or under torchrun, and the comparison of
two runs' logged losses and final weights."""
import json
import os
import socket
import subprocess
import sys

from safetensors.numpy import load_file

LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", **kw)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(build, source, shared, work, recipe_text=None):
    """The length-task data (+ the DSP rows of `shared`) and the trainer built from distributed.align, or from
    `recipe_text` (a variant of it). Returns (trainer, data dir)."""
    recipe = os.path.join(source, "tests", "e2e", "Inputs", "distributed.align")
    if recipe_text is not None:
        recipe = os.path.join(work, "distributed.align")
        with open(recipe, "w") as f:
            f.write(recipe_text)
    data = os.path.join(work, "data")
    run([os.path.join(build, "bin", "align-data"), "length-task", "--out", data, "--pairs-per-user", "20",
         "--sft-rows", "200"])
    os.symlink(os.path.abspath(os.path.join(shared, "dsp")), os.path.join(data, "dsp"))
    trainer = os.path.join(work, "trainer")
    run([os.path.join(build, "bin", "alignc"), "build", recipe, "-o", trainer])
    return trainer, data


def torchrun_env(scratch, **extra):
    """The environment of a torchrun launch: no launch variables of an outer one, one thread per process, and
    TMPDIR where the ranks' scratch directories (and torchrun's own files) go."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCH_VARIABLES}
    env.update(TMPDIR=scratch, OMP_NUM_THREADS="1", ALIGN_PLAIN_PROGRESS="1", **extra)
    return env


def torchrun_command(nproc, trainer, args, *torchrun_args):
    return [sys.executable, "-m", "torch.distributed.run", "--no-python", "--nnodes", "1", "--nproc-per-node",
            str(nproc), "--master-addr", "127.0.0.1", "--master-port", str(free_port()), *torchrun_args, trainer,
            *args]


def train_records(out, key):
    """{(stage, step): value} of every logged train step, and the steps logged more than once."""
    values, repeated = {}, []
    with open(os.path.join(out, "metrics.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("split") == "train":
                if (r["stage"], r["step"]) in values:
                    repeated.append((r["stage"], r["step"]))
                values[(r["stage"], r["step"])] = r[key]
    return values, repeated


def compare_curves(one, two, key, tolerance, failures, label=""):
    """Every logged train step's `key` in runs `one` and `two`; appends differences to `failures`; returns the
    first run's records and the largest relative difference."""
    (a, _), (b, repeated) = train_records(one, key), train_records(two, key)
    if repeated:
        failures.append(f"{label}{key}: steps logged more than once: {repeated[:8]}")
    if sorted(a) != sorted(b):
        failures.append(f"{label}{key}: logged steps differ: {sorted(set(a) ^ set(b))[:8]}")
    worst = 0.0
    for step in sorted(set(a) & set(b)):
        rel = abs(a[step] - b[step]) / max(abs(a[step]), 1e-12)
        worst = max(worst, rel)
        if rel > tolerance:
            failures.append(f"{label}{step}: {key} {a[step]!r} vs {b[step]!r} ({rel:.2e} relative)")
    return a, worst


def compare_weights(one, two, stages, failures, label=""):
    """Every stage's final tensors in `one` and `two` within fp32 tolerance; returns the largest difference
    relative to the tensor's largest value."""
    worst = 0.0
    for stage in stages:
        wa = load_file(os.path.join(one, "checkpoints", stage, "model.safetensors"))
        wb = load_file(os.path.join(two, "checkpoints", stage, "model.safetensors"))
        if sorted(wa) != sorted(wb):
            failures.append(f"{label}{stage}: tensor names differ")
            continue
        for name in wa:
            diff = float(abs(wa[name].astype("float64") - wb[name].astype("float64")).max())
            scale = float(abs(wa[name].astype("float64")).max())
            worst = max(worst, diff / max(scale, 1e-12))
            # Adam divides by √v: where a gradient is ~0, float-order noise of the all-reduce moves a weight
            # by up to ~lr per step. 1e-3 of the tensor's scale bounds that (measured up to 6e-4 after the
            # packed decoder: 4.5e-5 on a 0.074 tensor; 1.3e-4 before it). A wrong step (other examples, a
            # missing term) moves weights by ~lr per step everywhere; a wrong gradient scale, which Adam
            # hides from the weights, shows in the gradient norms (1e-4) — those and the losses (1e-5) are
            # the tight checks.
            if diff > 1e-5 + 1e-3 * scale:
                failures.append(f"{label}{stage}: {name} differs by {diff:.3e} (largest |w| {scale:.3e})")
    return worst
