#!/usr/bin/env bash
# One recipe end to end: alignc build → trainer → a few steps per stage on tiny models → the files a run
# leaves. Usage: run-recipe.sh BUILD_DIR RECIPE DATA_ROOT STEPS [extra trainer args]
#   DATA_ROOT "generate" makes the project's own data (align-data sft-corpus, length-task, em-bandit, em-types
#   and dpa-task, small) in the work directory;
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
  "$build/bin/align-data" em-bandit --out "$data_root" --users 30 --pairs-per-user 20 2>/dev/null
  "$build/bin/align-data" em-types --out "$data_root" --feedback ternary --users 20 --sft-rows 60 2>/dev/null
  "$build/bin/align-data" dpa-task --out "$data_root" --prompts 60 --sft-rows 100 --rated-rows 100 2>/dev/null
elif [ ! -d "$data_root" ]; then
  echo "skipped: data root $data_root is absent"
  exit 77
fi
# DPA's RSF loop samples, scores and fine-tunes each iteration, and pareto answers a grid of directions for
# π_0 and every π_t: one iteration of a few short samples on a few prompts, and 4 evaluation prompts.
extra=()
if [ "$name" = dpa_directions ]; then
  extra=(--set rsf.rsf.iterations=1 --set rsf.rsf.samples=2 --set rsf.rsf.max_new_tokens=16
         --set rsf.rsf.prompts_per_iteration=8 --eval-limit 4)
fi
"$build/bin/alignc" build "$recipe" -o "$work/trainer"
"$work/trainer" --out "$work/out" --data-root "$data_root" --steps "$steps" --threads 1 ${extra[@]+"${extra[@]}"} "$@"
# What every run must leave: a checkpoint per stage, metrics as JSON lines and CSV, the curves, eval.json.
for stage in $("$work/trainer" --help | sed -n 's/^stages: //p'); do
  dir="$work/out/checkpoints/$stage"
  [ -d "$dir" ] || dir="$work/out/checkpoints/$stage.type0" # an EM stage: one policy per latent type
  # An RSF stage: a policy per iteration, OUT/checkpoints/STAGE/iter_t; the stage's result is the last one.
  if [ ! -f "$dir/model.safetensors" ] && compgen -G "$dir/iter_*" >/dev/null; then
    dir=$(printf '%s\n' "$dir"/iter_* | sort -V | tail -1)
  fi
  test -f "$dir/model.safetensors" || { echo "missing checkpoint of stage $stage"; exit 1; }
  test -f "$dir/config.json" || { echo "missing config.json of stage $stage"; exit 1; }
done
# DPA: eval.json's pareto points of π_0 and π_1 and the RSF loop's one iteration, the Pareto plot, and the
# direction kept beside the last iteration's policy.
if [ "$name" = dpa_directions ]; then
  test -s "$work/out/checkpoints/rsf/iter_1/direction.json" || { echo "missing checkpoints/rsf/iter_1/direction.json"; exit 1; }
  test -s "$work/out/rsf_pareto.svg" || { echo "missing rsf_pareto.svg"; exit 1; }
  python3 - "$work/out" <<'PY'
import json, os, sys
e = json.load(open(os.path.join(sys.argv[1], "eval.json")))["rsf"]
assert {p["iteration"] for p in e["pareto"]} == {0, 1}, e["pareto"]
assert len(e["rsf"]) == 1, e["rsf"]
PY
fi
# EM-DPO: a policy per type, and eval.json's η (per iteration) and type recovery against the data's true types.
if [ "$name" = em_types ]; then
  python3 - "$work/out" <<'PY'
