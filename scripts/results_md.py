#!/usr/bin/env python3
"""Generates docs/results.md from the records under docs/results/ (scripts/experiment.py writes them).

For every experiment: its title and description, the command of each arm, and a table of the focus stage's
largest / smallest test top-1 per seed with the mean. Where the runs are still on this machine
(runs/experiments/), it also draws the focus stage's loss curve of each arm (first seed) into
docs/img/results/NAME-loss.png with gnuplot. Never edit docs/results.md by hand: rerun this script.

usage: scripts/results_md.py [--check]   (--check: exit 1 when docs/results.md is not up to date)
"""
import glob, json, os, shutil, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "docs", "results")


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def fmt(x):
    return "—" if x is None else f"{x:.2f}"


def load():
    experiments = []
    for exp_file in sorted(glob.glob(os.path.join(RESULTS, "*", "experiment.json"))):
        with open(exp_file) as f:
            spec = json.load(f)
        recs = []
        for path in sorted(glob.glob(os.path.join(os.path.dirname(exp_file), "*-s*.json"))):
            with open(path) as f:
                recs.append(json.load(f))
        experiments.append((spec, recs))
    experiments.sort(key=lambda e: (e[0].get("order", 100), e[0]["name"]))
    return experiments


def loss_plot(spec, recs):
    """Loss per logged step of each arm's focus stage (first seed); returns the image path or None."""
    if not shutil.which("gnuplot"):
        return None
    series = []
    for arm in spec["arms"]:
        rs = sorted([r for r in recs if r["arm"] == arm["name"]], key=lambda r: r["seed"])
        if not rs or "stage" not in rs[0]:
            continue
        metrics = os.path.join(ROOT, rs[0]["run_dir"], "metrics.jsonl")
        if not os.path.exists(metrics):
            return None  # runs not on this machine: keep the committed image
        pts = []
        with open(metrics) as f:
            for line in f:
                m = json.loads(line)
                if m.get("stage") == rs[0]["stage"] and "loss" in m:
                    pts.append((m["step"], m["loss"]))
        if pts:
            series.append((arm.get("label", arm["name"]), pts))
    if not series:
        return None
    out = os.path.join(ROOT, "docs", "img", "results", spec["name"] + "-loss.png")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        plots = []
        for i, (label, pts) in enumerate(series):
            data = os.path.join(tmp, f"{i}.dat")
            with open(data, "w") as f:
                f.writelines(f"{s} {l}\n" for s, l in pts)
            plots.append(f"'{data}' using 1:2 with lines lw 2 title \"{label}\"")
        script = (f"set terminal pngcairo size 900,{520 + 16 * len(series)} font ',10'\nset output '{out}.tmp'\n"
                  f"set title \"{spec['title']}\\ntraining loss of the focus stage, first seed\"\n"
                  "set xlabel 'step of the stage'\nset ylabel 'loss (mean over the logging window)'\nset grid\n"
                  "set key outside below\nplot " + ", ".join(plots) + "\n")
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
    os.replace(out + ".tmp", out)
    return out


def table(spec, recs):
    seeds = sorted({r["seed"] for r in recs if "stage" in r}) or sorted({r["seed"] for r in recs})
    head = "| arm | stage | epochs | " + " | ".join(f"largest s{s}" for s in seeds) + " | **largest mean** | " + \
           " | ".join(f"smallest s{s}" for s in seeds) + " | **smallest mean** |"
    lines = [head, "|" + "---|" * (5 + 2 * len(seeds))]
    for arm in spec["arms"]:
        failed = [r for r in recs if r["arm"] == arm["name"] and "error" in r]
        for r in failed:
            lines.append(f"| {arm.get('label', arm['name'])} | stopped (seed {r['seed']}, exit {r['exit_code']}): "
                         f"{r['error'].replace('|', '/')} |" + " |" * (3 + 2 * len(seeds)))
        rs = {r["seed"]: r for r in recs if r["arm"] == arm["name"] and "stage" in r}
        if not rs:
            continue
        any_r = next(iter(rs.values()))
        big = [rs[s]["largest_top1"] if s in rs else None for s in seeds]
        small = [rs[s]["smallest_top1"] if s in rs else None for s in seeds]
        lines.append(f"| {arm.get('label', arm['name'])} | {any_r['stage']} | {any_r['epochs']} | " +
                     " | ".join(fmt(x) for x in big) + f" | **{fmt(mean([x for x in big if x is not None]))}** | " +
                     " | ".join(fmt(x) for x in small) + f" | **{fmt(mean([x for x in small if x is not None]))}** |")
    return lines


