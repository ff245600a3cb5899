#!/usr/bin/env bash
# The main job on its built-in default. Until the trainer exists, that is checking the whole recipe library
# with `alignc check` and printing a summary (one line per recipe, then the totals).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
echo
echo "== alignc check recipes/*.align =="
build/bin/alignc check recipes/*.align
