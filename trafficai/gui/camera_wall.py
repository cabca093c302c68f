"""The camera wall in the window: its panel, the vision worker's bridge, the large view, and what
is rendered (the wall's tiles while its dock is visible, and the camera open large).

The window calls :meth:`CameraWallController.set_ready` on each run, :meth:`feed` with each frame
it shows, and :meth:`open_camera` when a camera is clicked on the map.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from trafficai.gui.inspect import camera_spec
from trafficai.gui.panels.cameras import CameraLargeView, CameraTile, CameraWall
from trafficai.gui.vision_bridge import VisionBridge
from trafficai.runtime.messages import CameraView, Ready, SimFrame
from trafficai.runtime.vision_messages import MAX_SHOWN, CameraImage, CameraOffline, VisionScene


class CameraWallController(QObject):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.panel = CameraWall()
        self.bridge = VisionBridge(parent=self)
        self.large: CameraLargeView | None = None
        self.generation = -1
        self.views: dict[str, CameraView] = {}
        self.visible = False
        self.panel.junction_chosen.connect(lambda _junction: self.update_shown())
        self.panel.detector_chosen.connect(self._detector_chosen)
        self.panel.camera_clicked.connect(self.open_camera)
        self.bridge.image.connect(self._on_image)
        self.bridge.offline.connect(self._on_offline)
        self.bridge.status.connect(self.panel.show_status)
        self.bridge.died.connect(self._on_died)

    def set_visible(self, visible: bool) -> None:
        """The wall's dock is shown (or tabbed away, closed): render its cameras only while shown."""
        self.visible = visible
        self.update_shown()

    def set_ready(self, ready: Ready) -> None:
        self.generation = ready.generation
        self.views = {c.id: c for c in ready.cameras}
        specs = tuple(camera_spec(c) for c in ready.cameras)
        self.bridge.set_scene(VisionScene(ready.generation, ready.geometry, specs))
        self.panel.set_cameras(ready.cameras)
        if self.large is not None and self.large.camera not in self.views:
            self.large.close()
        self.update_shown()

    def feed(self, frame: SimFrame) -> None:
        self.bridge.feed(frame)

    def wanted(self) -> tuple[str, ...]:
        """The cameras to render: the wall's (while visible) and the one open large."""
        shown = list(self.panel.shown()) if self.visible else []
        large = self.large
        if large is not None and large.isVisible() and large.camera not in shown:
            shown = [*shown[: MAX_SHOWN - 1], large.camera]
        return tuple(c for c in shown if c in self.views)

    def update_shown(self) -> None:
        wanted = self.wanted()
        self.bridge.show(tuple(camera_spec(self.views[c]) for c in wanted))
        if self.bridge.dead_reason:
            self._on_died(self.bridge.dead_reason)

    def open_camera(self, camera: str) -> None:
        """Show ``camera`` on the wall and open it large."""
        if camera not in self.views:
            return
        self.panel.put_on_wall(camera)
        if self.large is None:
            self.large = CameraLargeView(camera, self.parent_widget)
            self.large.finished.connect(lambda _result: self.update_shown())
        self.large.set_camera(camera)
        wall_tile = self.panel.tile(camera)
        if wall_tile is not None:
            self._copy(wall_tile, self.large.tile)
        self.large.show()
        self.large.raise_()
        self.update_shown()

    @staticmethod
    def _copy(source: CameraTile, target: CameraTile) -> None:
        target.image, target.reading = source.image, source.reading
        target.offline_reason = source.offline_reason
        target.update()

    def _tiles(self, camera: str) -> list[CameraTile]:
        tiles = [t for t in self.panel.tiles if t.camera == camera]
        if self.large is not None and self.large.camera == camera:
            tiles.append(self.large.tile)
        return tiles

    def _on_image(self, image: CameraImage) -> None:
        if image.generation == self.generation:
            for tile in self._tiles(image.camera):
                tile.show_image(image)

    def _on_offline(self, message: CameraOffline) -> None:
        if message.generation == self.generation:
            for tile in self._tiles(message.camera):
                tile.show_offline(message.reason)

    def _on_died(self, reason: str) -> None:
        self.panel.status.setText(reason)
        for camera in self.wanted():
            for tile in self._tiles(camera):
                tile.show_offline(reason)

    def _detector_chosen(self, runtime: str) -> None:
        self.bridge.set_detector(runtime)
        self.update_shown()

    def shutdown(self) -> None:
        if self.large is not None:
            with contextlib.suppress(RuntimeError):
                self.large.close()
        self.bridge.stop(2.0)
