#!/usr/bin/env bash
# Long check: the float baseline config trains to at least the given Fashion-MNIST test top-1 (default 90%).
set -euo pipefail
OQA="$1"
CONFIG="$2"
MIN="${3:-90}"
RUN="$(mktemp -d)/run"
trap 'rm -rf "$(dirname "$RUN")"' EXIT
"$OQA" -q train --config "$CONFIG" --out "$RUN"
python3 - "$RUN/summary.json" "$MIN" <<'PY'
import json, sys
top1 = json.load(open(sys.argv[1]))["test_top1"]
print(f"float baseline test top-1 {top1:.2f}% (need >= {sys.argv[2]}%)")
sys.exit(0 if top1 >= float(sys.argv[2]) else 1)
PY
