"""Cameras in the control loop: every approach of every signalised junction watched by an approach
camera, each frame through the real perception pipeline (detector -> ground-plane tracker ->
counter, queues and per-lane counts), read by controllers as ``sensors.camera_counts.CameraCounts``
(an implementation of ``sensors.observation.CameraSource``).

SUMO steps at the scenario's step length (1 s in the shipped scenarios); the cameras run at
``fps`` (default 5 frames/s) on vehicle states interpolated between two steps
(``scene.interpolate``), since the tracker needs frames closer than a second to follow moving
vehicles.

Runtimes:

- ``truth`` (default): the detector returns the ground-truth boxes of the frame from the camera's
  projection with occlusion (the renderer's own id buffer: a vehicle more than 70 % hidden or too
  small is not detected, as for the dataset's labels); no pixels are shaded. Tracking, counting
  and queues are the real code. Cheap enough to run every camera of a network headless.
- ``openvino`` | ``onnx`` | ``torch``: full frames rendered and run through the detector on
  ``weights`` (the shipped YOLO11n by default).

Degradations: ``drop_rate`` (each frame is lost with that probability, seeded per camera),
``offline`` (camera ids that report offline from the start), ``light`` (``night``: rendered at
night; with ``truth`` boxes come from geometry, so night changes nothing there by construction).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ConfigError
from trafficai.sensors.camera_counts import CameraCounts
from trafficai.sensors.cameras import CameraSpec
from trafficai.vision.counting import camera_lines
from trafficai.vision.detect import Detector
from trafficai.vision.effects import CLEAR, Conditions
from trafficai.vision.effects import night as night_conditions
from trafficai.vision.pipeline import CameraPipeline, CameraReading, TruthDetector
from trafficai.vision.placement import auto_cameras
from trafficai.vision.render import NEAR_M, FrameTruth, Renderer
from trafficai.vision.render import Projector as _Projector
from trafficai.vision.scene import SHAPES, VehicleView, interpolate, vehicle_view

CAMERA_RUNTIMES = ("truth", "openvino", "onnx", "torch")
LIGHTS = ("day", "dusk", "night")
BLANK = np.zeros((1, 1, 3), np.uint8)
F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LoopCameraSettings:
    runtime: str = "truth"
    fps: float = 5.0
    drop_rate: float = 0.0
    offline: tuple[str, ...] = ()
    offline_first: int = 0  # also the first N control cameras in id order
    light: str = "day"
    weights: Path | None = None  # None: the shipped detector
    seed: int = 0


class BoxProjector:
    """The renderer's geometry and occlusion without shading: each vehicle's parts projected (all
    vehicles at once), their silhouettes (convex hulls) drawn far to near into an id buffer as
    the renderer does, boxes from the projected corners, occlusion from the visible share of each
    silhouette, truncation from the share outside the image. Vehicles farther than
    ``reach * range_m`` from the camera are left out (beyond every count line's zone)."""

    def __init__(self, camera: CameraSpec, reach: float = 1.6) -> None:
        self.camera = camera
        self.projector = _Projector(camera)
        self.size = (camera.image_width, camera.image_height)
        self.limit_m = camera.range_m * reach
        self._ids = np.zeros((camera.image_height, camera.image_width), np.uint16)

    def boxes(
        self, vehicles: VehicleView, conditions: Conditions = CLEAR, corners: MomentCorners | None = None
    ) -> FrameTruth:
        """``corners``: the moment's vehicle corners shared by every camera (computed once per
        frame time instead of once per camera; the same values)."""
        near = np.hypot(*(vehicles.xy - self.projector.origin[:2]).T) <= self.limit_m
        index = np.flatnonzero(near)
        w, h = self.size
        pixels, depth, ok = self._project(vehicles, index, corners)
        order = [int(i) for i in np.argsort(-depth) if ok[i]]  # far first
        ids = self._ids
        hulls: dict[int, NDArray[Any]] = {}
        for k in order:
            hull = cv2.convexHull(np.round(pixels[k]).astype(np.int32))
            cv2.fillConvexPoly(ids, hull, k + 1)
            hulls[k] = hull
        rows = []
        limits = np.array([w, h, w, h], np.float64)
        rects: dict[int, tuple[int, int, int, int]] = {}
        for k, hull in hulls.items():
            x, y, bw, bh = cv2.boundingRect(hull)
            rects[k] = (x, y, bw, bh)
        for k in sorted(hulls):
            pts = pixels[k]
            box = np.clip(np.concatenate([pts.min(axis=0), pts.max(axis=0)]), 0, limits)
            if box[2] - box[0] < 1 or box[3] - box[1] < 1:
                continue
            x, y, bw, bh = rects[k]
            seen = float(np.count_nonzero(ids[max(y, 0) : y + bh, max(x, 0) : x + bw] == k + 1))
            total = max(float(cv2.contourArea(hulls[k])), 1.0)
            inside = max(_pixels_inside(hulls[k], w, h, rects[k]), 1.0)
            occlusion = 1.0 - min(seen / inside, 1.0)
            rows.append((int(index[k]), box, occlusion, 1.0 - min(inside / total, 1.0)))
        for x, y, bw, bh in rects.values():  # clear what was drawn (the buffer is reused)
            ids[max(y, 0) : y + bh, max(x, 0) : x + bw] = 0
        picked = np.array([r[0] for r in rows], np.int64)
        every = corners.centres(vehicles) if corners is not None else None
        if not len(picked):
            centres = np.zeros((0, 2))
        else:
            centres = (every if every is not None else vehicles.centres())[picked]
        return FrameTruth(
            tuple(vehicles.ids[i] for i in picked),
            vehicles.classes[picked].copy(),
            np.array([r[1] for r in rows], np.float32).reshape(-1, 4),
            np.array([r[2] for r in rows], np.float32),
            np.array([r[3] for r in rows], np.float32),
            np.asarray(centres, np.float64).reshape(-1, 2),
            vehicles.speed[picked].astype(np.float32),
        )

    def _project(
        self, vehicles: VehicleView, index: NDArray[np.int64], shared: MomentCorners | None = None
    ) -> tuple[list[F64], F64, NDArray[np.bool_]]:
        """Per kept vehicle: its parts' corner pixels (8 per part), mean depth, and whether it is
        drawn (every corner in front of the camera, some part inside the image)."""
        w, h = self.size
        if len(index) == 0:
            return [], np.zeros(0), np.zeros(0, bool)
        if shared is None:
            corners = _all_corners(vehicles, index)
        else:
            every = shared.of(vehicles)
            corners = [every[i] for i in index.tolist()]
        sizes = np.array([len(c) for c in corners])
        uv, depth = self.projector.project(np.vstack(corners))
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        pixels = [uv[s : s + n] for s, n in zip(starts, sizes, strict=True)]
        depths = np.add.reduceat(depth, starts) / sizes
        ok = (
            (np.minimum.reduceat(depth, starts) >= NEAR_M)
            & (np.maximum.reduceat(uv[:, 0], starts) >= 0)
            & (np.minimum.reduceat(uv[:, 0], starts) < w)
            & (np.maximum.reduceat(uv[:, 1], starts) >= 0)
            & (np.minimum.reduceat(uv[:, 1], starts) < h)
        )
        return pixels, depths, ok


def _pixels_inside(
    hull: NDArray[np.int32], w: int, h: int, rect: tuple[int, int, int, int] | None = None
) -> float:
    """Pixels of the filled hull inside the image (as the renderer counts them); ``rect``: the
    hull's bounding rectangle when already known."""
    x, y, bw, bh = rect if rect is not None else cv2.boundingRect(hull)
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + bw, w), min(y + bh, h)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(mask, hull - np.array([x0, y0], np.int32), 1)
    return float(mask.sum())


