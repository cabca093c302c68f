"""Stopped-vehicle detection from camera readings: a vehicle standing in a lane away from the stop
line, with no standing vehicle in front of it, for longer than traffic explains.

A camera (here the perfect camera of ``camera_truth``: the simulator's vehicles inside the camera's
ground footprint; a vision pipeline's tracks would feed the same readings) reports, every few
seconds, the vehicles it sees standing (speed below SUMO's halting 0.1 m/s) on each lane in view.
Of each lane's standing vehicles only the *head of a standing chain* matters: a standing vehicle
with no other standing vehicle within ``QUEUE_GAP_M`` in front of it. At a red signal that head is
at the stop line; in a queue discharging at green each vehicle is the head for a second or two
before it moves off; a broken-down or crashed vehicle blocking the lane is the head of its chain
for as long as it stands there, and it stands away from the stop line (``min_dist_to_end_m``).
:class:`StoppedVehicleDetector` raises one alarm per vehicle once it has been such a head,
continuously, for ``min_stop_s``.

Readings are plain arrays (``HEAD_COLUMNS``), so recorded runs can be replayed with other thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import VehicleArrays
from trafficai.sensors.cameras import CameraSpec, in_view

F64 = NDArray[np.float64]
HALTED_M_S = 0.1  # SUMO's halting threshold
QUEUE_GAP_M = 12.0  # front-to-front gap above which a standing vehicle is not behind another
# one row per standing chain head seen: time, camera index, lane index, distance to the lane's end
# (the stop line of an approach), the vehicle's key (a per-run integer for its id)
HEAD_COLUMNS = ("time_s", "camera", "lane", "dist_to_end_m", "vehicle")


def lane_positions(shape: F64, xy: F64) -> F64:
    """Distance along the polyline ``shape`` (k, 2) of each point of ``xy`` (n, 2), projected on
    its nearest segment."""
    a, b = shape[:-1], shape[1:]
    seg = b - a
    seg_len = np.maximum(np.hypot(seg[:, 0], seg[:, 1]), 1e-9)
    start = np.concatenate(([0.0], np.cumsum(seg_len)[:-1]))
    rel = xy[:, None, :] - a[None, :, :]
    t = np.clip((rel * seg[None]).sum(axis=2) / seg_len**2, 0.0, 1.0)
    foot = a[None] + t[..., None] * seg[None]
    dist = np.hypot(*(xy[:, None, :] - foot).transpose(2, 0, 1))
    best = np.argmin(dist, axis=1)
    rows = np.arange(len(xy))
    return start[best] + t[rows, best] * seg_len[best]  # type: ignore[no-any-return]


def chain_heads(positions: F64) -> NDArray[np.bool_]:
    """Which of the standing vehicles at ``positions`` (along one lane) have no standing vehicle
    within ``QUEUE_GAP_M`` in front of them."""
    order = np.argsort(positions)
    heads = np.zeros(len(positions), dtype=bool)
    ahead = np.inf
    for i in order[::-1]:  # from the front of the lane backwards
        heads[i] = ahead - positions[i] > QUEUE_GAP_M
        ahead = positions[i]
    return heads


class CameraReadings:
    """Standing chain heads in view of each camera, from a snapshot's vehicles."""

    def __init__(self, cameras: Sequence[CameraSpec], geometry: NetGeometry) -> None:
        self.cameras = tuple(cameras)
        self.geometry = geometry
        self._keys: dict[str, int] = {}

    def key(self, vehicle: str) -> int:
        return self._keys.setdefault(vehicle, len(self._keys))

    def heads(self, time_s: float, vehicles: VehicleArrays) -> F64:
        """Rows of ``HEAD_COLUMNS`` (an empty (0, 5) array when nothing stands in view)."""
        rows: list[tuple[float, float, float, float, float]] = []
        if len(vehicles) == 0:
            return np.zeros((0, len(HEAD_COLUMNS)))
        lanes = self.geometry.lanes
        standing = (vehicles.speed < HALTED_M_S) & (vehicles.lane >= 0)
        for c, camera in enumerate(self.cameras):
            seen = np.flatnonzero(standing & in_view(camera, vehicles.xy))
            for lane in np.unique(vehicles.lane[seen]):
                on = seen[vehicles.lane[seen] == lane]
                pos = lane_positions(lanes.shapes[lane], vehicles.xy[on].astype(np.float64))
                length = float(lanes.lengths[lane])
                for i, p in zip(on[chain_heads(pos)], pos[chain_heads(pos)], strict=True):
                    rows.append((time_s, c, float(lane), length - float(p), self.key(vehicles.ids[i])))
        return np.array(rows, dtype=np.float64).reshape(-1, len(HEAD_COLUMNS))


@dataclass(frozen=True, slots=True)
class CameraAlarm:
    time_s: float
    camera: int
    lane: int
    dist_to_end_m: float
    stopped_s: float


class StoppedVehicleDetector:
    """One alarm per vehicle that has stood at the head of its chain, at least
    ``min_dist_to_end_m`` from its lane's end, for ``min_stop_s`` without a break."""

    name = "camera-stopped-vehicle"

    def __init__(self, min_stop_s: float = 30.0, min_dist_to_end_m: float = 15.0) -> None:
        self.min_stop_s, self.min_dist_to_end_m = min_stop_s, min_dist_to_end_m
        self._since: dict[int, float] = {}
        self._alarmed: set[int] = set()

    def update(self, time_s: float, heads: F64) -> list[CameraAlarm]:
        """``heads``: this sample's rows (``HEAD_COLUMNS``); the alarms it raises."""
        far = heads[heads[:, 3] >= self.min_dist_to_end_m] if heads.size else heads
        now = {int(r[4]): r for r in far}
        self._since = {v: self._since.get(v, time_s) for v in now}
        alarms = []
        for v, row in now.items():
            stood = time_s - self._since[v]
            if stood >= self.min_stop_s and v not in self._alarmed:
                self._alarmed.add(v)
                alarms.append(CameraAlarm(time_s, int(row[1]), int(row[2]), float(row[3]), stood))
        return alarms


def replay_heads(detector: StoppedVehicleDetector, heads: F64, sample_times: F64) -> list[CameraAlarm]:
    """Run ``detector`` over recorded head rows, sample by sample (times with no row included)."""
    alarms: list[CameraAlarm] = []
    order = np.argsort(heads[:, 0], kind="stable") if heads.size else np.zeros(0, dtype=np.int64)
    rows = heads[order] if heads.size else np.zeros((0, len(HEAD_COLUMNS)))
    cuts = np.searchsorted(rows[:, 0], sample_times, side="left")
    ends = np.searchsorted(rows[:, 0], sample_times, side="right")
    for t, a, b in zip(sample_times, cuts, ends, strict=True):
        alarms += detector.update(float(t), rows[a:b])
    return alarms


def lane_point(shape: F64, position_m: float) -> F64:
    """The point ``position_m`` along the polyline ``shape`` (clamped to its ends)."""
    seg = np.diff(shape, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    ends = np.cumsum(seg_len)
    k = min(int(np.searchsorted(ends, position_m)), len(seg) - 1)
    start = ends[k] - seg_len[k]
    t = float(np.clip((position_m - start) / max(float(seg_len[k]), 1e-9), 0.0, 1.0))
    return shape[k] + t * seg[k]  # type: ignore[no-any-return]
