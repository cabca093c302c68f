"""``trafficai bench sim``: bare SUMO vs trafficai, side by side in one invocation.

Variants, run interleaved ``repeat`` times (``bench_stats``), each timed in wall and CPU seconds,
each including the loading of the network as the bare binary's run does:

* ``bare`` — the ``sumo`` binary on the scenario, no output: the physical limit;
* ``libsumo_only`` — trafficai's libsumo backend stepping, nothing read: the ceiling of control;
* ``subscribed_only`` — the same with every vehicle subscribed, nothing read: the ceiling of full;
* ``full`` — a full snapshot every step: every vehicle (position, angle, speed, lane, type,
  waiting), every lane (vehicles, halting, occupancy, mean speed), every signal and the network
  counters, as numpy arrays;
* ``control`` — max-pressure deciding every 5 simulated seconds through the safety layer.

Ratios are per repetition, then median and range: ``ratio_<variant>`` = bare / variant (higher is
faster, 1.0 is the binary's speed) and ``overhead_control`` = control / libsumo_only (what the
control path adds on top of SUMO stepping; target <= 1.10 in CPU time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from trafficai.control.baselines import MaxPressureController
from trafficai.control.loop import ControlLoop
from trafficai.core.scenario import Scenario, resolve_scenario
from trafficai.core.snapshot import LANE_COUNTS, LANE_FLOW
from trafficai.runtime.bench_stats import (
    DEFAULT_REPEAT,
    Spread,
    run_interleaved,
    timing_ratio,
    timing_spreads,
)
from trafficai.sim.bare_run import run_bare_binary, step_through
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

FULL_PARTS = frozenset({LANE_COUNTS, LANE_FLOW})
VARIANTS = ("bare", "libsumo_only", "subscribed_only", "full", "control")
OVERHEAD_TARGET = 1.10
CONTROL_INTERVAL_S = 5.0
WARM_UP_S = 20.0


def run_full(scenario: Scenario, options: SumoOptions) -> tuple[int, int]:
    """Full snapshot every step; returns (steps, peak vehicles)."""
    backend = open_backend(scenario, options, vehicles=True)
    peak = 0
    try:
        while backend.step < backend.end_step:
            backend.advance()
            peak = max(peak, len(backend.snapshot(vehicles=True, parts=FULL_PARTS).vehicles))
        return backend.step, peak
    finally:
        backend.close()


def run_control(scenario: Scenario, options: SumoOptions) -> int:
    """Max-pressure every 5 s through the safety layer, as ``trafficai run`` drives it."""
    backend = open_backend(scenario, options, vehicles=False)
    try:
        loop = ControlLoop(backend, decision_interval_s=CONTROL_INTERVAL_S)
        loop.assign(MaxPressureController())
        while backend.step < backend.end_step:
            loop.step()
        return backend.step
    finally:
        backend.close()


def bench_sim(
    name: str,
    end_s: float | None = None,
    repeat: int = DEFAULT_REPEAT,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    scenario = resolve_scenario(name)
    options = SumoOptions(end_s=scenario.begin_s + end_s if end_s else None, warnings=False)
    seen: dict[str, int] = {}

    def full() -> None:
        seen["steps"], seen["max_vehicles"] = run_full(scenario, options)

    variants: dict[str, Callable[[], object]] = {
        "bare": lambda: run_bare_binary(scenario, options),
        "libsumo_only": lambda: step_through(scenario, options, vehicles=False),
        "subscribed_only": lambda: step_through(scenario, options, vehicles=True),
        "full": full,
        "control": lambda: run_control(scenario, options),
    }
    # untimed: the first run in a process pays for imports (libsumo, numpy paths) and cold caches
    run_control(scenario, replace(options, end_s=scenario.begin_s + WARM_UP_S))
    timings = run_interleaved(variants, repeat, progress)
    ratios = {f"ratio_{v}": timing_ratio(timings["bare"], timings[v]) for v in VARIANTS[1:]}
    ratios["overhead_control"] = timing_ratio(timings["control"], timings["libsumo_only"])
    overhead_cpu = ratios["overhead_control"]["cpu"]["median"]
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "steps": seen["steps"],
        "max_vehicles": seen["max_vehicles"],
        "repeat": max(1, repeat),
        "variants": {v: timing_spreads(timings[v]) for v in VARIANTS},
        "ratios": ratios,
        "overhead_control_target": OVERHEAD_TARGET,
        "overhead_control_met": overhead_cpu <= OVERHEAD_TARGET,
    }
    # flat keys: the earlier releases' ones (medians, wall time) and overhead_control (CPU time)
    for v in VARIANTS:
        result[f"{v}_s"] = Spread.of([t.wall_s for t in timings[v]]).median
    for v in VARIANTS[1:]:
        result[f"ratio_{v}"] = ratios[f"ratio_{v}"]["wall"]["median"]
    result["overhead_control"] = overhead_cpu
    return result
