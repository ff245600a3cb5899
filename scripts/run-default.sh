#!/usr/bin/env bash
# The main job on its built-in default: set up and build, make the project's own SFT corpus (align-data),
# compile recipes/sft.align into a trainer and run it on a tiny Llama — the progress line, then the eval
# table and where the checkpoint, metrics, curves and eval.json are. Extra arguments go to the trainer
# (e.g. `scripts/run-default.sh --steps 20`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
out=${ALIGN_OUT:-out}
echo
echo "== align-data sft-corpus --out $out/data =="
build/bin/align-data sft-corpus --out "$out/data"
echo
echo "== alignc run recipes/sft.align -- --out $out/sft --data-root $out/data $* =="
build/bin/alignc run recipes/sft.align -- --out "$out/sft" --data-root "$out/data" "$@"
