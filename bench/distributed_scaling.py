#!/usr/bin/env python3
"""Data-parallel scaling: one recipe's trainer on 1 process and under torchrun on P, at the same global batch.

Builds the trainer of a shipped recipe (recipes/dpo.align by default) with build/bin/alignc, then runs it once per
process count of --nproc, each time from scratch into its own output directory:

  * 1 process:  TRAINER --out OUT --data-root D --steps N --threads T
  * P processes: python -m torch.distributed.run --no-python --standalone --nproc-per-node P TRAINER ... --threads T

with OMP_NUM_THREADS=T and RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT removed from the environment. The
recipe's `batch` is the global batch at every world size (docs/distributed.md), so every run does the same steps on
the same examples. Every stage's `log_every` is set to 1 (the only --set the bench adds), so metrics.jsonl has one
train record per step.

Measured per run:
  * tokens/s per stage: the mean of the train records' tokens_per_s over the steps after --warmup-steps (rank 0
    logs the global numbers: tokens summed over ranks, over rank 0's clock);
  * step seconds per stage: the interval between consecutive "[stage] step k/N" lines of rank 0's stderr, timed as
    they arrive (the records carry no token counts; tokens per step is reported as tokens_per_s x step seconds);
  * wall seconds of the whole run (data loading, reference precompute, evaluations, checkpoints included);
  * peak RSS per process: 1 process: ru_maxrss of the trainer from wait4; P processes: the ranks are the processes
    whose /proc/PID/environ holds this launch's marker variable and RANK=r, and their VmHWM is polled every
    --poll seconds (the last value seen per rank is its peak).

Then, separately, the cost of the gradient all-reduce per step: P processes under torchrun (this script again,
--allreduce-worker) all-reduce float32 buffers with Gloo in DDP's bucket sizes (the first 1 MiB, then 25 MiB: what
the trainer's Reducer uses, runtime/src/dist/GradientSync.cpp) totalling the trainable parameter count, counted
from the finished run's OUT/checkpoints/<stage>/model.safetensors; the median over --allreduce-reps repetitions
after --allreduce-warmup, each the slower rank's time. It is the un-overlapped cost: the Reducer overlaps these
all-reduces with backward.

Writes bench/results/distributed_scaling.json (--out) and prints a table with the ratios P processes / 1 process.

    .venv/bin/python bench/distributed_scaling.py                      # recipes/dpo.align, --steps 40, --nproc 1,2
    .venv/bin/python bench/distributed_scaling.py --steps 4 --stages align     # a quick smoke run, DPO stage only
"""
import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_ROOT = os.path.join(ROOT, "..", "shared", "data")  # --data-root replaces it
LAUNCH_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
MARKER = "ALIGN_DISTRIBUTED_SCALING_RUN"  # set to a fresh token per launch: how the rank processes are found
FIRST_BUCKET_BYTES = 1024 * 1024  # c10d::kDefaultFirstBucketBytes
BUCKET_BYTES = 25 * 1024 * 1024  # c10d::kDefaultBucketBytesCap
STEP_LINE = re.compile(r"^\[(?P<stage>[^\]]+)\] step (?P<step>\d+)/(?P<total>\d+) ")
MIB = 2 ** 20


def shown(path):
    """A path as the report shows it: relative to the repository root when inside it or beside it."""
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(os.path.dirname(ROOT) + os.sep) else path


def cpu_facts():
    model, flags = None, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model is None:
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    amx = sorted(f for f in flags if f.startswith("amx"))
    return {"cpu_model": model, "avx512f": "avx512f" in flags, "avx512_bf16": "avx512_bf16" in flags,
            "amx": bool(amx), "amx_flags": amx, "cpu_count": os.cpu_count()}


