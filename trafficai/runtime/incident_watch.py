"""Automatic incident detection in a run: a lifecycle observer that bins every loop (30 s), runs
one detector of ``sensors/incident_detection.py`` over the net's loop pairs and turns its alarms
into events of severity ``alarm`` (kind ``incident-detected``), headless and in the GUI worker.
Where the scenario has cameras and the sampled snapshots carry vehicles (the device network's
cameras are on), the cameras' stopped-vehicle detector (``sensors/camera_incidents.py``, on the
perfect camera's readings of each sample) raises the same kind of alarm.

Each event names the lane where the incident most likely is (its ``object_id``: what the control
center's "Create incident" closes), the evidence and the camera to look through: the nearest one
for a loop pair's alarm, the camera that saw the vehicle for a camera's. The settings are those
chosen by ``trafficai incidents eval`` on its tuning runs (docs/benchmarks.md).

Which detector: ``held-vehicles`` (the evaluation's best) where the scenario has a bounds file
fitted for its loop pairs (``trafficai incidents fit``, ``runtime/incident_bounds.py``), else
``baseline-anomaly``. A missing, corrupt or mismatched file never stops the run: one warning naming
the file and the problem, and the fallback. A detector or settings given by the caller win.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import Scenario
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ConfigError, TrafficAIError
from trafficai.runtime.incident_bounds import HeldBounds, default_bounds_path, load_bounds
from trafficai.sensors.camera_incidents import CameraAlarm, CameraReadings, StoppedVehicleDetector
from trafficai.sensors.cameras import CameraSpec
from trafficai.sensors.incident_detection import DETECTORS, Alarm, PairDetector
from trafficai.sensors.loop_pairs import BIN_S, LoopBinner, LoopPair, loop_pairs
from trafficai.sim.net_loader import lane_successors

logger = logging.getLogger(__name__)

INCIDENT_KIND = "incident-detected"
FITTED_DETECTOR = "held-vehicles"  # live where the scenario has bounds fitted for its loop pairs
LIVE_DETECTOR = "baseline-anomaly"  # live elsewhere
# held-vehicles as `trafficai incidents eval corridor --duration 1200 --warmup 240 --runs 40
# --tuning-runs 24` chose it on its tuning seeds (100 m loops: DR 0.868, MTTD 203.6 s, 0.656 false
# alarms per network-hour; docs/benchmarks.md, incident section): the queue test z 2.5 and the flow
# test as flow-balance's (incident_eval.FIXED), held_min 1, held_margin 1, quiet_bins 3 (90 s).
# `trafficai incidents fit` fits the per-pair bounds for it and saves it with them.
HELD_LIVE_SETTINGS: dict[str, Any] = {
    "z": 2.5,
    "min_occupancy": 0.2,
    "down_excess": 0.05,
    "persistence": 1,
    "window": 2,
    "min_missing": 8.0,
    "drift": 1.0,
    "down_occupancy": 0.1,
    "held_min": 1.0,
    "held_margin": 1.0,
    "quiet_bins": 3,
}
# baseline-anomaly as the same evaluation chose it (docs/benchmarks.md)
LIVE_SETTINGS: dict[str, Any] = {
    "z": 2.5,
    "min_occupancy": 0.2,
    "down_excess": 0.05,
    "persistence": 1,
    "window": 2,
}
# baseline-anomaly as `incidents eval corridor --duration 1200 --warmup 240 --runs 10 --tuning-runs
# 24 --camera-runs 0` chose it with stop-line loops only (the shipped corridor's own loops, 350 m
# apart; docs/benchmarks.md): a red queue covers a stop-line loop for a cycle, and only a stricter
# queue test keeps its false alarms within budget (0.0 per network-hour on the evaluation runs, 0.31
# on the tuning runs); LIVE_SETTINGS there raised about 230 per network-hour. It detects almost
# nothing on such a net: the cameras' detector does.
STOP_LINE_SETTINGS: dict[str, Any] = {
    "z": 4.0,
    "min_occupancy": 0.2,
    "down_excess": 0.05,
    "persistence": 2,
    "window": 2,
}
# the camera detector's setting chosen by the same evaluation (corridor, 24 tuning runs per level)
LIVE_CAMERA_SETTINGS: dict[str, float] = {"min_stop_s": 10.0, "min_dist_to_end_m": 10.0}
NEAR_LANE_END_M = 30.0


def stop_lines_only(pairs: Sequence[LoopPair]) -> bool:
    """Every pair starts at a stop-line loop (no mid-block loops): the layout LIVE_SETTINGS and
    the fitted held-vehicles were not chosen for."""
    return bool(pairs) and all(p.up_at_lane_end for p in pairs)


def live_settings(pairs: Sequence[LoopPair]) -> dict[str, Any]:
    """baseline-anomaly's live setting for this layout of loops."""
    return dict(STOP_LINE_SETTINGS if stop_lines_only(pairs) else LIVE_SETTINGS)


