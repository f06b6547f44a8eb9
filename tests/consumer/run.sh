#!/usr/bin/env bash
# Installs the built oqa into a temporary prefix, then configures, builds and runs tests/consumer against it.
set -euo pipefail
BUILD_DIR="$1"
SRC_DIR="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" >/dev/null
cmake -S "$SRC_DIR" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$WORK/prefix" >/dev/null
ninja -C "$WORK/build" >/dev/null
"$WORK/build/consumer"
