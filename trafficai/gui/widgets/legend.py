"""A compact, always visible colour legend (swatch + bin label)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from trafficai.gui import theme
from trafficai.gui.map.schemes import RGB


class LegendBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = ""
        self.entries: list[tuple[RGB, str]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_entries(self, title: str, entries: Sequence[tuple[RGB, str]]) -> None:
        self.title = title
        self.entries = list(entries)
        self.updateGeometry()
        self.update()

    def labels(self) -> list[str]:
        return [label for _, label in self.entries]

    def sizeHint(self) -> QSize:
        return QSize(400, QFontMetrics(self.font()).height() + 8)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = QFontMetrics(self.font())
        h = metrics.height()
        x = 4.0
        painter.setPen(QColor(theme.TEXT))
        if self.title:
            painter.drawText(
                QRectF(x, 4, metrics.horizontalAdvance(self.title) + 4, h),
                Qt.AlignmentFlag.AlignVCenter,
                self.title,
            )
            x += metrics.horizontalAdvance(self.title) + 12
        for color, label in self.entries:
            painter.fillRect(QRectF(x, 4 + h * 0.2, 18, h * 0.6), QColor(*color))
            x += 22
            width = metrics.horizontalAdvance(label) + 4
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(QRectF(x, 4, width, h), Qt.AlignmentFlag.AlignVCenter, label)
            x += width + 10
        painter.end()
