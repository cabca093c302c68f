"""``trafficai iot faults eval``: detector health measured against injected ground truth.

For each seed: one healthy run and, per loop fault class, one run in which that fault strikes a
few loops (distinct, drawn by the seed) at seeded onsets, to the end. The controller is the
scenario's fixed-time program unless told otherwise, so faults do not change the traffic and the
healthy run of the same seed is the truth of every loop's counts in the faulty runs. Heartbeat loss
(``DEVICE_FAULT_KINDS``) strikes the loops' devices instead: those runs (and then the healthy ones)
have the device network on a scratch store, and a loop is flagged by the control center's
``iot_heartbeat`` warning; nothing is substituted for them (their readings are right).

Figures, per fault class: recall (faulty loops flagged — suspect or failed — after their onset),
median time to detect; over the healthy runs: loops flagged per 100 detector-hours (false
alarms); substitution: WAPE of the substituted 5-minute counts of flagged loops (from their
detection to the end) against the healthy run's counts of the same loops.

Runs go to a process pool (``workers``, default 2) at ``nice`` 10: one simulation per process.
"""

from __future__ import annotations

import math
import statistics
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trafficai.config import FAULT_KINDS, LOOP_FAULT_KINDS, FaultSection, HealthSection, RunConfig, SimConfig
from trafficai.core.events import Event
from trafficai.core.scenario import resolve_scenario
from trafficai.runtime.eval_workers import nice_worker
from trafficai.sensors.health import OK

if TYPE_CHECKING:
    from trafficai.storage import RunStore

WINDOW_S = 300.0
# transport faults measured on the device network (the run has devices and a scratch store); their
# detection is the control center's iot_heartbeat warning, not the loop health monitor
DEVICE_FAULT_KINDS = ("heartbeat-loss",)
EVAL_KINDS = LOOP_FAULT_KINDS + DEVICE_FAULT_KINDS


@dataclass(frozen=True, slots=True)
class RunSpec:
    scenario: str
    seed: int
    faults: tuple[FaultSection, ...] = ()
    end_s: float | None = None
    controller: str = "fixed"
    substitute: bool = False
    devices: bool = False  # the loops are devices (in-process bus, scratch store)


@dataclass
class RunOutcome:
    spec: RunSpec
    loops: tuple[str, ...]
    first_flag_s: dict[str, float] = field(default_factory=dict)  # first non-ok after its onset
    flags: dict[str, int] = field(default_factory=dict)  # transitions to non-ok per loop
    window_counts: list[list[float]] = field(default_factory=list)  # per 5 min, per loop
    hours: float = 0.0
    mean_delay_s: float = math.nan


def run_one(spec: RunSpec) -> RunOutcome:
    """One headless run (a scratch store only with devices); what health (or, for device faults,
    the heartbeat watch) flagged and each loop's 5-min counts."""
    if not spec.devices:
        return _run_one(spec, None)
    from trafficai.storage import RunStore

    with tempfile.TemporaryDirectory(prefix="trafficai-faults-") as folder:
        store = RunStore(Path(folder) / "runs.sqlite")
        try:
            return _run_one(spec, store)
        finally:
            store.close()


def _heartbeat_flags(events: Sequence[Event], outcome: RunOutcome, onset: dict[str, float]) -> None:
    for event in events:
        if event.kind != "iot_heartbeat" or event.severity != "warning":
            continue
        loop = event.object_id.partition(".")[2]
        outcome.flags[loop] = outcome.flags.get(loop, 0) + 1
        if event.time_s >= onset.get(loop, -math.inf) and loop not in outcome.first_flag_s:
            outcome.first_flag_s[loop] = event.time_s


