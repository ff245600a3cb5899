#!/usr/bin/env bash
# Set-up for a fresh Debian 12 machine of the project's kind; safe to re-run (each step skips what is done).
#   1. Debian packages: LLVM/MLIR 16 (dev + tools, lit, FileCheck), ANTLR 4 (tool + C++ runtime), GoogleTest,
#      ninja, clang with libFuzzer, nlohmann-json, PCRE2, zlib.
#   2. A virtual environment in .venv with the pinned Python packages of requirements.txt (torch 2.11, the
#      CUDA-enabled PyPI wheel that also provides LibTorch; transformers, TRL, tokenizers, safetensors, pytest).
#   3. Configure and build into build/ (tools in build/bin/).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(cmake g++ ninja-build python3-venv
          llvm-16-dev llvm-16-tools libmlir-16-dev mlir-16-tools
          antlr4 libantlr4-runtime-dev libgtest-dev googletest
          clang libclang-rt-14-dev nlohmann-json3-dev libpcre2-dev zlib1g-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

python=${PYTHON:-python3}
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing pinned Python packages into .venv (torch is large: a few minutes)"
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  echo "$want" > "$stamp"
else
  log "Python packages present (.venv matches requirements.txt)"
fi
# The wheel must be the CUDA-enabled build of the pinned line: say so loudly rather than fall back.
.venv/bin/python - <<'PY'
import sys, torch
cuda = torch.version.cuda
print(f"[setup] torch {torch.__version__} (CUDA {cuda}), LibTorch at {torch.utils.cmake_prefix_path}")
if not torch.__version__.startswith("2.11") or cuda is None:
    sys.exit("[setup] error: expected the CUDA-enabled torch 2.11 wheel from PyPI")
PY

if [ ! -f build/build.ninja ]; then
  log "configuring build/"
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-16/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-16/build/utils/lit/lit.py \
    -DPython3_EXECUTABLE="$root/.venv/bin/python" >/dev/null
fi
log "building (tools in build/bin/)"
cmake --build build -j "$(nproc)"
