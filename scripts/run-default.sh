#!/usr/bin/env bash
# The main job on its built-in default: the P-RLHF length experiment (issue 5). Sets up and builds, makes the
# project's own length-preference data (align-data length-task: an SFT corpus and pairs from 10 seen users,
# 70% preferring long answers, 30% short, plus 4 unseen users), compiles recipes/pdpo_length.align and runs
# it: a tiny byte-level Llama trained by SFT (`base`), then vanilla DPO and P-DPO with an individual user
# model, each from base. It ends with the table — accuracy and generated length per user group, stage by
# stage — and the pictures (generated_length_by_group.svg, accuracy_by_group.svg, curves.svg) in out/pdpo_length.
# Extra arguments go to the trainer (e.g. `scripts/run-default.sh --threads 2`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
out=${ALIGN_OUT:-out}
echo
echo "== align-data length-task --out $out/data =="
build/bin/align-data length-task --out "$out/data"
echo
echo "== alignc run recipes/pdpo_length.align -- --out $out/pdpo_length --data-root $out/data $* =="
build/bin/alignc run recipes/pdpo_length.align -- --out "$out/pdpo_length" --data-root "$out/data" "$@"
