"""Graphics layers of the network map: one item (or a fixed few) per layer, never one per object.

* lanes: one road curve with every lane segment (``connect="pairs"``), set once, plus one curve per
  colour bin holding the lanes currently in that bin (rebuilt only when bins change);
* vehicles: :class:`~trafficai.gui.map.vehicles.VehicleItem` (its own module);
* signal heads, detectors, cameras, incidents: one scatter (and curve) item each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from trafficai.core.geometry import NetGeometry
from trafficai.gui import theme
from trafficai.gui.inspect import camera_spec
from trafficai.gui.map.picking import Segments, lane_segments
from trafficai.gui.map.schemes import CLOSED, CLOSED_GAP, RGB, ROAD, SELECTION, signal_char_lut
from trafficai.runtime.messages import CameraView, IncidentView
from trafficai.sensors.cameras import ground_footprint

LANE_WIDTH_M = 3.0


def _pairs(
    seg: Segments, mask: NDArray[np.bool_] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Segments as the interleaved x/y arrays ``connect="pairs"`` draws."""
    x0, y0, x1, y1 = seg.x0, seg.y0, seg.x1, seg.y1
    if mask is not None:
        x0, y0, x1, y1 = x0[mask], y0[mask], x1[mask], y1[mask]
    x = np.empty(2 * x0.size)
    y = np.empty(2 * x0.size)
    x[0::2], x[1::2], y[0::2], y[1::2] = x0, x1, y0, y1
    return x, y


def _road_pen(color: RGB, alpha: int = 255, width: float = LANE_WIDTH_M) -> QPen:
    return theme.pen(*color, width=width, cosmetic=False, a=alpha)


class LaneLayer:
    """Road surface plus a colour overlay per bin."""

    def __init__(self, plot: pg.PlotItem, colors: Sequence[RGB] = ()) -> None:
        self.plot = plot
        self.segments: Segments | None = None
        self.base = pg.PlotCurveItem(connect="pairs", pen=_road_pen(ROAD), antialias=True)
        self.base.setZValue(0)
        self.base.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.addItem(self.base)
        self.overlays: list[pg.PlotCurveItem] = []
        self.colors: tuple[RGB, ...] = ()
        self.width_m = LANE_WIDTH_M
        self.bins = np.zeros(0, np.int32)
        self.set_colors(colors)

    def set_geometry(self, geometry: NetGeometry) -> None:
        self.segments = lane_segments(geometry.lanes)
        x, y = _pairs(self.segments)
        self.base.setData(x, y, connect="pairs")
        self.bins = np.full(len(geometry.lanes), -1, np.int32)
        for item in self.overlays:
            item.setData([], [])

    def set_colors(self, colors: Sequence[RGB]) -> None:
        """A new scheme's palette (one overlay curve per bin)."""
        for item in self.overlays:
            self.plot.removeItem(item)
        self.overlays = []
        self.colors = tuple(colors)
        for color in colors:
            item = pg.PlotCurveItem(connect="pairs", pen=_road_pen(color, width=self.width_m), antialias=True)
            item.setZValue(1)
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.plot.addItem(item)
            self.overlays.append(item)
        self.bins = np.full(self.bins.size, -1, np.int32)

    def set_width(self, width_m: float) -> None:
        """Pen width in network metres (changes only when it moves by more than 10 %)."""
        if abs(width_m - self.width_m) <= 0.1 * self.width_m:
            return
        self.width_m = width_m
        self.base.setPen(_road_pen(ROAD, width=width_m))
        for item, color in zip(self.overlays, self.colors, strict=True):
            item.setPen(_road_pen(color, width=width_m))

    def set_bins(self, bins: NDArray[np.int32]) -> None:
        """Colour bin per lane (-1: road colour). Overlays change only where bins changed."""
        if self.segments is None:
            return
        bins = np.asarray(bins, dtype=np.int32)
        if bins.shape == self.bins.shape and np.array_equal(bins, self.bins):
            return
        old = self.bins if self.bins.shape == bins.shape else np.full(bins.shape, -2, np.int32)
        changed = np.unique(np.concatenate([old[old != bins], bins[old != bins]]))
        seg_bins = bins[self.segments.lane]
        for b in changed:
            if 0 <= b < len(self.overlays):
                x, y = _pairs(self.segments, seg_bins == b)
                self.overlays[b].setData(x, y, connect="pairs")
        self.bins = bins.copy()

    def lanes_in_bin(self, b: int) -> int:
        return int((self.bins == b).sum())


