#!/usr/bin/env python3
"""Where ``bench sim``'s controller variant spends its time beyond libsumo stepping.

Runs the control variant (max-pressure every 5 s through the safety layer) once untimed, then once
with a wall clock around each phase of ``ControlLoop.step`` — SUMO's step (``backend.advance``), the
snapshot taken for a decision, the decision (the controller's ``decide`` on the deadline thread, and
the rest of ``_decide``: the hand-off to that thread, the signal status read, the requests to the
safety layer) and the safety layer's per-step work (``before_step``: ticks, SUMO state writes) —
then libsumo stepping alone for comparison. The clocks cost about a microsecond per call (some
8,600 calls on grid4x4). ``--cprofile`` prints cProfile's top functions of one more control run
(cProfile inflates the Python side, so its shares are upper bounds there).

    PYTHONPATH=$PWD python scripts/profile_control.py grid4x4 [--end 600] [--cprofile] [--no-deadline]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from trafficai.control.baselines import MaxPressureController
from trafficai.control.loop import ControlLoop
from trafficai.core.scenario import resolve_scenario
from trafficai.runtime.bench_sim import run_control
from trafficai.runtime.bench_stats import timed
from trafficai.sim.bare_run import step_through
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

spent: defaultdict[str, float] = defaultdict(float)  # wall seconds
cpu: defaultdict[str, float] = defaultdict(float)  # process CPU seconds (every thread)
calls: defaultdict[str, int] = defaultdict(int)


def clocked(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - cpu_start
            calls[name] += 1

    return wrapper


def phased_control(scenario: Any, options: SumoOptions, deadline: bool) -> tuple[float, float]:
    start, cpu_start = time.perf_counter(), time.process_time()
    backend = open_backend(scenario, options, vehicles=False)
    loop = ControlLoop(backend, decision_interval_s=5.0, use_deadline=deadline)
    controller = MaxPressureController()
    loop.assign(controller)
    spent["load"] += time.perf_counter() - start
    cpu["load"] += time.process_time() - cpu_start
    backend.advance = clocked("sumo step (advance)", backend.advance)  # type: ignore[method-assign]
    backend.snapshot = clocked("snapshot", backend.snapshot)  # type: ignore[method-assign]
    controller.decide = clocked("decide (controller)", controller.decide)  # type: ignore[method-assign]
    loop._decide = clocked("_decide (all)", loop._decide)  # type: ignore[method-assign]
    loop.safety.before_step = clocked("safety before_step", loop.safety.before_step)  # type: ignore[method-assign]
    step = clocked("loop.step (all)", loop.step)
    while backend.step < backend.end_step:
        step()
    backend.close()
    return time.perf_counter() - start, time.process_time() - cpu_start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--end", type=float, default=0.0)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument(
        "--no-deadline", action="store_true", help="decide on the stepping thread (what the hand-off costs)"
    )
    args = parser.parse_args()
    scenario = resolve_scenario(args.scenario)
    options = SumoOptions(end_s=scenario.begin_s + args.end if args.end else None, warnings=False)
    run_control(scenario, options)  # untimed warm-up
    lib = timed(lambda: step_through(scenario, options, vehicles=False))
    total, total_cpu = phased_control(scenario, options, not args.no_deadline)
    lib2 = timed(lambda: step_through(scenario, options, vehicles=False))
    for clock in (spent, cpu):
        clock["_decide (rest: hand-off, status, requests)"] = (
            clock["_decide (all)"] - clock["decide (controller)"]
        )
        accounted = clock["sumo step (advance)"] + clock["snapshot"] + clock["_decide (all)"]
        accounted += clock["safety before_step"]
        clock["loop.step (rest)"] = clock["loop.step (all)"] - accounted
    calls["_decide (rest: hand-off, status, requests)"] = calls["_decide (all)"]
    calls["loop.step (rest)"] = calls["loop.step (all)"]
    calls["load"] = 1
    print(
        f"control variant, {args.scenario}: {total:.3f} s wall; libsumo stepping alone before/after: "
        f"{lib.wall_s:.3f} / {lib2.wall_s:.3f} s wall ({lib.cpu_s:.3f} / {lib2.cpu_s:.3f} s CPU)"
    )
    print(f"{'phase':<45}{'calls':>7}{'s':>9}{'share':>8}{'per call':>12}")
    for name in (
        "load",
        "sumo step (advance)",
        "snapshot",
        "decide (controller)",
        "_decide (rest: hand-off, status, requests)",
        "safety before_step",
        "loop.step (rest)",
    ):
        n = calls[name]
        cells = []
        for clock, whole in ((spent, total), (cpu, total_cpu)):
            cells += [f"{clock[name]:.3f}", f"{clock[name] / whole:.1%}", f"{clock[name] / n * 1e6:.0f} µs"]
        print(f"{name:<45}{n:>7}" + "".join(f"{c:>10}" for c in cells))
    if args.cprofile:
        profile = cProfile.Profile()
        profile.enable()
        run_control(scenario, options)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
