#!/usr/bin/env bash
# Every test: set-up and build, then CTest over lit, GoogleTest, pytest and a 90 s fuzzing run. CTest's
# closing summary line ("100% tests passed, 0 tests failed out of N") is the last thing printed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
ctest --test-dir build --output-on-failure -j "$(nproc)"
