#!/usr/bin/env bash
# TRL's implicit-prompt files train with `pairwise("FILE")` and no column mapping: rows {"chosen", "rejected"}
# without a prompt column, as strings and as message lists (tests/e2e/Inputs/implicit-prompt.align). Every
# row is read (none refused for a missing 'prompt'), both stages' steps run, and eval.json has both sources.
# Usage: implicit-prompt.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/align-e2e-implicit-XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import json, sys
out = sys.argv[1]
topics = ["the sea", "rain", "owls", "bread", "maps", "tea", "snow", "bees"]
with open(f"{out}/strings.jsonl", "w") as f:
    for i in range(16):
        t = topics[i % len(topics)]
        f.write(json.dumps({"chosen": f"Tell me about {t}. It is calm and lovely.",
                            "rejected": f"Tell me about {t}. No."}) + "\n")
with open(f"{out}/messages.jsonl", "w") as f:
    for i in range(16):
        user = {"role": "user", "content": f"What about {topics[i % len(topics)]}?"}
        f.write(json.dumps({"chosen": [user, {"role": "assistant", "content": "Here is a careful answer."}],
                            "rejected": [user, {"role": "assistant", "content": "No."}]}) + "\n")
PY
"$build/bin/alignc" build "$src/tests/e2e/Inputs/implicit-prompt.align" -o "$work/trainer"
"$work/trainer" --help | grep -q "strings.prompt" && { echo "an undeclared prompt column must not be a setting"; exit 1; }
"$work/trainer" --out "$work/out" --data-root "$work" --threads 1 > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
for source in strings messages; do
  grep -q "\[data\] $source: 16 rows" "$work/log" || { cat "$work/log"; echo "$source: not every row was read"; exit 1; }
done
grep -q "skipped" "$work/log" && { cat "$work/log"; echo "rows were skipped"; exit 1; }
python3 - "$work/out/eval.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["align"]
assert set(e["accuracy_by_dataset"]) == {"strings", "messages"}, e
PY
test -f "$work/out/checkpoints/align/model.safetensors" || { echo "no checkpoint"; exit 1; }
echo "ok: implicit prompts (strings and message lists) train without a column mapping"
