#!/usr/bin/env python3
"""Mixed precision against uniform precision on one supernet, and the deployed mixed subnets' agreement.

For each run (one per seed) of a config with a `mixed` stage: search the stage under average-bit budgets
(`--budget bits=B`, the config's search algorithm, by default EQ-Net's GA), export each chosen subnet (.oqa and
ONNX) and run it in fake quantization, the integer runtime and ONNX Runtime on the test set; measure the uniform
subnets of the same supernet (largest architecture, every searched layer at w<b>a<b>, default forms) with
`oqa eval`. One record per run: docs/results/NAME/mixed-s<seed>.json; docs/results/NAME/experiment.json says
what the records are, and scripts/results_md.py draws accuracy against average bits from them.

The search measures the uniform anchors within each budget beside its candidates (docs/search.md) and the best
on validation wins; each row records whether an anchor won and the best searched (mixed) candidate measured.

usage: scripts/mixed_deploy.py NAME RUN_DIR [RUN_DIR ...] [--budgets 2,3,4,6] [--uniform 2,3,4,8]
                               [--profile JSON] [--stage mixed] [--samples N] [--val-images N] [--no-anchors]
                               [--threads 1] [--oqa BINARY]
"""
import argparse, datetime, json, os, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from experiment import machine, write_atomic  # noqa: E402


def runner(binary, threads):
    def oqa(args):
        cmd = [binary] + (["--threads", str(threads)] if threads else []) + ["--quiet"] + args
        print("[mixed] " + " ".join(cmd[1:]), flush=True)
        return subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout
    return oqa


def costs_of(c):
    """The search's costs ("wbits") or oqa eval's ("avg_weight_bits") in one form."""
    return {"wbits": c.get("wbits", c.get("avg_weight_bits")), "abits": c.get("abits", c.get("avg_act_bits")),
            "bitops": c["bitops"], "macs": c["macs"], "bytes": c["bytes"]}


