"""The camera wall: the selected junction's cameras live, with the vision worker's boxes, track ids,
per-approach counts and queue bars; a camera whose source failed shows OFFLINE and why.

The GUI only decodes the worker's JPEG frames and paints its reading over them (boxes are painted
here, not burnt into the image, so they stay sharp in the large view).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from trafficai.gui import theme
from trafficai.runtime.messages import CameraView
from trafficai.runtime.vision_messages import MAX_SHOWN, CameraImage, VisionStatus

QUEUE_FULL_M = 50.0  # a queue bar is full at the counting zone's length
BAR_ROW_PX = 16
CLASS_COLOURS = {
    "car": QColor(255, 214, 0),
    "van": QColor(0, 230, 200),
    "truck": QColor(255, 120, 40),
    "bus": QColor(255, 80, 200),
    "motorcycle": QColor(120, 255, 90),
}
DETECTOR_CHOICES = (
    ("truth", "Ground-truth boxes (default: the shipped model is undertrained)"),
    ("openvino", "Shipped model (OpenVINO)"),
)


@dataclass(frozen=True, slots=True)
class PaintedBox:
    """A box as last painted, in the tile's coordinates (what tests and screenshots check)."""

    track_id: int
    cls: str
    rect: QRectF


class CameraTile(QWidget):
    """One camera: its newest frame scaled to fit, the reading painted over and under it."""

    clicked = Signal(str)

    def __init__(self, camera: str = "", minimum: tuple[int, int] = (200, 150)) -> None:
        super().__init__()
        self.camera = camera
        self.image: QImage | None = None
        self.reading: CameraImage | None = None
        self.offline_reason = ""
        self.painted: list[PaintedBox] = []
        self.setMinimumSize(QSize(*minimum))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to open this camera large")

    def set_camera(self, camera: str) -> None:
        if camera != self.camera:
            self.camera, self.image, self.reading, self.offline_reason = camera, None, None, ""
            self.update()

    def show_image(self, message: CameraImage) -> None:
        # No format argument: Qt reads JPEG from the header, and PySide6's stubs (bytes) and its
        # runtime (str) disagree on that argument's type.
        image = QImage.fromData(message.jpeg)
        if image.isNull():
            self.show_offline("a frame could not be decoded")
            return
        self.image, self.reading, self.offline_reason = image, message, ""
        self.update()

    def show_offline(self, reason: str) -> None:
        self.offline_reason = reason
        self.update()

    @property
    def offline(self) -> bool:
        return bool(self.offline_reason)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.camera:
            self.clicked.emit(self.camera)

    def _bars_height(self) -> int:
        rows = len(self.reading.approaches) if self.reading is not None and not self.offline else 0
        return BAR_ROW_PX * max(rows, 1) + 18

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.PANEL))
        bars = self._bars_height()
        area = QRectF(0, 0, self.width(), max(self.height() - bars, 10))
        self.painted = []
        if self.image is not None:
            self._paint_frame(painter, area)
        if self.offline or self.image is None:
            self._paint_blank(painter, area)
        self._paint_reading(painter, QRectF(0, area.bottom(), self.width(), bars))
        painter.end()

    def _image_rect(self, area: QRectF) -> QRectF:
        assert self.image is not None
        scale = min(area.width() / self.image.width(), area.height() / self.image.height())
        w, h = self.image.width() * scale, self.image.height() * scale
        return QRectF(area.left() + (area.width() - w) / 2, area.top() + (area.height() - h) / 2, w, h)

    def _paint_frame(self, painter: QPainter, area: QRectF) -> None:
        assert self.image is not None
        target = self._image_rect(area)
        painter.drawImage(target, self.image)
        reading = self.reading
        if reading is None or self.offline:
            return
        sx, sy = target.width() / reading.width, target.height() / reading.height
        painter.setFont(QFont(painter.font().family(), 8))
        for box, track_id, cls in zip(reading.boxes, reading.track_ids, reading.classes, strict=True):
            rect = QRectF(
                target.left() + float(box[0]) * sx,
                target.top() + float(box[1]) * sy,
                float(box[2] - box[0]) * sx,
                float(box[3] - box[1]) * sy,
            )
            colour = CLASS_COLOURS.get(cls, QColor(255, 255, 255))
            painter.setPen(QPen(colour, 2))
            painter.drawRect(rect)
            painter.drawText(rect.topLeft() + QPointF(1.0, -3.0), f"#{track_id} {cls}")
            self.painted.append(PaintedBox(track_id, cls, rect))

    def _paint_blank(self, painter: QPainter, area: QRectF) -> None:
        if self.offline:
            painter.fillRect(area, QColor(40, 20, 22, 230 if self.image is not None else 255))
            painter.setPen(QColor(255, 92, 92))
            painter.setFont(QFont(painter.font().family(), 11, QFont.Weight.Bold))
            painter.drawText(area.adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignTop, "OFFLINE")
            painter.setFont(QFont(painter.font().family(), 9))
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(area.adjusted(8, 30, -8, -8), int(Qt.TextFlag.TextWordWrap), self.offline_reason)
            return
        painter.setPen(QColor(theme.MUTED))
        text = "waiting for the first frame…" if self.camera else "no camera"
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_reading(self, painter: QPainter, strip: QRectF) -> None:
        painter.setFont(QFont(painter.font().family(), 8))
        painter.setPen(QColor(theme.TEXT))
        reading = self.reading
        title = self.camera
        if reading is not None and not self.offline:
            title += f" · {len(reading.track_ids)} tracked · {reading.detector} · {reading.process_ms:.0f} ms"
        painter.drawText(QRectF(strip.left() + 4, strip.top() + 1, strip.width() - 8, 16), title)
        if reading is None or self.offline:
            return
        if not reading.approaches:
            painter.setPen(QColor(theme.MUTED))
            where = QRectF(strip.left() + 4, strip.top() + 17, strip.width() - 8, 14)
            painter.drawText(where, "no whole stop line in view")
            return
        for row, approach in enumerate(reading.approaches):
            top = strip.top() + 18 + row * BAR_ROW_PX
            label = f"{approach.name}: {approach.count} counted · queue {approach.queue_m:.0f} m"
            bar_left = strip.left() + strip.width() * 0.62
            bar = QRectF(bar_left, top + 3, strip.right() - 6 - bar_left, BAR_ROW_PX - 6)
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(QRectF(strip.left() + 4, top, bar_left - strip.left() - 8, BAR_ROW_PX), label)
            painter.fillRect(bar, QColor(50, 54, 62))
            share = min(approach.queue_m / QUEUE_FULL_M, 1.0)
            filled = QRectF(bar.left(), bar.top(), bar.width() * share, bar.height())
            painter.fillRect(filled, _bar_colour(share))


