#!/usr/bin/env bash
# Installs every system and npm package oqa needs (idempotent; safe to run again). With --sanitizers, also
# clang and its runtimes (AddressSanitizer, UndefinedBehaviorSanitizer, libFuzzer) for scripts/fuzz.sh and
# scripts/test.sh --sanitize.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libtorch-dev libgloo-dev libopenblas0-openmp
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  zlib1g-dev libstb-dev
  gnuplot-nox dataset-fashion-mnist
  python3-torch
)
if [ "${1:-}" = "--sanitizers" ]; then APT_PACKAGES+=(clang libclang-rt-dev); fi
# Node.js runs ONNX Runtime in the tests; a machine may already have it from another source.
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[install-deps] installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "[install-deps] all Debian packages present"
fi

# ONNX Runtime for the export tests (its postinstall downloads, so skip scripts).
if [ ! -d third_party/npm/node_modules/onnxruntime-node ]; then
  echo "[install-deps] installing onnxruntime-node@1.30.0 into third_party/npm"
  mkdir -p third_party/npm
  (cd third_party/npm && npm install --silent --no-audit --no-fund --ignore-scripts \
     --prefix . onnxruntime-node@1.30.0)
fi
echo "[install-deps] done"