def search_and_deploy(oqa, run, name, stage, budget, profile, onnx, search_flags):
    """Searches under bits=budget, exports the chosen subnet and runs it three ways; the search's own folder is
    reused (its accuracy dataset is measured once) and its files copied to search/NAME/<stage>-bits<budget>/."""
    keep = os.path.join(run, "search", name, f"{stage}-bits{budget}")
    if os.path.exists(os.path.join(keep, "deploy.json")):  # done before: reuse (a rerun after a later failure)
        return json.load(open(os.path.join(keep, "deploy.json"))), json.load(open(os.path.join(keep, "search.json")))
    args = ["search", "--run", run, "--stage", stage, "--budget", f"bits={budget}", "--no-plot", "--json"]
    s = json.loads(oqa(args + search_flags + (["--profile", profile] if profile else [])))
    os.makedirs(keep, exist_ok=True)
    for f in ("best.json", "search.json", "pareto.json"):
        shutil.copyfile(os.path.join(run, "search", stage, f), os.path.join(keep, f))
    out = os.path.join(run, "export", name, f"{stage}-bits{budget}")
    start = time.time()
    e = json.loads(oqa(["export", "--run", run, "--stage", stage, "--subnet", os.path.join(keep, "best.json"),
                        "--out", out, "--json"]))
    r = json.loads(oqa(["infer", os.path.join(out, "model.oqa"), "--reference", "--json"]
                       + (["--onnx", os.path.join(out, "model.onnx")] if onnx else [])))
    best = s["best"]
    measured = lambda x: {"val_top1": x["val_top1"], "test_top1": x["test_top1"], "costs": costs_of(x["costs"])}
    row = {"budget": f"bits={budget}", "subnet": best["subnet"], "costs": costs_of(best["costs"]),
            "predicted_top1": best["predicted_top1"], "val_top1": best["val_top1"], "test_top1": best["test_top1"],
            "chosen_anchor": bool(best.get("uniform_anchor")), "best_searched": measured(s["top"][0]),
            "anchors": [measured(x) for x in s.get("anchors", [])],
            "fake_quant_top1": r["fake_quant"]["top1"], "integer_top1": r["integer"]["top1"],
            "onnx_runtime_top1": r["onnx_runtime"]["top1"] if "onnx_runtime" in r else None,
            "oqa_bytes": e["files"]["oqa"]["bytes"], "deploy_seconds": round(time.time() - start, 1)}
    write_atomic(os.path.join(keep, "deploy.json"), row)
    return row, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--budgets", default="2,3,4,6")
    ap.add_argument("--uniform", default="2,3,4,8")
    ap.add_argument("--profile", default="")
    ap.add_argument("--stage", default="mixed")
    ap.add_argument("--samples", type=int, default=0, help="accuracy-dataset size (0: the config's)")
    ap.add_argument("--val-images", type=int, default=-1, help="validation images per measurement (0: all; "
                    "default the config's)")
    ap.add_argument("--no-anchors", action="store_true", help="measure the searched candidates alone")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--oqa", default=os.path.join(ROOT, "build", "oqa"))
    a = ap.parse_args()
    oqa = runner(a.oqa, a.threads)
    onnx = os.path.isdir(os.path.join(ROOT, "third_party", "npm", "node_modules", "onnxruntime-node"))
    out_dir = os.path.join(ROOT, "docs", "results", a.name)
    first = json.load(open(os.path.join(a.runs[0], "config.json")))
    search_flags = (["--samples", str(a.samples)] if a.samples else []) + (
        ["--val-images", str(a.val_images)] if a.val_images >= 0 else []) + (["--no-anchors"] if a.no_anchors else [])
    command = (f"python3 scripts/mixed_deploy.py {a.name} {' '.join(os.path.relpath(r, ROOT) for r in a.runs)}"
               f" --budgets {a.budgets} --uniform {a.uniform} {' '.join(search_flags)}".rstrip()
               + (f" --profile '{a.profile}'" if a.profile else ""))
    spec_path = os.path.join(out_dir, "experiment.json")
    spec = json.load(open(spec_path)) if os.path.exists(spec_path) else {}
    spec.update({"name": a.name, "kind": "mixed", "order": spec.get("order", 60), "config": first["name"],
                 "command": command,
                 "title": spec.get("title", f"Mixed against uniform precision in one supernet ({first['name']})"),
                 "description": spec.get("description", (
                     f"The `{a.stage}` stage searched under average-bit budgets ({a.budgets} bits: the larger of the "
                     "weight and activation averages) with the config's search settings; each chosen subnet exported "
                     "(.oqa, ONNX) and run on the test set in fake quantization, the integer runtime and ONNX Runtime. "
                     f"Uniform baselines: the same supernet's largest architecture with every searched layer at "
                     f"w<b>a<b> (b = {a.uniform}, default forms), BN recalibrated. `scripts/mixed_deploy.py`."))})
    write_atomic(spec_path, spec)
    for run in a.runs:
        config = json.load(open(os.path.join(run, "config.json")))
        seed = config["seed"]
        result = os.path.join(out_dir, f"mixed-s{seed}.json")
        if os.path.exists(result):
            continue
        searches, last = [], None
        for b in a.budgets.split(","):
            row, last = search_and_deploy(oqa, run, a.name, a.stage, b, a.profile, onnx, search_flags)
            searches.append(row)
            print(f"[mixed] seed {seed} bits<={b}: test {row['test_top1']:.2f}% fake {row['fake_quant_top1']:.2f}% "
                  f"integer {row['integer_top1']:.2f}% ONNX RT {row['onnx_runtime_top1']}", flush=True)
        uniform = []
        for b in a.uniform.split(","):
            path = os.path.join(run, "search", f"uniform-w{b}a{b}.json")
            with open(path, "w") as f:
                json.dump({"quant": f"w{b}a{b}"}, f)
            ev = json.loads(oqa(["eval", "--run", run, "--stage", a.stage, "--subnet", path, "--json"]))
            uniform.append({"bits": int(b), "test_top1": ev["top1"], "costs": costs_of(ev["cost"])})
            print(f"[mixed] seed {seed} uniform w{b}a{b}: {ev['top1']:.2f}%", flush=True)
        predictors = {k: {m: v.get(m) for m in ("kendall_tau", "rmse", "held_out_pairs", "skipped") if m in v}
                      for k, v in last["predictors"].items()}
        write_atomic(result, {
            "experiment": a.name, "kind": "mixed", "seed": seed, "stage": a.stage, "run_dir": os.path.relpath(run, ROOT),
            "config": config["name"], "date": datetime.date.today().isoformat(), "machine": machine(),
            "command": command, "profile": last.get("profile", {}), "algorithm": last["search"]["algorithm"],
            "accuracy_dataset": last["accuracy_dataset"], "predictors": predictors,
            "predictor_used": last["predictor_used"], "searches": searches, "uniform": uniform})


if __name__ == "__main__":
    main()
