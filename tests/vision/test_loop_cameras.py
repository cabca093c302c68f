"""Cameras in the control loop: exact boxes without shading, per-lane readings, degradations."""

from __future__ import annotations

import numpy as np
import pytest

from tests.sensors.fakes import snapshot as base_snapshot
from tests.vision.support import vehicles
from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot, VehicleArrays
from trafficai.errors import ConfigError
from trafficai.sensors.cameras import CameraSpec
from trafficai.vision.loop_cameras import (
    BoxProjector,
    LoopCameraSettings,
    MomentCorners,
    VisionCameras,
    control_cameras,
)
from trafficai.vision.render import Renderer
from trafficai.vision.scene import vehicle_view

QUEUE = [("q1", 0.0, 10.0, 180.0, 0.0), ("q2", 0.0, 17.5, 180.0, 0.0), ("q3", 0.0, 25.0, 180.0, 0.0)]


def test_box_projector_gives_the_renderers_boxes_and_occlusion(
    geometry: NetGeometry, north_camera: CameraSpec
) -> None:
    view = vehicles([*QUEUE, ("far", 0.0, 60.0, 180.0, 8.0), ("side", 1.5, 40.0, 180.0, 5.0)])
    drawn = Renderer(north_camera, geometry).render(view).truth
    fast = BoxProjector(north_camera).boxes(view)
    assert fast.ids == drawn.ids and len(fast) >= 4
    np.testing.assert_allclose(fast.boxes, drawn.boxes, atol=1e-4)
    np.testing.assert_allclose(fast.occlusion, drawn.occlusion, atol=0.05)
    assert float(fast.occlusion.max()) > 0.05  # nearer vehicles hide part of a farther one


def test_corners_shared_by_the_cameras_give_the_same_boxes_bit_for_bit(geometry: NetGeometry) -> None:
    rows = [*QUEUE, ("far", 0.0, 60.0, 180.0, 8.0), ("bus_1", 1.5, 40.0, 180.0, 5.0)]
    rows += [(f"w{k}", -30.0 - 7.0 * k, -1.6, 90.0, 3.0) for k in range(6)]  # on another approach
    view = vehicles(rows)
    shared = MomentCorners()
    seen = 0
    for camera in control_cameras(geometry, 5.0):
        alone = BoxProjector(camera).boxes(view)
        together = BoxProjector(camera).boxes(view, corners=shared)
        assert alone.ids == together.ids
        for field in ("classes", "boxes", "occlusion", "truncation", "ground_xy", "speed"):
            np.testing.assert_array_equal(getattr(alone, field), getattr(together, field))
        seen += len(alone)
    assert seen >= 8  # more than one camera saw vehicles through the one set of corners


def _snap(t: float, rows: list[tuple[str, float, float, float, float]]) -> Snapshot:
    base = base_snapshot(t, [0, 0, 0, 0], [0.0] * 4)
    v = vehicles(rows)
    arrays = VehicleArrays(
        v.ids,
        v.xy.astype(np.float32),
        v.angle.astype(np.float32),
        v.speed.astype(np.float32),
        np.zeros(len(rows), np.int32),
        np.zeros(len(rows), np.int32),
    )
    return Snapshot(base.step, t, base.lanes, base.signals, base.detectors, base.counters, arrays, ("car",))


def test_a_standing_queue_reads_as_the_halting_vehicles_the_camera_sees(geometry: NetGeometry) -> None:
    cameras = VisionCameras(geometry, 1.0, LoopCameraSettings(fps=5.0))
    assert len(cameras.cameras) == len(control_cameras(geometry, 5.0)) == 4
    for t in range(6):
        readings = cameras.frames(_snap(float(t), QUEUE))
    north = next(r for r in readings if r.camera.endswith("N_in"))
    assert north.online
    # the camera looks up the queue from past the stop line: q2 (drawn as its id's class, larger
    # than a car) hides q3 entirely, so it counts two
    camera = next(c for c in cameras.cameras if c.spec.id.endswith("N_in"))
    snap = _snap(5.0, QUEUE)
    hidden = BoxProjector(camera.spec).boxes(vehicle_view(snap.vehicles, snap.vehicle_types))
    assert hidden.occlusion.tolist()[-1] == 1.0
    assert north.lane_vehicles["N_in_0"] == 2
    assert north.lane_halting["N_in_0"] == 2
    assert cameras.frames_processed == 5 * 5 * 4  # 5 frames per step after the first, 4 cameras


def test_degradations_drop_frames_and_take_cameras_offline(geometry: NetGeometry) -> None:
    settings = LoopCameraSettings(drop_rate=0.1, offline_first=1, seed=3)
    cameras = VisionCameras(geometry, 1.0, settings)
    for t in range(41):
        readings = cameras.frames(_snap(float(t), QUEUE))
    offline = [r for r in readings if not r.online]
    assert len(offline) == 1 and offline[0].camera == sorted(c.spec.id for c in cameras.cameras)[0]
    total = cameras.frames_processed + cameras.frames_dropped
    assert total == 40 * 5 * 3
    assert 0.06 < cameras.frames_dropped / total < 0.14


def test_an_unknown_offline_camera_is_one_clear_error(geometry: NetGeometry) -> None:
    with pytest.raises(ConfigError, match=r"camera_offline: camera.s. nope"):
        VisionCameras(geometry, 1.0, LoopCameraSettings(offline=("nope",)))
