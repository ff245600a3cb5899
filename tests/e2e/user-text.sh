#!/usr/bin/env bash
# P-RLHF explicit user information (`users ... text: "column"`): rows of known users read their text after the
# soft tokens, generic duplicates do not, and rows without the column are simply without text.
# Usage: user-text.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/align-e2e-user-text-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/bin/align-data" length-task --out "$work/data" --pairs-per-user 20 --sft-rows 200 2>/dev/null
# A stated preference per user, as PRISM's survey gives one; every third row has none (null).
python3 - "$work/data/length/prefs.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for i, r in enumerate(rows):
    r["bio"] = None if i % 3 == 0 else ("I like detail." if r["group"] == "long" else "Keep it brief.")
open(sys.argv[1], "w").write("".join(json.dumps(r) + "\n" for r in rows))
PY
sed 's/users people = individual(tokens: 10,/users people = individual(tokens: 10, text: "bio",/' \
  "$src/recipes/pdpo_length.align" > "$work/recipe.align"
grep -q 'text: "bio"' "$work/recipe.align" || { echo "could not add text: to the recipe"; exit 1; }
"$build/bin/alignc" build "$work/recipe.align" -o "$work/trainer"
"$work/trainer" --help > "$work/help" && grep -q "people.text" "$work/help" || { echo "people.text is not a --set key"; exit 1; }
"$work/trainer" --out "$work/out" --data-root "$work/data" --steps 2 --threads 1 > "$work/log" 2>&1 ||
  { cat "$work/log"; exit 1; }
# 2 of every 3 training rows have a bio.
grep -E "\[personalized\] [0-9]+ of [0-9]+ training rows read their user's text \(column 'bio'\)" "$work/log" ||
  { cat "$work/log"; echo "the user text was not read"; exit 1; }
# Without the column in the data, no row has text (and nothing fails).
"$work/trainer" --out "$work/out2" --data-root "$work/data" --steps 1 --threads 1 --set people.text=nothing \
  > "$work/log2" 2>&1 || { cat "$work/log2"; exit 1; }
grep -q "\[personalized\] 0 of [0-9]* training rows read their user's text (column 'nothing')" "$work/log2" ||
  { cat "$work/log2"; echo "a missing text column must give rows without text"; exit 1; }
echo "ok: user text"
