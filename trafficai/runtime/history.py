"""Many days of simulated history (``trafficai history``): one headless run per day, in parallel.

    days = generate_history(HistorySpec("corridor", days=14, seed=1), store_path, jobs=2)

Each day is drawn by :func:`~trafficai.runtime.day_plan.draw_day_plan` (seeded by the history's
seed and the day index, so a day is the same whichever process runs it and in whatever order),
written as a routes file (:mod:`~trafficai.runtime.day_demand`) and run headless with its lane
closures as scripted incidents. The run store gets one run per day whose config carries a
``history`` record: the set (scenario, seed, day length), the day index, its type and the whole
plan (scale, peaks, weather, closures: the ground truth of incident days). Detector bins are 30 s;
the lane-area (E2) bins are left out (a fortnight of ``grid4x4`` is still ~600 MB of store). With
``cameras="truth"`` each day also stores its perfect camera devices' 30 s bins in the device
tables (``runtime.history_cameras``).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from trafficai.config import IncidentSection, RunConfig, SimConfig
from trafficai.core.scenario import resolve_scenario
from trafficai.errors import ConfigError, TrafficAIError
from trafficai.runtime.day_demand import loop_lanes, read_route_pool, write_day_files
from trafficai.runtime.day_plan import DayPlan, draw_day_plan
from trafficai.runtime.history_cameras import HISTORY_CAMERAS, HistoryCameras
from trafficai.storage import RunStore
from trafficai.storage.devices import DeviceStore

HISTORY_KEY = "history"  # the key of a day's record in its run config
HISTORY_BIN_S = 30.0
# detectors read every second: a stop-line loop gives a speed only in a step a vehicle is on it,
# so sampling every 5 s (the decision interval) left 84 % of 30 s bins without a speed
HISTORY_SAMPLE_S = 1.0
DEFAULT_DAY_S = 6 * 3600.0


@dataclass(frozen=True, slots=True)
class HistorySpec:
    scenario: str
    days: int
    seed: int = 1
    day_s: float = DEFAULT_DAY_S
    controller: str = ""  # empty: the scenario's default
    first_day: int = 0
    cameras: str = "off"  # off | truth: perfect camera devices' bins too (runtime/history_cameras.py)

    def check(self) -> None:
        if self.cameras not in HISTORY_CAMERAS:
            choices = " | ".join(HISTORY_CAMERAS)
            raise ConfigError(f"--cameras: expected one of {choices}, got {self.cameras!r}")
        if self.days < 1:
            raise ConfigError(f"--days: at least 1 day, got {self.days}")
        if self.day_s < 600:
            raise ConfigError(f"--day-hours: a day of at least 10 simulated minutes, got {self.day_s:g} s")

    @property
    def set_id(self) -> str:
        """Names the history: the same scenario, seed and day length are the same set of days."""
        return f"{resolve_scenario(self.scenario).name}/seed{self.seed}/{self.day_s:g}s"


@dataclass(frozen=True, slots=True)
class DayResult:
    day: int
    run_id: str
    day_type: str
    has_incident: bool
    wall_s: float
    kpis: dict[str, float]


def plan_day(spec: HistorySpec, day: int) -> DayPlan:
    scenario = resolve_scenario(spec.scenario)
    pool = read_route_pool(scenario)
    return draw_day_plan(spec.seed, day, spec.day_s, pool.origins, loop_lanes(scenario))


def history_record(spec: HistorySpec, plan: DayPlan) -> dict[str, Any]:
    return {
        "set": spec.set_id,
        "seed": spec.seed,
        "day": plan.day,
        "day_type": plan.day_type,
        "day_s": spec.day_s,
        "bin_s": HISTORY_BIN_S,
        "sample_s": HISTORY_SAMPLE_S,
        "plan": plan.as_record(),
        "cameras": spec.cameras,
    }


def run_day(spec: HistorySpec, day: int, store_path: Path) -> DayResult:
    """Simulate one day and record it (runs in a worker process: libsumo allows one run per process)."""
    started = time.perf_counter()
    scenario = resolve_scenario(spec.scenario)
    pool = read_route_pool(scenario)
    plan = draw_day_plan(spec.seed, day, spec.day_s, pool.origins, loop_lanes(scenario))
    incidents = tuple(
        IncidentSection(kind="close-lane", target=c.lane, at=c.at_s, duration=c.duration_s, reason="history")
        for c in plan.closures
    )
    with tempfile.TemporaryDirectory(prefix="trafficai-history-") as scratch:
        manifest = write_day_files(plan, scenario, pool, Path(scratch))
        config = RunConfig(
            scenario=str(manifest),
            controller=spec.controller,
            bin_s=HISTORY_BIN_S,
            sim=SimConfig(seed=plan.sumo_seed),
            incidents=incidents,
        )
        from trafficai.runtime.session import run_headless

        cameras = HistoryCameras(HISTORY_BIN_S) if spec.cameras == "truth" else None
        with RunStore(store_path) as store:
            result = run_headless(
                config,
                store,
                observers=(cameras,) if cameras is not None else (),
                annotations={HISTORY_KEY: history_record(spec, plan)},
                area_detectors=False,
                sample_interval_s=HISTORY_SAMPLE_S,
            )
            if cameras is not None:  # the last bin closes at the run's end, as the detectors' does
                ends = store.network_series(result.run_id).get("t_end")
                cameras.finish(float(ends[-1]) if ends is not None and len(ends) else 0.0)
        if cameras is not None:
            with DeviceStore(store_path) as devices:
                cameras.store(devices, result.run_id)
    return DayResult(
        day, result.run_id, plan.day_type, plan.has_incident, time.perf_counter() - started, result.kpis
    )


def generate_history(
    spec: HistorySpec,
    store_path: Path,
    jobs: int = 2,
    on_day: Callable[[DayResult], None] | None = None,
) -> list[DayResult]:
    """Simulate ``spec.days`` days in ``jobs`` worker processes; the days in day order."""
    spec.check()
    plan_day(spec, spec.first_day)  # a bad scenario fails here, once, not in every worker
    RunStore(store_path).close()  # create the store (and its schema) before the workers race to
    days = range(spec.first_day, spec.first_day + spec.days)
    results: list[DayResult] = []
    if jobs <= 1:
        for day in days:
            results.append(run_day(spec, day, store_path))
            if on_day is not None:
                on_day(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_day, spec, day, store_path) for day in days]
        try:
            for future in as_completed(futures):
                results.append(future.result())
                if on_day is not None:
                    on_day(results[-1])
        except TrafficAIError:
            for future in futures:
                future.cancel()
            raise
    return sorted(results, key=lambda r: r.day)
