"""``trafficai incidents fit``: the live ``held-vehicles`` detector's bounds for one scenario.

Incident-free runs of the scenario as it is (its own loops: the pairs the live run watches), at the
demand levels and on the seeds of ``incidents eval``'s incident-free tuning runs
(``incident_eval.level_seeds``, from ``TUNING_SEED0``), simulated and recorded by the same code
(``incident_eval.run_tasks`` -> ``incident_runs.simulate``); ``fit_held_bounds`` with the setting
the evaluation chose (``incident_watch.HELD_LIVE_SETTINGS``) turns them into the per-pair bounds
that ``IncidentWatch`` loads (``runtime/incident_bounds.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from trafficai.core.scenario import resolve_scenario
from trafficai.errors import ConfigError
from trafficai.runtime.incident_bounds import HeldBounds, default_bounds_path, pair_ids
from trafficai.runtime.incident_eval import DEMAND_LEVELS, TUNING_SEED0, bins_of, level_seeds, run_tasks
from trafficai.runtime.incident_runs import RunTask
from trafficai.runtime.incident_watch import HELD_LIVE_SETTINGS, stop_lines_only
from trafficai.sensors.incident_detection import fit_held_bounds
from trafficai.sensors.loop_pairs import loop_pairs
from trafficai.sim.net_loader import lane_successors

QUIET_LEVELS = 10  # bounds for 0 .. 10 quiet bins (the last: that long or longer), as the eval fits


@dataclass(frozen=True, slots=True)
class FitPlan:
    scenario: str
    runs: int = 24  # per demand level: the eval's incident-free tuning runs (docs/benchmarks.md)
    levels: tuple[float, ...] = DEMAND_LEVELS
    duration_s: float = 1200.0
    warmup_s: float = 300.0  # bins ending by then are replayed, not fitted
    seed0: int = TUNING_SEED0
    jobs: int = 2

    def check(self) -> None:
        if self.runs < 1 or not self.levels:
            raise ConfigError("--runs must be at least 1")
        if self.duration_s <= self.warmup_s:
            raise ConfigError(f"--duration {self.duration_s:g} must exceed --warmup {self.warmup_s:g}")


def fit_tasks(plan: FitPlan, scenario_source: str) -> list[RunTask]:
    return [
        RunTask(scenario_source, seed, level, plan.duration_s, None)
        for seed, level in level_seeds(plan.seed0, plan.runs, plan.levels)
    ]


def fit_scenario(plan: FitPlan, progress: Callable[[str], None] = lambda _: None) -> HeldBounds:
    """Simulate the plan's incident-free runs and fit the scenario's bounds."""
    plan.check()
    started = time.perf_counter()
    scenario = resolve_scenario(plan.scenario)
    tasks = fit_tasks(plan, str(scenario.source))
    progress(f"simulating {len(tasks)} incident-free runs of {scenario.name} on {plan.jobs} processes")
    recs = run_tasks(tasks, plan.jobs)
    pairs = loop_pairs(recs[0].geometry, lane_successors(scenario.net))
    bounds = fit_held_bounds(
        pairs, HELD_LIVE_SETTINGS, (bins_of(r) for r in recs), QUIET_LEVELS, fit_from_s=plan.warmup_s
    )
    fit = {
        "runs_per_level": plan.runs,
        "levels": list(plan.levels),
        "seeds": sorted({t.seed for t in tasks}),
        "duration_s": plan.duration_s,
        "warmup_s": plan.warmup_s,
        "wall_s": round(time.perf_counter() - started, 1),
        # the pairs the held test judges (a one-lane section); elsewhere only the queue and flow tests
        "one_lane_pairs": sum(1 for p in pairs if len(p.lanes) == 1),
        # no mid-block loop: the live watch does not use these bounds (IncidentWatch.fitted_detector)
        "stop_lines_only": stop_lines_only(pairs),
    }
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return HeldBounds(scenario.name, tuple(pair_ids(pairs)), dict(HELD_LIVE_SETTINGS), bounds, fit, created)


def default_out(plan: FitPlan) -> Path:
    """The scenario's own bounds file (``IncidentWatch`` finds it there)."""
    return default_bounds_path(resolve_scenario(plan.scenario))
