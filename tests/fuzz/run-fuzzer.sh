#!/usr/bin/env bash
# Runs the front-end fuzzer for a bounded time: run-fuzzer.sh FUZZ_BUILD_DIR SECONDS FUZZ_SRC_DIR RECIPES_DIR
# New corpus entries go to FUZZ_BUILD_DIR/corpus (the tree's corpus is read-only seed input); a crash leaves
# its input in FUZZ_BUILD_DIR/artifacts/ and fails the test. Prints executions per second and total.
set -euo pipefail
build=$1 seconds=$2 src=$3 recipes=$4
mkdir -p "$build/corpus" "$build/artifacts"
"$build/bin/align-fuzz-frontend" "$build/corpus" "$src/corpus" "$recipes" \
  -dict="$src/align.dict" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
  -artifact_prefix="$build/artifacts/" -print_final_stats=1 2>&1 | tee "$build/last-run.log" | grep -E "^(#[0-9]+ +DONE|stat::|==[0-9]+==|SUMMARY|INFO: )" || true
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "fuzzer failed (exit $status); see $build/last-run.log and $build/artifacts/" >&2
  tail -40 "$build/last-run.log" >&2
  exit 1
fi
execs=$(grep -E "^stat::number_of_executed_units" "$build/last-run.log" | awk '{print $2}')
echo "fuzz.frontend: ${execs:-?} executions in ${seconds} s ($(( ${execs:-0} / seconds )) per second)"
