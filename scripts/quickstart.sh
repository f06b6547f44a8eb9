#!/usr/bin/env bash
# Installs dependencies, builds oqa and runs the main job on Fashion-MNIST, printing the run directory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh oqa
RUN_DIR="${OQA_RUN_DIR:-runs/quickstart}"
CONFIG="${OQA_CONFIG:-configs/fashion-mnist-quick.json}"
echo "[quickstart] training $CONFIG into $RUN_DIR"
./build/oqa train --config "$CONFIG" --out "$RUN_DIR" --force
python3 - "$RUN_DIR/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
top1 = s["test_top1"]
print(f"[quickstart] Fashion-MNIST test top-1: {top1:.2f}% (goal >= 90%)")
sys.exit(0 if top1 >= 90.0 else 1)
PY
echo "[quickstart] done: results in $RUN_DIR (config.json, metrics.jsonl, summary.json, float/checkpoints/)"