def incident_lane(pair: LoopPair, upstream_position_m: float, upstream_lane_length_m: float) -> str:
    """The lane to close for an alarm on ``pair``: the upstream loop's own lane, unless the loop
    sits at its lane's end (a stop-line loop), then the next lane of the pair's path."""
    near_end = upstream_lane_length_m - upstream_position_m < NEAR_LANE_END_M
    return pair.lanes[1] if near_end and len(pair.lanes) > 1 else pair.lanes[0]


_WORDED = ("held_vehicles", "quiet_bins", "missing_vehicles", "ratio")


def evidence_text(evidence: dict[str, float]) -> str:
    """An alarm's figures for the operator: held-vehicles' and flow-balance's counts in words
    first (the downstream silence in seconds; left out where that test does not judge the pair,
    NaN), then the queue test's figures as ``name value``."""
    parts = []
    if not math.isnan(evidence.get("held_vehicles", math.nan)):
        silent = evidence.get("quiet_bins", 0.0) * BIN_S
        held = evidence["held_vehicles"]
        parts.append(f"{held:.1f} vehicles held between the loops, downstream silent {silent:.0f} s")
    if not math.isnan(evidence.get("missing_vehicles", math.nan)):
        ratio = evidence.get("ratio", math.nan)
        parts.append(f"{evidence['missing_vehicles']:.1f} vehicles missing (transfer ratio {ratio:.2f})")
    parts += [f"{k} {v:.2f}" for k, v in evidence.items() if k not in _WORDED]
    return ", ".join(parts)


