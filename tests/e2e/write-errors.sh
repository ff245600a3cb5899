#!/usr/bin/env bash
# Full disks and write errors: a trainer whose writes fail — a file-size limit (RLIMIT_FSIZE), a full file
# system (a small tmpfs) or a read-only one — stops with exit 1 and an error naming the file, never a signal;
# the last good state stays intact, and resuming it where the disk is fine ends with the weights of an
# uninterrupted run. The tmpfs cases need mounts: they run in a user+mount namespace (unshare -rm) and are
# reported as skipped where the machine allows none.
# Usage: write-errors.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/align-e2e-write-errors-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/bin/align-data" sft-corpus --out "$work/data" --rows 200 >/dev/null
"$build/bin/alignc" build "$source/recipes/sft.align" -o "$work/trainer"
args=(--data-root "$work/data" --steps 16 --threads 1 --set sft.schedule.log_every=1
      --set sft.schedule.checkpoint_every_seconds=0.2)

"$work/trainer" --out "$work/straight" "${args[@]}" >/dev/null 2>&1
want=$(sha256sum < "$work/straight/checkpoints/sft/model.safetensors")

# A run killed after its state passed step 6: the good state every case below starts from.
"$work/trainer" --out "$work/good" "${args[@]}" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  step=$(sed -n 's/.*"step": *\([0-9]*\).*/\1/p' "$work/good/state/sft/trainer_state.json" 2>/dev/null || true)
  if [ -n "$step" ] && [ "$step" -ge 6 ]; then break; fi
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ -d "$work/good/checkpoints/sft" ] && { echo "the run finished before it was killed; the test proves nothing"; exit 1; }

# expect_failure NAME PATTERN OUT_DIR -- COMMAND...: COMMAND exits 1 (not a signal) with an error line that
# matches PATTERN and names a path inside OUT_DIR.
expect_failure() {
  local name=$1 pattern=$2 out=$3
  shift 4
  set +e
  "$@" >"$work/$name.out" 2>"$work/$name.err"
  local status=$?
  set -e
  if [ "$status" -ne 1 ]; then
    echo "$name: exit status $status, expected 1"; tail -5 "$work/$name.err"; exit 1
  fi
  local line
  line=$(grep '^error: ' "$work/$name.err" | tail -1)
  if ! grep -q -- "$pattern" <<<"$line" || ! grep -q -- "$out/" <<<"$line"; then
    echo "$name: expected an error naming a file in $out and '$pattern', got: ${line:-nothing}"; tail -5 "$work/$name.err"; exit 1
  fi
  if grep -q -i 'terminate called\|Traceback\|Aborted\|Segmentation' "$work/$name.err"; then
    echo "$name: crashed"; cat "$work/$name.err"; exit 1
  fi
  echo "ok: $name: ${line#error: }" | cut -c1-200
}

# expect_resumes_to_the_end NAME OUT_DIR: --resume OUT_DIR where writes succeed ends with the straight weights.
expect_resumes_to_the_end() {
  local name=$1 out=$2
  "$work/trainer" --resume "$out" "${args[@]}" >/dev/null 2>"$work/$name-resume.err" ||
    { echo "$name: resuming after the failure failed"; tail -5 "$work/$name-resume.err"; exit 1; }
  [ "$(sha256sum < "$out/checkpoints/sft/model.safetensors")" = "$want" ] ||
    { echo "$name: resumed weights differ from the uninterrupted run"; exit 1; }
  echo "ok: $name: resumed from the last good state to the uninterrupted run's weights"
}

# 1. A file-size limit below the model's size: the state write fails with EFBIG.
cp -a "$work/good" "$work/fsize"
model_kib=$(( $(stat -c %s "$work/good/state/sft/model.safetensors") / 1024 ))
expect_failure fsize "File too large" "$work/fsize" -- \
  bash -c 'ulimit -f "$1"; shift; exec "$@"' _ $((model_kib / 2)) "$work/trainer" --resume "$work/fsize" "${args[@]}"
expect_resumes_to_the_end fsize "$work/fsize"

# 2 and 3 need a mount namespace: a tmpfs just larger than the run's directory, then the same tmpfs read-only.
if ! unshare -rm true 2>/dev/null; then
  echo "skipped: full and read-only file systems (no user+mount namespace here: unshare -rm failed)"
  exit 0
fi
run_kib=$(du -sk "$work/good" | cut -f1)
mkdir -p "$work/mnt" "$work/full" "$work/readonly"
unshare -rm bash -s "$work" "$run_kib" "${args[@]}" <<'INSIDE'
set -euo pipefail
work=$1 run_kib=$2
shift 2
status=0
# Full: room for the run as it is plus a little, not for another state.
mount -t tmpfs -o size=$((run_kib + 96))k tmpfs "$work/mnt"
cp -a "$work/good/." "$work/mnt/"
"$work/trainer" --resume "$work/mnt" "$@" >/dev/null 2>"$work/full.err" || status=$?
echo "$status" > "$work/full.status"
cp -a "$work/mnt/." "$work/full/"
umount "$work/mnt"
# Read-only: the good run on a file system that refuses every write.
mount -t tmpfs -o size=$((run_kib * 2 + 1024))k tmpfs "$work/mnt"
cp -a "$work/good/." "$work/mnt/"
mount -o remount,ro "$work/mnt"
status=0
"$work/trainer" --resume "$work/mnt" "$@" >/dev/null 2>"$work/readonly.err" || status=$?
echo "$status" > "$work/readonly.status"
cp -a "$work/mnt/." "$work/readonly/"
INSIDE
for name in full readonly; do
  status=$(cat "$work/$name.status")
  [ "$status" = 1 ] || { echo "$name: exit status $status, expected 1"; tail -5 "$work/$name.err"; exit 1; }
  line=$(grep '^error: ' "$work/$name.err" | tail -1)
  pattern=$([ "$name" = full ] && echo "No space left on device" || echo "Read-only file system")
  grep -q -- "$pattern" <<<"$line" && grep -q -- "$work/mnt/" <<<"$line" ||
    { echo "$name: expected an error naming a file in the run and '$pattern', got: ${line:-nothing}"; tail -5 "$work/$name.err"; exit 1; }
  echo "ok: $name: ${line#error: }" | cut -c1-200
  rm -f "$work/$name/.lock"
  expect_resumes_to_the_end "$name" "$work/$name"
done
