#!/usr/bin/env python3
"""Neural channel expansion against the base architecture at equal cost, both trained alone at 2 bits.

For each seed: `oqa nce` searches the widths of the config's resnet space under its budget (default: the
base architecture's MACs) into runs/nce/NAME-s<seed>/, then the found architecture and the base one are each
trained alone with the retrain command (`oqa train --run RUN --subnet found.json|base.json --bits B
--from-scratch`, the epochs and learning rate of the config's w<B>a<B> supernet stage) and measured on the
test split. One record per seed: docs/results/NAME/nce-s<seed>.json; the width plot of the first seed goes to
docs/img/results/NAME-widths.png. Regenerate docs/results.md afterwards with scripts/results_md.py.

usage: scripts/nce_compare.py NAME CONFIG [--seeds 1,2] [--set KEY=VALUE ...] [--threads 1] [--oqa BINARY]
"""
import argparse, datetime, json, os, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from experiment import machine, write_atomic  # noqa: E402


def run(cmd, log):
    print("[nce] " + " ".join(cmd), flush=True)
    with open(log, "a") as f:
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=f, stderr=subprocess.STDOUT)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("config")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--oqa", default=os.path.join(ROOT, "build", "oqa"))
    a = ap.parse_args()
    base = [a.oqa] + (["--threads", str(a.threads)] if a.threads else [])
    out_dir = os.path.join(ROOT, "docs", "results", a.name)
    sets = [x for s in a.set for x in ("--set", s)]
    command = f"python3 scripts/nce_compare.py {a.name} {a.config}" + "".join(f" --set '{s}'" for s in a.set)
    with open(os.path.join(ROOT, a.config)) as f:
        cfg = json.load(f)
    spec_path = os.path.join(out_dir, "experiment.json")
    kept = {}  # a conclusion written after the runs stays
    if os.path.exists(spec_path):
        with open(spec_path) as f:
            kept = {k: v for k, v in json.load(f).items() if k == "conclusion"}
    write_atomic(spec_path, dict(kept, **{
        "name": a.name, "kind": "nce", "order": 60, "config": a.config, "command": command,
        "title": f"Neural channel expansion against the base architecture at equal cost ({cfg['name']})",
        "description": "`oqa nce` searches the widths of every width group at 2 bits (weights on the training split, "
                       "architecture logits on the validation split, Gumbel top-2, channel-wise interpolation, "
                       "expansion when the widest candidate's probability passes the threshold) under the budget; the "
                       "found architecture and the base one (every group at its base width, the budget's reference) "
                       "are then trained alone from scratch at 2 bits with the retrain command for the same epochs "
                       "and measured on the test split. Goal (issue 21): found >= base + 0.5 pt at equal cost."}))
    os.makedirs(os.path.join(ROOT, "runs", "nce"), exist_ok=True)
    for seed in [int(s) for s in a.seeds.split(",")]:
        run_dir = os.path.join(ROOT, "runs", "nce", f"{a.name}-s{seed}")
        log = run_dir + ".log"
        start = time.time()
        if os.path.exists(os.path.join(run_dir, "nce", "result.json")):
            pass
        elif os.path.exists(os.path.join(run_dir, "nce-config.json")):
            run(base + ["nce", "--resume", run_dir], log)
        else:
            run(base + ["nce", "--config", a.config, "--out", run_dir, "--set", f"seed={seed}"] + sets, log)
        with open(os.path.join(run_dir, "nce", "result.json")) as f:
            result = json.load(f)
        top1 = {}
        for arch in ("found", "base"):
            run(base + ["--quiet", "train", "--run", run_dir, "--subnet", os.path.join(run_dir, arch + ".json"),
                        "--bits", str(result["bits"]), "--from-scratch"], log)
            folder = [d for d in os.listdir(os.path.join(run_dir, "retrain")) if d.startswith(arch + "-")]
            with open(os.path.join(run_dir, "retrain", sorted(folder)[-1], "result.json")) as f:
                top1[arch] = json.load(f)
        if seed == int(a.seeds.split(",")[0]) and os.path.exists(os.path.join(run_dir, "widths.png")):
            img = os.path.join(ROOT, "docs", "img", "results", a.name + "-widths.png")
            os.makedirs(os.path.dirname(img), exist_ok=True)
            shutil.copyfile(os.path.join(run_dir, "widths.png"), img)
        rec = {"experiment": a.name, "kind": "nce", "seed": seed, "date": datetime.date.today().isoformat(),
               "machine": machine(), "config": a.config, "set": a.set, "command": command,
               "run_dir": os.path.relpath(run_dir, ROOT), "budget": result["budget"], "metric": result["metric"],
               "target": result["target"], "bits": result["bits"], "search_s": round(result["search_s"], 1),
               "expansions": len(result["expansions"]),
               "groups": [g["name"] for g in result["groups"]],
               "found": dict(result["found"], test_top1=top1["found"]["test_top1"], epochs=top1["found"]["epochs"]),
               "base": dict(result["base"], test_top1=top1["base"]["test_top1"], epochs=top1["base"]["epochs"]),
               "wall_s": round(time.time() - start, 1)}
        write_atomic(os.path.join(out_dir, f"nce-s{seed}.json"), rec)
        print(f"[nce] seed {seed}: found {rec['found']['test_top1']:.2f}% ({rec['found']['cost']:.4g} {rec['metric']}) "
              f"vs base {rec['base']['test_top1']:.2f}% ({rec['base']['cost']:.4g})", flush=True)


if __name__ == "__main__":
    main()
