#!/usr/bin/env python3
"""Interrupted many-process runs lose nothing (docs/distributed.md, "Failure and resume").

tests/e2e/Inputs/distributed.align with a training state every 2 steps, 20 steps per stage; each case must end
with the losses of every logged step (1e-5 relative, each logged once) and the final weights of an
uninterrupted one-process run:
  restart  torchrun --max-restarts 1 on 2 processes; rank 1 is SIGKILLed in the DPO stage; torchrun stops
           rank 0, starts both again, and the trainers continue from the state the first attempt left.
  2 -> 1   2 processes (both ranks, then torchrun) SIGKILLed in the DPO stage; `--resume` on one process.
  1 -> 2   one process SIGKILLed in the ranking stage; `--resume` under torchrun on 2 processes.
The DPO and ranking stages shard the optimizer state (ZeRO-1): a sharded state resumes on 2 processes and on
1, and a one-process state on 2 sharded ones.
  stall    rank 1 is stopped (SIGSTOP) in the DPO stage: rank 0's collective times out (--collective-timeout),
           it exits 1 with an error saying a collective failed, torchrun stops rank 1 and exits non-zero, and
           no staged (half-written) state or checkpoint is left in OUT.
The times from each fault to the exit are printed, not asserted (a hang fails by the launch's time limit).
Usage: distributed-failure.py BUILD_DIR SOURCE_DIR SHARED_DATA_DIR"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from distributed_runs import compare_curves, compare_weights, prepare, run, torchrun_command, torchrun_env

build, source, shared = sys.argv[1:4]
if not os.path.isdir(os.path.join(shared, "dsp")):
    print(f"skipped: {shared}/dsp is absent")
    sys.exit(77)
HANG_LIMIT = 600  # seconds: a launch still running after this has hung

failures = []


def logged_step(out, stage):
    """The last train step of `stage` in OUT/metrics.jsonl (0 if none yet)."""
    last = 0
    try:
        with open(os.path.join(out, "metrics.jsonl")) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:  # a line being written
                    continue
                if r.get("split") == "train" and r.get("stage") == stage:
                    last = max(last, r["step"])
    except FileNotFoundError:
        pass
    return last


def rank_pid(tag, rank):
    """The process of `rank` in the launch whose environment carries ALIGN_TEST_LAUNCH=tag."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if f"ALIGN_TEST_LAUNCH={tag}".encode() in env and f"RANK={rank}".encode() in env:
            return int(pid)
    return None


def start(cmd, log, env=None):
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)


def wait_for(out, stage, step, proc):
    while logged_step(out, stage) < step:
        if proc.poll() is not None:
            sys.exit(f"the run ended (exit {proc.returncode}) before {stage} step {step}")
        time.sleep(0.05)


