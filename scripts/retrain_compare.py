#!/usr/bin/env python3
"""OQA's "no retraining" check: searched subnets deployed from the supernet against the same subnets retrained.

For each run (one per seed) and each bit-width: search the stage w<b>a<b> (the 2-bit stage under the config's
budgets; the 4- and 3-bit stages under the MACs of the 2-bit subnet found, so the three are alike in size),
measure the chosen subnet from the supernet's weights (`oqa eval`, BN recalibrated), then retrain it alone
(`oqa train --run R --subnet best.json --bits b`) from the float stage's weights for the epochs of the run's
stage at b bits, and for twice that. One record per run and bit-width: docs/results/NAME/w<b>-s<seed>.json.

With --forms (an EQ-Net run with a mixed stage) the subnets are EQ-Net forms of the largest architecture (every
searched layer at one bit-width, granularity and symmetry, FORMS below), measured from the supernet's mixed stage
and retrained alone with `--own-quant` for the mixed stage's epochs (records form-<name>-s<seed>.json).

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

# EQ-Net forms compared with --forms: name -> the quant of every searched layer.
FORMS = {
    "w2a2-pt-sym": {"weight_bits": 2, "act_bits": 2, "weight_granularity": "per_tensor", "weight_symmetric": True,
                    "act_symmetric": True},
    "w3a3-pc-asym": {"weight_bits": 3, "act_bits": 3, "weight_granularity": "per_channel",
                     "weight_symmetric": False, "act_symmetric": False},
    "w4a4-pc-sym": {"weight_bits": 4, "act_bits": 4, "weight_granularity": "per_channel", "weight_symmetric": True,
                    "act_symmetric": True},
    "w8a8-pt-sym": {"weight_bits": 8, "act_bits": 8, "weight_granularity": "per_tensor", "weight_symmetric": True,
                    "act_symmetric": True},
}


def compare_forms(name, runs, threads, out_dir, command):
    """Each EQ-Net form from the supernet's mixed stage against the same form retrained alone (--own-quant)."""
    for run in runs:
        config = json.load(open(os.path.join(run, "config.json")))
        seed = config["seed"]
        epochs = next(s["epochs"] for s in config["supernet"]["stages"] if s["quant"] == "mixed")
        for form, quant in FORMS.items():
            result = os.path.join(out_dir, f"form-{form}-s{seed}.json")
            if os.path.exists(result):
                continue
            path = os.path.join(run, "search", f"{form}.json")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                json.dump({"quant": quant}, f)
            ev = json.loads(oqa(["eval", "--run", run, "--stage", "mixed", "--subnet", path, "--json"], threads))
            oqa(["train", "--run", run, "--subnet", path, "--own-quant"], threads)
            rdir = [d for d in os.listdir(os.path.join(run, "retrain")) if d.startswith(f"{form}-own-")][0]
            r = json.load(open(os.path.join(run, "retrain", rdir, "result.json")))
            write_atomic(result, {
                "experiment": name, "seed": seed, "bits": form, "stage": "mixed", "run_dir": os.path.relpath(run, ROOT),
                "config": config["name"], "date": datetime.date.today().isoformat(), "machine": machine(),
                "macs": ev["cost"]["macs"], "subnet": form, "quant": quant, "stage_epochs": epochs,
                "supernet_top1": ev["top1"], "retrained_top1": {f"{r['epochs']:g}": r["test_top1"]},
                "command": command})
            print(f"[retrain] {form} seed {seed}: supernet {ev['top1']:.2f}%, retrained {r['test_top1']:.2f}%",
                  flush=True)


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
    ap.add_argument("--forms", action="store_true", help="EQ-Net forms of a mixed stage (see FORMS)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--oqa", default=OQA, help="the oqa binary (default build/oqa)")
    a = ap.parse_args()
    OQA = a.oqa
    fixed = a.subnet != "searched"
    out_dir = os.path.join(ROOT, "docs", "results", a.name)
    first = json.load(open(os.path.join(a.runs[0], "config.json")))
    if a.forms:
        command = f"python3 scripts/retrain_compare.py {a.name} {' '.join(os.path.relpath(r, ROOT) for r in a.runs)} --forms"
        write_atomic(os.path.join(out_dir, "experiment.json"), {
            "name": a.name, "kind": "retrain", "order": 56, "config": first["name"], "command": command,
            "title": f"EQ-Net forms from the supernet against the same form retrained ({first['name']})",
            "description": "Four forms of the largest architecture (every searched layer at one bit-width, weight "
                           "granularity and symmetry: " + ", ".join(FORMS) + ") measured from the EQ-Net supernet's "
                           "mixed stage with BN recalibration, against a static model of that form retrained alone "
                           "(LSQ, cross-entropy, no WDR, step sizes from data) from the float stage's weights for the "
                           "mixed stage's epochs (`oqa train --run RUN --subnet FORM.json --own-quant`). The 'bits' "
                           "column names the form. Goal (EQ-Net's claim): within 1 pt."})
        compare_forms(a.name, a.runs, a.threads, out_dir, command)
        return
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
