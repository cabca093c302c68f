"""Picking objects on the map by vectorised nearest-neighbour search (pure numpy; no Qt)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import LaneGeometry, NetGeometry
from trafficai.runtime.messages import CameraView

KINDS = ("vehicle", "e1", "e2", "camera", "signal", "lane", "junction")
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
        signal_ids = {s.id for s in geometry.signals}
        plain = [i for i, j in enumerate(geometry.junction_ids) if j not in signal_ids]
        self.junction_index = np.array(plain, dtype=np.int64)
        self.junction_xy = np.asarray(geometry.junction_xy, dtype=np.float64).reshape(-1, 2)[
            self.junction_index
        ]

    def pick(
        self,
        x: float,
        y: float,
        tolerance: float,
        vehicle_xy: NDArray[np.floating] | None = None,
        vehicle_ids: Sequence[str] = (),
    ) -> Pick | None:
        """The object at (x, y): vehicles first, then detectors and cameras, signals, lanes, junctions.

        ``tolerance`` is in network metres (a few pixels at the current zoom).
        """
        g = self.geometry
        if vehicle_xy is not None and len(vehicle_ids):
            i, _ = _nearest(np.asarray(vehicle_xy), x, y, max(tolerance, 1.5))
            if i >= 0:
                return Pick("vehicle", vehicle_ids[i], i, float(vehicle_xy[i][0]), float(vehicle_xy[i][1]))
        best: tuple[float, Pick] | None = None
        for kind, xy, ids in (
            ("e1", self.e1_xy, g.e1.ids),
            ("e2", self.e2_xy, g.e2.ids),
            ("camera", self.camera_xy, self.camera_ids),
        ):
            i, d = _nearest(xy, x, y, tolerance)
            if i >= 0 and (best is None or d < best[0]):
                best = (d, Pick(kind, ids[i], i, float(xy[i, 0]), float(xy[i, 1])))
        if best is not None:
            return best[1]
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