def _stop_points(geometry: NetGeometry) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """A signal head per controlled link at its lane's stop line, spread across the lane."""
    points: list[tuple[float, float]] = []
    sig_idx: list[int] = []
    link_idx: list[int] = []
    for s, info in enumerate(geometry.signals):
        groups: dict[int, list[int]] = {}
        for link in info.links:
            if link.in_lane >= 0 and link.index < len(info.stop_points):
                groups.setdefault(link.in_lane, []).append(link.index)
        for lane, links in groups.items():
            shape = np.asarray(geometry.lanes.shapes[lane], dtype=np.float64).reshape(-1, 2)
            end = shape[-1]
            d = shape[-1] - shape[-2] if len(shape) > 1 else np.array([0.0, 1.0])
            norm = float(np.hypot(*d)) or 1.0
            across = np.array([d[1], -d[0]]) / norm  # right of the travel direction
            for k, link_index in enumerate(sorted(links)):
                offset = (k - (len(links) - 1) / 2.0) * (LANE_WIDTH_M / max(len(links), 1))
                p = end + across * offset
                points.append((float(p[0]), float(p[1])))
                sig_idx.append(s)
                link_idx.append(link_index)
    return (
        np.array(points, dtype=np.float64).reshape(-1, 2),
        np.array(sig_idx, dtype=np.int64),
        np.array(link_idx, dtype=np.int64),
    )


