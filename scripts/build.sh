#!/usr/bin/env bash
# Configures and builds oqa (Release) into build/ (or $OQA_BUILD_DIR); extra args are ninja targets.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${OQA_BUILD_DIR:-build}"
JOBS="${OQA_JOBS:-$(nproc)}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
echo "[build] compiling with $JOBS jobs into $BUILD_DIR (a clean build takes several minutes on 2 cores)"
ninja -C "$BUILD_DIR" -j "$JOBS" "$@"