def vm_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def rank_of(pid, token):
    """RANK of a process launched with MARKER=token; -1 for a process without the marker (never a rank: the marker
    is inherited), None for torchrun itself, a worker between fork and exec, or a process that is gone."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            variables = f.read().split(b"\0")
    except OSError:
        return None
    if f"{MARKER}={token}".encode() not in variables:
        return -1
    for v in variables:
        if v.startswith(b"RANK="):
            return int(v[5:])
    return None


def trainer_settings(trainer):
    """The recipe a trainer was compiled from and its settings keys, from TRAINER --help."""
    text = subprocess.run([trainer, "--help"], capture_output=True, text=True, check=True).stdout
    recipe = re.search(r"compiled by alignc from (\S+?)\)", text)
    keys = re.findall(r"^  ([A-Za-z0-9_.]+)\s+\S.*\(\S+:\d+:\d+\)$", text, re.M)
    return recipe[1] if recipe else None, keys


def launch_env(threads):
    env = {k: v for k, v in os.environ.items() if k not in LAUNCH_VARS}
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def run_trainer(nproc, trainer, trainer_args, threads, work, poll_s):
    """One run from scratch; returns wall time, exit status, rank 0's timed step lines and peak RSS per process."""
    out_dir = os.path.join(work, f"out-{nproc}")
    if os.path.exists(out_dir):
        sys.exit(f"{out_dir} exists: each run starts from scratch (give another --work)")
    args = ["--out", out_dir, *trainer_args]
    if nproc == 1:
        cmd = [trainer, *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--no-python", "--standalone",
               "--nproc-per-node", str(nproc), trainer, *args]
    token = uuid.uuid4().hex
    env = dict(launch_env(threads), **{MARKER: token})
    stderr_lines = []  # (seconds since launch, line) of rank 0's stderr (the other ranks are silent)
    log_path = os.path.join(work, f"out-{nproc}.log")
    with open(os.path.join(work, f"out-{nproc}.stdout"), "w") as stdout, open(log_path, "w") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, cwd=work)

        def read_stderr():
            for line in proc.stderr:
                stderr_lines.append((time.perf_counter() - start, line.rstrip("\n")))
                log.write(line)
                log.flush()

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        ranks = {}  # rank -> {"pid", "vm_hwm_kib"}: the last VmHWM seen
        known = {}  # pid -> rank, or -1 for a process without the marker
        status = usage = None
        while True:
            if nproc == 1:
                hwm = vm_kib(proc.pid, "VmHWM")
                if hwm is not None:
                    ranks[0] = {"pid": proc.pid, "vm_hwm_kib": hwm}
            else:
                for name in os.listdir("/proc"):
                    if not name.isdigit():
                        continue
                    pid = int(name)
                    rank = known.get(pid)
                    if rank is None:
                        rank = rank_of(pid, token)
                        if rank is None:
                            continue
                        known[pid] = rank
                    if rank < 0:
                        continue
                    hwm = vm_kib(pid, "VmHWM")
                    if hwm is not None:
                        previous = ranks.get(rank, {"vm_hwm_kib": 0})["vm_hwm_kib"]
                        ranks[rank] = {"pid": pid, "vm_hwm_kib": max(hwm, previous)}  # max: a restarted rank
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            time.sleep(poll_s)
        wall_s = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        reader.join()
    if proc.returncode != 0:
        sys.stderr.write("".join(line + "\n" for _, line in stderr_lines[-40:]))
        sys.exit(f"the {nproc}-process run failed with exit status {proc.returncode} (log: {log_path})")
    if nproc == 1:  # exact for the trainer alone (it starts no processes of its own)
        ranks[0] = {"pid": proc.pid, "vm_hwm_kib": ranks.get(0, {}).get("vm_hwm_kib"),
                    "ru_maxrss_kib": usage.ru_maxrss}
    missing = [r for r in range(nproc) if r not in ranks]
    if missing:
        sys.exit(f"the {nproc}-process run: never saw the process of rank(s) {missing} (try a smaller --poll)")
    shown_cmd = [c.replace(work, "WORK") if c.startswith(work) else shown(c) if os.path.isabs(c) else c
                 for c in cmd]
    return {"nproc": nproc, "command": shlex.join(shown_cmd), "wall_s": wall_s, "out_dir": out_dir,
            "stderr_lines": stderr_lines, "ranks": ranks}


