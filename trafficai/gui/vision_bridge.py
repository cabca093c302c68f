"""Qt side of the vision worker: started when the camera wall is first shown, fed the vehicles near
the shown cameras from the simulation frames the window already receives, polled on a timer.

Feeding costs the window a distance filter and a non-blocking put (a full queue drops the batch);
what comes back is re-emitted as signals: ``image`` (CameraImage), ``offline`` (CameraOffline),
``status`` (VisionStatus), and ``died`` when the process ends without being asked.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from trafficai.errors import DependencyError
from trafficai.extras import require_extra
from trafficai.runtime.messages import SimFrame
from trafficai.runtime.vision_client import VisionHandle
from trafficai.runtime.vision_messages import (
    CameraImage,
    CameraOffline,
    SetDetector,
    ShowCameras,
    VisionScene,
    VisionSettings,
    VisionStatus,
    vehicles_near,
)
from trafficai.sensors.cameras import CameraSpec

POLL_MS = 40


class VisionBridge(QObject):
    image = Signal(object)  # CameraImage (the newest per camera at each poll)
    offline = Signal(object)  # CameraOffline
    status = Signal(object)  # VisionStatus
    died = Signal(str)  # why the worker is not there (not installed, or it stopped)

    def __init__(self, settings: VisionSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or VisionSettings()
        self.handle: VisionHandle | None = None
        self.scene: VisionScene | None = None
        self.shown: tuple[CameraSpec, ...] = ()
        self.detector: SetDetector | None = None
        self.last_feed = 0.0
        self.dead_reason = ""
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    def _ensure_started(self) -> bool:
        if self.handle is not None:
            return True
        if self.dead_reason:
            return False
        try:
            require_extra("vision", ("cv2", "lap"))
        except DependencyError as exc:
            self._die(str(exc))
            return False
        self.handle = VisionHandle(self.settings)
        self.handle.start()
        for command in (self.detector, self.scene):
            if command is not None:
                self.handle.send(command)
        self.timer.start()
        return True

    def _die(self, reason: str) -> None:
        self.dead_reason = reason
        self.died.emit(reason)

    def set_scene(self, scene: VisionScene) -> None:
        """A new run: its cameras (nothing is shown until :meth:`show`)."""
        self.scene, self.shown = scene, ()
        self.dead_reason = ""  # a new run may try again
        if self.handle is not None:
            self.handle.send(scene)

    def show(self, cameras: tuple[CameraSpec, ...]) -> None:
        """Render these cameras (none: the worker idles)."""
        self.shown = cameras
        if cameras and not self._ensure_started():
            return
        if self.handle is not None:
            self.handle.send(ShowCameras(tuple(c.id for c in cameras)))

    def set_detector(self, runtime: str, weights: str = "") -> None:
        self.detector = SetDetector(runtime, weights)
        if self.handle is not None:
            self.handle.send(self.detector)

    def feed(self, frame: SimFrame) -> None:
        """Offer the frame's vehicles near the shown cameras, at twice the vision rate at most."""
        handle, scene = self.handle, self.scene
        if handle is None or scene is None or not self.shown or frame.generation != scene.generation:
            return
        now = time.perf_counter()
        if now - self.last_feed < 0.5 / self.settings.fps:
            return
        self.last_feed = now
        snap = frame.snapshot
        batch = vehicles_near(frame.generation, snap.time_s, snap.vehicles, snap.vehicle_types, self.shown)
        handle.feed(batch)

    def poll(self) -> None:
        handle = self.handle
        if handle is None:
            return
        newest: dict[str, CameraImage] = {}
        for message in handle.poll():
            if isinstance(message, CameraImage):
                newest[message.camera] = message
            elif isinstance(message, CameraOffline):
                newest.pop(message.camera, None)
                self.offline.emit(message)
            elif isinstance(message, VisionStatus):
                self.status.emit(message)
        for image in newest.values():
            self.image.emit(image)
        if not handle.alive():
            self.timer.stop()
            self.handle = None
            self._die(f"the vision worker stopped ({handle.exit_description()})")

    def stop(self, timeout_s: float = 3.0) -> None:
        self.timer.stop()
        if self.handle is not None:
            self.handle.stop(timeout_s)
            self.handle = None