def retrain_table(recs):
    lines = ["| bits | seed | MACs | no retraining (supernet) | retrained, 1x stage epochs | retrained, 2x | gap to 1x | gap to 2x |",
             "|---|---|---|---|---|---|---|---|"]
    for r in sorted(recs, key=lambda r: (r["bits"], r["seed"])):
        ep = sorted(r["retrained_top1"], key=int)
        one, two = r["retrained_top1"][ep[0]], r["retrained_top1"][ep[-1]]
        lines.append(f"| {r['bits']} | {r['seed']} | {r['macs'] / 1e6:.3f}M | {fmt(r['supernet_top1'])} | {fmt(one)} ({ep[0]} ep) "
                     f"| {fmt(two)} ({ep[-1]} ep) | {r['supernet_top1'] - one:+.2f} | {r['supernet_top1'] - two:+.2f} |")
    for b in sorted({r["bits"] for r in recs}):
        rs = [r for r in recs if r["bits"] == b]
        gaps = [r["supernet_top1"] - r["retrained_top1"][sorted(r["retrained_top1"], key=int)[0]] for r in rs]
        lines.append(f"| {b} | mean | | **{fmt(mean([r['supernet_top1'] for r in rs]))}** | "
                     f"**{fmt(mean([r['retrained_top1'][sorted(r['retrained_top1'], key=int)[0]] for r in rs]))}** | "
                     f"**{fmt(mean([r['retrained_top1'][sorted(r['retrained_top1'], key=int)[-1]] for r in rs]))}** | "
                     f"**{mean(gaps):+.2f}** | |")
    return lines


