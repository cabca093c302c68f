"""What controllers observe: loops, fused cameras with the loops as fallback, cameras only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tests.sensors.fakes import cross_geometry, snapshot
from trafficai.core.snapshot import Snapshot
from trafficai.sensors.camera_counts import CameraCounts
from trafficai.sensors.observation import CameraLanes, CameraObserver, LoopObserver, loop_lanes


def _snap(area: tuple[int, int, float, float] = (4, 3, 0.5, 0.4)) -> Snapshot:
    # loops stop_N, up_N, stop_S, free; stop_S occupied by a slow vehicle
    return snapshot(
        10.0,
        [0, 0, 0, 0],
        [0.0, 0.0, 1.0, 0.0],
        lane_vehicles=[9, 9, 9, 9, 9, 9, 9, 9],
        speed=[-1.0, -1.0, 0.2, -1.0],
        area=area,
    )


class FakeCameras:
    """A camera source giving scripted readings (the vision pipeline's stand-in)."""

    def __init__(self, readings: Sequence[CameraCounts]) -> None:
        self.readings = list(readings)
        self.fed = 0

    def frames(self, snapshot: Snapshot) -> Sequence[CameraCounts]:
        self.fed += 1
        return self.readings


def test_loops_read_the_area_detector_and_the_stop_line_loops() -> None:
    geometry = cross_geometry()
    lanes = loop_lanes(geometry, _snap())
    assert (lanes.vehicles[0], lanes.halting[0]) == (4, 3)  # area_N beats the stop-line loop
    assert (lanes.vehicles[2], lanes.halting[2]) == (1, 1)  # stop_S occupied, slow: one halting
    assert lanes.vehicles[1] == 0 and not lanes.seen[1]  # E_in: no detector
    sensed = LoopObserver(geometry).sensed(_snap())
    assert sensed.lanes.vehicles.tolist() == [4, 0, 1, 0, 0, 0, 0, 0]  # the oracle's 9s are gone


def test_cameras_fuse_by_the_largest_count_and_ignore_offline_ones() -> None:
    geometry = cross_geometry()
    fusion = CameraLanes(geometry)
    fusion.update(
        [
            CameraCounts("a", 1.0, lane_vehicles={"N_in_0": 2, "E_in_0": 1}, lane_halting={"N_in_0": 2}),
            CameraCounts("b", 1.0, lane_vehicles={"N_in_0": 5}, lane_halting={"N_in_0": 1}),
            CameraCounts("c", 1.0, online=False, reason="stream lost"),
        ]
    )
    lanes = fusion.lanes()
    assert (lanes.vehicles[0], lanes.halting[0]) == (5, 1)  # camera b sees more of N_in_0
    assert lanes.vehicles[1] == 1 and lanes.seen[1]
    assert not lanes.seen[2]
    assert fusion.offline() == {"c": "stream lost"}
    fusion.update([CameraCounts.offline("b", 2.0, "down")])
    assert fusion.lanes().vehicles[0] == 2  # b is down: a's view stands


def test_camera_observer_falls_back_on_loops_or_reads_empty() -> None:
    geometry = cross_geometry()
    reading = CameraCounts("a", 10.0, lane_vehicles={"E_in_0": 3}, lane_halting={"E_in_0": 2})
    source = FakeCameras([reading])
    observer = CameraObserver(geometry, source)
    observer.observe(_snap())
    assert source.fed == 1
    sensed = observer.sensed(_snap())
    assert sensed.lanes.vehicles.tolist() == [4, 3, 1, 0, 0, 0, 0, 0]  # N and S from the loops
    assert sensed.lanes.halting.tolist()[:3] == [3, 2, 1]
    bare = CameraObserver(geometry, source, fallback=False)
    bare.observe(_snap())
    assert bare.sensed(_snap()).lanes.vehicles.tolist() == [0, 3, 0, 0, 0, 0, 0, 0]
    assert bare.needs == frozenset()


def test_sensed_speeds_and_occupancy_come_from_the_sensed_vehicles() -> None:
    geometry = cross_geometry()
    reading = CameraCounts("a", 10.0, lane_vehicles={"E_in_0": 4}, lane_speed_mps={"E_in_0": 2.5})
    observer = CameraObserver(geometry, FakeCameras([reading]), fallback=False)
    observer.observe(_snap())
    lanes = observer.sensed(_snap()).lanes
    assert lanes.mean_speed[1] == np.float32(2.5)
    assert lanes.mean_speed[0] == np.float32(13.9)  # empty lane: its limit, as SUMO reports
    assert np.isclose(lanes.occupancy[1], 4 * 7.5 / 92.0)
    assert float(lanes.waiting.sum()) == 0.0  # not sensed
