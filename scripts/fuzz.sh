#!/usr/bin/env bash
# Runs every libFuzzer harness (tests/fuzz/fuzz_*.cpp) for SECONDS each (default 60), from its seed corpus
# (tests/fuzz/corpus/<name>, copied: the seeds stay as committed), under ASan + UBSan. New inputs collect in
# build-sanitize/fuzz/corpus/<name>, crashes in build-sanitize/fuzz/crashes/<name>; a summary table is printed
# and written to build-sanitize/fuzz/summary.json. Exit 1 when any harness crashed.
# Usage: scripts/fuzz.sh [SECONDS] [HARNESS...]   (OQA_FUZZ_JOBS harnesses side by side, default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
shift || true
BUILD_DIR="${OQA_SANITIZE_DIR:-build-sanitize}"
if [ "$#" -gt 0 ]; then NAMES=("$@"); else
  NAMES=()
  for f in tests/fuzz/fuzz_*.cpp; do n="$(basename "$f" .cpp)"; NAMES+=("${n#fuzz_}"); done
fi
TARGETS=()
for n in "${NAMES[@]}"; do TARGETS+=("oqa_fuzz_$n"); done
bash scripts/sanitize-build.sh "${TARGETS[@]}"
OUT="$BUILD_DIR/fuzz"
mkdir -p "$OUT"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}"
export OMP_NUM_THREADS=1
run_one() {
  local n="$1" corpus="$OUT/corpus/$1" crashes="$OUT/crashes/$1"
  mkdir -p "$corpus" "$crashes"
  cp -n tests/fuzz/corpus/"$n"/* "$corpus"/ 2>/dev/null || true
  local start rc=0 stamp="$OUT/$1.started"
  start="$(date +%s)"
  touch "$stamp"  # crashes of earlier runs stay in $crashes; only newer ones count for this run
  "$BUILD_DIR/tests/oqa_fuzz_$n" "$corpus" -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=4096 \
    -artifact_prefix="$crashes/" -print_final_stats=1 >"$OUT/$n.log" 2>&1 || rc=$?
  local execs
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$n.log" | grep -o '[0-9]*$' || echo 0)"
  echo "{\"harness\": \"$n\", \"seconds\": $(($(date +%s) - start)), \"executions\": ${execs:-0}, \"exit\": $rc, \"crashes\": $(find "$crashes" -type f -newer "$stamp" | wc -l), \"corpus\": $(find "$corpus" -type f | wc -l)}" >"$OUT/$n.json"
}
JOBS="${OQA_FUZZ_JOBS:-1}"
for n in "${NAMES[@]}"; do
  echo "[fuzz] $n for $SECONDS_EACH s (log: $OUT/$n.log)"
  run_one "$n" &
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
done
wait
/usr/bin/python3 - "$OUT" "${NAMES[@]}" <<'PY'
import json, sys
out, names = sys.argv[1], sys.argv[2:]
rows = [json.load(open(f"{out}/{n}.json")) for n in names]
print(f"{'harness':<20} {'seconds':>8} {'executions':>12} {'corpus':>7} {'crashes':>8}")
for r in rows:
    print(f"{r['harness']:<20} {r['seconds']:>8} {r['executions']:>12} {r['corpus']:>7} {r['crashes']:>8}")
json.dump(rows, open(f"{out}/summary.json", "w"), indent=1)
sys.exit(1 if any(r["crashes"] or r["exit"] for r in rows) else 0)
PY
