#!/usr/bin/env python3
"""OQA's "no retraining" check: searched subnets deployed from the supernet against the same subnets retrained.

For each run (one per seed) and each bit-width: search the stage w<b>a<b> (the 2-bit stage under the config's
budgets; the 4- and 3-bit stages under the MACs of the 2-bit subnet found, so the three are alike in size),
measure the chosen subnet from the supernet's weights (`oqa eval`, BN recalibrated), then retrain it alone
(`oqa train --run R --subnet best.json --bits b`) from the float stage's weights for the epochs of the run's
stage at b bits, and for twice that. One record per run and bit-width: docs/results/NAME/w<b>-s<seed>.json.

With --subnet largest (or smallest) no search runs: the space's largest (smallest) subnet is compared, at each
bit-width, with that static architecture retrained alone for the same epochs (records largest-w<b>-s<seed>.json).

usage: scripts/retrain_compare.py NAME RUN_DIR [RUN_DIR ...] [--bits 2,3,4] [--subnet searched|largest|smallest]
                                  [--threads 1] [--oqa BINARY]
"""
import argparse, datetime, json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from experiment import machine, write_atomic  # noqa: E402


OQA = os.path.join(ROOT, "build", "oqa")


def oqa(args, threads):
    cmd = [OQA] + (["--threads", str(threads)] if threads else []) + ["--quiet"] + args
    print("[retrain] " + " ".join(cmd[1:]), flush=True)
    out = subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout
    return out


def main():
    global OQA
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--bits", default="2,3,4")
    ap.add_argument("--subnet", default="searched", choices=["searched", "largest", "smallest"])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--oqa", default=OQA, help="the oqa binary (default build/oqa)")
    a = ap.parse_args()
    OQA = a.oqa
    fixed = a.subnet != "searched"
    out_dir = os.path.join(ROOT, "docs", "results", a.name)
    first = json.load(open(os.path.join(a.runs[0], "config.json")))
    command = (f"python3 scripts/retrain_compare.py {a.name} {' '.join(os.path.relpath(r, ROOT) for r in a.runs)}"
               + (f" --subnet {a.subnet} --bits {a.bits}" if fixed else ""))
    fixed_text = (f"The space's {a.subnet} subnet at 2 and 3 bits measured from the supernet's shared weights with BN "
                  "recalibration, against the same static architecture retrained alone (LSQ, cross-entropy, step sizes "
                  "from data) from the float stage's weights for the epochs of the supernet's stage at those bits, and "
                  "for twice that (`oqa train --run RUN --subnet " + a.subnet + " --bits B --epochs N`): OQA's claim "
                  "that the supernet's subnet needs no retraining, for one fixed architecture.")
    write_atomic(os.path.join(out_dir, "experiment.json"), {
        "name": a.name, "kind": "retrain", "order": 41 if fixed else 40, "config": first["name"], "command": command,
        "title": f"No retraining against retraining ({first['name']}" + (f", {a.subnet} subnet)" if fixed else ")"),
        "description": fixed_text if fixed else "Subnets searched in the 2-, 3- and 4-bit supernets (the 2-bit one under the config's budget, "
                       "the others under its MACs) measured from the supernet's shared weights with BN recalibration, "
                       "against the same subnet retrained alone (LSQ, cross-entropy, step sizes from data) from the "
                       "float stage's weights for the epochs of the supernet's stage at those bits, and for twice that "
                       "(`oqa train --run RUN --subnet best.json --bits B --epochs N`). `scripts/retrain_compare.py`."})
    for run in a.runs:
        config = json.load(open(os.path.join(run, "config.json")))
        seed = config["seed"]
        stages = {s["quant"]: s for s in config["supernet"]["stages"]}
        macs = None
        for b in [int(x) for x in a.bits.split(",")]:
            stage = f"w{b}a{b}"
            result = os.path.join(out_dir, (f"{a.subnet}-" if fixed else "") + f"{stage}-s{seed}.json")
            if os.path.exists(result):
                macs = macs or json.load(open(result))["macs"]
                continue
            if fixed:
                best = a.subnet
            else:
                search_dir = os.path.join(run, "search", stage)
                if not os.path.exists(os.path.join(search_dir, "best.json")):
                    budget = [] if macs is None else ["--budget", f"macs={macs:.0f}"]
                    oqa(["search", "--run", run, "--stage", stage, "--no-plot"] + budget, a.threads)
                best = os.path.join(search_dir, "best.json")
                search = json.load(open(os.path.join(search_dir, "search.json")))
                if macs is None:
                    macs = search["best"]["costs"]["macs"]
            ev = json.loads(oqa(["eval", "--run", run, "--stage", stage, "--subnet", best, "--json"], a.threads))
            if fixed:
                macs = ev["cost"]["macs"]
            epochs = stages[stage]["epochs"]
            retrained = {}
            for factor in (1, 2):
                oqa(["train", "--run", run, "--subnet", best, "--bits", str(b), "--epochs", str(epochs * factor)],
                    a.threads)
                name = a.subnet if fixed else "best"
                rdir = [d for d in os.listdir(os.path.join(run, "retrain"))
                        if d.startswith(f"{name}-{stage}-e{epochs * factor}-") and not d.endswith("-scratch")][0]
                retrained[str(epochs * factor)] = json.load(open(os.path.join(run, "retrain", rdir, "result.json")))["test_top1"]
            write_atomic(result, {
                "experiment": a.name, "seed": seed, "bits": b, "stage": stage, "run_dir": os.path.relpath(run, ROOT),
                "config": config["name"], "date": datetime.date.today().isoformat(),
                "machine": machine(), "macs": macs,
                "subnet": a.subnet,
                "search_budget": None if fixed else "config's search.budgets" if b == 2 else f"macs={macs:.0f}",
                "stage_epochs": epochs, "supernet_top1": ev["top1"], "retrained_top1": retrained,
                "command": command})
            print(f"[retrain] {stage} seed {seed}: supernet {ev['top1']:.2f}%, retrained {retrained}", flush=True)


if __name__ == "__main__":
    main()
