"""Kill a trainer anywhere, resume, lose nothing.

SIGKILLs the trainer of tests/e2e/Inputs/kill-anywhere.align (SFT, an EM-DPO loop, DPO, evaluation, a state
every 2 steps, an aggregation) again and again — at random times, and at the moments a training state or a
checkpoint is being written — resuming with --resume after each kill, until a run ends by itself. The result
must be the bytes of an uninterrupted run: every checkpoint's files, the aggregation's mixture, eval.json, and
each training step logged once with the same loss.

usage: kill-anywhere.py BUILD_DIR SOURCE_DIR [--kills N] [--seed S] [--keep DIR]
Prints one line per kill (when it landed: stage, phase) and a summary; exit 1 on any difference.
"""
import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def run_args(trainer, data):
    return [trainer, "--data-root", data, "--threads", "1"]


def staged_writes(out):
    """The atomic writes in progress under OUT: staged state directories and staged checkpoints."""
    found = []
    for root, dirs, _ in os.walk(out):
        for d in dirs:
            if ".tmp-" in d or d.endswith(".tmp"):
                found.append(os.path.relpath(os.path.join(root, d), out))
    return found


def phase_of(out, log):
    """Where a kill landed, from what it left: a staged write, or the trainer's last progress line."""
    staged = staged_writes(out)
    if any(p.startswith("state") for p in staged):
        return "mid-state-write"
    if any(p.startswith("checkpoints") for p in staged):
        return "mid-checkpoint"
    lines = [l for l in open(log, errors="replace").read().replace("\r", "\n").splitlines() if l.strip()]
    if not lines:
        return "start-up"
    last = lines[-1]
    stage = last[1:last.index("]")] if last.startswith("[") and "]" in last else ""
    if stage in ("eval", "fair") or "regret" in last:
        return "final evaluation"
    if ".type" in stage or "EM iteration" in last or "E-step" in last or "type recovery" in last:
        return "EM iteration"
    if " step " in last or "resuming" in last:
        return "training"
    return "between stages"


def kill_once(cmd, out, log, mode, delay, rng):
    """Starts cmd, kills it per `mode`; returns (killed, seconds) — killed False when it ended by itself."""
    with open(log, "w") as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr,
                                env=dict(os.environ, ALIGN_PLAIN_PROGRESS="1"))
    start = time.monotonic()
    deadline = start + delay
    while proc.poll() is None:
        now = time.monotonic()
        if mode == "random" and now >= deadline:
            break
        if mode != "random":
            staged = staged_writes(out) if os.path.isdir(out) else []
            want = "state" if mode == "state-write" else "checkpoints"
            if any(p.startswith(want) for p in staged) and now >= start + 0.3:
                break
            if now >= deadline + 5:  # the write never showed up in time: kill anyway
                break
        time.sleep(0.001 if mode != "random" else 0.005)
    if proc.poll() is not None:
        return False, time.monotonic() - start
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True, time.monotonic() - start


def files_of(out):
    """The bytes a finished run leaves that must not depend on kills."""
    result = {}
    for root, _, files in os.walk(os.path.join(out, "checkpoints")):
        for f in files:
            path = os.path.join(root, f)
            result[os.path.relpath(path, out)] = open(path, "rb").read()
    result["eval.json"] = open(os.path.join(out, "eval.json"), "rb").read()
    return result


def train_curve(out):
    curve = {}
    for line in open(os.path.join(out, "metrics.jsonl")):
        r = json.loads(line)
        if r["split"] != "train":
            continue
        key = (r["stage"], r["step"])
        if key in curve:
            raise AssertionError(f"{out}/metrics.jsonl: {key} logged twice")
        curve[key] = r["loss"]
    return curve


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build")
    parser.add_argument("source")
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="leave the work directory here")
    args = parser.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="align-e2e-kill-")
    os.makedirs(work, exist_ok=True)
    try:
        data = os.path.join(work, "data")
        subprocess.run([os.path.join(args.build, "bin", "align-data"), "em-bandit", "--out", data, "--users", "30",
                        "--pairs-per-user", "20"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        trainer = os.path.join(work, "trainer")
        subprocess.run([os.path.join(args.build, "bin", "alignc"), "build",
                        os.path.join(args.source, "tests", "e2e", "Inputs", "kill-anywhere.align"), "-o", trainer],
                       check=True)
        # Both runs write to the same path (checkpoints name their base model by absolute path), one after the
        # other: the uninterrupted run is then moved aside.
        run = os.path.join(work, "run")
        straight = os.path.join(work, "straight")
        t0 = time.monotonic()
        subprocess.run(run_args(trainer, data) + ["--out", run], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        duration = time.monotonic() - t0
        os.rename(run, straight)
        expected_files, expected_curve = files_of(straight), train_curve(straight)

        rng = random.Random(args.seed)
        modes = ["random", "state-write", "random", "checkpoint-write"]
        kills, attempts, chains, phases = 0, 0, 0, collections.Counter()
        # A chain: start, kill, resume, kill, ... until a resumed run ends by itself; then compare. Chains repeat
        # until there have been --kills kills.
        while kills < args.kills:
            chains += 1
            shutil.rmtree(run, ignore_errors=True)
            first = True
            while True:
                attempts += 1
                if attempts > 4 * args.kills + 20:
                    raise AssertionError("the killed runs never finished")
                # A kill during start-up can land before anything was saved; --resume of that is an error (there
                # is nothing to continue), so the run starts again, as its user would.
                saved = any(os.path.isdir(os.path.join(run, d)) for d in ("state", "checkpoints"))
                cmd = run_args(trainer, data) + (["--out", run] if first or not saved else ["--resume", run])
                first = False
                mode = modes[kills % len(modes)]
                log = os.path.join(work, f"run-{attempts}.log")
                was_killed, seconds = kill_once(cmd, run, log, mode, rng.uniform(0.2, duration), rng)
                if not was_killed:
                    text = open(log, errors="replace").read()
                    if "error:" in text:
                        raise AssertionError(f"a resumed run failed:\n{text[-3000:]}")
                    break
                kills += 1
                phase = phase_of(run, log)
                phases[phase] += 1
                print(f"kill {kills} (chain {chains}): {mode:16s} after {seconds:5.2f} s -> {phase}", flush=True)
            got = files_of(run)
            if sorted(got) != sorted(expected_files):
                raise AssertionError(f"chain {chains}: different files: only uninterrupted "
                                     f"{sorted(set(expected_files) - set(got))}, only killed "
                                     f"{sorted(set(got) - set(expected_files))}")
            differ = [name for name in got if got[name] != expected_files[name]]
            if differ:
                raise AssertionError(f"chain {chains}: files differ from the uninterrupted run: {differ}")
            curve = train_curve(run)
            if curve != expected_curve:
                diff = sorted(set(curve.items()) ^ set(expected_curve.items()))[:6]
                raise AssertionError(f"chain {chains}: training curves differ: {diff}")
        print(f"ok: {kills} kills in {chains} chain(s) ({dict(phases)}), each chain resumed to the end; "
              f"{len(expected_files)} files bitwise equal to the uninterrupted run ({duration:.1f} s), "
              f"{len(expected_curve)} training steps logged once each with the same loss")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
