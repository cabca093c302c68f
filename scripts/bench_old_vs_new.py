#!/usr/bin/env python3
"""Old code against new on the same measurement, interleaved, on a noisy machine.

Checks out ``--old`` (default 534b63d, the code before the architecture refactor) into a temporary
git worktree under /tmp and runs the same measurement with the old tree and the new one (this
checkout) in alternating subprocesses, ``PYTHONPATH`` pointing at each tree:

* ``control`` — max-pressure every 5 s through the safety layer on the libsumo backend (what
  ``bench sim``'s controller variant runs), ``libsumo_only`` — the backend stepping alone;
* with ``--gui``: ``bench gui``'s render FPS and sim_ratio (offscreen), fewer vehicles and shorter
  windows than the default so that a repetition takes about a minute.

Every measurement runs in a fresh process after an untimed warm-up run, and each repetition runs
old and new back to back (old first on even repetitions, new first on odd ones), so each new/old
ratio compares two runs seconds apart. Printed: per variant the median and range over the
repetitions of new/old in wall and CPU time (CPU time does not count waiting for a core, most of
the noise here), and each tree's overhead_control (control / libsumo_only, CPU).

    python scripts/bench_old_vs_new.py --scenario grid4x4 --repeat 5 [--json]
    python scripts/bench_old_vs_new.py --variants '' --gui --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

NEW_TREE = Path(__file__).resolve().parent.parent

# The child: only APIs that exist, unchanged, in both trees (SumoOptions.extra, open_backend,
# ControlLoop, MaxPressureController, gui.bench.bench_gui).
CHILD = r"""
import json, resource, sys, time
import trafficai
assert trafficai.__file__.startswith(sys.argv[1]), (trafficai.__file__, sys.argv[1])
variant, scenario_name, end = sys.argv[2], sys.argv[3], float(sys.argv[4])
if variant == "gui":
    import os
    import trafficai.gui.bench as gb
    opts = json.loads(sys.argv[5])
    windows, latest = [], {}
    plain_run_for = gb._run_for

    def proc_cpu(pid):  # utime + stime of the worker process, from /proc
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def main_window():
        from PySide6.QtWidgets import QApplication
        shown = [w for w in QApplication.topLevelWidgets() if hasattr(w, "bridge") and hasattr(w, "map")]
        return shown[0] if shown else None

    def clocked_run_for(seconds):  # the measurement windows (both trees call gb._run_for(window_s))
        win = main_window()
        if win is not None and "connected" not in latest:  # from the first wait on: steps seen
            win.bridge.progress.connect(lambda p: latest.update(steps=p.steps_total))
            latest["connected"], latest["steps"] = True, 0
        if seconds != opts["window_s"]:
            return plain_run_for(seconds)
        pid, paints, steps = win.bridge.pid, win.map.paint_count, latest["steps"]
        worker0, gui0, wall0 = proc_cpu(pid), time.process_time(), time.perf_counter()
        plain_run_for(seconds)
        windows.append({
            "wall": time.perf_counter() - wall0, "gui_cpu": time.process_time() - gui0,
            "worker_cpu": proc_cpu(pid) - worker0, "paints": win.map.paint_count - paints,
            "steps": latest["steps"] - steps,
        })

    gb._run_for = clocked_run_for
    r = gb.bench_gui(scenario_name, **opts)
    headless, rendering = windows[0::2], windows[1::2]  # both trees: headless then rendering
    gui_cpu_per_paint = sum(w["gui_cpu"] for w in rendering) / max(1, sum(w["paints"] for w in rendering))
    rate = lambda ws: sum(w["steps"] for w in ws) / max(1e-9, sum(w["worker_cpu"] for w in ws))
    print(json.dumps({"fps": r["fps"], "sim_ratio": r["sim_ratio"], "vehicles": r["vehicles"],
                      "max_stall_ms": r["max_stall_ms"],
                      "gui_cpu_ms_per_paint": 1000 * gui_cpu_per_paint,
                      "sim_ratio_cpu": rate(rendering) / rate(headless)}))
    raise SystemExit
from trafficai.control.baselines import MaxPressureController
from trafficai.control.loop import ControlLoop
from trafficai.core.scenario import resolve_scenario
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

scenario = resolve_scenario(scenario_name)

def run(end_s):
    options = SumoOptions(end_s=scenario.begin_s + end_s if end_s else None, extra=("--no-warnings", "true"))
    backend = open_backend(scenario, options, vehicles=False)
    if variant == "control":
        loop = ControlLoop(backend, decision_interval_s=5.0)
        loop.assign(MaxPressureController())
        while backend.step < backend.end_step:
            loop.step()
    else:
        while backend.step < backend.end_step:
            backend.advance()
    backend.close()

def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime

