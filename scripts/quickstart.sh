#!/usr/bin/env bash
# Installs dependencies, builds oqa and runs the main job on Fashion-MNIST, printing the run directory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh oqa
RUN_DIR="${OQA_RUN_DIR:-runs/quickstart}"
CONFIG="${OQA_CONFIG:-configs/fashion-mnist-quickstart.json}"
echo "[quickstart] training $CONFIG into $RUN_DIR"
start=$(date +%s)
"${OQA_BUILD_DIR:-build}/oqa" train --config "$CONFIG" --out "$RUN_DIR" --force
echo "[quickstart] training took $(( $(date +%s) - start )) s"
python3 - "$RUN_DIR/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
if "stages" not in s:  # float baseline config (model.kind baseline-cnn)
    top1 = s["test_top1"]
    print(f"[quickstart] Fashion-MNIST test top-1: {top1:.2f}% (goal >= 90%)")
    sys.exit(0 if top1 >= 90.0 else 1)
# Supernet pipeline: largest / smallest test top-1 per stage. Sanity floors (chance is 10%): a stage whose
# largest subnet is under 60% or smallest under 40% means training or bit inheritance is broken.
ok = True
print(f"[quickstart] {'stage':14s} {'quant':6s} {'largest':>9s} {'smallest':>9s}")
for st in s["stages"]:
    big, small = st["largest"]["test_top1"], st["smallest"]["test_top1"]
    flag = "" if big >= 60.0 and small >= 40.0 else "  <-- below the sanity floor (60% / 40%)"
    ok = ok and not flag
    print(f"[quickstart] {st['stage']:14s} {st['quant']:6s} {big:8.2f}% {small:8.2f}%{flag}")
sys.exit(0 if ok else 1)
PY
if python3 -c 'import json,sys; sys.exit(0 if "stages" in json.load(open(sys.argv[1])) else 1)' "$RUN_DIR/summary.json"; then
  # Supernet pipeline: search the last stage for the best subnet under the config's budgets (search section).
  STAGE="$(python3 -c 'import json,sys; print([s for s in json.load(open(sys.argv[1]))["stages"] if not s["stage"].startswith("direct-")][-1]["stage"])' "$RUN_DIR/summary.json")"
  echo "[quickstart] searching stage $STAGE of $RUN_DIR under the config's budgets"
  start=$(date +%s)
  "${OQA_BUILD_DIR:-build}/oqa" search --run "$RUN_DIR" --stage "$STAGE"
  echo "[quickstart] search took $(( $(date +%s) - start )) s; chosen subnet: $RUN_DIR/search/$STAGE/best.json"
  # Deploy: export the searched subnet (and the 4-bit largest for contrast) with their trained quantized weights,
  # no retraining, then run them with the integer runtime and ONNX Runtime on the test set.
  OQA="${OQA_BUILD_DIR:-build}/oqa"
  mkdir -p "$RUN_DIR/export"
  rows=()
  for pick in "$STAGE:best" "w4a4:largest"; do
    st="${pick%%:*}"; sub="${pick##*:}"
    [ -d "$RUN_DIR/$st" ] || continue
    out="$RUN_DIR/export/$st-$sub"
    "$OQA" --quiet export --run "$RUN_DIR" --stage "$st" --subnet "$sub" --out "$out" --json > "$out.export.json"
    onnx_args=()
    if [ -d third_party/npm/node_modules/onnxruntime-node ]; then onnx_args=(--onnx "$out/model.onnx"); fi
    "$OQA" --quiet infer "$out/model.oqa" --reference "${onnx_args[@]}" --json > "$out.infer.json"
    rows+=("$st" "$sub" "$out")
  done
  python3 - "${rows[@]}" <<'PY'
import json, sys
a = sys.argv[1:]
print(f"[quickstart] {'stage':6s} {'subnet':8s} {'fake-quant':>10s} {'integer':>8s} {'ONNX RT':>8s} {'BitOPs':>9s} {'bytes':>8s} {'.oqa file':>9s}")
for st, sub, out in zip(a[0::3], a[1::3], a[2::3]):
    e, r = json.load(open(out + ".export.json")), json.load(open(out + ".infer.json"))
    ort = f"{r['onnx_runtime']['top1']:7.2f}%" if "onnx_runtime" in r else "     n/a"
    c = e["cost"]
    print(f"[quickstart] {st:6s} {sub:8s} {r['fake_quant']['top1']:9.2f}% {r['integer']['top1']:7.2f}% {ort} "
          f"{c['bitops'] / 1e6:8.2f}M {c['bytes'] / 1e3:7.2f}K {e['files']['oqa']['bytes'] / 1e3:8.2f}K")
print(f"[quickstart] top-1 on the {r['images']} Fashion-MNIST test images; models in " + ", ".join(a[2::3]))
PY
fi
echo "[quickstart] done: results in $RUN_DIR (config.json, metrics.jsonl, summary.json, one folder per stage, search/)"
echo "[quickstart] next: ${OQA_BUILD_DIR:-build}/oqa infer $RUN_DIR/export/${STAGE:-w2a2}-best/model.oqa --image IMAGE.png;  ${OQA_BUILD_DIR:-build}/oqa plot $RUN_DIR"