import json, os, sys
e = json.load(open(os.path.join(sys.argv[1], "eval.json")))["mixture"]
assert len(e["eta"]) == 2 and len(e["eta_by_iteration"]) == 5, e
assert e["type_recovery"]["annotators"] == 20, e
assert os.path.getsize(os.path.join(sys.argv[1], "mixture_eta.svg")) > 0
assert os.path.getsize(os.path.join(sys.argv[1], "fair_regret.svg")) > 0
f = json.load(open(os.path.join(sys.argv[1], "eval.json")))["fair"]
assert len(f["weights"]) == 2 and len(f["baseline"]["regret_by_type"]) == 2 and f["prompts"] >= 1, f
single = json.load(open(os.path.join(sys.argv[1], "eval.json")))["single"]["regret_by_type"]
assert [single["type0"], single["type1"]] == f["baseline"]["regret_by_type"], (single, f["baseline"])
PY
fi
# The authors' settings on the project's em-types data: four type policies, their MMRA mixture, and the held-out
# annotators' votes judged by their types' policies.
if [ "$name" = em_dpo_types ]; then
  python3 - "$work/out" <<'PY'
import json, os, sys
e = json.load(open(os.path.join(sys.argv[1], "eval.json")))
assert len(e["fair"]["weights"]) == 4 and len(e["fair"]["regret_by_type"]) == 4, e["fair"]
assert e["mixture"]["accuracy_by_type"] and set(e["mixture"]["accuracy_by_group"]) <= {"brief", "thorough"}, e["mixture"]
assert sorted(e["sft"]["regret_by_type"]) == ["type0", "type1", "type2", "type3"], e["sft"]
PY
fi
if [ "$name" = em_bandit ]; then
  python3 - "$work/out" <<'PY'
import json, os, sys
e = json.load(open(os.path.join(sys.argv[1], "eval.json")))["mixture"]
assert len(e["eta"]) == 3 and abs(sum(e["eta"]) - 1) < 1e-9, e
assert len(e["eta_by_iteration"]) == 4, e
assert set(e["type_recovery"]) == {"accuracy", "ari", "annotators"} and e["type_recovery"]["annotators"] == 30, e
for k in range(3):
    assert os.path.exists(os.path.join(sys.argv[1], "checkpoints", f"mixture.type{k}", "model.safetensors")), k
# MMRA: the mixture's weights, each type's regret under it, the single-DPO baseline's, the 3x3 matrix.
f = json.load(open(os.path.join(sys.argv[1], "eval.json")))["fair"]
assert len(f["weights"]) == 3 and abs(sum(f["weights"]) - 1) < 1e-6 and min(f["weights"]) >= 0, f
assert len(f["regret_by_type"]) == 3 and len(f["baseline"]["regret_by_type"]) == 3, f
assert [len(r) for r in f["regret_matrix"]] == [3, 3, 3] and all(f["regret_matrix"][i][i] == 0 for i in range(3)), f
m = json.load(open(os.path.join(sys.argv[1], "checkpoints", "fair", "mixture.json")))
assert m["policies"] == [f"../mixture.type{k}" for k in range(3)] and m["weights"] == f["weights"], m
answers = [json.loads(l) for l in open(os.path.join(sys.argv[1], "checkpoints", "fair", "answers.jsonl"))]
assert len(answers) == 4 * 64, len(answers)
PY
  # align-lm answers with the mixture's policy k, drawn by the seed.
  "$build/bin/align-lm" generate --mixture "$work/out/checkpoints/fair" --prompt "Pick one:" --max-new-tokens 4 \
    --seed 3 | grep -q '"policy":' || { echo "align-lm generate --mixture names no policy"; exit 1; }
fi
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
# The learned user table, by user and by group (core/UserTables.h).
t = e["personalized"]["user_tables"]
assert t["model"] in ("individual", "cluster") and set(t["by_group"]) == {"long", "short"}, t
assert len(t["by_user"]) == t["users"] > 0 and 0 <= t["with_group"] <= 1, t
PY
  test -s "$work/out/personalized_users.svg" || { echo "missing personalized_users.svg"; exit 1; }