def _run_one(spec: RunSpec, store: RunStore | None) -> RunOutcome:
    from trafficai.control.registry import make_controller
    from trafficai.runtime.device_settings import DeviceNetworkSettings
    from trafficai.runtime.lifecycle import RunLifecycle

    scenario = resolve_scenario(spec.scenario)
    health = (scenario.health or HealthSection()).model_copy(update={"substitute": spec.substitute})
    config = RunConfig(
        scenario=spec.scenario,
        end_s=spec.end_s,
        controller=spec.controller,
        sim=SimConfig(seed=spec.seed),
        faults=spec.faults,
        health=health,
        bin_s=30.0 if store is not None else 60.0,  # devices publish (and beat) every 30 s
    )
    devices = DeviceNetworkSettings() if store is not None else None
    life = RunLifecycle(config, scenario, devices=devices)
    life.record(store, spec.controller)
    by_device = any(f.kind in DEVICE_FAULT_KINDS for f in spec.faults)
    try:
        backend = life.open(warnings=False).backend
        life.attach(make_controller(spec.controller))
        loops = backend.geometry.e1.ids
        outcome = RunOutcome(spec, loops)
        onset = {f.device: f.at + scenario.begin_s for f in spec.faults}
        next_window = backend.time_s + WINDOW_S
        start_counts: np.ndarray | None = None
        while backend.step < backend.end_step:
            snap, events = life.step()
            _heartbeat_flags(events, outcome, onset)
            monitor = life.health
            if monitor is not None and by_device:
                monitor.changes.clear()  # a device fault's detection is the heartbeat watch's
            elif monitor is not None:
                for change in monitor.changes:
                    if change.health.state != OK:
                        outcome.flags[change.detector] = outcome.flags.get(change.detector, 0) + 1
                        since = onset.get(change.detector, -math.inf)
                        if change.health.since_s >= since and change.detector not in outcome.first_flag_s:
                            outcome.first_flag_s[change.detector] = change.health.since_s
                monitor.changes.clear()
            if snap is None or snap.detectors.e1_count.size != len(loops):
                continue
            counts = snap.detectors.e1_count.astype(np.float64)
            if start_counts is None:
                start_counts = counts
            if snap.time_s >= next_window - 1e-9:
                outcome.window_counts.append((counts - start_counts).tolist())
                start_counts, next_window = counts, next_window + WINDOW_S
        outcome.hours = (backend.time_s - scenario.begin_s) / 3600.0
        outcome.mean_delay_s = life.final_kpis().get("mean_delay_s", math.nan)
        return outcome
    finally:
        life.close_simulation()


def fault_mix(
    loops: Sequence[str], kind: str, seed: int, per_run: int, begin_s: float, end_s: float
) -> tuple[FaultSection, ...]:
    """``per_run`` distinct loops struck by ``kind`` at seeded onsets in the run's middle half."""
    rng = np.random.default_rng([seed, FAULT_KINDS.index(kind)])
    chosen = rng.choice(len(loops), size=min(per_run, len(loops)), replace=False)
    span = end_s - begin_s
    return tuple(
        FaultSection(device=loops[int(i)], kind=kind, at=float(round(span * (0.25 + rng.random() * 0.25))))
        for i in chosen
    )


@dataclass(frozen=True, slots=True)
class EvalResult:
    scenario: str
    seeds: tuple[int, ...]
    recall_by_class: dict[str, float]
    median_ttd_s_by_class: dict[str, float]
    false_alarms_per_100_detector_hours: float
    healthy_detector_hours: float
    substitution_wape: float
    substituted_windows: int
    substitution_wape_by_class: dict[str, float] = field(default_factory=dict)

    @property
    def min_recall(self) -> float:
        return min(self.recall_by_class.values()) if self.recall_by_class else math.nan

    def as_json(self) -> dict[str, Any]:
        """Plain JSON (a figure that could not be measured, e.g. a class never detected, is null)."""
        data: dict[str, Any] = _no_nan(
            {
                "scenario": self.scenario,
                "seeds": list(self.seeds),
                "min_recall": self.min_recall,
                "recall_by_class": self.recall_by_class,
                "median_ttd_s_by_class": self.median_ttd_s_by_class,
                "false_alarms_per_100_detector_hours": self.false_alarms_per_100_detector_hours,
                "healthy_detector_hours": self.healthy_detector_hours,
                "substitution_wape": self.substitution_wape,
                "substituted_windows": self.substituted_windows,
                "substitution_wape_by_class": self.substitution_wape_by_class,
            }
        )
        return data


