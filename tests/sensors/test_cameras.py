"""Camera pose from the manifest and pinhole projection between the ground and the image."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.conftest import DATA
from trafficai.config import CameraSection
from trafficai.core.scenario import resolve_scenario
from trafficai.sensors.cameras import (
    CameraSpec,
    camera_axes,
    ground_footprint,
    image_to_ground,
    in_view,
    world_to_image,
)

poses = st.builds(
    CameraSpec,
    id=st.just("cam"),
    junction=st.just("J"),
    x=st.floats(-500, 500),
    y=st.floats(-500, 500),
    height=st.floats(3.0, 30.0),
    heading=st.floats(0.0, 360.0),
    tilt=st.floats(10.0, 80.0),
    fov=st.floats(30.0, 120.0),
    image_width=st.sampled_from([640, 1280, 1920]),
    image_height=st.sampled_from([480, 720, 1080]),
)


def test_manifest_cameras_load_with_defaults_for_the_new_pose_fields() -> None:
    scenario = resolve_scenario(str(DATA / "tiny" / "scenario.toml"))
    (section,) = scenario.cameras
    camera = CameraSpec.from_section(section)
    assert (camera.id, camera.junction, camera.x, camera.y) == ("cam_C", "C", 23.6, -8.3)
    assert (camera.height, camera.heading, camera.fov) == (8.0, 289.4, 70.0)
    assert (camera.tilt, camera.image_width, camera.image_height, camera.frame_rate) == (
        20.0,
        1280,
        720,
        25.0,
    )
    full = CameraSection(
        id="c", x=0, y=0, tilt=35, image_width=640, image_height=480, frame_rate=10, range_m=40
    )
    assert CameraSpec.from_section(full).tilt == 35.0
    with pytest.raises(ValidationError):
        CameraSection(id="c", x=0, y=0, tilt=95)


@settings(max_examples=60, deadline=None)
@given(camera=poses, u=st.floats(0.0, 1.0), v=st.floats(0.0, 1.0))
def test_image_to_ground_and_back_returns_the_pixel(camera: CameraSpec, u: float, v: float) -> None:
    pixel = np.array([[u * (camera.image_width - 1) + 0.5, v * (camera.image_height - 1) + 0.5]])  # centres
    ground = image_to_ground(camera, pixel)
    if np.isnan(ground).any():  # at or above the horizon: no ground there
        return
    back, inside = world_to_image(camera, ground)
    assert inside[0]
    assert back[0] == pytest.approx(pixel[0], abs=1e-6 * camera.image_width)


@settings(max_examples=60, deadline=None)
@given(camera=poses, distance=st.floats(1.0, 200.0), off=st.floats(-30.0, 30.0))
def test_ground_point_in_the_image_projects_back_onto_itself(
    camera: CameraSpec, distance: float, off: float
) -> None:
    bearing = math.radians(camera.heading + off)
    point = np.array([[camera.x + distance * math.sin(bearing), camera.y + distance * math.cos(bearing)]])
    pixel, inside = world_to_image(camera, point)
    if not inside[0]:
        return
    assert image_to_ground(camera, pixel)[0] == pytest.approx(point[0], abs=1e-6 * max(distance, 1.0))


@settings(max_examples=60, deadline=None)
@given(
    camera=poses,
    behind=st.floats(0.01, 200.0),
    side=st.floats(-500.0, 500.0),
    below=st.floats(-500.0, 500.0),
)
def test_a_point_behind_the_camera_is_not_visible(
    camera: CameraSpec, behind: float, side: float, below: float
) -> None:
    right, down, forward = camera_axes(camera)
    point = np.array([camera.x, camera.y, camera.height]) - behind * forward + side * right + below * down
    pixel, inside = world_to_image(camera, point[None, :])
    assert not inside[0] and np.isnan(pixel).all()


def test_in_view_keeps_to_the_image_and_the_range() -> None:
    camera = CameraSpec("cam", "C", 20.0, 20.0, heading=225.0, fov=70.0)  # looking south-west
    xy = np.array([[0.0, 0.0], [40.0, 40.0], [-40.0, -40.0], [20.0, -20.0], [19.0, 19.0]])
    # ahead 28 m; behind; ahead but 85 m (beyond 60 m); 45 deg off the axis; below the image's bottom
    assert list(in_view(camera, xy)) == [True, False, False, False, False]
    assert in_view(camera, np.zeros((0, 2))).shape == (0,)


def test_ground_footprint_outlines_what_the_camera_sees() -> None:
    camera = CameraSpec("cam", "C", 0.0, 0.0, height=8.0, heading=90.0, tilt=30.0, fov=60.0)
    outline = ground_footprint(camera)
    assert np.allclose(outline[0], outline[-1])  # closed
    reach = np.hypot(outline[:, 0], outline[:, 1])
    assert reach.max() <= camera.range_m + 1e-9
    near = camera.height / math.tan(math.radians(camera.tilt + camera.vertical_fov / 2))
    assert reach.min() == pytest.approx(near, rel=1e-6)  # the image's bottom centre
    assert (outline[:, 0] > 0).all()  # all of it east of a camera looking east
    looking_up = CameraSpec("up", "", 0.0, 0.0, tilt=-60.0, fov=60.0)
    assert ground_footprint(looking_up).shape == (0, 2)
