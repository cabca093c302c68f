"""Static map overlays from the net file: filled junction areas and street names."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath, QPolygonF
from PySide6.QtWidgets import QGraphicsPathItem

from trafficai.core.geometry import NetGeometry
from trafficai.gui import theme
from trafficai.gui.map.schemes import JUNCTION

NAMES_BELOW_M_PER_PX = 1.2  # street names show from this zoom in (about a district on screen)
MAX_NAMES = 400  # the longest streets' names; more would be unreadable anyway


class JunctionLayer:
    """Every junction's outline filled in one path item, under the lanes."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.item = QGraphicsPathItem()
        self.item.setBrush(theme.brush(*JUNCTION))
        self.item.setPen(theme.pen(*JUNCTION, 1.0))
        self.item.setZValue(-1)
        plot.addItem(self.item)
        self.count = 0

    def set_geometry(self, geometry: NetGeometry) -> None:
        path = QPainterPath()
        count = 0
        for shape in geometry.junction_shapes:
            if len(shape) >= 3:
                path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in shape]))
                path.closeSubpath()
                count += 1
        self.item.setPath(path)
        self.count = count


def street_labels(geometry: NetGeometry, limit: int = MAX_NAMES) -> list[tuple[str, float, float, float]]:
    """(name, x, y, angle in degrees) per street: at the middle of its longest lane, along it, turned
    so the text never reads upside down. Longest streets first."""
    lanes = geometry.lanes
    longest: dict[str, int] = {}
    for i, edge in enumerate(lanes.edges):
        name = geometry.edge_names.get(edge)
        if name and (name not in longest or lanes.lengths[i] > lanes.lengths[longest[name]]):
            longest[name] = i
    ranked = sorted(longest.items(), key=lambda item: -float(lanes.lengths[item[1]]))[:limit]
    out = []
    for name, lane in ranked:
        x, y, angle = _middle(np.asarray(lanes.shapes[lane], dtype=np.float64).reshape(-1, 2))
        out.append((name, x, y, angle))
    return out


def _middle(shape: NDArray[np.float64]) -> tuple[float, float, float]:
    if len(shape) < 2:
        return float(shape[0, 0]), float(shape[0, 1]), 0.0
    seg = np.hypot(*np.diff(shape, axis=0).T)
    half = float(seg.sum()) / 2.0
    k = min(int(np.searchsorted(np.cumsum(seg), half)), len(seg) - 1)
    a, b = shape[k], shape[k + 1]
    before = float(seg[:k].sum())
    t = (half - before) / seg[k] if seg[k] > 0 else 0.0
    p = a + (b - a) * t
    angle = math.degrees(math.atan2(float(b[1] - a[1]), float(b[0] - a[0])))
    if angle > 90.0:
        angle -= 180.0
    elif angle < -90.0:
        angle += 180.0
    return float(p[0]), float(p[1]), angle


class StreetNameLayer:
    """Street names where the net has them, shown only when zoomed in far enough to read them."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.items: list[pg.TextItem] = []
        self.visible = False

    def set_geometry(self, geometry: NetGeometry) -> None:
        for item in self.items:
            self.plot.removeItem(item)
        self.items = []
        for name, x, y, angle in street_labels(geometry):
            item = pg.TextItem(name, color=(205, 210, 220), anchor=(0.5, 0.5), angle=angle, rotateAxis=(1, 0))
            item.setPos(x, y)
            item.setZValue(15)
            item.setVisible(self.visible)
            self.plot.addItem(item)
            self.items.append(item)

    def set_zoom(self, metres_per_px: float) -> None:
        visible = 0 < metres_per_px <= NAMES_BELOW_M_PER_PX
        if visible != self.visible:
            self.visible = visible
            for item in self.items:
                item.setVisible(visible)
