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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import Scenario
from trafficai.core.snapshot import Snapshot
from trafficai.errors import TrafficAIError
from trafficai.sensors.camera_incidents import CameraAlarm, CameraReadings, StoppedVehicleDetector
from trafficai.sensors.cameras import CameraSpec
from trafficai.sensors.incident_detection import DETECTORS, Alarm, PairDetector
from trafficai.sensors.loop_pairs import LoopBinner, LoopPair, loop_pairs
from trafficai.sim.net_loader import lane_successors

INCIDENT_KIND = "incident-detected"
LIVE_DETECTOR = "baseline-anomaly"
# chosen by `trafficai incidents eval corridor` on its tuning seeds (docs/benchmarks.md)
LIVE_SETTINGS: dict[str, Any] = {
    "z": 2.5,
    "min_occupancy": 0.2,
    "down_excess": 0.05,
    "persistence": 1,
    "window": 2,
}
# the camera detector's setting chosen by the same evaluation (corridor, 24 tuning runs per level)
LIVE_CAMERA_SETTINGS: dict[str, float] = {"min_stop_s": 10.0, "min_dist_to_end_m": 10.0}
NEAR_LANE_END_M = 30.0


def incident_lane(pair: LoopPair, upstream_position_m: float, upstream_lane_length_m: float) -> str:
    """The lane to close for an alarm on ``pair``: the upstream loop's own lane, unless the loop
    sits at its lane's end (a stop-line loop), then the next lane of the pair's path."""
    near_end = upstream_lane_length_m - upstream_position_m < NEAR_LANE_END_M
    return pair.lanes[1] if near_end and len(pair.lanes) > 1 else pair.lanes[0]


class IncidentWatch:
    """``observe(snapshot) -> events``; :meth:`bind` is called by the lifecycle once SUMO is open."""

    def __init__(
        self,
        detector: str = LIVE_DETECTOR,
        settings: dict[str, Any] | None = None,
        camera_settings: dict[str, float] | None = None,
    ) -> None:
        if detector not in DETECTORS:
            raise TrafficAIError(f"unknown incident detector {detector!r} (known: {', '.join(DETECTORS)})")
        self.detector_name = detector
        self.settings = dict(
            LIVE_SETTINGS if settings is None and detector == LIVE_DETECTOR else settings or {}
        )
        self.geometry: NetGeometry | None = None
        self.cameras: tuple[tuple[str, float, float], ...] = ()
        self.pairs: tuple[LoopPair, ...] = ()
        self.binner: LoopBinner | None = None
        self.detector: PairDetector | None = None
        self.camera_settings = dict(LIVE_CAMERA_SETTINGS if camera_settings is None else camera_settings)
        self.readings: CameraReadings | None = None
        self.stopped: StoppedVehicleDetector | None = None

    def bind(self, geometry: NetGeometry, scenario: Scenario) -> None:
        """A (new) simulation: pairs from its geometry, fresh baselines."""
        self.geometry = geometry
        self.cameras = tuple((c.id, c.x, c.y) for c in scenario.cameras)
        self.pairs = loop_pairs(geometry, lane_successors(scenario.net))
        self.binner = LoopBinner(len(geometry.e1))
        self.detector = DETECTORS[self.detector_name](self.pairs, **self.settings)
        self.bind_cameras([CameraSpec.from_section(c) for c in scenario.cameras], geometry)

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
        evidence = ", ".join(f"{k} {v:.2f}" for k, v in alarm.evidence.items())
        camera = self.nearest_camera(*pair.xy)
        seen = f"; camera {camera[0]} ({camera[1]:.0f} m)" if camera else "; no camera"
        message = (
            f"incident suspected on lane {lane} between {pair.up_id} and {pair.down_id} "
            f"({alarm.detector}: {evidence}){seen}"
        )
        return Event(
            alarm.time_s, "alarm", INCIDENT_KIND, message, lane, "system", camera[0] if camera else ""
        )
