"""Counting, queues and zone occupancy on the ground plane, per approach and lane.

A count line is an approach's stop line in network coordinates. A track's ground position gives
its signed distance ``s`` along the approach (negative: before the line) and its lateral offset,
which picks the lane. The rules that keep the count honest where image-line counters fail:

- hysteresis: a crossing needs ``s`` to go from before the band (``s < -band``) or from inside it
  to beyond it (``s > band``); a box rocking on the line never leaves the band, so it adds nothing;
- once per track and line; a track first seen beyond the line never counts;
- id switches: a crossing is a duplicate when a track that crossed the same line within
  ``duplicate_window_s`` was last seen within ``duplicate_radius_m`` of this one (the same vehicle
  under a new id); a new id born on the line while its vehicle waits there counts once, when it
  finally crosses, because the old id never crossed.
The crossing time is interpolated to where ``s`` passed zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.sensors.cameras import CameraSpec, in_view
from trafficai.vision.placement import LANE_WIDTH_M, Approach, approach_of_camera

F64 = NDArray[np.float64]
HALTING_MPS = 1.0
QUEUE_ZONE_M = 50.0


@dataclass(frozen=True, slots=True)
class CountLine:
    name: str  # the approach's edge id
    stop_xy: tuple[float, float]
    direction: tuple[float, float]
    lane_offsets: tuple[float, ...]  # lateral centre of each lane, m (positive: right of travel)
    lanes: tuple[int, ...]  # geometry lane indices, same order

    def local(self, xy: F64) -> tuple[F64, F64]:
        """Signed distance along the approach and lateral offset of points (n, 2)."""
        d = np.array(self.direction)
        right = np.array([d[1], -d[0]])
        rel = np.asarray(xy, np.float64).reshape(-1, 2) - np.array(self.stop_xy)
        along: F64 = rel @ d
        lateral: F64 = rel @ right
        return along, lateral

    def lane_of(self, lateral: float, margin_m: float = 1.0) -> int | None:
        offsets = np.array(self.lane_offsets)
        k = int(np.argmin(np.abs(offsets - lateral)))
        return k if abs(offsets[k] - lateral) <= LANE_WIDTH_M / 2 + margin_m else None


def count_line(geometry: NetGeometry, approach: Approach) -> CountLine:
    d = np.array(approach.direction)
    right = np.array([d[1], -d[0]])
    stop = np.array(approach.stop_xy)
    offsets = tuple(float((geometry.lanes.shapes[i][-1] - stop) @ right) for i in approach.lanes)
    return CountLine(approach.edge, approach.stop_xy, approach.direction, offsets, approach.lanes)


def camera_lines(geometry: NetGeometry, camera: CameraSpec) -> tuple[CountLine, ...]:
    """The count lines of the camera's junction whose whole stop line the camera sees."""
    lines = []
    for approach in approach_of_camera(geometry, camera):
        line = count_line(geometry, approach)
        d = np.array(line.direction)
        right = np.array([d[1], -d[0]])
        ends = np.array(
            [
                np.array(line.stop_xy) + right * (o + s * LANE_WIDTH_M / 2)
                for o in line.lane_offsets
                for s in (-1, 1)
            ]
        )
        if in_view(camera, ends).all():
            lines.append(line)
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class Crossing:
    line: str
    lane: int  # index into the line's lanes
    track_id: int
    time_s: float


@dataclass(slots=True)
class _State:
    armed: bool  # seen before the line or on it, not yet counted
    done: bool = False
    last: tuple[float, float] = (0.0, 0.0)  # time, along distance of the previous observation


