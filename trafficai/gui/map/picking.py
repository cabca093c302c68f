"""Picking objects on the map by vectorised nearest-neighbour search (pure numpy; no Qt)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import LaneGeometry, NetGeometry
from trafficai.runtime.messages import CameraView

KINDS = ("vehicle", "e1", "e2", "camera", "incident", "signal", "lane", "junction")
SIGNAL_RADIUS_M = 14.0  # a click this close to a signalised junction's centre picks the signal
LANE_HALF_WIDTH_M = 2.0
JUNCTION_RADIUS_M = 10.0


@dataclass(frozen=True, slots=True)
class Pick:
    kind: str  # one of KINDS
    id: str
    index: int  # in the geometry / snapshot arrays of its kind
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Segments:
    """Every lane polyline as straight segments: (x0, y0, x1, y1) and the lane of each."""

    x0: NDArray[np.float64]
    y0: NDArray[np.float64]
    x1: NDArray[np.float64]
    y1: NDArray[np.float64]
    lane: NDArray[np.int32]

    def __len__(self) -> int:
        return int(self.lane.size)


def lane_segments(lanes: LaneGeometry) -> Segments:
    shapes = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in lanes.shapes]
    counts = np.array([max(len(s) - 1, 0) for s in shapes], dtype=np.int64)
    if not counts.sum():
        z = np.zeros(0)
        return Segments(z, z, z, z, np.zeros(0, np.int32))
    starts = np.concatenate([s[:-1] for s in shapes if len(s) > 1])
    ends = np.concatenate([s[1:] for s in shapes if len(s) > 1])
    lane = np.repeat(np.arange(len(shapes), dtype=np.int32), counts)
    return Segments(starts[:, 0], starts[:, 1], ends[:, 0], ends[:, 1], lane)


def segment_distances(seg: Segments, x: float, y: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distance from (x, y) to every segment, and the position along each (0..1)."""
    dx, dy = seg.x1 - seg.x0, seg.y1 - seg.y0
    length2 = dx * dx + dy * dy
    t = np.where(
        length2 > 0, ((x - seg.x0) * dx + (y - seg.y0) * dy) / np.where(length2 > 0, length2, 1.0), 0.0
    )
    t = np.clip(t, 0.0, 1.0)
    px, py = seg.x0 + t * dx, seg.y0 + t * dy
    return np.hypot(px - x, py - y), t


def _nearest(xy: NDArray[np.floating], x: float, y: float, radius: float) -> tuple[int, float]:
    if xy.size == 0:
        return -1, np.inf
    d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
    i = int(np.argmin(d))
    return (i, float(d[i])) if d[i] <= radius else (-1, np.inf)


# On-screen radius (px) of each kind's icon and its drawing order (higher: drawn on top), so a click
# on an icon picks the icon even when a vehicle is nearer its centre.
ICON_PX = {"camera": 9.0, "incident": 9.0, "e1": 4.5, "e2": 4.5}
DRAW_ORDER = {"camera": 30, "incident": 25, "vehicle": 20, "e1": 12, "e2": 12}
DEFAULT_TOLERANCE_PX = 8.0
MIN_VEHICLE_RADIUS_M = 1.5  # half a car: a click on the body picks it however far out the zoom