class SignalLayer:
    """Signal heads at the stop lines in their current colour (one scatter item)."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.item = pg.ScatterPlotItem(pxMode=True, size=7, symbol="s", pen=None)
        self.item.setZValue(10)
        plot.addItem(self.item)
        lut, colors = signal_char_lut()
        self._lut = lut
        self._brushes = np.array([theme.brush(*c) for c in colors], dtype=object)
        self.xy = np.zeros((0, 2))
        self.signal = np.zeros(0, np.int64)
        self.link = np.zeros(0, np.int64)
        self.offsets = np.zeros(0, np.int64)
        self.chars = ""
        self._last = b""

    def set_geometry(self, geometry: NetGeometry) -> None:
        self.xy, self.signal, self.link = _stop_points(geometry)
        widths = [s.program.n_links for s in geometry.signals]
        self.offsets = (
            np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
            if widths
            else np.zeros(0, np.int64)
        )
        self._last = b""
        self.item.setData(pos=self.xy, brush=theme.brush(*ROAD))

    def set_states(self, states: Sequence[str]) -> None:
        if not len(self.xy):
            return
        joined = "".join(states).encode("ascii", "replace")
        if joined == self._last:
            return
        codes = np.frombuffer(joined, dtype=np.uint8)
        flat = self.offsets[self.signal] + self.link
        flat = np.clip(flat, 0, max(codes.size - 1, 0))
        picked = codes[flat] if codes.size else np.zeros(len(flat), np.uint8)
        self.chars = picked.tobytes().decode("ascii", "replace")
        self.item.setBrush(list(self._brushes[self._lut[picked]]))
        self._last = joined


def _camera_symbol() -> QPainterPath:
    path = QPainterPath()
    path.addRect(QRectF(-0.45, -0.3, 0.6, 0.6))
    path.moveTo(0.15, 0.0)
    path.lineTo(0.5, -0.3)
    path.lineTo(0.5, 0.3)
    path.closeSubpath()
    return path


HEALTH_COLORS: dict[str, RGB] = {"ok": (90, 200, 255), "suspect": (255, 179, 71), "failed": (255, 70, 70)}
# a device that is offline (or silent) says nothing about its health: a dark fill with a light ring,
# unlike every health colour (all bright fills with a black ring)
OFFLINE_FILL: RGB = (55, 58, 64)
OFFLINE_RING: RGB = (220, 224, 230)
DEVICE_DOWN = frozenset({"offline", "silent"})
# a loop whose readings the controllers get substituted (it is failed: a red fill) has a thick ring
# in the healthy colour: something healthy stands in for it
SUBSTITUTED_RING: RGB = HEALTH_COLORS["ok"]


class DetectorLayer:
    """Induction loops (squares) and lane-area detectors (diamonds), coloured by health; offline
    devices dark with a light ring, substituted loops with a thick blue ring."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.item = pg.ScatterPlotItem(pxMode=True, size=6, pen=theme.pen(0, 0, 0, 1.0))
        self.item.setZValue(12)
        plot.addItem(self.item)
        self.health: list[str] = []
        self.device_states: list[str] = []  # per detector: online | offline | silent | unknown
        self.substituted: list[bool] = []  # per detector: the controllers read a substitute
        self.n_e1 = 0

    def set_geometry(self, geometry: NetGeometry) -> None:
        e1 = np.asarray(geometry.e1.xy, dtype=np.float64).reshape(-1, 2)
        e2 = np.asarray(geometry.e2.xy, dtype=np.float64).reshape(-1, 2)
        self.n_e1 = len(e1)
        symbols = ["s"] * len(e1) + ["d"] * len(e2)
        self.health = ["ok"] * (len(e1) + len(e2))
        self.device_states = ["unknown"] * (len(e1) + len(e2))
        self.substituted = [False] * (len(e1) + len(e2))
        self.item.setData(
            pos=np.vstack([e1, e2]) if len(symbols) else np.zeros((0, 2)),
            symbol=symbols,
            brush=theme.brush(*HEALTH_COLORS["ok"]),
        )

    def set_health(self, health: Sequence[str]) -> None:
        if list(health) == self.health or len(health) != len(self.health):
            return
        self.health = list(health)
        self._paint()

    def set_device_states(self, states: Sequence[str]) -> None:
        """Each detector's device state; offline and silent ones are drawn as such over their health."""
        if list(states) == self.device_states or len(states) != len(self.health):
            return
        self.device_states = list(states)
        self._paint()

    def set_substituted(self, substituted: Sequence[bool]) -> None:
        """Which detectors the controllers read a substitute for."""
        if list(substituted) == self.substituted or len(substituted) != len(self.health):
            return
        self.substituted = list(substituted)
        self._paint()

    def _paint(self) -> None:
        down = [s in DEVICE_DOWN for s in self.device_states] or [False] * len(self.health)
        fills = [OFFLINE_FILL if off else HEALTH_COLORS.get(h, HEALTH_COLORS["suspect"]) for h, off in zip(
            self.health, down, strict=True
        )]  # fmt: skip
        self.item.setBrush([theme.brush(*rgb) for rgb in fills])
        substituted = self.substituted or [False] * len(self.health)
        self.item.setPen([
            theme.pen(*OFFLINE_RING, 1.5) if off else theme.pen(*SUBSTITUTED_RING, 2.5) if sub
            else theme.pen(0, 0, 0, 1.0)
            for off, sub in zip(down, substituted, strict=True)
        ])  # fmt: skip


