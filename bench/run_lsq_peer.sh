#!/usr/bin/env bash
# Runs the PyTorch LSQ peer and oqa's LSQ benchmark with the same thread count; prints fused vs composed vs peer.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/run_lsq_peer.sh [--threads N] [--build DIR] [--reps R] [--keep-memory]
  --threads N   intra-op threads for both sides (default: 1; the C++ side has 1, 2 and all cores)
  --build DIR   CMake build folder holding oqa_bench (default: $OQA_BUILD_DIR or <repo>/build)
  --reps R      repetitions: peer timed iterations and C++ benchmark repetitions (default: 20 and 5)
  --keep-memory run both sides with glibc's malloc never returning memory to the system (GLIBC_TUNABLES),
                so that fresh 16 MiB tensors do not page-fault; on VMs where page faults are slow this
                changes the composed and peer times several-fold
Prints one row per case of ../shared/peer/lsq_peer.py: milliseconds (median) of the fused op, the composed
LibTorch ops and the PyTorch peer, the fused op's effective GB/s (16 bytes per element), the memory-copy
bandwidth of the same binary, and the ratios.
USAGE
}

root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
threads=1
build="${OQA_BUILD_DIR:-$root/build}"
peer_reps=20
bench_reps=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --reps) peer_reps="$2"; bench_reps="$2"; shift 2 ;;
    --keep-memory) export GLIBC_TUNABLES="glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

peer="$root/../shared/peer/lsq_peer.py"
bench="$build/oqa_bench"
[[ -f "$peer" ]] || { echo "error: peer not found: $peer" >&2; exit 2; }
[[ -x "$bench" ]] || { echo "error: $bench not found; build it: cmake --build $build --target oqa_bench" >&2; exit 2; }
[[ "$threads" =~ ^[0-9]+$ && "$threads" -ge 1 ]] || { echo "error: --threads must be a positive integer" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

[[ -n "${GLIBC_TUNABLES:-}" ]] && echo "GLIBC_TUNABLES=$GLIBC_TUNABLES" >&2
echo "peer: /usr/bin/python3 $peer --threads $threads --reps $peer_reps" >&2
/usr/bin/python3 "$peer" --threads "$threads" --reps "$peer_reps" > "$tmp/peer.jsonl"
echo "oqa:  $bench (threads $threads, $bench_reps repetitions)" >&2
OMP_NUM_THREADS="$threads" "$bench" --benchmark_filter="^BM_(Lsq|Copy).*threads:${threads}/" \
  --benchmark_repetitions="$bench_reps" --benchmark_report_aggregates_only=true \
  --benchmark_format=json > "$tmp/bench.json"

/usr/bin/python3 - "$tmp/peer.jsonl" "$tmp/bench.json" "$threads" <<'PY'
import json, sys, datetime, os
peer_path, bench_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
peer = {r["case"]: r for r in map(json.loads, open(peer_path))}
bench = json.load(open(bench_path))
median = {}
for b in bench["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    scale = {"ms": 1.0, "us": 1e-3, "ns": 1e-6, "s": 1e3}[b.get("time_unit", "ns")]
    median[b["run_name"]] = (b["real_time"] * scale, b)
names = ["weights_signed_per_channel", "acts_unsigned_per_tensor", "acts_asymmetric_per_tensor"]
copy = median.get(f"BM_Copy/threads:{threads}/real_time")
if copy is None:
    sys.exit(f"error: oqa_bench has no runs for {threads} threads (it has 1, 2 and all cores)")
numel, bpe = 4 * 1024 * 1024, 16
copy_gbps = numel * bpe / (copy[0] / 1e3) / 1e9
memory = "malloc keeps memory" if os.environ.get("GLIBC_TUNABLES") else "default malloc"
print(f"LSQ forward+backward, {numel} floats, 4 bits, {threads} thread(s), {memory}; "
      f"{datetime.date.today()}, {os.cpu_count()} cores; copy bandwidth {copy_gbps:.1f} GB/s")
head = f"{'case':28s} {'fused ms':>9s} {'composed':>9s} {'peer ms':>9s} {'GB/s':>6s} {'%copy':>6s} {'x comp':>7s} {'x peer':>7s}"
print(head)
print("-" * len(head))
for i, name in enumerate(names):
    fused = median[f"BM_LsqFused/case:{i}/threads:{threads}/real_time"][0]
    comp = median[f"BM_LsqComposed/case:{i}/threads:{threads}/real_time"][0]
    p = peer[name]["ms_median"]
    gbps = numel * bpe / (fused / 1e3) / 1e9
    print(f"{name:28s} {fused:9.2f} {comp:9.2f} {p:9.2f} {gbps:6.1f} {100 * gbps / copy_gbps:5.0f}% "
          f"{comp / fused:7.1f} {p / fused:7.1f}")
PY