def _bar_colour(share: float) -> QColor:
    if share > 0.7:
        return QColor(255, 92, 92)
    return QColor(255, 179, 71) if share > 0.3 else QColor(90, 200, 255)


def wall_order(cameras: Sequence[CameraView]) -> list[CameraView]:
    """Approach cameras first (they count and measure queues), then the manifest's pole cameras."""
    return sorted(cameras, key=lambda c: (not c.id.startswith("auto_"), c.id))


class CameraWall(QWidget):
    """The junction chooser, the detector chooser, the status line and up to four tiles."""

    junction_chosen = Signal(str)
    detector_chosen = Signal(str)
    camera_clicked = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.junction_box = QComboBox()
        self.junction_box.setToolTip("The junction whose cameras the wall shows (at most four)")
        self.junction_box.currentIndexChanged.connect(self._junction_changed)
        self.detector_box = QComboBox()
        for key, label in DETECTOR_CHOICES:
            self.detector_box.addItem(label, key)
        self.detector_box.currentIndexChanged.connect(
            lambda _: self.detector_chosen.emit(str(self.detector_box.currentData()))
        )
        self.status = theme.steady(QLabel("Cameras start when this panel is shown."))
        self.status.setStyleSheet(f"color: {theme.MUTED}")
        header = QHBoxLayout()
        header.addWidget(QLabel("Junction"))
        header.addWidget(self.junction_box)
        header.addWidget(QLabel("Detector"))
        header.addWidget(self.detector_box, 1)
        self.tiles = [CameraTile() for _ in range(MAX_SHOWN)]
        row = QHBoxLayout()
        for tile in self.tiles:
            tile.clicked.connect(self.camera_clicked)
            row.addWidget(tile)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.status)
        layout.addLayout(row, 1)
        self.cameras: dict[str, list[CameraView]] = {}

    def set_cameras(self, cameras: Sequence[CameraView]) -> None:
        """A run's cameras, grouped by junction; the first junction is selected."""
        self.cameras = {}
        for camera in wall_order(cameras):
            self.cameras.setdefault(camera.junction or camera.id, []).append(camera)
        self.junction_box.blockSignals(True)
        self.junction_box.clear()
        for junction, group in self.cameras.items():
            self.junction_box.addItem(f"{junction} ({len(group)} cameras)", junction)
        self.junction_box.blockSignals(False)
        self._junction_changed(0)

    @property
    def junction(self) -> str:
        return str(self.junction_box.currentData() or "")

    def select_junction(self, junction: str) -> bool:
        index = self.junction_box.findData(junction)
        if index < 0:
            return False
        if index == self.junction_box.currentIndex():
            return True
        self.junction_box.setCurrentIndex(index)
        return True

    def _junction_changed(self, _index: int) -> None:
        group = self.cameras.get(self.junction, [])
        for k, tile in enumerate(self.tiles):
            tile.set_camera(group[k].id if k < len(group) else "")
            tile.setVisible(k < len(group) or k == 0)
        self.junction_chosen.emit(self.junction)

    def put_on_wall(self, camera: str) -> None:
        """Show ``camera``: select its junction; if its junction has more cameras than tiles, it
        takes the last tile."""
        for junction, group in self.cameras.items():
            if any(c.id == camera for c in group):
                self.select_junction(junction)
                break
        if camera not in self.shown():
            self.tiles[-1].set_camera(camera)
            self.tiles[-1].setVisible(True)
            self.junction_chosen.emit(self.junction)

    def shown(self) -> tuple[str, ...]:
        return tuple(t.camera for t in self.tiles if t.camera)

    def tile(self, camera: str) -> CameraTile | None:
        return next((t for t in self.tiles if t.camera == camera), None)

    def show_status(self, status: VisionStatus) -> None:
        note = f" · {status.note}" if status.note else ""
        self.status.setText(
            f"detector {status.detector} · {len(status.shown)} cameras · {status.images_per_s:.1f} frames/s"
            f" · {status.dropped} dropped{note}"
        )


class CameraLargeView(QDialog):
    """One camera, large, in its own window (non-modal; the wall and the map keep running)."""

    def __init__(self, camera: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Camera {camera}")
        self.tile = CameraTile(camera, (480, 320))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tile)
        self.resize(980, 680)

    @property
    def camera(self) -> str:
        return self.tile.camera

    def set_camera(self, camera: str) -> None:
        self.setWindowTitle(f"Camera {camera}")
        self.tile.set_camera(camera)