class CameraLayer:
    """Cameras as icons with their field of view, filled by their device's health (ok, suspect,
    failed: frozen or blacked out) or dark with a light ring while the device is offline or silent."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.item = pg.ScatterPlotItem(
            pxMode=True,
            size=16,
            symbol=_camera_symbol(),
            pen=theme.pen(0, 0, 0, 1.0),
            brush=theme.brush(*HEALTH_COLORS["ok"]),
        )
        self.item.setZValue(30)
        self.fov = pg.PlotCurveItem(pen=theme.pen(90, 200, 255, 1.0, a=150), connect="finite")
        self.fov.setZValue(29)
        plot.addItem(self.fov)
        plot.addItem(self.item)
        self.cameras: tuple[CameraView, ...] = ()
        self.health: list[str] = []  # per camera: its device's health (ok | suspect | failed)
        self.device_states: list[str] = []  # per camera: online | offline | silent | unknown

    def set_status(self, health: Sequence[str] | None = None, states: Sequence[str] | None = None) -> None:
        """The camera devices' health and states, in the order of :attr:`cameras` (None: unchanged)."""
        new_health = list(health) if health is not None else self.health
        new_states = list(states) if states is not None else self.device_states
        if (new_health, new_states) == (self.health, self.device_states):
            return
        n = len(self.cameras)
        if len(new_health) != n or len(new_states) != n:
            return
        self.health, self.device_states = new_health, new_states
        down = [s in DEVICE_DOWN for s in new_states]
        fills = [OFFLINE_FILL if off else HEALTH_COLORS.get(h, HEALTH_COLORS["suspect"]) for h, off in zip(
            new_health, down, strict=True
        )]  # fmt: skip
        self.item.setBrush([theme.brush(*rgb) for rgb in fills])
        self.item.setPen([theme.pen(*OFFLINE_RING, 1.5) if off else theme.pen(0, 0, 0, 1.0) for off in down])

    def set_cameras(self, cameras: Sequence[CameraView]) -> None:
        self.cameras = tuple(cameras)
        self.health = ["ok"] * len(self.cameras)
        self.device_states = ["unknown"] * len(self.cameras)
        pos = np.array([(c.x, c.y) for c in cameras], dtype=np.float64).reshape(-1, 2)
        self.item.setData(pos=pos)
        # each camera's ground footprint, outlines separated by NaN (connect="finite")
        outlines = [ground_footprint(camera_spec(c)) for c in cameras]
        gap = np.full((1, 2), np.nan)
        xy = np.vstack([part for o in outlines for part in (o, gap)]) if outlines else np.zeros((0, 2))
        self.fov.setData(xy[:, 0], xy[:, 1], connect="finite")


def closed_pens(width_m: float) -> tuple[QPen, QPen]:
    """Barrier tape: a black band under magenta dashes (no scheme uses either, see schemes.CLOSED)."""
    band = QPen(theme.pen(*CLOSED_GAP, width=width_m, cosmetic=False))
    dashes = QPen(theme.pen(*CLOSED, width=width_m, cosmetic=False))
    dashes.setStyle(Qt.PenStyle.CustomDashLine)
    dashes.setDashPattern([1.2, 1.2])  # in pen widths: dashes as long as the band is wide
    dashes.setCapStyle(Qt.PenCapStyle.FlatCap)
    return band, dashes


class IncidentLayer:
    """Closed lanes striped like barrier tape, blocked lanes with a magenta marker where the vehicle
    stands, edges whose routes have their demand scaled in amber (a thin line; the lane stays open)."""

    def __init__(self, plot: pg.PlotItem) -> None:
        band, dashes = closed_pens(LANE_WIDTH_M * 1.6)
        self.closed_band = pg.PlotCurveItem(connect="pairs", pen=band)
        self.closed_band.setZValue(5)
        self.closed = pg.PlotCurveItem(connect="pairs", pen=dashes)
        self.closed.setZValue(5.5)
        self.demand = pg.PlotCurveItem(connect="pairs", pen=_road_pen((255, 176, 0), 220, LANE_WIDTH_M * 0.6))
        self.demand.setZValue(6)
        self.blocks = pg.ScatterPlotItem(
            pxMode=True,
            size=18,
            symbol="x",
            pen=theme.pen(*CLOSED_GAP, 1.5),
            brush=theme.brush(*CLOSED),
        )
        self.blocks.setZValue(25)
        plot.addItem(self.closed_band)
        plot.addItem(self.closed)
        plot.addItem(self.demand)
        plot.addItem(self.blocks)
        self.segments: Segments | None = None
        self.geometry: NetGeometry | None = None
        self.closed_lanes: set[int] = set()
        self.demand_lanes: set[int] = set()
        self.block_xy = np.zeros((0, 2))
        self.block_ids: tuple[str, ...] = ()
        self.width_m = LANE_WIDTH_M

    def set_width(self, lane_width_m: float) -> None:
        """Follow the lanes' on-screen width (the tape stays wider than the lane it closes)."""
        if abs(lane_width_m - self.width_m) <= 0.1 * self.width_m:
            return
        self.width_m = lane_width_m
        band, dashes = closed_pens(lane_width_m * 1.6)
        self.closed_band.setPen(band)
        self.closed.setPen(dashes)

    def set_geometry(self, geometry: NetGeometry) -> None:
        self.geometry = geometry
        self.segments = lane_segments(geometry.lanes)
        self.set_incidents(())

    def set_incidents(self, incidents: Sequence[IncidentView]) -> None:
        if self.segments is None or self.geometry is None:
            return
        index = self.geometry.lanes.index()
        closed = {index[lane] for inc in incidents if inc.closes_lanes for lane in inc.lanes if lane in index}
        self.closed_lanes = closed
        mask = np.isin(self.segments.lane, np.fromiter(closed, np.int32, len(closed)))
        x, y = _pairs(self.segments, mask)
        self.closed_band.setData(x, y, connect="pairs")
        self.closed.setData(x, y, connect="pairs")
        scaled = {
            index[lane]
            for inc in incidents
            if inc.demand_factor is not None
            for lane in inc.lanes
            if lane in index
        }
        self.demand_lanes = scaled
        mask = np.isin(self.segments.lane, np.fromiter(scaled, np.int32, len(scaled)))
        x, y = _pairs(self.segments, mask)
        self.demand.setData(x, y, connect="pairs")
        points, ids = [], []
        for inc in incidents:
            if inc.vehicle and inc.target in index:
                points.append(point_on_lane(self.geometry, index[inc.target], inc.position_m))
                ids.append(inc.id)
        self.block_ids = tuple(ids)
        self.block_xy = np.array(points, dtype=np.float64).reshape(-1, 2)
        self.blocks.setData(pos=self.block_xy)


