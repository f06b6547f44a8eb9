#!/usr/bin/env bash
# Deploy benchmark in one run: batch-1 and batch-64 latency of the integer runtime, ONNX Runtime (on the exported
# .onnx) and LibTorch fake-quant on the same model and inputs, plus file sizes (goals: integer runtime at least as
# fast as ONNX Runtime; 2-bit .oqa <= 1/12 of the float32 one).
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/run_deploy_bench.sh [--model DIR] [--threads N] [--build DIR] [--seconds S]
  --model DIR   folder with model.oqa and model.onnx from `oqa export` (default: runs/quickstart/export/w2a2-best,
                which scripts/quickstart.sh writes)
  --threads N   threads for every runtime (default 1)
  --build DIR   CMake build folder holding oqa (default: $OQA_BUILD_DIR or <repo>/build)
  --seconds S   timed seconds per runtime and batch size (default 2)
USAGE
}

root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
model="$root/runs/quickstart/export/w2a2-best"
threads=1
seconds=2
build="${OQA_BUILD_DIR:-$root/build}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -f "$model/model.oqa" && -f "$model/model.onnx" ]] ||
  { echo "error: $model has no model.oqa + model.onnx; run scripts/quickstart.sh or oqa export --format all" >&2; exit 2; }
[[ -x "$build/oqa" ]] || { echo "error: $build/oqa not found; build it: bash scripts/build.sh oqa" >&2; exit 2; }
echo "model: $model, threads $threads (integer runtime and LibTorch: --threads; ONNX Runtime: intra-op threads)" >&2
OMP_NUM_THREADS="$threads" "$build/oqa" --threads "$threads" bench deploy "$model/model.oqa" \
  --onnx "$model/model.onnx" --ort-threads "$threads" --seconds "$seconds"
