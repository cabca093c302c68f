"""Stopped-vehicle detection from camera readings: a red queue at the stop line and a discharging
queue raise nothing; a vehicle standing away from the stop line with nothing standing in front of
it does, once it has stood ``min_stop_s``; vehicles queued behind it are not heads of a chain."""

from __future__ import annotations

import numpy as np

from tests.sensors.fakes import cross_geometry
from trafficai.core.snapshot import VehicleArrays, frozen
from trafficai.sensors.camera_incidents import (
    CameraReadings,
    StoppedVehicleDetector,
    chain_heads,
    lane_point,
    replay_heads,
)
from trafficai.sensors.cameras import CameraSpec, in_view

CAMERA = CameraSpec("cam", "C", 0.0, 0.0, heading=0.0, tilt=20.0, range_m=90.0)  # looks up arm N


def on_lane_n(positions: list[float], speeds: list[float], names: list[str]) -> VehicleArrays:
    """Vehicles on lane N_in_0 (index 0: from (0, 100) to (0, 8), 92 m) at ``positions`` along it."""
    xy = np.array([[0.0, 100.0 - p] for p in positions], dtype=np.float32)
    n = len(positions)
    return VehicleArrays(
        ids=tuple(names),
        xy=frozen(xy.reshape(n, 2)),
        angle=frozen(np.full(n, 180.0, np.float32)),
        speed=frozen(np.array(speeds, np.float32)),
        lane=frozen(np.zeros(n, np.int32)),
        vtype=frozen(np.zeros(n, np.int32)),
        waiting=frozen(np.zeros(n, np.float32)),
    )


def run(frames: list[VehicleArrays], detector: StoppedVehicleDetector, every_s: float = 5.0) -> list[float]:
    readings = CameraReadings([CAMERA], cross_geometry())
    times = np.arange(len(frames)) * every_s
    heads = np.concatenate([readings.heads(float(t), f) for t, f in zip(times, frames, strict=True)])
    return [a.time_s for a in replay_heads(detector, heads, times)]


def test_the_camera_sees_the_lane() -> None:
    shape = cross_geometry().lanes.shapes[0].astype(np.float64)
    assert in_view(CAMERA, np.array([lane_point(shape, 30.0), lane_point(shape, 85.0)])).all()


def test_chain_heads() -> None:
    heads = chain_heads(np.array([85.0, 77.5, 70.0, 40.0, 32.5]))
    assert heads.tolist() == [True, False, False, True, False]


def test_a_red_queue_at_the_stop_line_is_not_an_incident() -> None:
    queue = on_lane_n([90.0, 82.5, 75.0, 67.5], [0.0] * 4, ["a", "b", "c", "d"])
    assert run([queue] * 40, StoppedVehicleDetector(min_stop_s=30.0, min_dist_to_end_m=10.0)) == []


def test_a_discharging_queue_is_not_an_incident() -> None:
    # at green the standing queue's head moves back a vehicle every 2.5 s: each stands at its head
    # only for a moment, far from the stop line or not
    positions = [90.0, 82.5, 75.0, 67.5, 60.0, 52.5, 45.0, 37.5]
    names = [f"v{i}" for i in range(8)]
    frames = [on_lane_n(positions, [8.0 if i < k else 0.0 for i in range(8)], names) for k in range(8)]
    assert run(frames, StoppedVehicleDetector(min_stop_s=10.0, min_dist_to_end_m=10.0), every_s=2.5) == []


def test_a_stopped_vehicle_away_from_the_stop_line_is_detected_once() -> None:
    # 'x' stands at 40 m (52 m before the stop line); 'y' and 'z' queue behind it, 'w' drives past
    frames = [
        on_lane_n([40.0, 32.5, 25.0, 70.0 + k], [0.0, 0.0, 0.0, 10.0], ["x", "y", "z", "w"])
        for k in range(30)
    ]
    assert run(frames, StoppedVehicleDetector(min_stop_s=30.0, min_dist_to_end_m=10.0)) == [30.0]
    assert run(frames, StoppedVehicleDetector(min_stop_s=30.0, min_dist_to_end_m=60.0)) == []
