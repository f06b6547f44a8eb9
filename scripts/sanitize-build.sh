#!/usr/bin/env bash
# Configures and builds oqa with clang, AddressSanitizer + UndefinedBehaviorSanitizer and the libFuzzer
# harnesses into build-sanitize/ (or $OQA_SANITIZE_DIR); extra args are ninja targets.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --sanitizers
BUILD_DIR="${OQA_SANITIZE_DIR:-build-sanitize}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DOQA_SANITIZE=ON -DOQA_FUZZ=ON -DOQA_BUILD_BENCH=OFF >/dev/null
echo "[sanitize-build] compiling with clang, ASan + UBSan, into $BUILD_DIR"
ninja -C "$BUILD_DIR" -j "${OQA_JOBS:-$(nproc)}" "$@"