fi
# P-RM: the user model is saved with the reward model; align-lm scores as a user, and score-pairs judges each
# row as its own user (per-user accuracy), unknown users as the generic user.
if [ "$name" = prm_length ]; then
  prm="$work/out/checkpoints/personalized"
  test -s "$prm/user_model.json" || { echo "missing the P-RM's user model"; exit 1; }
  printf '{"text": "Describe the owl. A bird."}\n' > "$work/one.jsonl"
  a=$("$build/bin/align-lm" score --model "$prm" --input "$work/one.jsonl" --tokenizer bytes --user u1)
  g=$("$build/bin/align-lm" score --model "$prm" --input "$work/one.jsonl" --tokenizer bytes)
  [ "$a" != "$g" ] || { echo "a seen user's reward equals the generic user's: $a"; exit 1; }
  "$build/bin/align-lm" score-pairs --model "$prm" --data "$data_root/length/prefs.jsonl" --format pairwise \
    --user-column user_id --max-length 96 --max-prompt-length 48 --threads 1 > "$work/prm-pairs.json"
  python3 - "$work/prm-pairs.json" "$work/out/eval.json" <<'PY'
import json, sys
s, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert s["accuracy_by_user"] and s["users_unseen"], s
assert set(e["personalized"]["accuracy_by_group"]) == {"long", "short", "unseen"}, e["personalized"]
print(f"score-pairs by user: {len(s['accuracy_by_user'])} users, {len(s['users_unseen'])} unseen served as generic")
PY
  if "$build/bin/align-lm" score-pairs --model "$work/out/checkpoints/plain" --data "$data_root/length/prefs.jsonl" \
       --format pairwise --user-column user_id 2>/dev/null; then
    echo "--user-column on a reward model without users must fail"; exit 1
  fi
fi
# DSP: every checkpoint carries the recipe's tokenizer.json, and align-lm score-pairs (reading it from there)
# reproduces eval.json's held-out accuracy of the last customized stage — the same rows when the trainer ran
# with --eval-limit N (score-pairs --limit N).
if [ "${name#dsp_}" != "$name" ]; then
  for stage in $("$work/trainer" --help | sed -n 's/^stages: //p'); do
    cmp -s "$work/out/checkpoints/$stage/tokenizer.json" "$(dirname "$recipe")/tokenizers/dsp-bpe.json" ||
      { echo "checkpoint of stage $stage lacks the recipe's tokenizer.json"; exit 1; }
  done
  limit=0
  for ((i = 1; i <= $#; i++)); do [ "${!i}" = --eval-limit ] && { j=$((i + 1)); limit=${!j}; }; done
  stage=$("$work/trainer" --help | sed -n 's/^stages: //p' | tr ' ' '\n' | grep '^customized' | tail -1)
  # The stage's own domain: the group of its accuracy that is not helpful/harmless/WebGPT.
  domain=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))[sys.argv[2]]; print(*{g for k, v in e.items() if k.startswith("accuracy_by_") for g in v} - {"helpful", "harmless", "webgpt"})' "$work/out/eval.json" "$stage")
  "$build/bin/align-lm" score-pairs --model "$work/out/checkpoints/$stage" --data "$data_root/dsp/domain_specific_preference.json" \
    --domain "$domain" --split eval=20% --limit "$limit" --batch 32 --max-length 512 --threads 1 > "$work/score-pairs.json"
  python3 - "$work/out/eval.json" "$stage" "$work/score-pairs.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))[sys.argv[2]]
s = json.load(open(sys.argv[3]))
dsp = [(k, g) for k, v in e.items() if k.startswith("accuracy_by_") for g in v if g not in ("helpful", "harmless", "webgpt")]
(whole, group), = [(k, g) for k, g in dsp if not k.endswith("_cross")]
assert abs(e[whole][group] - s["accuracy"]) < 1e-9, (e[whole][group], s)
assert abs(e[whole + "_cross"][group] - s["accuracy_cross"]) < 1e-9, (e[whole + "_cross"][group], s)
print(f"score-pairs reproduces eval.json: {s['accuracy']:.4f} / cross {s['accuracy_cross']:.4f} on {s['pairs']} pairs")
PY
fi
echo "ok: $name"