class IncidentWatch:
    """``observe(snapshot) -> events``; :meth:`bind` is called by the lifecycle once SUMO is open."""

    def __init__(
        self,
        detector: str | None = None,
        settings: dict[str, Any] | None = None,
        camera_settings: dict[str, float] | None = None,
        bounds_file: Path | None = None,
    ) -> None:
        """No ``detector`` (or ``held-vehicles`` without ``settings``): the fitted held-vehicles
        from ``bounds_file`` (default: the scenario's own, ``incident_bounds.default_bounds_path``)
        where it fits the net, else baseline-anomaly. Otherwise ``detector`` with ``settings``."""
        if detector is not None and detector not in DETECTORS:
            raise TrafficAIError(f"unknown incident detector {detector!r} (known: {', '.join(DETECTORS)})")
        self.fitted_wanted = settings is None and detector in (None, FITTED_DETECTOR)
        self.requested = detector or LIVE_DETECTOR
        self.requested_settings = settings
        self.bounds_file = bounds_file
        self.detector_name = self.requested
        self.pairs: tuple[LoopPair, ...] = ()
        self.settings = self._given_settings()
        self.fitted: HeldBounds | None = None
        self.geometry: NetGeometry | None = None
        self.cameras: tuple[tuple[str, float, float], ...] = ()
        self.binner: LoopBinner | None = None
        self.detector: PairDetector | None = None
        self.camera_settings = dict(LIVE_CAMERA_SETTINGS if camera_settings is None else camera_settings)
        self.readings: CameraReadings | None = None
        self.stopped: StoppedVehicleDetector | None = None

    def _given_settings(self) -> dict[str, Any]:
        if self.requested_settings is not None:
            return dict(self.requested_settings)
        wants_live = self.requested == LIVE_DETECTOR or self.fitted_wanted
        return live_settings(self.pairs) if wants_live else {}

    def bind(self, geometry: NetGeometry, scenario: Scenario) -> None:
        """A (new) simulation: pairs from its geometry, the detector for them, fresh baselines."""
        self.geometry = geometry
        self.cameras = tuple((c.id, c.x, c.y) for c in scenario.cameras)
        self.pairs = loop_pairs(geometry, lane_successors(scenario.net))
        self.binner = LoopBinner(len(geometry.e1))
        self.detector = self.choose_detector(scenario)
        self.bind_cameras([CameraSpec.from_section(c) for c in scenario.cameras], geometry)

    def choose_detector(self, scenario: Scenario) -> PairDetector:
        """The detector for :attr:`pairs`: the fitted held-vehicles where wanted and possible, else
        the requested one (baseline-anomaly by default)."""
        detector = self.fitted_detector(scenario) if self.fitted_wanted else None
        if detector is None:
            self.detector_name = LIVE_DETECTOR if self.fitted_wanted else self.requested
            self.settings = self._given_settings()
            detector = DETECTORS[self.detector_name](self.pairs, **self.settings)
        return detector

    def fitted_detector(self, scenario: Scenario) -> PairDetector | None:
        """held-vehicles with the scenario's fitted bounds, or None (a warning says why, unless the
        scenario simply has no bounds file and none was given)."""
        path = self.bounds_file or default_bounds_path(scenario)
        self.fitted = None
        if self.bounds_file is None and not path.is_file():
            logger.info("incident detection: %s (no fitted bounds at %s)", LIVE_DETECTOR, path)
            return None
        try:
            fitted = load_bounds(path)
            problem = fitted.mismatch(self.pairs)
            if problem:
                raise ConfigError(f"{path}: fitted for other loops than {scenario.name}'s: {problem}")
            if stop_lines_only(self.pairs):
                raise ConfigError(
                    f"{path}: {scenario.name}'s loops are all at stop lines, and held-vehicles was chosen "
                    "on mid-block loops (it would raise an alarm at every red)"
                )
            detector = fitted.detector(self.pairs)
        except (ConfigError, ValueError, TypeError) as exc:
            logger.warning("incident detection: %s; using %s instead", exc, LIVE_DETECTOR)
            return None
        self.fitted, self.detector_name, self.settings = fitted, FITTED_DETECTOR, dict(fitted.setting)
        logger.info(
            "incident detection: %s with the bounds of %s (%d pairs)", FITTED_DETECTOR, path, len(self.pairs)
        )
        return detector

    def bind_cameras(self, cameras: Sequence[CameraSpec], geometry: NetGeometry) -> None:
        """The cameras whose readings the stopped-vehicle detector judges (none: no camera alarms)."""
        self.geometry = geometry
        self.readings = CameraReadings(cameras, geometry) if cameras else None
        self.stopped = StoppedVehicleDetector(**self.camera_settings) if cameras else None

    def observe(self, snapshot: Snapshot) -> list[Event]:
        events = self.observe_cameras(snapshot)
        if self.binner is None or self.detector is None:
            return events
        loop_bin = self.binner.sample(snapshot)
        if loop_bin is None:
            return events
        return [self.event(alarm) for alarm in self.detector.update(loop_bin)] + events

    def observe_cameras(self, snapshot: Snapshot) -> list[Event]:
        """The stopped-vehicle alarms of this sample's camera readings (none without vehicles)."""
        if self.readings is None or self.stopped is None or len(snapshot.vehicles) == 0:
            return []
        heads = self.readings.heads(snapshot.time_s, snapshot.vehicles)
        return [self.camera_event(alarm) for alarm in self.stopped.update(snapshot.time_s, heads)]

    def camera_event(self, alarm: CameraAlarm) -> Event:
        assert self.geometry is not None and self.readings is not None
        lane = self.geometry.lanes.ids[alarm.lane]
        camera = self.readings.cameras[alarm.camera].id
        message = (
            f"incident suspected on lane {lane}: a vehicle stands {alarm.dist_to_end_m:.0f} m before "
            f"the lane's end, {alarm.stopped_s:.0f} s at the head of its queue "
            f"({StoppedVehicleDetector.name}); camera {camera} (in view)"
        )
        return Event(alarm.time_s, "alarm", INCIDENT_KIND, message, lane, "system", camera)

    def nearest_camera(self, x: float, y: float) -> tuple[str, float] | None:
        if not self.cameras:
            return None
        cam, cx, cy = min(self.cameras, key=lambda c: math.hypot(c[1] - x, c[2] - y))
        return cam, math.hypot(cx - x, cy - y)

    def event(self, alarm: Alarm) -> Event:
        pair = self.pairs[alarm.pair]
        assert self.geometry is not None
        e1, lanes = self.geometry.e1, self.geometry.lanes
        lane = incident_lane(pair, float(e1.positions[pair.up]), float(lanes.lengths[int(e1.lanes[pair.up])]))
        evidence = evidence_text(alarm.evidence)
        camera = self.nearest_camera(*pair.xy)
        seen = f"; camera {camera[0]} ({camera[1]:.0f} m)" if camera else "; no camera"
        message = (
            f"incident suspected on lane {lane} between {pair.up_id} and {pair.down_id} "
            f"({alarm.detector}: {evidence}){seen}"
        )
        return Event(
            alarm.time_s, "alarm", INCIDENT_KIND, message, lane, "system", camera[0] if camera else ""
        )
