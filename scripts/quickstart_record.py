#!/usr/bin/env python3
"""Turns one run of scripts/quickstart.sh into a machine-readable record, docs/results/quickstart/NAME.json.

Reads the run directory (summary.json, config.json, export/*.export.json and *.infer.json) and the script's log
(its "[quickstart] training took N s" and "search took N s" lines, and the "rc=... total=N" line that the
wrapper below appends), so the record holds what the run printed, not typed figures.

usage: scripts/quickstart_record.py RUN_DIR LOG OUT.json [--note TEXT] [--shared-machine]
wrapper used: OQA_RUN_DIR=RUN bash -c 'start=$(date +%s); bash scripts/quickstart.sh; \
              echo "rc=$? total=$(( $(date +%s) - start ))"' > LOG 2>&1
"""
import argparse, datetime, json, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from experiment import machine  # noqa: E402


def seconds(log, pattern):
    m = re.search(pattern, log)
    return int(m.group(1)) if m else None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("run")
    p.add_argument("log")
    p.add_argument("out")
    p.add_argument("--note", default="")
    p.add_argument("--shared-machine", action="store_true",
                   help="other jobs ran meanwhile: times are kept but do not count for the goal")
    a = p.parse_args()
    log = open(a.log).read()
    summary = json.load(open(os.path.join(a.run, "summary.json")))
    config = json.load(open(os.path.join(a.run, "config.json")))
    stages = {s["stage"]: [s["largest"]["test_top1"], s["smallest"]["test_top1"]] for s in summary["stages"]}
    quant = [s["stage"] for s in summary["stages"] if s["quant"] != "float" and not s["stage"].startswith("direct-")]
    last = quant[-1]
    e = json.load(open(os.path.join(a.run, "export", f"{last}-best.export.json")))
    r = json.load(open(os.path.join(a.run, "export", f"{last}-best.infer.json")))
    searched = {"budget": ",".join(config.get("search", {}).get("budgets", [])), "bitops": e["cost"]["bitops"],
                "fake_quant": r["fake_quant"]["top1"], "integer": r["integer"]["top1"]}
    if "onnx_runtime" in r:
        searched["onnx_runtime"] = r["onnx_runtime"]["top1"]
    float_largest = stages[summary["stages"][0]["stage"]][0]
    wall = seconds(log, r"rc=0 total=(\d+)")
    goal_top1 = searched["fake_quant"] >= 85.0 and float_largest - searched["fake_quant"] <= 4.0
    rec = {
        "kind": "quickstart",
        "command": "bash scripts/quickstart.sh",
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "config": os.path.relpath(os.environ.get("OQA_CONFIG", "configs/fashion-mnist-quickstart.json")),
        "seed": config.get("seed"),
        "commit": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip(),
        "wall_s": wall,
        "training_s": seconds(log, r"training took (\d+) s"),
        "search_s": seconds(log, r"search took (\d+) s"),
        "stages": stages,
        "searched_" + last: searched,
        "float_largest_minus_searched": round(float_largest - searched["fake_quant"], 2),
        "goal": "searched 2-bit >= 85% and within 4 pt of the float largest subnet, whole script <= 600 s",
        "timing_valid": not a.shared_machine,
        "goal_met": bool(goal_top1 and (a.shared_machine or (wall is not None and wall <= 600))),
        "note": a.note,
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(rec, f, indent=1)
        f.write("\n")
    print(json.dumps(rec, indent=1))


if __name__ == "__main__":
    main()
