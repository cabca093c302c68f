"""The sensor source a run's controllers observe (``RunConfig.observe``, ``--observe``).

``oracle`` is the simulator's own lane state (no observer); ``loops`` the scenario's detectors
(``sensors.observation.LoopObserver``); ``cameras`` the perception pipeline on every approach of
every signalised junction (``vision.loop_cameras.VisionCameras``, the ``vision`` extra) fused by
``sensors.observation.CameraObserver``. Controllers see only the sensors layer's readings.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from trafficai.config import ObserveSection
from trafficai.core.geometry import NetGeometry
from trafficai.extras import require_extra
from trafficai.sensors.observation import CameraObserver, LaneObserver, LoopObserver

if TYPE_CHECKING:
    from trafficai.vision.loop_cameras import LoopCameraSettings


def make_observer(
    observe: ObserveSection, geometry: NetGeometry, step_length_s: float, seed: int
) -> LaneObserver | None:
    """The observer for ``observe.source`` (None: oracle). Raises ConfigError on a bad camera
    setting (an unknown offline camera) and DependencyError without the vision extra."""
    if observe.source == "oracle":
        return None
    if observe.source == "loops":
        return LoopObserver(geometry)
    require_extra("vision", ("cv2", "lap"))
    from trafficai.vision.loop_cameras import VisionCameras

    cameras = VisionCameras(geometry, step_length_s, loop_camera_settings(observe, seed))
    return CameraObserver(geometry, cameras, fallback=observe.camera_fallback == "loops")


def loop_camera_settings(observe: ObserveSection, seed: int) -> LoopCameraSettings:
    """The camera pipeline settings of the ``observe`` section (the vision extra is loaded): the
    same for the observation cameras and the ``vision`` camera devices."""
    from trafficai.vision.loop_cameras import LoopCameraSettings

    return LoopCameraSettings(
        runtime=observe.camera_runtime,
        fps=observe.camera_fps,
        drop_rate=observe.camera_drop_rate,
        offline=observe.camera_offline,
        offline_first=observe.camera_offline_first,
        light=observe.camera_light,
        weights=Path(observe.camera_weights).expanduser() if observe.camera_weights else None,
        seed=seed,
    )