def nce_table(recs):
    lines = ["| seed | budget | base widths | base cost | base 2-bit top-1 | found widths | found cost | found 2-bit "
             "top-1 | found - base | expansions | search s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(recs, key=lambda r: r["seed"]):
        b, f = r["base"], r["found"]
        lines.append(f"| {r['seed']} | {r['budget']} | {' '.join(map(str, b['widths']))} | {b['cost'] / 1e6:.2f}M | "
                     f"{fmt(b['test_top1'])} | {' '.join(map(str, f['widths']))} | {f['cost'] / 1e6:.2f}M | "
                     f"{fmt(f['test_top1'])} | {f['test_top1'] - b['test_top1']:+.2f} | {r['expansions']} | "
                     f"{r['search_s']:.0f} |")
    if recs:
        gain = mean([r["found"]["test_top1"] - r["base"]["test_top1"] for r in recs])
        lines.append(f"| mean | | | | **{fmt(mean([r['base']['test_top1'] for r in recs]))}** | | | "
                     f"**{fmt(mean([r['found']['test_top1'] for r in recs]))}** | **{gain:+.2f}** | | |")
    widths = ", ".join(recs[0]["groups"]) if recs else ""
    return lines + ["", f"Width groups, in order: {widths}. Costs in {recs[0]['metric'] if recs else 'MACs'}, "
                    "counted by the cost model of `oqa info` / `oqa eval`."]


def mixed_table(recs):
    """Searched mixed-precision subnets (each deployment path) and the uniform baselines, per seed."""
    lines = ["| seed | subnet | avg weight / act bits | BitOPs | val top-1 | test top-1 (search) | fake quant | "
             "integer | ONNX Runtime | .oqa bytes |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(recs, key=lambda r: r["seed"]):
        for x in r["searches"]:
            c = x["costs"]
            what = "uniform anchor chosen" if x.get("chosen_anchor") else "mixed"
            lines.append(f"| {r['seed']} | {what}, {x['budget']} | {c['wbits']:.2f} / {c['abits']:.2f} | "
                         f"{c['bitops'] / 1e6:.1f}M | {fmt(x['val_top1'])} | {fmt(x['test_top1'])} | "
                         f"{fmt(x['fake_quant_top1'])} | {fmt(x['integer_top1'])} | {fmt(x['onnx_runtime_top1'])} | "
                         f"{x['oqa_bytes']} |")
            if x.get("chosen_anchor"):  # what the search itself found, measured the same way
                b, c = x["best_searched"], x["best_searched"]["costs"]
                lines.append(f"| {r['seed']} | best searched (mixed), {x['budget']} | {c['wbits']:.2f} / "
                             f"{c['abits']:.2f} | {c['bitops'] / 1e6:.1f}M | {fmt(b['val_top1'])} | "
                             f"{fmt(b['test_top1'])} | | | | |")
        for u in r["uniform"]:
            c = u["costs"]
            lines.append(f"| {r['seed']} | uniform w{u['bits']}a{u['bits']} | {c['wbits']:.2f} / {c['abits']:.2f} | "
                         f"{c['bitops'] / 1e6:.1f}M | | {fmt(u['test_top1'])} | | | | |")
    lines += ["", "| seed | predictor | held-out Kendall tau | RMSE | used |", "|---|---|---|---|---|"]
    for r in sorted(recs, key=lambda r: r["seed"]):
        for name, p in sorted(r["predictors"].items()):
            if p.get("kendall_tau") is None:
                lines.append(f"| {r['seed']} | {name} | skipped: nothing it encodes varies | | |")
                continue
            lines.append(f"| {r['seed']} | {name} | {p['kendall_tau']:.3f} | {p['rmse']:.3f} | "
                         f"{'yes' if name == r['predictor_used'] else ''} |")
    return lines


def mixed_plot(spec, recs):
    """Test top-1 against average bits (max of weight and activation averages): the searched mixed subnets of
    each seed and the uniform baselines; returns the image path or None (no gnuplot)."""
    if not shutil.which("gnuplot") or not recs:
        return None
    out = os.path.join(ROOT, "docs", "img", "results", spec["name"] + "-bits.png")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        plots = []
        for r in sorted(recs, key=lambda r: r["seed"]):
            for kind, rows in (("mixed", r["searches"]), ("uniform", r["uniform"])):
                data = os.path.join(tmp, f"{kind}-{r['seed']}.dat")
                pts = sorted((max(x["costs"]["wbits"], x["costs"]["abits"]), x["test_top1"]) for x in rows)
                with open(data, "w") as f:
                    f.writelines(f"{b} {t}\n" for b, t in pts)
                style = "linespoints pt 7 ps 1.3" if kind == "mixed" else "linespoints dt 2 pt 5"
                plots.append(f"'{data}' using 1:2 with {style} lw 2 title \"{kind}, seed {r['seed']}\"")
        script = (f"set terminal pngcairo size 900,560 font ',10'\nset output '{out}.tmp'\n"
                  f"set title \"{spec['title']}\"\nset xlabel 'average bits (max of weights, activations)'\n"
                  "set ylabel 'test top-1 (%)'\nset grid\nset key bottom right\nplot " + ", ".join(plots) + "\n")
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
    os.replace(out + ".tmp", out)
    return out


def best_arms(spec, recs):
    """One line naming the arm with the best mean (largest and smallest), computed, not typed."""
    out = []
    for key, what in (("largest_top1", "largest"), ("smallest_top1", "smallest")):
        means = []
        for arm in spec["arms"]:
            xs = [r[key] for r in recs if r["arm"] == arm["name"] and key in r]
            if xs:
                means.append((mean(xs), arm.get("label", arm["name"]), len(xs)))
        if means:
            m, label, n = max(means)
            out.append(f"{what}: **{label}** ({m:.2f}, {n} seeds)")
    return ["Best mean " + "; ".join(out) + ".", ""] if out else []


def fuzz_rounds():
    rounds = []
    for path in glob.glob(os.path.join(RESULTS, "fuzz", "round*.json")):
        with open(path) as f:
            rounds.append(json.load(f))
    return sorted(rounds, key=lambda r: r["round"])


def fuzz_section(rounds):
    out = ["## Fuzzing rounds", "",
           "libFuzzer harnesses of `tests/fuzz/` under ASan + UBSan (`scripts/fuzz.sh SECONDS`, records under "
           "`docs/results/fuzz/`); a harness stops at its first finding. What each harness reads and how findings "
           "were fixed: [reliability.md](reliability.md).", ""]
    for r in rounds:
        total = sum(h["seconds"] for h in r["harnesses"])
        crashes = sum(h["crashes"] for h in r["harnesses"])
        out += [f"### Round {r['round']}", "",
                f"`{r['command']}`; {r['date']}, {r['machine']}; {r['build']}. {total / 3600:.2f} harness-hours, "
                f"{crashes} crashing input{'s' if crashes != 1 else ''}." + (f" {r['note'][:1].upper()}{r['note'][1:]}." if r.get("note") else ""), "",
                "| harness | ran (s) | executions | corpus | crashes | finding |", "|---|---|---|---|---|---|"]
        for h in r["harnesses"]:
            out.append(f"| `{h['harness']}` | {h['seconds']} | {h['executions']:,} | {h['corpus']:,} | {h['crashes']} | "
                       f"{h.get('finding', 'none')} |")
        out.append("")
    return out


def records(folder, pattern):
    """The JSON records docs/results/FOLDER/PATTERN, in file-name order."""
    out = []
    for path in sorted(glob.glob(os.path.join(RESULTS, folder, pattern))):
        with open(path) as f:
            out.append(json.load(f))
    return out


def dist_bench_section(benches):
    out = ["## Data-parallel training benchmark", "",
           "`bench/run_dist_bench.sh`: " + benches[0]["stage"] + " of `" + benches[0]["config"] + "`, images/s "
           "(median of the logged windows after the first) of one process with 1 LibTorch thread, two Gloo ranks "
           "(`--nproc 2`) with 1 thread each, and one process with 2 threads (the peer on the same cores); the "
           "all-reduce share includes the wait for the slower rank ([distributed.md](distributed.md)).", "",
           "| date | machine | commit | 1 process, 1 thread | 2 ranks, 1 thread each | 1 process, 2 threads | "
           "2 ranks / 1 thread | 2 ranks / 2 threads | all-reduce share |", "|---|---|---|---|---|---|---|---|---|"]
    for b in benches:
        r = b["runs"]
        out.append(f"| {b['date']} | {b['machine']} | {b['commit']} | {r['one-1t']['images_per_s']:.0f} | "
                   f"{r['two-1t']['images_per_s']:.0f} | {r['one-2t']['images_per_s']:.0f} | "
                   f"{b['ratio_two_ranks_to_one']:.2f}x | {b['ratio_two_ranks_to_two_threads']:.2f}x | "
                   f"{100 * r['two-1t']['allreduce_share']:.0f}% |")
    return out + [""]


def quickstart_section(runs):
    out = ["## Quickstart", "",
           "`bash scripts/quickstart.sh` on a machine of 2 cores, records by `scripts/quickstart_record.py`: float and "
           "2-bit supernet (largest / smallest), the searched 2-bit subnet under the config's budget (fake-quant, "
           "integer runtime, ONNX Runtime on the 10000 test images) and the wall time of the whole script. Goal: "
           "searched 2-bit >= 85%, within 4 pt of the float largest subnet, at most 600 s. Records of earlier "
           "versions of the config are kept (their commit names the version).", "",
           "| date | commit | seed | float largest / smallest | 2-bit largest / smallest | searched 2-bit "
           "(fake-quant / integer / ONNX RT) | float - searched | wall s | goal |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        fl, w2, s = r["stages"]["float"], r["stages"]["w2a2"], r["searched_w2a2"]
        ort = f"{s['onnx_runtime']:.2f}" if "onnx_runtime" in s else "n/a"
        timed = r.get("timing_valid", True)
        out.append(f"| {r['date']} | {r['commit']} | {r['seed']} | {fl[0]:.2f} / {fl[1]:.2f} | {w2[0]:.2f} / "
                   f"{w2[1]:.2f} | {s['fake_quant']:.2f} / {s['integer']:.2f} / {ort} | "
                   f"{r['float_largest_minus_searched']:.2f} | {r['wall_s']}"
                   f"{'' if timed else ' (shared machine, not counted)'} | "
                   f"{'met' if r['goal_met'] else 'not met'}{'' if timed else ' (accuracy)'} |")
    return out + [""]


def render(experiments, plots):
    out = ["# Results", "",
           "Generated by `scripts/results_md.py` from the records under `docs/results/` (one JSON file per "
           "experiment arm and seed, written by `scripts/experiment.py`); do not edit by hand. Top-1 on the test "
           "split, BN recalibrated, in %. Earlier hand-written measurements: [results-log.md](results-log.md).", ""]
    for spec, recs in experiments:
        out += [f"## {spec['title']}", ""]
        if spec.get("description"):
            out += [spec["description"], ""]
        if recs:
            dates = sorted({r["date"] for r in recs})
            machines = sorted({r["machine"] for r in recs})
            cmd = spec.get("command", f"python3 scripts/experiment.py {spec['name']}")
            out += [f"`{cmd}` (config `{spec['config']}`"
                    f"{', common overrides ' + ', '.join('`' + s + '`' for s in spec.get('set', [])) if spec.get('set') else ''}); "
                    f"{len(recs)} runs, {', '.join(dates)}, {'; '.join(machines)}.", ""]
            if spec.get("kind") == "retrain":
                out += retrain_table(recs) + [""]
                continue
            if spec.get("kind") == "mixed":
                out += mixed_table(recs) + [""]
                if os.path.exists(os.path.join(ROOT, "docs", "img", "results", spec["name"] + "-bits.png")):
                    out += [f"![top-1 against average bits](img/results/{spec['name']}-bits.png)", ""]
                if spec.get("conclusion"):
                    out += [spec["conclusion"], ""]
                continue
            if spec.get("kind") == "nce":
                out += nce_table(recs) + [""]
                img = os.path.join("docs", "img", "results", spec["name"] + "-widths.png")
                if os.path.exists(os.path.join(ROOT, img)):
                    out += [f"![widths per group](img/results/{spec['name']}-widths.png)", ""]
                if spec.get("conclusion"):
                    out += [spec["conclusion"], ""]
                continue
            out += table(spec, recs) + [""] + best_arms(spec, recs)
            out += ["Arms:", ""]
            for arm in spec["arms"]:
                sets = arm.get("set", []) + (["supernet.stages=" + json.dumps(arm["stages"], separators=(",", ":"))]
                                             if "stages" in arm else [])
                extra = " ".join(["--set '" + s + "'" for s in sets] + arm.get("args", []))
                out.append(f"- {arm.get('label', arm['name'])}: `{extra or '(the config as it is)'}`"
                           + (f" — {arm['note']}" if arm.get("note") else ""))
            out.append("")
            img = os.path.join("docs", "img", "results", spec["name"] + "-loss.png")
            if spec["name"] in plots or os.path.exists(os.path.join(ROOT, img)):
                out += [f"![loss curves](img/results/{spec['name']}-loss.png)", ""]
        else:
            out += ["No runs recorded yet.", ""]
        if spec.get("conclusion"):
            out += [spec["conclusion"], ""]
    runs = records("quickstart", "quickstart-*.json")
    if runs:
        out += quickstart_section(runs)
    benches = records("bench", "dist-*.json")
    if benches:
        out += dist_bench_section(benches)
    rounds = fuzz_rounds()
    if rounds:
        out += fuzz_section(rounds)
    return "\n".join(out)


def main():
    experiments = load()
    check = "--check" in sys.argv
    plots = set()
    if not check:
        for spec, recs in experiments:
            if recs and "arms" in spec and loss_plot(spec, recs):
                plots.add(spec["name"])
            if recs and spec.get("kind") == "mixed":
                mixed_plot(spec, recs)
    text = render(experiments, plots)
    path = os.path.join(ROOT, "docs", "results.md")
    if check:
        with open(path) as f:
            sys.exit(0 if f.read() == text else 1)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    print(f"results_md: wrote {path} ({sum(len(r) for _, r in experiments)} records, {len(experiments)} experiments)")


if __name__ == "__main__":
    main()
