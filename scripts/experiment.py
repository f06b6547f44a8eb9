#!/usr/bin/env python3
"""Runs one experiment of scripts/experiments/NAME.json (arms x seeds of `oqa train`) and records the results.

Each arm and seed trains into runs/experiments/NAME/ARM-sSEED (resumed when it exists, skipped when done), then
its summary becomes one JSON record, docs/results/NAME/ARM-sSEED.json: command, date, machine, config overrides,
seed, every stage's epochs and largest / smallest test top-1, and the focus stage's figures. Regenerate
docs/results.md afterwards with scripts/results_md.py.

usage: scripts/experiment.py NAME [--arms a,b] [--seeds 1,2] [--oqa build/oqa] [--threads N] [--dry-run]
(an arm's own "seeds" list replaces the experiment's for that arm unless --seeds is given)
"""
import argparse, datetime, json, os, platform, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_spec(name):
    path = os.path.join(ROOT, "scripts", "experiments", name + ".json")
    with open(path) as f:
        spec = json.load(f)
    for key in ("title", "config", "seeds", "arms"):
        if key not in spec:
            sys.exit(f"experiment.py: {path}: field '{key}' is missing")
    return spec


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine():
    return f"{cpu_model()}, {os.cpu_count()} cores"


def train_command(oqa, spec, arm, seed, run_dir, threads=0, resume=True):
    """The `oqa train` command of an arm and seed: --resume when run_dir holds a run (and resume is true)."""
    base = [oqa] + (["--threads", str(threads)] if threads else []) + ["train"]
    if resume and os.path.exists(os.path.join(run_dir, "config.json")):
        return base + ["--resume", run_dir]
    if "run_of" in arm:
        arm = next(x for x in spec["arms"] if x["name"] == arm["run_of"])
    cmd = base + ["--config", spec["config"], "--out", run_dir, "--set", f"seed={seed}"]
    for s in spec.get("set", []) + arm_sets(arm):
        cmd += ["--set", s]
    return cmd + arm.get("args", [])


def arm_sets(arm):
    """The arm's --set overrides; its "stages" list (if any) becomes supernet.stages."""
    sets = list(arm.get("set", []))
    if "stages" in arm:
        sets.append("supernet.stages=" + json.dumps(arm["stages"], separators=(",", ":")))
    return sets


def write_atomic(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def base_record(spec, arm, seed, run_dir, cmd):
    """What every record of an arm and seed says, whether the run finished or stopped."""
    return {"experiment": spec["name"], "arm": arm["name"], "label": arm.get("label", arm["name"]), "seed": seed,
            "command": " ".join(cmd), "date": datetime.date.today().isoformat(), "machine": machine(),
            "config": spec["config"], "set": spec.get("set", []) + arm_sets(arm), "args": arm.get("args", []),
            "run_dir": os.path.relpath(run_dir, ROOT)}


def record(spec, arm, seed, run_dir, cmd, seconds):
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    stages = []
    for st in summary["stages"]:
        stages.append({"stage": st["stage"], "quant": st["quant"], "epochs": st["epochs"], "init": st.get("init", ""),
                       "largest_top1": st["largest"]["test_top1"], "smallest_top1": st["smallest"]["test_top1"]})
    focus = arm.get("focus", spec.get("focus"))
    chosen = [s for s in stages if focus and (s["stage"] == focus or s["stage"].startswith(focus + "-"))]
    rec = dict(base_record(spec, arm, seed, run_dir, cmd), train_seconds=round(seconds, 1), stages=stages)
    if chosen:
        c = chosen[-1]
        rec.update({"stage": c["stage"], "epochs": c["epochs"], "largest_top1": c["largest_top1"],
                    "smallest_top1": c["smallest_top1"]})
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--arms", default="")
    ap.add_argument("--seeds", default="")
    ap.add_argument("--oqa", default=os.path.join(ROOT, "build", "oqa"))
    ap.add_argument("--threads", type=int, default=0, help="oqa --threads (0: oqa's default, all cores)")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()
    spec = load_spec(a.name)
    spec["name"] = a.name
    arms = [x for x in spec["arms"] if not a.arms or x["name"] in a.arms.split(",")]
    seeds = [int(s) for s in a.seeds.split(",")] if a.seeds else spec["seeds"]
    out_dir = os.path.join(ROOT, "docs", "results", a.name)
    write_atomic(os.path.join(out_dir, "experiment.json"), {k: v for k, v in spec.items()})
    for arm in arms:
        # An arm may name its own seeds (e.g. more seeds of an earlier arm); --seeds overrides both.
        for seed in seeds if a.seeds else arm.get("seeds", seeds):
            # An arm with "run_of" reads another arm's runs (e.g. the direct baseline stage of the same run).
            run_dir = os.path.join(ROOT, "runs", "experiments", a.name, f"{arm.get('run_of', arm['name'])}-s{seed}")
            result = os.path.join(out_dir, f"{arm['name']}-s{seed}.json")
            cmd = train_command(a.oqa, spec, arm, seed, run_dir, a.threads)
            # The command recorded: the run from scratch, as a reader would type it.
            fresh = train_command("build/oqa", spec, arm, seed, os.path.relpath(run_dir, ROOT), resume=False)
            print(f"[experiment] {a.name} / {arm['name']} / seed {seed}: {' '.join(cmd)}", flush=True)
            if a.dry_run:
                continue
            start = time.time()
            done = os.path.exists(os.path.join(run_dir, "summary.json"))
            if not done:
                os.makedirs(os.path.join(ROOT, "runs", "experiments"), exist_ok=True)
                with open(os.path.join(ROOT, "runs", "experiments", a.name + f".{arm['name']}-s{seed}.log"), "w") as log:
                    rc = subprocess.call(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
                if rc != 0:
                    with open(log.name) as f:
                        last = [l.strip() for l in f if l.strip()][-1:] or [""]
                    print(f"[experiment] {arm['name']} seed {seed}: oqa exited {rc}: {last[0]}", flush=True)
                    write_atomic(result, dict(base_record(spec, arm, seed, run_dir, fresh), exit_code=rc, error=last[0]))
                    continue
            elif os.path.exists(result):
                continue
            rec = record(spec, arm, seed, run_dir, fresh, time.time() - start)
            write_atomic(result, rec)
            print(f"[experiment] {arm['name']} seed {seed}: {rec.get('stage', '?')} largest "
                  f"{rec.get('largest_top1', float('nan')):.2f}% smallest {rec.get('smallest_top1', float('nan')):.2f}% "
                  f"({rec['train_seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
