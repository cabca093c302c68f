"""What the GUI and the vision worker tell each other: small frozen dataclasses that pickle.

The vision worker (:mod:`trafficai.runtime.vision_worker`) renders camera frames of the live run,
runs detection, tracking and counting on them, and sends each frame JPEG-encoded with its reading.
The GUI only decodes and paints. Nothing here imports Qt, OpenCV or ultralytics, so the window can
import it on an install without the ``vision`` extra.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import VehicleArrays
from trafficai.sensors.cameras import CameraSpec

F32 = NDArray[np.float32]
MAX_SHOWN = 4  # cameras rendered at a time (the wall's tiles)
DETECTORS = ("truth", "openvino", "onnx", "torch")
VEHICLE_MARGIN = 2.5  # vehicles farther than this many camera ranges are not sent (not drawn)


@dataclass(frozen=True, slots=True)
class VisionSettings:
    """How the vision worker process runs."""

    fps: float = 5.0  # frames per second per shown camera, at most
    detector: str = "truth"  # the default: the shipped model is undertrained (docs/vision.md)
    weights: str = ""  # "" = the shipped model (when ``detector`` is not truth)
    log_level: str = "INFO"
    nice: int = 10  # the window and the simulation win the CPU when they compete


# -- to the vision worker ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisionScene:
    """The live run's network and cameras (sent after each Ready); forgets what was shown."""

    generation: int
    geometry: NetGeometry
    cameras: tuple[CameraSpec, ...]


@dataclass(frozen=True, slots=True)
class ShowCameras:
    """The cameras to render (at most :data:`MAX_SHOWN`; the rest cost nothing)."""

    cameras: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetDetector:
    """``truth``: the renderer's ground-truth boxes; else the model at ``weights`` ("" = shipped)."""

    runtime: str
    weights: str = ""


@dataclass(frozen=True, slots=True)
class StopVision:
    pass


VisionCommand = VisionScene | ShowCameras | SetDetector | StopVision


@dataclass(frozen=True, slots=True)
class VehicleBatch:
    """The vehicles of one simulation frame near the shown cameras (what the renderer needs)."""

    generation: int
    time_s: float
    ids: tuple[str, ...]
    xy: F32  # (n, 2) front bumper
    angle: F32  # deg, SUMO convention
    speed: F32  # m/s
    vtype: NDArray[np.int32]  # index into type_names
    type_names: tuple[str, ...]


def vehicles_near(
    generation: int,
    time_s: float,
    vehicles: VehicleArrays,
    type_names: tuple[str, ...],
    cameras: tuple[CameraSpec, ...],
) -> VehicleBatch:
    """The batch of ``vehicles`` within :data:`VEHICLE_MARGIN` ranges of any of ``cameras``."""
    xy = np.asarray(vehicles.xy, np.float32).reshape(-1, 2)
    keep = np.zeros(len(xy), bool)
    for camera in cameras:
        reach = camera.range_m * VEHICLE_MARGIN
        keep |= np.hypot(xy[:, 0] - camera.x, xy[:, 1] - camera.y) <= reach
    index = np.flatnonzero(keep)
    vtype = np.asarray(vehicles.vtype, np.int32)
    return VehicleBatch(
        generation,
        time_s,
        tuple(vehicles.ids[i] for i in index),
        xy[index].copy(),
        np.asarray(vehicles.angle, np.float32)[index].copy(),
        np.asarray(vehicles.speed, np.float32)[index].copy(),
        vtype[index].copy() if len(vtype) == len(xy) else np.full(len(index), -1, np.int32),
        type_names,
    )


# -- from the vision worker -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApproachReading:
    """One approach (count line) a camera measures."""

    name: str  # the approach's edge id
    count: int  # vehicles counted across its stop line since ``CameraImage.counting_since_s``
    queues_m: tuple[float, ...]  # queue per lane, m
    occupancy: int  # vehicles in the zone before the stop line

    @property
    def queue_m(self) -> float:
        return max(self.queues_m, default=0.0)


@dataclass(frozen=True, slots=True)
class CameraImage:
    """One camera frame, JPEG-encoded, with what the pipeline read from it."""

    generation: int
    seq: int
    camera: str
    time_s: float
    jpeg: bytes
    width: int
    height: int
    boxes: F32  # (n, 4) x1, y1, x2, y2 in the image's pixels, confirmed tracks only
    track_ids: tuple[int, ...]
    classes: tuple[str, ...]
    approaches: tuple[ApproachReading, ...]
    detector: str
    counting_since_s: float
    process_ms: float  # render + detect + track + count + encode


@dataclass(frozen=True, slots=True)
class CameraOffline:
    """A camera whose source failed; ``reason`` says why (it stays offline until the scene, the
    detector or the shown cameras change)."""

    generation: int
    camera: str
    reason: str


@dataclass(frozen=True, slots=True)
class VisionStatus:
    """The worker's state: its detector, what it renders, how fast, how many frames it dropped."""

    detector: str
    note: str  # e.g. why the model could not load, or "loading"
    shown: tuple[str, ...]
    images_per_s: float
    dropped: int  # vehicle frames superseded before they were rendered (vision slower than the map)


VisionMessage = CameraImage | CameraOffline | VisionStatus
