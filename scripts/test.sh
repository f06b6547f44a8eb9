#!/usr/bin/env bash
# Installs dependencies, builds oqa with its tests and runs the default test suite (ctest, label 'long' excluded).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
# Long checks have the ctest label 'long': run them with `ctest --test-dir build -L long`.
ctest --output-on-failure -LE long -j "${OQA_TEST_JOBS:-$(nproc)}" --timeout 900