def _unit_corners(cls: int) -> F64:
    """The corners (parts * 8, 3) of a class's shape: along from the rear, right, up."""
    cached = _UNIT.get(cls)
    if cached is not None:
        return cached
    rows = []
    for part in SHAPES[cls].parts:
        for k in range(8):
            along = part.front if k & 1 else part.rear
            side = -part.half_width if k & 2 else part.half_width
            rows.append((along, side, part.top if k & 4 else part.bottom))
    _UNIT[cls] = np.array(rows, np.float64)
    return _UNIT[cls]


_UNIT: dict[int, F64] = {}


def _all_corners(vehicles: VehicleView, index: NDArray[np.int64]) -> list[F64]:
    """Corners (parts * 8, 3) of each vehicle in ``index``, computed per class at once."""
    out: list[F64] = [np.zeros((0, 3))] * len(index)
    classes = vehicles.classes[index]
    rad = np.radians(vehicles.angle[index])
    direction = np.column_stack([np.sin(rad), np.cos(rad)])
    right = np.column_stack([direction[:, 1], -direction[:, 0]])
    for cls in np.unique(classes).tolist():
        rows = np.flatnonzero(classes == cls)
        unit = _unit_corners(int(cls))
        rear = vehicles.xy[index[rows]] - direction[rows] * SHAPES[int(cls)].length
        xy = (
            rear[:, None, :]
            + unit[None, :, 0, None] * direction[rows, None, :]
            + unit[None, :, 1, None] * right[rows, None, :]
        )
        z = np.broadcast_to(unit[None, :, 2, None], (len(rows), len(unit), 1))
        block = np.concatenate([xy, z], axis=2)
        for j, r in enumerate(rows.tolist()):
            out[r] = block[j]
    return out


