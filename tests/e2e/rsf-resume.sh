#!/usr/bin/env bash
# Kill a DPA trainer (SIGKILL) inside its RSF loop — once as iteration 2 starts generating, once while
# iteration 2 fine-tunes — --resume it, and compare with an uninterrupted run: the final policy
# (checkpoints/rsf/iter_2) must be the same bytes, and each iteration's samples the same lines.
# Usage: rsf-resume.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/align-e2e-rsf-resume-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/bin/align-data" dpa-task --out "$work/data" --prompts 60 --sft-rows 100 --rated-rows 100 2>/dev/null
"$build/bin/alignc" build "$source/recipes/dpa_directions.align" -o "$work/trainer"
args=(--data-root "$work/data" --steps 3 --threads 1 --eval-limit 1 --set rsf.rsf.iterations=2
      --set rsf.rsf.samples=3 --set rsf.rsf.max_new_tokens=24 --set rsf.rsf.prompts_per_iteration=12
      --set rsf.schedule.batch=4 --set rsf.schedule.micro_batch=4)
"$work/trainer" --out "$work/straight" "${args[@]}" >/dev/null 2>&1

for when in '"iteration":2,"phase":"start"' '"iteration":2,"phase":"training"'; do
  out="$work/killed-$(echo "$when" | tr -dc 'a-z')"
  "$work/trainer" --out "$out" "${args[@]}" >/dev/null 2>&1 &
  pid=$!
  seen=0
  for _ in $(seq 1 3000); do
    if grep -q "$when" "$out/state/rsf/rsf.json" 2>/dev/null; then seen=1; break; fi
    sleep 0.02
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "$seen" = 1 ] || { echo "the run never reached $when"; exit 1; }
  if [ -d "$out/checkpoints/rsf/iter_2" ]; then echo "the run finished iteration 2 before the kill; the test proves nothing"; exit 1; fi
  "$work/trainer" --resume "$out" "${args[@]}" >/dev/null 2>&1
  cmp "$work/straight/checkpoints/rsf/iter_2/model.safetensors" "$out/checkpoints/rsf/iter_2/model.safetensors" ||
    { echo "killed at $when: the resumed policy differs from the uninterrupted one"; exit 1; }
  for t in 1 2; do
    cmp "$work/straight/state/rsf/samples_$t.jsonl" "$out/state/rsf/samples_$t.jsonl" ||
      { echo "killed at $when: the samples of iteration $t differ"; exit 1; }
  done
  echo "ok: killed at $when, resumed to the same policy and samples"
done