def point_in_polygon(poly: NDArray[np.float64], x: float, y: float) -> bool:
    """Even-odd rule (a junction outline is a simple polygon)."""
    if len(poly) < 3:
        return False
    px, py = poly[:, 0], poly[:, 1]
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    crosses = (py > y) != (qy > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = px + (y - py) * (qx - px) / (qy - py)
    return bool(np.count_nonzero(crosses & (x < at)) % 2)


class Picker:
    """Finds the object under a click; vehicles are passed per call (they move)."""

    def __init__(self, geometry: NetGeometry, cameras: Sequence[CameraView] = ()) -> None:
        self.geometry = geometry
        self.segments = lane_segments(geometry.lanes)
        self.signal_xy = np.array([s.xy for s in geometry.signals], dtype=np.float64).reshape(-1, 2)
        self.camera_xy = np.array([(c.x, c.y) for c in cameras], dtype=np.float64).reshape(-1, 2)
        self.camera_ids = tuple(c.id for c in cameras)
        self.e1_xy = np.asarray(geometry.e1.xy, dtype=np.float64).reshape(-1, 2)
        self.e2_xy = np.asarray(geometry.e2.xy, dtype=np.float64).reshape(-1, 2)
        self.incident_xy = np.zeros((0, 2))
        self.incident_ids: tuple[str, ...] = ()
        signal_ids = {s.id for s in geometry.signals}
        self.signal_of_junction = {s.id: i for i, s in enumerate(geometry.signals)}
        plain = [i for i, j in enumerate(geometry.junction_ids) if j not in signal_ids]
        self.junction_index = np.array(plain, dtype=np.int64)
        self.junction_xy = np.asarray(geometry.junction_xy, dtype=np.float64).reshape(-1, 2)[
            self.junction_index
        ]

    def set_incidents(self, xy: NDArray[np.floating], ids: Sequence[str]) -> None:
        """Where the blocked-lane markers are (they move only when incidents change)."""
        self.incident_xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        self.incident_ids = tuple(ids)

    def _icons(
        self, vehicle_xy: NDArray[np.floating] | None, vehicle_ids: Sequence[str]
    ) -> list[tuple[str, NDArray[np.float64], Sequence[str]]]:
        g = self.geometry
        icons: list[tuple[str, NDArray[np.float64], Sequence[str]]] = [
            ("camera", self.camera_xy, self.camera_ids),
            ("incident", self.incident_xy, self.incident_ids),
            ("e1", self.e1_xy, g.e1.ids),
            ("e2", self.e2_xy, g.e2.ids),
        ]
        if vehicle_xy is not None and len(vehicle_ids):
            icons.append(("vehicle", np.asarray(vehicle_xy, dtype=np.float64).reshape(-1, 2), vehicle_ids))
        return icons

    def pick(
        self,
        x: float,
        y: float,
        tolerance: float,
        vehicle_xy: NDArray[np.floating] | None = None,
        vehicle_ids: Sequence[str] = (),
        vehicle_px: float = 11.0,
    ) -> Pick | None:
        """The object at (x, y). ``tolerance`` is in network metres (``DEFAULT_TOLERANCE_PX`` at the
        current zoom); ``vehicle_px`` the size vehicles are drawn at.

        1. an icon whose drawn shape is under the cursor, the one drawn on top first (cameras,
           blocked-lane markers, vehicles, detectors);
        2. else the nearest icon within the tolerance;
        3. else a signal near its stop lines, a lane, a junction (inside its outline or near its centre).
        """
        m_per_px = tolerance / DEFAULT_TOLERANCE_PX
        under: list[tuple[int, float, Pick]] = []
        near: list[tuple[float, Pick]] = []
        for kind, xy, ids in self._icons(vehicle_xy, vehicle_ids):
            if not len(xy):
                continue
            d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
            i = int(np.argmin(d))
            pick = Pick(kind, ids[i], i, float(xy[i, 0]), float(xy[i, 1]))
            radius = (
                max(vehicle_px / 2.0 * m_per_px, MIN_VEHICLE_RADIUS_M)
                if kind == "vehicle"
                else ICON_PX[kind] * m_per_px
            )
            if d[i] <= radius:
                under.append((DRAW_ORDER[kind], float(d[i]), pick))
            elif d[i] <= tolerance:
                near.append((float(d[i]), pick))
        if under:
            return max(under, key=lambda item: (item[0], -item[1]))[2]
        if near:
            return min(near, key=lambda item: item[0])[1]
        return self._static(x, y, tolerance)

    def _static(self, x: float, y: float, tolerance: float) -> Pick | None:
        g = self.geometry
        i, _ = _nearest(self.signal_xy, x, y, max(tolerance, SIGNAL_RADIUS_M))
        if i >= 0:
            return Pick(
                "signal", g.signals[i].id, i, float(self.signal_xy[i, 0]), float(self.signal_xy[i, 1])
            )
        if len(self.segments):
            dist, t = segment_distances(self.segments, x, y)
            k = int(np.argmin(dist))
            if dist[k] <= max(tolerance, LANE_HALF_WIDTH_M):
                lane = int(self.segments.lane[k])
                seg = self.segments
                px = float(seg.x0[k] + t[k] * (seg.x1[k] - seg.x0[k]))
                py = float(seg.y0[k] + t[k] * (seg.y1[k] - seg.y0[k]))
                return Pick("lane", g.lanes.ids[lane], lane, px, py)
        inside = self._junction_containing(x, y)
        if inside is not None:
            return inside
        i, _ = _nearest(self.junction_xy, x, y, max(tolerance, JUNCTION_RADIUS_M))
        if i >= 0:
            index = int(self.junction_index[i])
            return Pick(
                "junction",
                g.junction_ids[index],
                index,
                float(self.junction_xy[i, 0]),
                float(self.junction_xy[i, 1]),
            )
        return None

    def _junction_containing(self, x: float, y: float) -> Pick | None:
        """The junction whose outline holds (x, y): a signalised one picks its signal."""
        g = self.geometry
        for index, shape in enumerate(g.junction_shapes):
            if len(shape) < 3 or not (
                shape[:, 0].min() <= x <= shape[:, 0].max() and shape[:, 1].min() <= y <= shape[:, 1].max()
            ):
                continue
            if point_in_polygon(shape, x, y):
                junction = g.junction_ids[index]
                cx, cy = (float(v) for v in g.junction_xy[index])
                signal = self.signal_of_junction.get(junction)
                if signal is not None:
                    return Pick("signal", junction, signal, cx, cy)
                return Pick("junction", junction, index, cx, cy)
        return None

    def position_on_lane(self, lane: int, x: float, y: float) -> float:
        """Metres from the start of ``lane`` of the point on it nearest (x, y)."""
        shape = np.asarray(self.geometry.lanes.shapes[lane], dtype=np.float64).reshape(-1, 2)
        if len(shape) < 2:
            return 0.0
        seg = lane_segments(LaneGeometry(("l",), ("e",), (shape,), np.zeros(1), np.zeros(1)))
        dist, t = segment_distances(seg, x, y)
        k = int(np.argmin(dist))
        lengths = np.hypot(seg.x1 - seg.x0, seg.y1 - seg.y0)
        return float(lengths[:k].sum() + t[k] * lengths[k])
