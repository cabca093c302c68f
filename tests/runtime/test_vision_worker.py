"""The vision worker: frames for a real tiny run from a separate process that stops cleanly; a
camera whose source fails goes offline with the reason while the others keep running."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from trafficai.core.scenario import resolve_scenario
from trafficai.runtime.vision_client import VisionHandle
from trafficai.runtime.vision_engine import VisionEngine
from trafficai.runtime.vision_messages import (
    CameraImage,
    CameraOffline,
    ShowCameras,
    VehicleBatch,
    VisionScene,
    VisionSettings,
    VisionStatus,
    vehicles_near,
)
from trafficai.sensors.cameras import CameraSpec
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions
from trafficai.vision.placement import scenario_cameras

TINY = Path(__file__).parents[1] / "data" / "tiny" / "scenario.toml"


def tiny_batches(steps: int, start: int = 40) -> Iterator[tuple[VisionScene, VehicleBatch]]:
    """A real tiny run: the scene, then the vehicles near its cameras step by step."""
    scenario = resolve_scenario(str(TINY))
    backend = open_backend(scenario, SumoOptions(seed=3, warnings=False))
    try:
        cameras = scenario_cameras(scenario, backend.geometry)
        scene = VisionScene(0, backend.geometry, cameras)
        for _ in range(start + steps):
            backend.advance()
            if backend.step < start:
                continue
            vehicles, types = backend.vehicle_state()
            yield scene, vehicles_near(0, backend.time_s, vehicles, types, cameras)
    finally:
        backend.close()


def test_vision_process_renders_a_live_run_and_stops_cleanly() -> None:
    handle = VisionHandle(VisionSettings(fps=10.0, nice=0))
    handle.start()
    messages: list[object] = []
    shown: tuple[str, ...] = ()
    try:
        for scene, batch in tiny_batches(90):
            if not shown:
                shown = tuple(c.id for c in scene.cameras if c.id.startswith("auto_"))[:2]
                handle.send(scene)
                handle.send(ShowCameras(shown))
            handle.feed(batch)
            time.sleep(0.03)  # about 3 simulated s per wall s: the worker renders at its own rate
            messages += handle.poll()
        deadline = time.perf_counter() + 20
        while time.perf_counter() < deadline and not any(isinstance(m, CameraImage) for m in messages):
            messages += handle.poll()
            time.sleep(0.05)
    finally:
        handle.stop(timeout_s=10.0)
    assert not handle.alive() and handle.process.exitcode == 0
    images = [m for m in messages if isinstance(m, CameraImage)]
    assert {m.camera for m in images} == set(shown)
    decoded = cv2.imdecode(np.frombuffer(images[-1].jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (images[-1].height, images[-1].width, 3)
    assert any(len(m.track_ids) > 0 and len(m.boxes) == len(m.track_ids) for m in images)
    assert all(m.detector == "truth" for m in images)
    assert any(isinstance(m, VisionStatus) and m.shown == shown for m in messages)
    times = [m.time_s for m in images if m.camera == shown[0]]
    assert times == sorted(times) and len(set(times)) == len(times)  # never the same frame twice


def _engine_with(cameras: tuple[CameraSpec, ...], scene: VisionScene) -> VisionEngine:
    engine = VisionEngine()
    engine.set_scene(VisionScene(0, scene.geometry, cameras))
    engine.show(tuple(c.id for c in cameras))
    return engine


def test_camera_that_sees_no_road_is_offline_and_the_others_run() -> None:
    steps = tiny_batches(30)
    scene, batch = next(steps)
    good = next(c for c in scene.cameras if c.id.startswith("auto_"))
    sky = CameraSpec(
        "sky", good.junction, good.x, good.y, height=8.0, tilt=-40.0, image_width=320, image_height=192
    )
    engine = _engine_with((good, sky), scene)
    results = {c: engine.process(c, batch) for c in ("sky", good.id)}
    steps.close()
    offline = results["sky"]
    assert isinstance(offline, CameraOffline) and "sees no road" in offline.reason
    assert isinstance(results[good.id], CameraImage)
    assert engine.process("sky", batch) is None  # said once, stays offline


def test_renderer_failure_marks_only_that_camera_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = tiny_batches(30)
    scene, batch = next(steps)
    first, second = [c for c in scene.cameras if c.id.startswith("auto_")][:2]
    engine = _engine_with((first, second), scene)
    assert isinstance(engine.process(first.id, batch), CameraImage)

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("sensor unplugged")

    monkeypatch.setattr(engine._live[first.id].renderer, "render", broken)
    _, later = next(steps)
    steps.close()
    failed = engine.process(first.id, later)
    assert isinstance(failed, CameraOffline) and "sensor unplugged" in failed.reason
    assert isinstance(engine.process(second.id, later), CameraImage)


def test_corrupt_weights_put_every_camera_offline_with_the_file(tmp_path: Path) -> None:
    weights = tmp_path / "broken.onnx"
    weights.write_bytes(b"not a model")
    steps = tiny_batches(30)
    scene, batch = next(steps)
    steps.close()
    engine = _engine_with(scene.cameras[:2], scene)
    note = engine.set_detector("openvino", str(weights))
    assert "broken.onnx" in note
    engine.show(tuple(c.id for c in scene.cameras[:2]))
    for camera in engine.shown:
        message = engine.process(camera, batch)
        assert isinstance(message, CameraOffline) and "broken.onnx" in message.reason
    assert engine.set_detector("truth") == ""
    engine.show(tuple(c.id for c in scene.cameras[:2]))
    assert isinstance(engine.process(engine.shown[-1], batch), CameraImage)
