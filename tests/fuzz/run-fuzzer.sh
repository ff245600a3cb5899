#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time:
#   run-fuzzer.sh TARGET FUZZ_BUILD_DIR SECONDS MAX_LEN DICT|- SEED_DIR...
# runs FUZZ_BUILD_DIR/bin/align-fuzz-TARGET. New corpus entries go to FUZZ_BUILD_DIR/corpus-TARGET (the seed
# directories, in the source tree, are read-only input); a crash, a sanitizer report, an uncaught exception, a
# leak, an input taking over 10 s or a process over 2 GB leaves its input in FUZZ_BUILD_DIR/artifacts/ and fails
# the test. Prints executions per second and total. Extra libFuzzer flags can come in ALIGN_FUZZ_FLAGS.
set -euo pipefail
target=$1 build=$2 seconds=$3 max_len=$4 dict=$5
shift 5
mkdir -p "$build/corpus-$target" "$build/artifacts"
dict_flag=()
if [ "$dict" != "-" ]; then dict_flag=(-dict="$dict"); fi
log="$build/last-run-$target.log"
# The fuzzer's own status, read before anything else runs: with pipefail, `pipeline || true` would run `true`
# after a failing fuzzer and leave PIPESTATUS saying 0.
set +e
# shellcheck disable=SC2086 # ALIGN_FUZZ_FLAGS is a list of flags
"$build/bin/align-fuzz-$target" "$build/corpus-$target" "$@" "${dict_flag[@]}" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
  -artifact_prefix="$build/artifacts/$target-" -print_final_stats=1 ${ALIGN_FUZZ_FLAGS:-} 2>&1 |
  tee "$log" | grep -E "^(#[0-9]+ +DONE|stat::|==[0-9]+==|SUMMARY|INFO: )"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "fuzz.$target failed (exit $status); see $log and $build/artifacts/" >&2
  tail -40 "$log" >&2
  exit 1
fi
execs=$(grep -E "^stat::number_of_executed_units" "$log" | awk '{print $2}')
rate=$(grep -E "^stat::average_exec_per_sec" "$log" | awk '{print $2}')
echo "fuzz.$target: ${execs:-?} executions in ${seconds} s (${rate:-?} per second)"