def finish(proc, what, log):
    try:
        code = proc.wait(timeout=HANG_LIMIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.exit(f"{what}: still running after {HANG_LIMIT} s:\n{tail(log)}")
    return code


def tail(path, n=3000):
    with open(path, errors="replace") as f:
        return f.read()[-n:]


def staged(out):
    return [os.path.relpath(os.path.join(r, d), out) for r, ds, _ in os.walk(out) for d in ds
            if ".tmp-" in d or d.endswith(".tmp")]


with tempfile.TemporaryDirectory() as work:
    text = open(os.path.join(source, "tests", "e2e", "Inputs", "distributed.align")).read()
    base = "schedule { max_length: 96; max_prompt_length: 48; seed: 7; precision: fp32; }"
    assert base in text, "distributed.align's recipe-wide schedule changed: update distributed-failure.py"
    trainer, data = prepare(build, source, shared, work, text.replace(base, base[:-1] + " checkpoint_every: 2; }"))
    args = ["--data-root", data, "--steps", "20", "--threads", "1"]
    scratch = os.path.join(work, "tmp")
    os.makedirs(scratch)
    one = os.path.join(work, "one")
    run([trainer, "--out", one, *args])
    stages = ["sft", "dpo", "pdpo", "ranking"]

    def check(name, out):
        compare_curves(one, out, "loss", 1e-5, failures, f"{name}: ")
        compare_weights(one, out, stages, failures, f"{name}: ")
        if staged(out):
            failures.append(f"{name}: staged writes left in OUT: {staged(out)}")

    # restart: torchrun's own restart after a rank died
    out, log = os.path.join(work, "restart"), os.path.join(work, "restart.log")
    with open(log, "w") as f:
        p = start(torchrun_command(2, trainer, ["--out", out, *args], "--max-restarts", "1"), f,
                  torchrun_env(scratch, ALIGN_TEST_LAUNCH="restart"))
    wait_for(out, "dpo", 8, p)
    killed_at = time.monotonic()
    os.kill(rank_pid("restart", 1), signal.SIGKILL)
    code = finish(p, "restart", log)
    if code != 0:
        failures.append(f"restart: torchrun exited {code} after its restart:\n{tail(log)}")
    elif "torchrun restart 1: continuing from the training state" not in tail(log, 100000):
        failures.append(f"restart: the second attempt did not continue from the state:\n{tail(log)}")
    else:
        check("restart", out)
    print(f"restart: rank 1 killed at dpo step >= 8; restarted and finished {time.monotonic() - killed_at:.1f} s later")

    # 2 -> 1 and 1 -> 2: a state saved by P processes continues on Q
    for name, first, second, stage in (("2 -> 1", 2, 1, "dpo"), ("1 -> 2", 1, 2, "ranking")):
        out, log = os.path.join(work, f"{first}to{second}"), os.path.join(work, f"{first}to{second}.log")
        cmd = lambda n, extra: ([trainer, *extra, *args] if n == 1 else torchrun_command(n, trainer, [*extra, *args]))
        tag = f"{first}to{second}"
        with open(log, "w") as f:
            p = start(cmd(first, ["--out", out]), f, torchrun_env(scratch, ALIGN_TEST_LAUNCH=tag))
        wait_for(out, stage, 7, p)
        # torchrun starts its workers in sessions of their own: kill each rank, then the launcher.
        for pid in [rank_pid(tag, r) for r in range(first) if first > 1] + [p.pid]:
            if pid:
                os.kill(pid, signal.SIGKILL)
        p.wait()
        step = logged_step(out, stage)
        with open(log, "a") as f:
            p = start(cmd(second, ["--resume", out]), f, torchrun_env(scratch))
        if finish(p, name, log) != 0:
            failures.append(f"{name}: the resumed run failed:\n{tail(log)}")
        else:
            check(name, out)
        print(f"{name}: killed at {stage} step {step} on {first} process(es), resumed on {second}")

    # stall: a rank that stops answering
    out, log = os.path.join(work, "stall"), os.path.join(work, "stall.log")
    with open(log, "w") as f:
        p = start(torchrun_command(2, trainer, ["--out", out, *args, "--collective-timeout", "5"]), f,
                  torchrun_env(scratch, ALIGN_TEST_LAUNCH="stall"))
    wait_for(out, "dpo", 4, p)
    stalled = rank_pid("stall", 1)
    stopped_at = time.monotonic()
    os.kill(stalled, signal.SIGSTOP)
    code = finish(p, "stall", log)
    text = tail(log, 100000)
    if code == 0:
        failures.append("stall: torchrun exited 0 although rank 1 was stopped")
    if "error: rank 0: a collective among the processes failed" not in text:
        failures.append(f"stall: rank 0 did not report the failed collective:\n{tail(log)}")
    if staged(out):
        failures.append(f"stall: staged writes left in OUT: {staged(out)}")
    try:
        os.kill(stalled, 0)
        failures.append("stall: the stopped rank outlived the launch")
        os.kill(stalled, signal.SIGKILL)
    except ProcessLookupError:
        pass
    print(f"stall: rank 1 stopped at dpo step >= 4; torchrun exited {code} after {time.monotonic() - stopped_at:.1f} s "
          f"(collective timeout 5 s, then torchrun's grace before it SIGKILLs a rank that ignores SIGTERM)")

if failures:
    sys.exit("\n".join(failures[:30]))
print("every interrupted run ended with the uninterrupted one-process run's losses and weights")
