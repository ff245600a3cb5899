#!/usr/bin/env bash
# Kill a trainer mid-run (SIGKILL: no chance to clean up), --resume it, and compare its loss curve with an
# uninterrupted run of the same recipe: every logged step must have the same loss.
# Usage: resume-after-kill.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/align-e2e-resume-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/bin/align-data" sft-corpus --out "$work/data" --rows 200 >/dev/null
"$build/bin/alignc" build "$source/recipes/sft.align" -o "$work/trainer"
args=(--data-root "$work/data" --steps 24 --threads 1 --set sft.schedule.log_every=1
      --set sft.schedule.checkpoint_every_seconds=0.3)
"$work/trainer" --out "$work/straight" "${args[@]}" >/dev/null 2>&1

"$work/trainer" --out "$work/killed" "${args[@]}" >/dev/null 2>&1 &
pid=$!
# Wait for a checkpoint past step 8, then kill without warning.
for _ in $(seq 1 600); do
  step=$(sed -n 's/.*"step": *\([0-9]*\).*/\1/p' "$work/killed/state/sft/trainer_state.json" 2>/dev/null || true)
  if [ -n "$step" ] && [ "$step" -ge 8 ]; then break; fi
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
test -f "$work/killed/state/sft/trainer_state.json" || { echo "no state was saved before the kill"; exit 1; }
if [ -d "$work/killed/checkpoints/sft" ]; then echo "the run finished before it was killed; the test proves nothing"; exit 1; fi
"$work/trainer" --resume "$work/killed" "${args[@]}" >/dev/null 2>&1

"$source/.venv/bin/python" - "$work/straight/metrics.jsonl" "$work/killed/metrics.jsonl" <<'PY'
import json, sys
def curve(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        if r["split"] == "train":
            assert r["step"] not in out, f"{path}: step {r['step']} logged twice"
            out[r["step"]] = r["loss"]
    return out
a, b = curve(sys.argv[1]), curve(sys.argv[2])
assert sorted(a) == sorted(b) == list(range(1, 25)), (sorted(a), sorted(b))
worst = max(abs(a[s] - b[s]) for s in a)
assert worst <= 1e-6 * max(1.0, max(abs(v) for v in a.values())), f"loss curves differ by {worst}"
print(f"ok: resumed curve equals the uninterrupted one (max difference {worst:.3g})")
PY
