#!/usr/bin/env bash
# Runs the PyTorch search peer (../shared/peer/search_peer.py) and oqa's search benchmarks in one run; prints the
# full search time, predictor throughput (configurations/s, and as a share of the machine's matmul peak) and the
# ratios (goals: search >= 10x faster, predictor >= 2x the peer).
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/run_search_peer.sh [--threads 1|2] [--build DIR]
  --threads N   intra-op threads for both sides (default 1)
  --build DIR   CMake build folder holding oqa_bench (default: $OQA_BUILD_DIR or <repo>/build)
USAGE
}

root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
threads=1
build="${OQA_BUILD_DIR:-$root/build}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$threads" == 1 || "$threads" == 2 ]] || { echo "error: --threads must be 1 or 2 (the benchmark's runs)" >&2; exit 2; }
peer="$root/../shared/peer/search_peer.py"
bench="$build/oqa_bench"
[[ -f "$peer" ]] || { echo "error: peer not found: $peer" >&2; exit 2; }
[[ -x "$bench" ]] || { echo "error: $bench not found; build it: cmake --build $build --target oqa_bench" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "peer: /usr/bin/python3 $peer --threads $threads" >&2
(cd "$(dirname "$peer")" && /usr/bin/python3 "$peer" --threads "$threads") > "$tmp/peer.jsonl"
echo "oqa:  $bench BM_SearchEvolution / BM_PredictorThroughput / BM_MatmulPeak (threads $threads)" >&2
OMP_NUM_THREADS="$threads" "$bench" \
  --benchmark_filter="BM_(SearchEvolution/threads:${threads}/|PredictorThroughput/threads:${threads}/|MatmulPeak/threads:${threads}/)" \
  --benchmark_format=json > "$tmp/bench.json"

/usr/bin/python3 - "$tmp/peer.jsonl" "$tmp/bench.json" "$threads" <<'PY'
import datetime, json, os, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
settings, peer = lines[0], lines[-1]
bench = json.load(open(sys.argv[2]))["benchmarks"]
threads = sys.argv[3]
runs = lambda name: [b for b in bench if b["name"].startswith(name) and b.get("run_type") == "iteration"]
scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}
search = runs("BM_SearchEvolution")
ours_s = statistics.median(b["real_time"] * scale[b["time_unit"]] for b in search)
pred32 = runs("BM_PredictorThroughput/threads:%s/encode:0/search_precision:0" % threads)[0]
pred = runs("BM_PredictorThroughput/threads:%s/encode:0/search_precision:1" % threads)[0]
pred_enc = runs("BM_PredictorThroughput/threads:%s/encode:1/search_precision:1" % threads)[0]
peak = runs("BM_MatmulPeak")[0]["gflops"]
precision = "bfloat16" if pred.get("bf16") else "float32"
print(f"search (evolution 100 x 500, MACs budget, 3 x 400 MLP), {threads} thread(s); {datetime.date.today()}, "
      f"{os.cpu_count()} cores; peer settings: {json.dumps(settings)}")
print(f"oqa's predictor precision in the search: {precision} ('auto'; final population and front re-scored in float32)")
print(f"{'':6s} {'search s':>9s} {'candidates':>11s} {'predicted':>10s} {'predictor configs/s':>20s}")
print(f"{'peer':6s} {peer['seconds']:9.2f} {peer['candidates']:11d} {peer['candidates']:10d} "
      f"{peer['predictor_configs_per_s']:20.0f}")
print(f"{'oqa':6s} {ours_s:9.2f} {int(search[0]['candidates']):11d} {int(search[0]['predicted']):10d} "
      f"{pred['configs_per_s']:20.0f}   (warm, {precision}; first call {pred['cold_configs_per_s']:.0f}/s as the "
      f"peer times it; with encoding {pred_enc['configs_per_s']:.0f}/s; float32 {pred32['configs_per_s']:.0f}/s)")
print(f"search speed-up oqa / peer: {peer['seconds'] / ours_s:.1f}x (goal >= 10x)")
print(f"predictor throughput oqa / peer: {pred['configs_per_s'] / peer['predictor_configs_per_s']:.2f}x warm, "
      f"{pred['cold_configs_per_s'] / peer['predictor_configs_per_s']:.2f}x first call to first call (goal >= 2x); "
      f"float32 alone {pred32['configs_per_s'] / peer['predictor_configs_per_s']:.2f}x")
print(f"predictor {pred['gflops']:.1f} GFLOP/s ({precision}), float32 {pred32['gflops']:.1f} GFLOP/s = "
      f"{100 * pred32['gflops'] / peak:.0f}% of this machine's fp32 matmul rate ({peak:.1f} GFLOP/s, 1024^3, same run)")
PY