def stage_figures(out_dir, stderr_lines, warmup_steps):
    """Per stage (in the order trained): mean tokens/s and step seconds over the steps after the warm-up."""
    records = {}
    with open(os.path.join(out_dir, "metrics.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("split") == "train" and r.get("tokens_per_s") is not None:
                records.setdefault(r["stage"], {})[r["step"]] = r["tokens_per_s"]
    step_times = {}
    for t, line in stderr_lines:
        m = STEP_LINE.match(line)
        if m:
            step_times.setdefault(m["stage"], {})[int(m["step"])] = t
    figures = {}
    for stage, per_step in records.items():
        steps = sorted(s for s in per_step if s > warmup_steps)
        times = step_times.get(stage, {})
        intervals = {s: times[s] - times[s - 1] for s in steps if s in times and s - 1 in times}
        if sorted(per_step) != list(range(1, max(per_step) + 1)):
            sys.exit(f"{out_dir}: stage {stage} lacks train records for some steps (is its log_every 1?)")
        if not steps:
            figures[stage] = {"steps": max(per_step), "measured_steps": 0}
            continue
        tps = [per_step[s] for s in steps]
        step_s = [intervals[s] for s in steps if s in intervals]
        figures[stage] = {
            "steps": max(per_step), "measured_steps": len(steps),
            "tokens_per_s": statistics.mean(tps), "tokens_per_s_per_step": tps,
            "step_s": statistics.mean(step_s) if step_s else None,
            "step_s_median": statistics.median(step_s) if step_s else None,
            "step_s_per_step": step_s,
            # the records carry no token counts: the window a record's tokens_per_s covers is the step's
            "tokens_per_step": statistics.mean(per_step[s] * intervals[s] for s in steps if s in intervals)
            if step_s else None,
        }
    return figures


def trainable_parameters(checkpoint):
    from safetensors import safe_open

    count, tensors, dtypes = 0, 0, set()
    with safe_open(checkpoint, framework="numpy") as f:
        for key in f.keys():
            tensor = f.get_slice(key)
            n = 1
            for d in tensor.get_shape():
                n *= d
            count += n
            tensors += 1
            dtypes.add(tensor.get_dtype())
    return {"checkpoint": checkpoint, "parameters": count, "tensors": tensors, "dtypes": sorted(dtypes)}


def bucket_sizes(parameters):
    """float32 elements per bucket: the first FIRST_BUCKET_BYTES, then BUCKET_BYTES each, the rest last."""
    sizes, left, limit = [], parameters, FIRST_BUCKET_BYTES // 4
    while left > 0:
        sizes.append(min(left, limit))
        left -= sizes[-1]
        limit = BUCKET_BYTES // 4
    return sizes


def allreduce_worker(cfg):
    """Runs on every rank under torchrun: the gradient buckets' all-reduce, timed; rank 0 prints JSON."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(cfg["threads"])
    dist.init_process_group("gloo")
    buffers = [torch.zeros(n, dtype=torch.float32) for n in cfg["buckets"]]
    times = []
    for i in range(cfg["warmup"] + cfg["reps"]):
        dist.barrier()
        start = time.perf_counter()
        for b in buffers:  # one after another, as the Reducer's buckets become ready
            dist.all_reduce(b)
        if i >= cfg["warmup"]:
            times.append(time.perf_counter() - start)
    slowest = torch.tensor(times, dtype=torch.float64)
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    if dist.get_rank() == 0:
        print(json.dumps({"seconds_per_rep": slowest.tolist(), "world_size": dist.get_world_size(),
                          "torch": torch.__version__}))
    dist.destroy_process_group()


def measure_allreduce(nproc, buckets, threads, warmup, reps):
    cfg = {"buckets": buckets, "threads": threads, "warmup": warmup, "reps": reps}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
           os.path.abspath(__file__), "--allreduce-worker", json.dumps(cfg)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=launch_env(threads))
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        sys.exit(f"the all-reduce measurement on {nproc} processes failed with exit status {proc.returncode}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"nproc": nproc, "backend": "gloo", "buckets": buckets, "bytes": 4 * sum(buckets),
            "warmup": warmup, "reps": reps, "ms_per_rep": [1000 * s for s in result["seconds_per_rep"]],
            "median_ms": 1000 * statistics.median(result["seconds_per_rep"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default=os.path.join(ROOT, "recipes", "dpo.align"))
    parser.add_argument("--data-root", default=DATA_ROOT, help="the trainer's --data-root (holds dsp/helpful.json)")
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps of every stage (the trainer's --steps)")
    parser.add_argument("--nproc", default="1,2", help="process counts to run (comma-separated; 1 is the baseline)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process (and OMP_NUM_THREADS)")
    parser.add_argument("--stages", default=None,
                        help="stages to report (comma-separated; default: every stage). All stages still run")
    parser.add_argument("--warmup-steps", type=int, default=2, help="steps left out of each stage's averages")
    parser.add_argument("--eval-limit", type=int, default=None, help="passed to the trainer (default: not passed)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to the trainer (keys: TRAINER --help); every stage's log_every is set to 1")
    parser.add_argument("--params-stage", default=None,
                        help="stage whose checkpoint gives the trainable parameter count (default: the last stage)")
    parser.add_argument("--allreduce-reps", type=int, default=10)
    parser.add_argument("--allreduce-warmup", type=int, default=3)
    parser.add_argument("--poll", type=float, default=0.2, help="seconds between VmHWM polls of the ranks")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"), help="where bin/alignc is")
    parser.add_argument("--trainer", default=None,
                        help="an already built trainer to run instead of building --recipe (copied into --work)")
    parser.add_argument("--work", default=None, help="directory for the trainer and the runs (default: a temp dir)")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "distributed_scaling.json"))
    parser.add_argument("--allreduce-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.allreduce_worker is not None:
        allreduce_worker(json.loads(args.allreduce_worker))
        return
    nprocs = [int(p) for p in args.nproc.split(",")]
    if 1 not in nprocs or any(p < 1 for p in nprocs):
        sys.exit("--nproc must include 1 (the baseline) and only positive counts")
    alignc = os.path.join(args.build, "bin", "alignc")
    if args.trainer is None and not os.path.exists(alignc):
        sys.exit(f"{alignc} is missing: build the project first")
    data_file = os.path.join(args.data_root, "dsp", "helpful.json")
    if not os.path.exists(data_file):
        print(f"warning: {data_file} is missing; the recipe may read other files", file=sys.stderr)

    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="distributed_scaling."))
    os.makedirs(work, exist_ok=True)
    trainer = os.path.join(work, "trainer")
    print(f"work directory {work}", file=sys.stderr)
    if args.trainer is None:
        subprocess.run([alignc, "build", shown(args.recipe), "-o", trainer], cwd=ROOT, check=True)
    else:
        shutil.copy2(args.trainer, trainer)
    recipe, keys = trainer_settings(trainer)
    sets = [f"{k}=1" for k in keys if k.endswith(".schedule.log_every")] + args.set
    trainer_args = ["--data-root", os.path.abspath(args.data_root), "--steps", str(args.steps),
                    "--threads", str(args.threads)]
    if args.eval_limit is not None:
        trainer_args += ["--eval-limit", str(args.eval_limit)]
    for s in sets:
        trainer_args += ["--set", s]

    load_before = os.getloadavg()
    runs = {}
    for p in nprocs:
        print(f"  {p} process(es): running ...", file=sys.stderr)
        run = run_trainer(p, trainer, trainer_args, args.threads, work, args.poll)
        run["stages"] = stage_figures(run["out_dir"], run["stderr_lines"], args.warmup_steps)
        print(f"  {p} process(es): {run['wall_s']:.1f} s", file=sys.stderr)
        runs[p] = run
    trained = list(runs[1]["stages"])
    report_stages = args.stages.split(",") if args.stages else trained
    unknown = [s for s in report_stages if s not in trained]
    if unknown:
        sys.exit(f"--stages: no train records for {unknown}; the stages are {trained}")

    params_stage = args.params_stage or trained[-1]
    params = trainable_parameters(os.path.join(runs[1]["out_dir"], "checkpoints", params_stage, "model.safetensors"))
    buckets = bucket_sizes(params["parameters"])
    allreduce = {}
    for p in nprocs:
        if p > 1:
            print(f"  all-reduce on {p} processes ...", file=sys.stderr)
            allreduce[p] = measure_allreduce(p, buckets, args.threads, args.allreduce_warmup, args.allreduce_reps)
    load_after = os.getloadavg()

    import torch

    base = runs[1]
    base_rss = base["ranks"][0]["ru_maxrss_kib"] * 1024
    results = {}
    for p, run in runs.items():
        peaks = {r: v.get("ru_maxrss_kib") or v["vm_hwm_kib"] for r, v in sorted(run["ranks"].items())}
        peak_bytes = {str(r): kib * 1024 for r, kib in peaks.items()}
        entry = {"nproc": p, "command": run["command"], "wall_s": run["wall_s"],
                 "peak_rss_bytes_per_rank": peak_bytes, "peak_rss_bytes_sum": sum(peak_bytes.values()),
                 "vm_hwm_polled_kib_per_rank": {str(r): v["vm_hwm_kib"] for r, v in sorted(run["ranks"].items())},
                 "stages": {s: run["stages"][s] for s in report_stages},
                 "wall_ratio": run["wall_s"] / base["wall_s"],
                 "peak_rss_per_rank_ratio": max(peak_bytes.values()) / base_rss,
                 "peak_rss_sum_ratio": sum(peak_bytes.values()) / base_rss}
        for s in report_stages:
            fig, ref = run["stages"][s], base["stages"][s]
            if fig.get("tokens_per_s") and ref.get("tokens_per_s"):
                fig["tokens_per_s_ratio"] = fig["tokens_per_s"] / ref["tokens_per_s"]
            if fig.get("step_s") and ref.get("step_s"):
                fig["step_s_ratio"] = fig["step_s"] / ref["step_s"]
            if p in allreduce and fig.get("step_s"):
                fig["allreduce_fraction_of_step"] = allreduce[p]["median_ms"] / 1000 / fig["step_s"]
        results[str(p)] = entry

    report = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": shlex.join([shown(sys.executable)] + sys.argv),
        "config": {"recipe": recipe if args.trainer else shown(args.recipe), "trainer_given": args.trainer is not None,
                   "data_root": shown(args.data_root), "steps": args.steps, "nproc": nprocs,
                   "threads_per_process": args.threads, "warmup_steps": args.warmup_steps,
                   "stages": report_stages, "trainer_sets": sets, "eval_limit": args.eval_limit,
                   "poll_s": args.poll},
        "machine": dict(cpu_facts(), torch=torch.__version__, python=sys.version.split()[0],
                        loadavg_before=load_before, loadavg_after=load_after),
        "trainable": dict(params, stage=params_stage,
                          checkpoint=f"OUT/checkpoints/{params_stage}/model.safetensors"),
        "allreduce": {str(p): a for p, a in allreduce.items()},
        "results": results,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=2)

    m = report["machine"]
    print(f"{report['config']['recipe']}: {args.steps} steps per stage, {args.threads} thread(s) per process, "
          f"averages over steps {args.warmup_steps + 1}-{args.steps}; {m['cpu_model']}, {m['cpu_count']} CPUs, "
          f"torch {m['torch']}, load average {load_before[0]:.1f} -> {load_after[0]:.1f}")
    print(f"{'stage':10} {'procs':>5} {'tok/s':>9} {'step s':>8} {'tokens/step':>12} {'tok/s x':>8} "
          f"{'all-reduce':>11}")
    for s in report_stages:
        for p, entry in results.items():
            fig = entry["stages"][s]
            if not fig.get("measured_steps"):
                print(f"{s:10} {p:>5}  (no steps after the warm-up)")
                continue
            share, ratio = fig.get("allreduce_fraction_of_step"), fig.get("tokens_per_s_ratio")
            print(f"{s:10} {p:>5} {fig['tokens_per_s']:9.0f} {fig['step_s'] or float('nan'):8.3f} "
                  f"{fig['tokens_per_step'] or float('nan'):12.0f} {f'{ratio:.2f}' if ratio else '':>8} "
                  f"{f'{share:.1%}' if share is not None else '':>11}")
    print(f"{'procs':>5} {'wall s':>8} {'wall x':>7} {'peak RSS MiB per rank':>24} {'sum MiB':>8} "
          f"{'per rank x':>10} {'sum x':>6}")
    for p, entry in results.items():
        per_rank = " ".join(f"{b / MIB:.0f}" for b in entry["peak_rss_bytes_per_rank"].values())
        print(f"{p:>5} {entry['wall_s']:8.1f} {entry['wall_ratio']:7.2f} {per_rank:>24} "
              f"{entry['peak_rss_bytes_sum'] / MIB:8.0f} {entry['peak_rss_per_rank_ratio']:10.2f} "
              f"{entry['peak_rss_sum_ratio']:6.2f}")
    for p, a in allreduce.items():
        print(f"all-reduce, gloo, {p} processes: {len(a['buckets'])} bucket(s), {params['parameters']} fp32 "
              f"parameters ({a['bytes'] / MIB:.2f} MiB): median {a['median_ms']:.2f} ms per step "
              f"(of {a['reps']} after {a['warmup']} warm-up; un-overlapped)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
