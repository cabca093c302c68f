"""A stand-in for the GUI's vision bridge: the same Qt signals, no vision process. It records what
the window asks to render; tests emit the worker's messages (``image``, ``offline``, ``status``).

    monkeypatch.setattr("trafficai.gui.camera_wall.VisionBridge", FakeVisionBridge)
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from trafficai.runtime.messages import SimFrame
from trafficai.runtime.vision_messages import VisionScene
from trafficai.sensors.cameras import CameraSpec


class FakeVisionBridge(QObject):
    image = Signal(object)
    offline = Signal(object)
    status = Signal(object)
    died = Signal(str)

    def __init__(self, settings: object = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scene: VisionScene | None = None
        self.shown: tuple[CameraSpec, ...] = ()
        self.detectors: list[str] = []
        self.frames_fed = 0
        self.dead_reason = ""
        self.stopped = False

    def set_scene(self, scene: VisionScene) -> None:
        self.scene, self.shown = scene, ()

    def show(self, cameras: tuple[CameraSpec, ...]) -> None:
        self.shown = cameras

    def set_detector(self, runtime: str, weights: str = "") -> None:
        self.detectors.append(runtime)

    def feed(self, frame: SimFrame) -> None:
        if self.shown:
            self.frames_fed += 1

    def stop(self, timeout_s: float = 3.0) -> None:
        self.stopped = True
