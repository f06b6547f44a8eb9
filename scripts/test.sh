#!/usr/bin/env bash
# Installs dependencies, builds oqa with its tests and runs the default test suite (ctest, label 'long' excluded).
# --sanitize: the same suite built with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (scripts/sanitize-build.sh, build-sanitize/); any finding fails its test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--sanitize" ]; then
  bash scripts/sanitize-build.sh
  cd "${OQA_SANITIZE_DIR:-build-sanitize}"
  # LibTorch is not built with ASan: leak checks would report its process-lifetime allocations.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
  ctest --output-on-failure -LE long -j "${OQA_TEST_JOBS:-$(nproc)}" --timeout 2700
  exit 0
fi
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
# Long checks have the ctest label 'long': run them with `ctest --test-dir build -L long`.
ctest --output-on-failure -LE long -j "${OQA_TEST_JOBS:-$(nproc)}" --timeout 900
