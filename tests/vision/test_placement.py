"""Cameras placed over signalised approaches, and the shipped scenarios' camera poses."""

from __future__ import annotations

import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import available_scenarios, resolve_scenario
from trafficai.sensors.cameras import CameraSpec, in_view
from trafficai.vision.counting import camera_lines
from trafficai.vision.placement import auto_cameras


def test_every_approach_gets_a_camera_that_sees_its_whole_stop_line(geometry: NetGeometry) -> None:
    cameras = auto_cameras(geometry)
    assert [c.id for c in cameras] == ["auto_C_E_in", "auto_C_N_in", "auto_C_S_in", "auto_C_W_in"]
    for camera in cameras:
        edge = camera.id.removeprefix("auto_C_")
        assert [line.name for line in camera_lines(geometry, camera)] == [edge]
        lane = geometry.lanes.ids.index(f"{edge}_0")
        assert in_view(camera, geometry.lanes.shapes[lane][-1:] - 0.0).all()
        assert 5.0 < camera.tilt < 45.0 and camera.height == 10.0


def test_placement_is_a_pure_function_of_the_geometry(geometry: NetGeometry) -> None:
    assert auto_cameras(geometry) == auto_cameras(geometry)
    assert auto_cameras(geometry, ("nope",)) == ()


def test_shipped_manifests_carry_the_full_pose() -> None:
    names = available_scenarios()
    assert {"single", "corridor", "grid4x4", "city"} <= set(names)
    for name in ("single", "corridor", "grid4x4", "city"):
        for section in resolve_scenario(name).cameras:
            camera = CameraSpec.from_section(section)
            assert (camera.tilt, camera.image_width, camera.image_height, camera.frame_rate) == (
                18.0,
                640,
                384,
                10.0,
            )
            assert camera.range_m == 70.0
            assert np.isfinite([camera.x, camera.y, camera.heading]).all()