@dataclass(slots=True)
class LineCounter:
    lines: tuple[CountLine, ...]
    band_m: float = 1.0
    duplicate_radius_m: float = 2.5
    duplicate_window_s: float = 3.0
    lateral_margin_m: float = 1.0
    crossings: list[Crossing] = field(default_factory=list)
    _states: dict[tuple[int, str], _State] = field(default_factory=dict)
    _last_seen: dict[int, tuple[float, F64]] = field(default_factory=dict)

    def observe(self, track_id: int, time_s: float, xy: F64) -> list[Crossing]:
        """One ground observation of a track; the crossings it completes."""
        point = np.asarray(xy, np.float64).reshape(2)
        self._last_seen[track_id] = (time_s, point)
        found = []
        for line in self.lines:
            along, lateral = (float(v[0]) for v in line.local(point))
            lane = line.lane_of(lateral, self.lateral_margin_m)
            key = (track_id, line.name)
            state = self._states.get(key)
            if state is None:
                if lane is None or along < -QUEUE_ZONE_M * 2:
                    continue
                state = self._states[key] = _State(armed=along <= self.band_m, last=(time_s, along))
            if state.armed and not state.done and along > self.band_m and lane is not None:
                state.done = True
                t0, s0 = state.last
                crossed_at = t0 + (time_s - t0) * (-s0 / (along - s0)) if s0 <= 0 < along else time_s
                if not self._duplicate(line.name, track_id, point, time_s):
                    crossing = Crossing(line.name, lane, track_id, crossed_at)
                    self.crossings.append(crossing)
                    found.append(crossing)
            state.last = (time_s, along)
        return found

    def _duplicate(self, line: str, track_id: int, point: F64, time_s: float) -> bool:
        for c in reversed(self.crossings):
            if time_s - c.time_s > self.duplicate_window_s:
                break
            if c.line != line or c.track_id == track_id:
                continue
            seen = self._last_seen.get(c.track_id)
            if seen is not None and np.hypot(*(seen[1] - point)) <= self.duplicate_radius_m:
                return True
        return False

    def forget_before(self, time_s: float) -> None:
        """Drop tracks not seen since ``time_s`` (a long run keeps memory bounded)."""
        stale = {t for t, (seen, _) in self._last_seen.items() if seen < time_s}
        for t in stale:
            del self._last_seen[t]
        self._states = {k: v for k, v in self._states.items() if k[0] not in stale}


def queue_lengths(
    lines: tuple[CountLine, ...],
    xy: F64,
    speed: NDArray[np.floating],
    length: NDArray[np.floating],
    zone_m: float = QUEUE_ZONE_M,
) -> dict[tuple[str, int], float]:
    """Queue per (line, lane) in metres: from the stop line to the rear of the farthest halting
    vehicle inside the zone (``xy`` are the vehicles' front ground points)."""
    queues: dict[tuple[str, int], float] = {}
    for line in lines:
        for k in range(len(line.lanes)):
            queues[(line.name, k)] = 0.0
        if len(xy) == 0:
            continue
        along, lateral = line.local(xy)
        for i in range(len(along)):
            if speed[i] >= HALTING_MPS or not (-zone_m <= along[i] <= 1.0):
                continue
            lane = line.lane_of(float(lateral[i]), 0.0)
            if lane is not None:
                rear = min(-float(along[i]) + float(length[i]), zone_m)
                queues[(line.name, lane)] = max(queues[(line.name, lane)], rear)
    return queues


def zone_occupancy(lines: tuple[CountLine, ...], xy: F64, zone_m: float = QUEUE_ZONE_M) -> dict[str, int]:
    """Vehicles inside each approach's zone (the ``zone_m`` before its stop line)."""
    counts = {}
    for line in lines:
        if len(xy) == 0:
            counts[line.name] = 0
            continue
        along, lateral = line.local(xy)
        inside = [
            (-zone_m <= a <= 0.0) and line.lane_of(float(side), 0.0) is not None
            for a, side in zip(along, lateral, strict=True)
        ]
        counts[line.name] = int(sum(inside))
    return counts


@dataclass(frozen=True, slots=True)
class LaneStats:
    """Tracked vehicles inside one lane's zone: how many, how many halting, their mean speed."""

    vehicles: int = 0
    halting: int = 0
    mean_speed_mps: float | None = None


def lane_stats(
    lines: tuple[CountLine, ...],
    xy: F64,
    speed: NDArray[np.floating],
    zone_m: float = QUEUE_ZONE_M,
) -> dict[tuple[str, int], LaneStats]:
    """Per (line, lane): the vehicles whose ground point lies in the ``zone_m`` before the stop
    line (and up to the band past it), the halting ones (< 1 m/s) and their mean speed."""
    out: dict[tuple[str, int], LaneStats] = {}
    for line in lines:
        members: dict[int, list[float]] = {k: [] for k in range(len(line.lanes))}
        if len(xy):
            along, lateral = line.local(xy)
            for i in range(len(along)):
                if not (-zone_m <= along[i] <= 1.0):
                    continue
                lane = line.lane_of(float(lateral[i]), 0.0)
                if lane is not None:
                    members[lane].append(float(speed[i]))
        for k, speeds in members.items():
            halting = sum(1 for s in speeds if s < HALTING_MPS)
            mean = float(np.mean(speeds)) if speeds else None
            out[(line.name, k)] = LaneStats(len(speeds), halting, mean)
    return out