class MomentCorners:
    """Every vehicle's corners at one frame time, computed on first use and shared by the cameras
    (the corner arithmetic is element by element, so a vehicle's corners are the same values
    whether computed alone, with the vehicles near one camera, or with all)."""

    def __init__(self) -> None:
        self._view: VehicleView | None = None
        self._corners: list[F64] = []
        self._centres: F64 | None = None

    def of(self, vehicles: VehicleView) -> list[F64]:
        self._check(vehicles)
        if not self._corners and len(vehicles):
            self._corners = _all_corners(vehicles, np.arange(len(vehicles), dtype=np.int64))
        return self._corners

    def centres(self, vehicles: VehicleView) -> F64:
        """``vehicles.centres()``, once per moment."""
        self._check(vehicles)
        if self._centres is None:
            self._centres = vehicles.centres()
        return self._centres

    def _check(self, vehicles: VehicleView) -> None:
        if self._view is not vehicles:
            self._view, self._corners, self._centres = vehicles, [], None


def control_cameras(geometry: NetGeometry, fps: float) -> tuple[CameraSpec, ...]:
    """One approach camera per approach of every signalised junction, at ``fps``, keeping those
    that see at least one whole stop line."""
    cameras = [replace(c, frame_rate=fps) for c in auto_cameras(geometry)]
    return tuple(c for c in cameras if camera_lines(geometry, c))


def _check(settings: LoopCameraSettings, cameras: Sequence[CameraSpec]) -> None:
    if settings.runtime not in CAMERA_RUNTIMES:
        raise ConfigError(
            f"camera runtime {settings.runtime!r} unknown (choose from {', '.join(CAMERA_RUNTIMES)})"
        )
    if settings.light not in LIGHTS:
        raise ConfigError(f"camera light {settings.light!r} unknown (choose from {', '.join(LIGHTS)})")
    known = {c.id for c in cameras}
    unknown = [c for c in settings.offline if c not in known]
    if unknown:
        sample = ", ".join(sorted(known)[:4])
        raise ConfigError(
            f"camera_offline: camera(s) {', '.join(unknown)} not in this scenario (e.g. {sample})"
        )


@dataclass(slots=True)
class _Camera:
    spec: CameraSpec
    pipeline: CameraPipeline
    projector: BoxProjector | Renderer
    rng: np.random.Generator
    latest: CameraCounts


