#!/usr/bin/env bash
# Data-parallel benchmark: the quick config's sandwich step (w2a2, distilling from the float supernet) as one
# process with 1 thread, two Gloo ranks with 1 thread each (`--nproc 2`) and, as the peer on the same cores,
# one process with 2 threads; images/s (median of the logged windows) and the all-reduce share of the step.
# Writes docs/results/bench/dist-<date>.json (rendered into docs/results.md by scripts/results_md.py).
set -euo pipefail
root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
oqa="${OQA_BINARY:-$root/build/oqa}"
work="$(mktemp -d "${TMPDIR:-/tmp}/oqa-dist-bench.XXXXXX")"
epochs="${OQA_DIST_BENCH_EPOCHS:-0.15}"
stages='[{"quant":"float","epochs":0.02,"lr":0.1},{"quant":"w2a2","epochs":'"$epochs"',"lr":0.02,"teacher":"float","step_size_rule":"data"}]'
run() {  # name, then oqa's arguments before and after `train ...`
  local name="$1" threads="$2"; shift 2
  echo "[dist-bench] $name" >&2
  "$oqa" --quiet --threads "$threads" train --config "$root/configs/fashion-mnist-quick.json" --out "$work/$name" \
    --set 'supernet.min_stage_steps=0' --set 'train.log_every=10' --set "supernet.stages=$stages" "$@" >/dev/null
}
run one-1t 1
run two-1t 1 --nproc 2
run one-2t 2
/usr/bin/python3 - "$work" "$root" "$epochs" "$(nproc)" <<'PY'
import json, os, platform, statistics, subprocess, sys, time
work, root, epochs, cores = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
def windows(name):
    recs = [json.loads(l) for l in open(os.path.join(work, name, "metrics.jsonl"))]
    recs = [r for r in recs if r.get("stage") == "w2a2" and "images_per_s" in r][1:]  # first window: warm-up
    return recs
res = {}
for name in ("one-1t", "two-1t", "one-2t"):
    w = windows(name)
    res[name] = {"images_per_s": statistics.median(r["images_per_s"] for r in w), "windows": len(w)}
    if name == "two-1t":
        res[name]["allreduce_share"] = statistics.median(r["allreduce_share"] for r in w)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
rec = {"kind": "dist-bench", "command": "bench/run_dist_bench.sh", "date": time.strftime("%Y-%m-%d"),
       "machine": f"{cpu}, {cores} cores",
       "commit": subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
       "config": "configs/fashion-mnist-quick.json", "stage": "w2a2 sandwich step, teacher float, batch 128",
       "epochs": epochs, "runs": res,
       "ratio_two_ranks_to_one": res["two-1t"]["images_per_s"] / res["one-1t"]["images_per_s"],
       "ratio_two_ranks_to_two_threads": res["two-1t"]["images_per_s"] / res["one-2t"]["images_per_s"]}
out = os.path.join(root, "docs", "results", "bench", f"dist-{rec['date']}.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out + ".tmp", "w") as f:
    json.dump(rec, f, indent=2)
    f.write("\n")
os.replace(out + ".tmp", out)
print(json.dumps(rec, indent=2))
PY
echo "[dist-bench] runs kept in $work" >&2
