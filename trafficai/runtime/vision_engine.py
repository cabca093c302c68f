"""The cameras of the live run, one frame at a time: render from the simulation's vehicles, detect,
track, count, encode as JPEG (no Qt, no process: :mod:`trafficai.runtime.vision_worker` drives it).

Only the cameras shown on the wall are rendered. The default detector is ``truth`` (the renderer's
exact boxes): the shipped model is undertrained (docs/vision.md, mAP50 0.05 on the held-out scene),
so counts and queues on the wall come from tracking and counting alone unless the operator picks
the model. A camera whose source fails (its pose sees no road, the renderer or the detector raises,
the model cannot load) is reported offline with the reason; the others keep running.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.errors import TrafficAIError
from trafficai.runtime.vision_messages import (
    DETECTORS,
    MAX_SHOWN,
    ApproachReading,
    CameraImage,
    CameraOffline,
    VehicleBatch,
    VisionScene,
)
from trafficai.sensors.cameras import CameraSpec
from trafficai.vision.detect import Detector, open_detector
from trafficai.vision.ground import sees_road
from trafficai.vision.pipeline import CameraPipeline, CameraReading, TruthDetector
from trafficai.vision.render import Renderer
from trafficai.vision.scene import CLASS_NAMES, VehicleView, vehicle_class

logger = logging.getLogger(__name__)
SHIPPED_WEIGHTS = Path(__file__).resolve().parents[2] / "assets" / "models" / "vision" / "vehicles-yolo11n.pt"
JPEG_QUALITY = 80


@dataclass(slots=True)
class _LiveCamera:
    spec: CameraSpec
    renderer: Renderer
    pipeline: CameraPipeline
    counts: dict[str, int]
    since_s: float | None = None
    last_time_s: float | None = None


@dataclass(slots=True)
class VisionEngine:
    """Renders and reads the shown cameras of one scene."""

    detector_name: str = "truth"
    weights: str = ""
    generation: int = -1
    geometry: NetGeometry | None = None
    cameras: dict[str, CameraSpec] = field(default_factory=dict)
    shown: tuple[str, ...] = ()
    offline: dict[str, str] = field(default_factory=dict)
    detector_error: str = ""
    seq: int = 0
    _live: dict[str, _LiveCamera] = field(default_factory=dict)
    _model: Detector | None = None

    def set_scene(self, scene: VisionScene) -> None:
        self.generation = scene.generation
        self.geometry = scene.geometry
        self.cameras = {c.id: c for c in scene.cameras}
        self.shown = ()
        self._forget()

    def _forget(self) -> None:
        self._live.clear()
        self.offline = {}

    def show(self, cameras: tuple[str, ...]) -> tuple[str, ...]:
        """Render these (known ones, at most :data:`MAX_SHOWN`); cameras no longer shown are dropped."""
        self.shown = tuple(c for c in dict.fromkeys(cameras) if c in self.cameras)[:MAX_SHOWN]
        for camera in list(self._live):
            if camera not in self.shown:
                del self._live[camera]
        self.offline = {c: why for c, why in self.offline.items() if c in self.shown}
        return self.shown

    def set_detector(self, runtime: str, weights: str = "") -> str:
        """Switch the detector; the reason when it cannot be used (every camera is then offline)."""
        self.detector_name, self.weights = runtime, weights
        self._model, self.detector_error = None, ""
        self._forget()
        if runtime not in DETECTORS:
            self.detector_error = f"unknown detector {runtime!r} (choose from {', '.join(DETECTORS)})"
        elif runtime != "truth":
            path = weights or str(SHIPPED_WEIGHTS)
            try:
                self._model = open_detector(path, runtime)
            except TrafficAIError as exc:
                self.detector_error = f"detector {runtime}: {exc}"
            except Exception as exc:  # a runtime library failing inside: the cameras go offline
                logger.exception("the %s detector could not load", runtime)
                self.detector_error = f"detector {runtime}: {type(exc).__name__}: {exc}".splitlines()[0]
        return self.detector_error

    def process(self, camera: str, batch: VehicleBatch) -> CameraImage | CameraOffline | None:
        """The camera's frame at the batch's time; None when there is nothing new to say (the same
        time as its last frame, or still offline)."""
        if camera in self.offline or batch.generation != self.generation:
            return None
        if self.detector_error:
            return self._go_offline(camera, self.detector_error)
        try:
            live = self._live.get(camera) or self._open(camera)
            if live is None:
                return CameraOffline(self.generation, camera, self.offline[camera])
            if live.last_time_s == batch.time_s:
                return None
            return self._frame(live, batch)
        except Exception as exc:  # one camera failing must not stop the others
            logger.exception("camera %s failed", camera)
            return self._go_offline(camera, f"{type(exc).__name__}: {exc}".splitlines()[0])

    def _go_offline(self, camera: str, reason: str) -> CameraOffline:
        self.offline[camera] = reason
        self._live.pop(camera, None)
        return CameraOffline(self.generation, camera, reason)

    def _open(self, camera: str) -> _LiveCamera | None:
        spec, geometry = self.cameras[camera], self.geometry
        assert geometry is not None
        renderer = Renderer(spec, geometry)
        if not sees_road(renderer.ground):
            self.offline[camera] = "its pose sees no road (check height, heading and tilt)"
            return None
        detector: Detector = self._model if self._model is not None else TruthDetector()
        pipeline = CameraPipeline(spec, geometry, detector)
        live = _LiveCamera(spec, renderer, pipeline, {line.name: 0 for line in pipeline.lines})
        self._live[camera] = live
        return live

    def _frame(self, live: _LiveCamera, batch: VehicleBatch) -> CameraImage:
        started = time.perf_counter()
        view = _vehicle_view(batch)
        frame = live.renderer.render(view, seed=int(batch.time_s * 10))
        reading = live.pipeline.process(frame.image, batch.time_s, frame.truth)
        for crossing in reading.crossings:
            live.counts[crossing.line] = live.counts.get(crossing.line, 0) + 1
        if live.since_s is None:
            live.since_s = batch.time_s
        live.last_time_s = batch.time_s
        ok, encoded = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise TrafficAIError("JPEG encoding failed")
        self.seq += 1
        tracks = [t for t in reading.tracks if t.confirmed]
        return CameraImage(
            generation=self.generation,
            seq=self.seq,
            camera=live.spec.id,
            time_s=batch.time_s,
            jpeg=encoded.tobytes(),
            width=live.spec.image_width,
            height=live.spec.image_height,
            boxes=np.array([t.box for t in tracks], np.float32).reshape(-1, 4),
            track_ids=tuple(t.id for t in tracks),
            classes=tuple(CLASS_NAMES[t.cls] for t in tracks),
            approaches=_approaches(live, reading),
            detector=self.detector_name,
            counting_since_s=live.since_s,
            process_ms=(time.perf_counter() - started) * 1000.0,
        )


def _approaches(live: _LiveCamera, reading: CameraReading) -> tuple[ApproachReading, ...]:
    out = []
    for line in live.pipeline.lines:
        lanes = range(len(line.lanes))
        queues = tuple(round(reading.queues_m.get((line.name, k), 0.0), 1) for k in lanes)
        out.append(
            ApproachReading(
                line.name, live.counts.get(line.name, 0), queues, reading.occupancy.get(line.name, 0)
            )
        )
    return tuple(out)


def _vehicle_view(batch: VehicleBatch) -> VehicleView:
    def type_name(t: int) -> str:
        return batch.type_names[t] if 0 <= t < len(batch.type_names) else ""

    classes = np.array(
        [vehicle_class(v, type_name(int(t))) for v, t in zip(batch.ids, batch.vtype, strict=True)], np.int64
    )
    return VehicleView(
        batch.ids,
        np.asarray(batch.xy, np.float64).reshape(-1, 2),
        np.asarray(batch.angle, np.float64),
        np.asarray(batch.speed, np.float64),
        classes,
    )