class VisionCameras:
    """Every control camera's perception, fed the simulation step by step."""

    def __init__(
        self,
        geometry: NetGeometry,
        step_length_s: float,
        settings: LoopCameraSettings,
        detector: Detector | None = None,
        *,
        cameras: Sequence[CameraSpec] | None = None,
        on_reading: Callable[[str, CameraReading], None] | None = None,
    ) -> None:
        """``cameras``: these instead of the control cameras (run at ``settings.fps``);
        ``on_reading``: called with every processed frame's full reading (camera devices)."""
        self.settings = settings
        self.step_length_s = step_length_s
        self.on_reading = on_reading
        self.cameras_spec = (
            control_cameras(geometry, settings.fps)
            if cameras is None
            else tuple(replace(c, frame_rate=settings.fps) for c in cameras)
        )
        _check(settings, self.cameras_spec)
        first = tuple(sorted(c.id for c in self.cameras_spec)[: settings.offline_first])
        self.offline = frozenset(settings.offline + first)
        self.conditions = (
            night_conditions() if settings.light == "night" else replace(CLEAR, light=settings.light)
        )
        truth = settings.runtime == "truth"
        if not truth and detector is None:
            from trafficai.vision.detect import open_detector

            detector = open_detector(settings.weights or shipped_weights(), settings.runtime)
        self.cameras: list[_Camera] = []
        for spec in self.cameras_spec:
            pipe = CameraPipeline(spec, geometry, TruthDetector() if truth else detector)  # type: ignore[arg-type]
            projector: BoxProjector | Renderer = BoxProjector(spec) if truth else Renderer(spec, geometry)
            rng = np.random.default_rng([settings.seed, zlib.crc32(spec.id.encode())])
            self.cameras.append(_Camera(spec, pipe, projector, rng, CameraCounts(spec.id, 0.0)))
        self._previous: tuple[float, VehicleView] | None = None
        self.frames_processed = 0
        self.frames_dropped = 0

    def frames(self, snapshot: Snapshot) -> list[CameraCounts]:
        view = vehicle_view(snapshot.vehicles, snapshot.vehicle_types)
        now = snapshot.time_s
        previous, self._previous = self._previous, (now, view)
        if previous is None:
            return [self._offline_or_latest(c, now) for c in self.cameras]
        before_t, before = previous
        n = max(1, round((now - before_t) * self.settings.fps))
        for k in range(1, n + 1):
            fraction = k / n
            t = before_t + (now - before_t) * fraction
            moment = view if k == n else interpolate(before, view, fraction)
            corners = MomentCorners()
            for camera in self.cameras:
                self._frame(camera, moment, t, corners)
        return [self._offline_or_latest(c, now) for c in self.cameras]

    def _offline_or_latest(self, camera: _Camera, time_s: float) -> CameraCounts:
        if camera.spec.id in self.offline:
            return CameraCounts.offline(camera.spec.id, time_s, "taken offline (degradation run)")
        return camera.latest

    def _frame(
        self, camera: _Camera, vehicles: VehicleView, time_s: float, corners: MomentCorners | None = None
    ) -> None:
        if camera.spec.id in self.offline:
            return
        if self.settings.drop_rate > 0 and camera.rng.random() < self.settings.drop_rate:
            self.frames_dropped += 1
            return
        if isinstance(camera.projector, BoxProjector):
            truth = camera.projector.boxes(vehicles, self.conditions, corners)
            if len(truth) == 0 and not camera.pipeline.tracker.tracks and camera.latest.lane_vehicles:
                # nothing in view and nothing tracked: the pipeline would return the same empty
                # reading (exact shortcut: tracker and counter have nothing to update)
                camera.latest = replace(
                    camera.latest, time_s=time_s, crossings=dict.fromkeys(camera.latest.crossings, 0)
                )
                self.frames_processed += 1
                return
            reading = camera.pipeline.process(BLANK, time_s, truth)
        else:
            frame = camera.projector.render(vehicles, self.conditions, seed=int(time_s * 1000))
            reading = camera.pipeline.process(frame.image, time_s)
        camera.latest = reading.as_sensor()
        if self.on_reading is not None:
            self.on_reading(camera.spec.id, reading)
        self.frames_processed += 1


def shipped_weights() -> Path:
    return Path(__file__).resolve().parents[2] / "assets" / "models" / "vision" / "vehicles-yolo11n.pt"