def evaluate(
    scenario_name: str,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    end_s: float | None = None,
    per_run: int = 3,
    classes: Sequence[str] = EVAL_KINDS,
    workers: int = 2,
) -> EvalResult:
    scenario = resolve_scenario(scenario_name)
    loops = _loop_ids(scenario_name)
    stop = scenario.begin_s + (end_s if end_s is not None else scenario.duration_s)
    with_devices = any(k in DEVICE_FAULT_KINDS for k in classes)  # healthy runs: heartbeat false alarms too
    specs = [RunSpec(scenario_name, s, (), end_s, devices=with_devices) for s in seeds]
    for s in seeds:
        for kind in classes:
            faults = fault_mix(loops, kind, s, per_run, scenario.begin_s, stop)
            device = kind in DEVICE_FAULT_KINDS
            specs.append(RunSpec(scenario_name, s, faults, end_s, substitute=not device, devices=device))
    with ProcessPoolExecutor(max_workers=max(1, workers), initializer=nice_worker) as pool:
        outcomes = list(pool.map(run_one, specs))
    return summarise(scenario_name, tuple(seeds), outcomes, classes, scenario.begin_s)


def _loop_ids(scenario_name: str) -> tuple[str, ...]:
    """The loops of a scenario (from its running SUMO: detectors come from additional files)."""
    outcome = run_one(RunSpec(scenario_name, 0, (), end_s=1.0))
    return outcome.loops


def summarise(
    scenario: str,
    seeds: tuple[int, ...],
    outcomes: Sequence[RunOutcome],
    classes: Sequence[str],
    begin_s: float = 0.0,
) -> EvalResult:
    healthy = {o.spec.seed: o for o in outcomes if not o.spec.faults}
    detected: dict[str, list[bool]] = {k: [] for k in classes}
    ttd: dict[str, list[float]] = {k: [] for k in classes}
    errors, totals, windows = 0.0, 0.0, 0
    by_class: dict[str, list[float]] = {k: [0.0, 0.0] for k in classes if k not in DEVICE_FAULT_KINDS}
    for o in outcomes:
        truth = healthy.get(o.spec.seed)
        for fault in o.spec.faults:
            first = o.first_flag_s.get(fault.device)
            detected[fault.kind].append(first is not None)
            if first is None:
                continue
            ttd[fault.kind].append(first - begin_s - fault.at)
            if truth is None or fault.kind in DEVICE_FAULT_KINDS:  # right readings: nothing substituted
                continue
            i = o.loops.index(fault.device)
            for w, (got, true) in enumerate(zip(o.window_counts, truth.window_counts, strict=False)):
                if begin_s + w * WINDOW_S >= first:  # windows that began after the detection
                    errors += abs(got[i] - true[i])
                    totals += true[i]
                    windows += 1
                    by_class[fault.kind][0] += abs(got[i] - true[i])
                    by_class[fault.kind][1] += true[i]
    hours = sum(o.hours * len(o.loops) for o in healthy.values())
    alarms = sum(sum(o.flags.values()) for o in healthy.values())
    return EvalResult(
        scenario=scenario,
        seeds=seeds,
        recall_by_class={k: (sum(v) / len(v) if v else math.nan) for k, v in detected.items()},
        median_ttd_s_by_class={k: (statistics.median(v) if v else math.nan) for k, v in ttd.items()},
        false_alarms_per_100_detector_hours=100.0 * alarms / hours if hours else math.nan,
        healthy_detector_hours=hours,
        substitution_wape=errors / totals if totals else math.nan,
        substituted_windows=windows,
        substitution_wape_by_class={k: (e / t if t else math.nan) for k, (e, t) in by_class.items()},
    )


def _no_nan(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
