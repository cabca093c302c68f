"""The ground-plane tracker and the detector contract, with scripted (fake) detections."""

from __future__ import annotations

import numpy as np
import pytest

from tests.vision.support import vehicles
from trafficai.core.geometry import NetGeometry
from trafficai.errors import ConfigError
from trafficai.sensors.cameras import CameraSpec, world_to_image
from trafficai.vision.detect import Detections, class_map, decode, letterbox
from trafficai.vision.pipeline import CameraPipeline, TruthDetector
from trafficai.vision.render import Renderer
from trafficai.vision.tracking import GroundTracker

DT = 0.2  # 5 frames/s


def box_at(camera: CameraSpec, ground_y: float, x: float = 0.0) -> np.ndarray:
    """A detection box whose bottom-centre stands on the ground at (x, ground_y)."""
    ((u, v),) = world_to_image(camera, np.array([[x, ground_y]]))[0]
    return np.array([u - 20, v - 30, u + 20, v], np.float32)


def detections(camera: CameraSpec, ys: list[float]) -> Detections:
    boxes = np.array([box_at(camera, y) for y in ys], np.float32).reshape(-1, 4)
    return Detections(boxes, np.full(len(ys), 0.9, np.float32), np.zeros(len(ys), np.int64))


def test_constant_speed_keeps_one_id_and_measures_the_speed(north_camera: CameraSpec) -> None:
    tracker = GroundTracker(north_camera)
    ids, speeds = set(), []
    for k in range(25):
        for track in tracker.update(detections(north_camera, [60.0 - 10.0 * DT * k]), k * DT):
            ids.add(track.id)
            speeds.append(track.speed())
    assert ids == {1}
    measured = [s for s in speeds if s is not None]
    assert len(measured) > 15
    np.testing.assert_allclose(measured, 10.0, atol=0.05)


def test_braking_shows_within_the_speed_window(north_camera: CameraSpec) -> None:
    tracker = GroundTracker(north_camera)
    y, v, last = 60.0, 12.0, []
    for k in range(40):
        v = max(v - 3.0 * DT, 0.0)  # 3 m/s2 until it stops
        y -= v * DT
        tracks = tracker.update(detections(north_camera, [y]), k * DT)
        last.append((v, tracks[0].speed() if tracks else None))
    errors = [abs(s - true) for true, s in last if s is not None]
    assert max(errors) < 1.6  # a 1 s window lags half a second of braking at most
    assert last[-1][1] is not None and last[-1][1] < 0.2


def test_two_vehicles_keep_their_ids_and_a_lost_one_expires(north_camera: CameraSpec) -> None:
    tracker = GroundTracker(north_camera, max_missed_s=0.5)
    for k in range(10):
        tracks = tracker.update(detections(north_camera, [50.0 - 2.0 * k, 30.0 - 2.0 * k]), k * DT)
    assert sorted(t.id for t in tracks) == [1, 2]
    for k in range(10, 14):
        tracks = tracker.update(detections(north_camera, [30.0 - 2.0 * k]), k * DT)
    assert [t.id for t in tracker.tracks] == [2]


def test_the_truth_detector_feeds_the_pipeline_and_counts_a_crossing(
    geometry: NetGeometry, north_camera: CameraSpec
) -> None:
    renderer = Renderer(north_camera, geometry)
    pipe = CameraPipeline(north_camera, geometry, TruthDetector())
    assert [line.name for line in pipe.lines] == ["N_in"]
    crossings = []
    for k in range(30):
        scene = vehicles([("a", 0.0, 30.0 - 8.0 * DT * k, 180.0, 8.0)])
        frame = renderer.render(scene)
        crossings += pipe.process(frame.image, k * DT, frame.truth).crossings
    assert [(c.line, c.track_id) for c in crossings] == [("N_in", 1)]
    assert crossings[0].time_s == pytest.approx(22.0 / 8.0, abs=0.4)  # front bumper reaches y = 8


def test_class_map_accepts_coco_vehicles_and_refuses_weights_without_any() -> None:
    coco = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}
    assert class_map(coco) == {2: 0, 3: 4, 5: 3, 7: 2}
    with pytest.raises(ConfigError, match="no vehicle class"):
        class_map({0: "cat", 1: "dog"})


def test_decode_undoes_the_letterbox() -> None:
    image = np.zeros((384, 640, 3), np.uint8)
    tensor, scale, pad = letterbox(image, (192, 320))
    assert tensor.shape == (1, 3, 192, 320) and scale == 0.5 and pad == (0.0, 0.0)
    raw = np.zeros((1, 9, 2), np.float32)
    raw[0, :4, 0] = [100, 50, 20, 10]  # cx, cy, w, h at model scale
    raw[0, 4 + 2, 0] = 0.8  # class 2
    boxes, scores, classes = decode(raw, scale, pad, 0.25, 0.5)
    np.testing.assert_allclose(boxes, [[180, 90, 220, 110]])
    assert scores.tolist() == pytest.approx([0.8]) and classes.tolist() == [2]


def test_a_reading_becomes_a_sensor_reading(geometry: NetGeometry, north_camera: CameraSpec) -> None:
    renderer = Renderer(north_camera, geometry)
    pipe = CameraPipeline(north_camera, geometry, TruthDetector())
    counts = []
    for k in range(30):
        frame = renderer.render(vehicles([("a", 0.0, 30.0 - 8.0 * DT * k, 180.0, 8.0)]))
        counts.append(pipe.process(frame.image, k * DT, frame.truth).as_sensor())
    assert sum(c.crossings["N_in"] for c in counts) == 1
    assert counts[0].queue_m == {"N_in": (0.0,)} and counts[0].online
    assert max(c.occupancy["N_in"] for c in counts) == 1
