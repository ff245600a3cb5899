#!/usr/bin/env bash
# One recipe end to end: alignc build → trainer → a few steps per stage on tiny models → the files a run
# leaves. Usage: run-recipe.sh BUILD_DIR RECIPE DATA_ROOT STEPS [extra trainer args]
#   DATA_ROOT "generate" makes the project's own data (align-data sft-corpus and length-task, small) in the
#   work directory;
#   a DATA_ROOT that does not exist makes the test skip (exit 77): ../shared/data is beside CI's checkout,
#   but the recipes must not depend on it anywhere else.
set -euo pipefail
build=$1 recipe=$2 data_root=$3 steps=$4
shift 4
name=$(basename "$recipe" .align)
work=$(mktemp -d "${TMPDIR:-/tmp}/align-e2e-$name-XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ "$data_root" = generate ]; then
  data_root=$work/data
  "$build/bin/align-data" sft-corpus --out "$data_root" --rows 200 >/dev/null
  "$build/bin/align-data" length-task --out "$data_root" --pairs-per-user 20 --sft-rows 200 2>/dev/null
elif [ ! -d "$data_root" ]; then
  echo "skipped: data root $data_root is absent"
  exit 77
fi
"$build/bin/alignc" build "$recipe" -o "$work/trainer"
"$work/trainer" --out "$work/out" --data-root "$data_root" --steps "$steps" --threads 2 "$@"
# What every run must leave: a checkpoint per stage, metrics as JSON lines and CSV, the curves, eval.json.
for stage in $("$work/trainer" --help | sed -n 's/^stages: //p'); do
  test -f "$work/out/checkpoints/$stage/model.safetensors" || { echo "missing checkpoint of stage $stage"; exit 1; }
  test -f "$work/out/checkpoints/$stage/config.json" || { echo "missing config.json of stage $stage"; exit 1; }
done
for file in metrics.jsonl metrics.csv curves.svg eval.json; do
  test -s "$work/out/$file" || { echo "missing $file"; exit 1; }
done
# P-RLHF: the user model is saved with the personalized policy, and eval.json has the per-group table.
if [ "${name#pdpo_length}" != "$name" ]; then
  test -s "$work/out/checkpoints/personalized/user_model.json" || { echo "missing the user model"; exit 1; }
  # align-lm serves a seen user's tokens, and an unknown user as the generic user (said on stderr).
  "$build/bin/align-lm" generate --model "$work/out/checkpoints/personalized" --user u1 --prompt "Describe the owl." \
    --max-new-tokens 8 >/dev/null
  "$build/bin/align-lm" generate --model "$work/out/checkpoints/personalized" --user nobody --prompt "Hi." \
    --max-new-tokens 4 2>&1 >/dev/null | grep -q "not seen in training" || { echo "unknown user not reported"; exit 1; }
  if "$build/bin/align-lm" generate --model "$work/out/checkpoints/vanilla" --user u1 --prompt "Hi." 2>/dev/null; then
    echo "--user on a checkpoint without a user model must fail"; exit 1
  fi
  python3 - "$work/out/eval.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
for stage in ("vanilla", "personalized"):
    assert set(e[stage]["accuracy_by_group"]) == {"long", "short", "unseen"}, e[stage]
    assert set(e[stage]["generated_length_by_group"]) == {"long", "short"}, e[stage]
PY
fi
echo "ok: $name"
