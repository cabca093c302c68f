"""The renderer's ground truth matches the vehicles it drew; frames are seeded and deterministic."""

from __future__ import annotations

import numpy as np

from tests.vision.support import vehicles
from trafficai.core.geometry import NetGeometry
from trafficai.sensors.cameras import CameraSpec, world_to_image
from trafficai.vision.effects import CLEAR, Conditions, night, sample_conditions
from trafficai.vision.ground import sees_road
from trafficai.vision.render import Renderer
from trafficai.vision.scene import BUS, SHAPES, interpolate, vehicle_class


def test_ground_truth_boxes_enclose_the_vehicles_drawn(
    geometry: NetGeometry, north_camera: CameraSpec
) -> None:
    renderer = Renderer(north_camera, geometry)
    assert sees_road(renderer.ground)
    cars = vehicles([("a", -1.6, 20.0, 180.0, 5.0), ("b", -1.6, 45.0, 180.0, 8.0)])
    frame = renderer.render(cars)
    truth = frame.truth
    assert truth.ids == ("a", "b")
    for i, front_y in enumerate((20.0, 45.0)):
        centre = np.array([[-1.6, front_y + SHAPES[0].length / 2, 0.75]])
        ((u, v),) = world_to_image(north_camera, centre)[0]
        x1, y1, x2, y2 = truth.boxes[i]
        assert x1 <= u <= x2 and y1 <= v <= y2
        patch = frame.image[int(y1) : int(y2), int(x1) : int(x2)].astype(float)
        assert patch.std() > 5  # something is drawn inside the box
    np.testing.assert_allclose(truth.ground_xy[0], [-1.6, 20.0 + SHAPES[0].length / 2])
    assert truth.boxes[0, 3] > truth.boxes[1, 3]  # the nearer car sits lower in the image
    assert (truth.occlusion < 0.05).all()
    np.testing.assert_allclose(truth.speed, [5.0, 8.0])


def test_a_vehicle_behind_a_bus_is_occluded(geometry: NetGeometry, north_camera: CameraSpec) -> None:
    renderer = Renderer(north_camera, geometry)
    scene = vehicles([("bus", -1.6, 22.0, 180.0, 0.0), ("car", -1.6, 33.0, 180.0, 0.0)])
    scene = type(scene)(scene.ids, scene.xy, scene.angle, scene.speed, np.array([BUS, 0]))
    truth = renderer.render(scene).truth
    occlusion = dict(zip(truth.ids, truth.occlusion, strict=True))
    assert occlusion["bus"] < 0.05
    assert occlusion["car"] > 0.5


def test_frames_are_deterministic_for_a_seed(geometry: NetGeometry, north_camera: CameraSpec) -> None:
    renderer = Renderer(north_camera, geometry)
    cars = vehicles([("a", -1.6, 25.0, 180.0, 5.0)])
    conditions = sample_conditions(np.random.default_rng(5))
    first = renderer.render(cars, conditions, seed=3).image
    assert np.array_equal(first, renderer.render(cars, conditions, seed=3).image)
    rainy = Conditions(rain=1.0, noise_sigma=4.0)
    assert not np.array_equal(
        renderer.render(cars, rainy, seed=1).image, renderer.render(cars, rainy, seed=2).image
    )
    assert renderer.render(cars, night()).image.mean() < 0.5 * renderer.render(cars, CLEAR).image.mean()


def test_shake_moves_the_ground_truth_with_the_image(geometry: NetGeometry, north_camera: CameraSpec) -> None:
    renderer = Renderer(north_camera, geometry)
    cars = vehicles([("a", -1.6, 25.0, 180.0, 5.0)])
    still = renderer.render(cars).truth.boxes[0]
    moved = renderer.render(cars, Conditions(shake_px=(4.0, -3.0))).truth.boxes[0]
    np.testing.assert_allclose(moved - still, [4.0, -3.0, 4.0, -3.0], atol=0.01)


def test_classes_are_stable_and_vehicles_interpolate_between_steps() -> None:
    assert vehicle_class("veh7") == vehicle_class("veh7")
    assert vehicle_class("x", "city_bus") == BUS
    a = vehicles([("a", 0.0, 0.0, 350.0, 2.0), ("gone", 5.0, 5.0, 0.0, 0.0)])
    b = vehicles([("a", 0.0, 10.0, 10.0, 4.0), ("new", 9.0, 9.0, 0.0, 0.0)])
    mid = interpolate(a, b, 0.5)
    assert mid.ids == ("a", "new")
    np.testing.assert_allclose(mid.xy[0], [0.0, 5.0])
    assert mid.angle[0] == 0.0 and mid.speed[0] == 3.0  # heading the short way round
    assert interpolate(a, b, 0.2).ids == ("a", "gone")