def point_on_lane(geometry: NetGeometry, lane: int, position_m: float) -> tuple[float, float]:
    shape = np.asarray(geometry.lanes.shapes[lane], dtype=np.float64).reshape(-1, 2)
    if len(shape) < 2:
        return float(shape[0, 0]), float(shape[0, 1])
    seg = np.hypot(*np.diff(shape, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    pos = min(max(position_m, 0.0), float(cum[-1]))
    k = min(int(np.searchsorted(cum, pos, side="right")) - 1, len(seg) - 1)
    a = (pos - cum[k]) / seg[k] if seg[k] > 0 else 0.0
    p = shape[k] + (shape[k + 1] - shape[k]) * a
    return float(p[0]), float(p[1])


SELECTION_LANE_Z = 0.5  # under the lane colours (1) and closures (5): a halo around, never on top


class SelectionLayer:
    """The picked object: a ring at its position (vehicles: followed live) or a halo around its lane."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.ring = pg.ScatterPlotItem(
            pxMode=True, size=22, symbol="o", pen=theme.pen(*SELECTION, 2.0), brush=None
        )
        self.ring.setZValue(40)
        self.lane = pg.PlotCurveItem(pen=_road_pen(SELECTION, 170, LANE_WIDTH_M * 2.6))
        self.lane.setZValue(SELECTION_LANE_Z)
        self.width_m = LANE_WIDTH_M
        plot.addItem(self.ring)
        plot.addItem(self.lane)

    def set_width(self, lane_width_m: float) -> None:
        if abs(lane_width_m - self.width_m) > 0.1 * self.width_m:
            self.width_m = lane_width_m
            self.lane.setPen(_road_pen(SELECTION, 170, lane_width_m * 2.6))

    def clear(self) -> None:
        self.ring.setData(pos=np.zeros((0, 2)))
        self.lane.setData([], [])

    def set_point(self, x: float, y: float) -> None:
        self.ring.setData(pos=np.array([[x, y]]))

    def set_lane(self, shape: NDArray[np.float64]) -> None:
        self.ring.setData(pos=np.zeros((0, 2)))
        self.lane.setData(shape[:, 0], shape[:, 1])


def scene_point(plot: pg.PlotItem, x: float, y: float) -> QPointF:
    """Scene position of a network point (for tests and overlays)."""
    return plot.vb.mapViewToScene(QPointF(x, y))  # type: ignore[no-any-return]
