#!/usr/bin/env bash
# Runs the PyTorch supernet peer and oqa's sandwich-step benchmark on the same space, subnets and batch;
# prints images/s of both and the ratio (goal: oqa >= 1.5x the peer).
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/run_supernet_peer.sh [--threads N] [--build DIR] [--mode w4a4|w2a2|float] [--steps S]
  --threads N   intra-op threads for both sides (default 2; the C++ benchmark has runs for 1 and 2)
  --build DIR   CMake build folder holding oqa_bench (default: $OQA_BUILD_DIR or <repo>/build)
  --mode M      quantization of the four sandwich subnets (default w4a4)
  --steps S     timed steps of the peer and the C++ benchmark (default 10; both take the median)
USAGE
}

root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
threads=2
build="${OQA_BUILD_DIR:-$root/build}"
mode=w4a4
steps=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
case "$mode" in w4a4) mode_index=0 ;; w2a2) mode_index=1 ;; float) mode_index=2 ;;
  *) echo "error: --mode must be w4a4, w2a2 or float" >&2; exit 2 ;; esac
[[ "$threads" == 1 || "$threads" == 2 ]] || { echo "error: --threads must be 1 or 2 (the benchmark's runs)" >&2; exit 2; }
[[ "$threads" == 2 || "$mode" == w4a4 ]] || { echo "error: the 1-thread run exists for w4a4 only" >&2; exit 2; }

peer="$root/../shared/peer/supernet_peer.py"
bench="$build/oqa_bench"
[[ -f "$peer" ]] || { echo "error: peer not found: $peer" >&2; exit 2; }
[[ -x "$bench" ]] || { echo "error: $bench not found; build it: cmake --build $build --target oqa_bench" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "peer: /usr/bin/python3 $peer --threads $threads --batch 128 --steps $steps --mode $mode" >&2
/usr/bin/python3 "$peer" --threads "$threads" --batch 128 --steps "$steps" --mode "$mode" > "$tmp/peer.jsonl"
echo "oqa:  $bench BM_SandwichStep (batch 128, threads $threads, $mode, $steps steps x 3 repetitions)" >&2
OMP_NUM_THREADS="$threads" "$bench" --benchmark_filter="BM_SandwichStep/batch:128/threads:${threads}/mode:${mode_index}/" \
  --benchmark_repetitions=3 --benchmark_format=json > "$tmp/bench.json"

/usr/bin/python3 - "$tmp/peer.jsonl" "$tmp/bench.json" "$threads" "$mode" <<'PY'
import datetime, json, os, statistics, sys
peer_lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peer = peer_lines[-1]
bench = json.load(open(sys.argv[2]))
threads, mode = sys.argv[3], sys.argv[4]
runs = [b for b in bench["benchmarks"] if b.get("run_type") == "iteration"]
if not runs:
    sys.exit("error: the benchmark produced no runs")
scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[runs[0].get("time_unit", "ns")]
ms = statistics.median(b["real_time"] * scale * 1e3 for b in runs)
ours = 128 / (ms / 1e3)
print(f"sandwich step (largest, middle_a, middle_b, smallest), batch 128, {mode}, {threads} thread(s); "
      f"{datetime.date.today()}, {os.cpu_count()} cores")
print(f"{'':8s} {'ms/step':>9s} {'images/s':>9s}")
print(f"{'peer':8s} {peer['ms_per_step']:9.1f} {peer['images_per_s']:9.1f}")
print(f"{'oqa':8s} {ms:9.1f} {ours:9.1f}")
print(f"ratio oqa / peer: {ours / peer['images_per_s']:.2f}x (goal >= 1.5x)")
PY