run(20.0)  # untimed: imports and first-start costs
cpu0, wall0 = cpu(), time.perf_counter()
run(end)
print(json.dumps({"wall_s": time.perf_counter() - wall0, "cpu_s": cpu() - cpu0}))
"""


def measure(tree: Path, variant: str, scenario: str, end: float, gui_opts: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), variant, scenario, str(end), json.dumps(gui_opts)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        timeout=900,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{variant} in {tree} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def old_worktree(commit: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"trafficai-old-{commit[:7]}-"))
    subprocess.run(
        ["git", "-C", str(NEW_TREE), "worktree", "add", "--detach", str(folder), commit],
        check=True,
        capture_output=True,
    )
    return folder


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "low": min(values), "high": max(values)}


def text(s: dict[str, float], digits: int = 3) -> str:
    return f"{s['median']:.{digits}f} [{s['low']:.{digits}f}-{s['high']:.{digits}f}]"


def run_all(args: argparse.Namespace, old: Path) -> dict[str, Any]:
    trees = {"old": old, "new": NEW_TREE}
    variants = [v for v in args.variants.split(",") if v] + (["gui"] if args.gui else [])
    unknown = set(variants) - {"control", "libsumo_only", "gui"}
    if unknown:
        raise SystemExit(f"--variants: unknown {', '.join(sorted(unknown))}")
    gui_opts = {"min_vehicles": args.gui_vehicles, "window_s": args.gui_window, "rounds": args.gui_rounds}
    scenario_of = {"control": args.scenario, "libsumo_only": args.scenario, "gui": args.gui_scenario}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {v: {"old": [], "new": []} for v in variants}
    for k in range(args.repeat):
        order = ("old", "new") if k % 2 == 0 else ("new", "old")
        for variant in variants:
            for side in order:
                print(f"repetition {k + 1}/{args.repeat}: {variant}, {side}", file=sys.stderr, flush=True)
                result = measure(trees[side], variant, scenario_of[variant], args.end, gui_opts)
                runs[variant][side].append(result)
    report: dict[str, Any] = {
        "old": args.old,
        "scenario": ", ".join(sorted({scenario_of[v] for v in variants})),
    }
    report["repeat"] = args.repeat
    report["variants"] = {}
    for variant in variants:
        old_runs, new_runs = runs[variant]["old"], runs[variant]["new"]
        keys = ["wall_s", "cpu_s"]
        if variant == "gui":
            keys = ["fps", "sim_ratio", "gui_cpu_ms_per_paint", "sim_ratio_cpu", "max_stall_ms"]
        report["variants"][variant] = {
            key: {
                "old": spread([r[key] for r in old_runs]),
                "new": spread([r[key] for r in new_runs]),
                "new_over_old": spread([n[key] / o[key] for n, o in zip(new_runs, old_runs, strict=True)]),
            }
            for key in keys
        }
    for side in ("old", "new") if {"control", "libsumo_only"} <= set(variants) else ():
        control, lib = runs["control"][side], runs["libsumo_only"][side]
        report[f"overhead_control_{side}"] = {
            clock: spread([c[f"{clock}_s"] / b[f"{clock}_s"] for c, b in zip(control, lib, strict=True)])
            for clock in ("cpu", "wall")
        }
    return report


def print_report(report: dict[str, Any]) -> None:
    print(
        f"old {report['old']} vs new (this checkout) · {report['scenario']} · median [low-high] "
        f"of {report['repeat']} interleaved repetitions"
    )
    print(f"{'variant':<14}{'measure':<22}{'old':>24}{'new':>24}{'new / old':>24}")
    for variant, measures in report["variants"].items():
        for key, figures in measures.items():
            digits = 1 if key in ("fps", "max_stall_ms") else 3
            print(
                f"{variant:<14}{key:<22}{text(figures['old'], digits):>24}{text(figures['new'], digits):>24}"
                f"{text(figures['new_over_old']):>24}"
            )
    for side in ("old", "new"):
        o = report.get(f"overhead_control_{side}")
        if o is None:
            continue
        print(f"overhead_control ({side}): CPU {text(o['cpu'], 2)}, wall {text(o['wall'], 2)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--old", default="534b63d", help="commit of the old code")
    parser.add_argument("--scenario", default="grid4x4")
    parser.add_argument("--end", type=float, default=0.0, help="simulated seconds (0: the scenario's)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--variants", default="control,libsumo_only", help="comma-separated; '' for none")
    parser.add_argument("--gui", action="store_true", help="also bench gui's FPS and sim_ratio")
    parser.add_argument("--gui-scenario", default="city")
    parser.add_argument("--gui-vehicles", type=int, default=2000)
    parser.add_argument("--gui-window", type=float, default=3.0)
    parser.add_argument("--gui-rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    old = old_worktree(args.old)
    try:
        report = run_all(args, old)
    finally:
        subprocess.run(["git", "-C", str(NEW_TREE), "worktree", "remove", "--force", str(old)], check=False)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
