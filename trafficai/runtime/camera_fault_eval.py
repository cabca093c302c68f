"""Camera-device health measured against injected camera faults (the camera part of ``trafficai iot
faults eval``).

For each seed: one healthy run and, per camera fault class, one run in which that fault strikes a
few camera devices (distinct, drawn by the seed) at seeded onsets in the run's second quarter, to
the end (``runtime.fault_eval.fault_mix``). Every run has the device network on a scratch store with
``truth`` cameras (``--cameras truth``: perfect cameras, the camera wall's ground truth) at the
scenario's ``[[cameras]]``, fixed-time control, 30-s bins.

A camera is *flagged* by camera health (``sensors.camera_health``: an event of kind "detector" on
the camera, alarm or warning) or by the control center's heartbeat watch (an ``iot_heartbeat``
warning on its device ``cam.<id>``). Figures per class: recall (struck cameras flagged after their
onset), median time to detect; over the healthy runs: flags per 100 camera-hours (false alarms).
"""

from __future__ import annotations

import math
import statistics
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trafficai.config import FaultSection, RunConfig, SimConfig
from trafficai.core.events import Event
from trafficai.core.scenario import resolve_scenario
from trafficai.runtime.eval_workers import nice_worker

CAMERA_EVAL_KINDS = (
    "frozen", "blackout", "dropout", "packet-loss", "heartbeat-loss", "latency", "clock-skew",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CameraRunSpec:
    scenario: str
    seed: int
    faults: tuple[FaultSection, ...] = ()
    end_s: float | None = None
    placement: str = "manifest"


@dataclass
class CameraRunOutcome:
    spec: CameraRunSpec
    cameras: tuple[str, ...]
    first_flag_s: dict[str, float] = field(default_factory=dict)  # first flag after its onset
    flags: dict[str, int] = field(default_factory=dict)  # flags (transitions) per camera
    hours: float = 0.0


def flagged_camera(event: Event, cameras: Sequence[str]) -> str | None:
    """The camera an event flags (camera health's alarm/warning, or a heartbeat warning), or None."""
    if event.severity not in ("alarm", "warning"):
        return None
    if event.kind == "detector" and event.object_id in cameras:
        return event.object_id
    if event.kind == "iot_heartbeat" and event.object_id.startswith("cam."):
        camera = event.object_id[4:]
        return camera if camera in cameras else None
    return None


def run_one(spec: CameraRunSpec) -> CameraRunOutcome:
    """One headless run with truth camera devices on a scratch store; what flagged each camera."""
    from trafficai.runtime.device_settings import DeviceNetworkSettings
    from trafficai.runtime.session import run_headless
    from trafficai.storage import RunStore
    from trafficai.storage.devices import DeviceStore

    scenario = resolve_scenario(spec.scenario)
    config = RunConfig(
        scenario=spec.scenario, end_s=spec.end_s, controller="fixed", sim=SimConfig(seed=spec.seed),
        faults=spec.faults, bin_s=30.0,
    )  # fmt: skip
    settings = DeviceNetworkSettings(cameras="truth", camera_placement=spec.placement)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="trafficai-camfaults-") as folder:
        with RunStore(Path(folder) / "runs.sqlite") as store:
            result = run_headless(config, store, devices=settings)
            path = store.path
        with DeviceStore(path) as devices:
            cameras = tuple(d.source for d in devices.devices(result.run_id) if d.kind == "camera")
    outcome = CameraRunOutcome(spec, cameras)
    onset = {f.device: f.at + scenario.begin_s for f in spec.faults}
    for event in result.events:
        camera = flagged_camera(event, cameras)
        if camera is None:
            continue
        outcome.flags[camera] = outcome.flags.get(camera, 0) + 1
        if event.time_s >= onset.get(camera, math.inf) and camera not in outcome.first_flag_s:
            outcome.first_flag_s[camera] = event.time_s
    duration = spec.end_s if spec.end_s is not None else scenario.duration_s
    outcome.hours = duration / 3600.0
    return outcome


@dataclass(frozen=True, slots=True)
class CameraEvalResult:
    scenario: str
    seeds: tuple[int, ...]
    recall_by_class: dict[str, float]
    median_ttd_s_by_class: dict[str, float]
    false_alarms_per_100_camera_hours: float
    healthy_camera_hours: float
    trials_by_class: dict[str, int]

    @property
    def min_recall(self) -> float:
        return min(self.recall_by_class.values()) if self.recall_by_class else math.nan

    def as_json(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            return None if isinstance(value, float) and math.isnan(value) else value

        data: dict[str, Any] = clean(
            {
                "min_recall": self.min_recall,
                "recall_by_class": self.recall_by_class,
                "median_ttd_s_by_class": self.median_ttd_s_by_class,
                "false_alarms_per_100_camera_hours": self.false_alarms_per_100_camera_hours,
                "healthy_camera_hours": self.healthy_camera_hours,
                "trials_by_class": self.trials_by_class,
            }
        )
        return data


def camera_ids(scenario_name: str, placement: str = "manifest") -> tuple[str, ...]:
    """The camera devices of a scenario (from a one-second run: auto placement needs the net)."""
    return run_one(CameraRunSpec(scenario_name, 0, (), end_s=1.0, placement=placement)).cameras


def evaluate_cameras(
    scenario_name: str,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    end_s: float | None = None,
    per_run: int = 3,
    classes: Sequence[str] = CAMERA_EVAL_KINDS,
    workers: int = 2,
    placement: str = "manifest",
) -> CameraEvalResult:
    from trafficai.runtime.fault_eval import fault_mix

    scenario = resolve_scenario(scenario_name)
    cameras = camera_ids(scenario_name, placement)
    stop = scenario.begin_s + (end_s if end_s is not None else scenario.duration_s)
    specs = [CameraRunSpec(scenario_name, s, (), end_s, placement) for s in seeds]
    for s in seeds:
        for kind in classes:
            faults = fault_mix(cameras, kind, s, per_run, scenario.begin_s, stop)
            specs.append(CameraRunSpec(scenario_name, s, faults, end_s, placement))
    with ProcessPoolExecutor(max_workers=max(1, workers), initializer=nice_worker) as pool:
        outcomes = list(pool.map(run_one, specs))
    return summarise_cameras(scenario_name, tuple(seeds), outcomes, classes, scenario.begin_s)


def summarise_cameras(
    scenario: str,
    seeds: tuple[int, ...],
    outcomes: Sequence[CameraRunOutcome],
    classes: Sequence[str],
    begin_s: float = 0.0,
) -> CameraEvalResult:
    detected: dict[str, list[bool]] = {k: [] for k in classes}
    ttd: dict[str, list[float]] = {k: [] for k in classes}
    for o in outcomes:
        for fault in o.spec.faults:
            first = o.first_flag_s.get(fault.device)
            detected[fault.kind].append(first is not None)
            if first is not None:
                ttd[fault.kind].append(first - begin_s - fault.at)
    healthy = [o for o in outcomes if not o.spec.faults]
    hours = sum(o.hours * len(o.cameras) for o in healthy)
    alarms = sum(sum(o.flags.values()) for o in healthy)
    return CameraEvalResult(
        scenario=scenario,
        seeds=seeds,
        recall_by_class={k: (sum(v) / len(v) if v else math.nan) for k, v in detected.items()},
        median_ttd_s_by_class={k: (statistics.median(v) if v else math.nan) for k, v in ttd.items()},
        false_alarms_per_100_camera_hours=100.0 * alarms / hours if hours else math.nan,
        healthy_camera_hours=hours,
        trials_by_class={k: len(v) for k, v in detected.items()},
    )
