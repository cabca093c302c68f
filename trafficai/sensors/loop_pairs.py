"""Loop stations for incident detection: upstream/downstream pairs from the net's geometry, and
30 s loop bins as arrays.

A *pair* is one E1 loop (upstream station) and the next loop a vehicle meets downstream of it,
along its own lane or its lane's successors (the net's connections); a loop whose lane splits has
one pair per branch. An incident between the two shows as a queue (occupancy up) at the upstream
loop and a starved downstream loop (occupancy and flow down): the pattern California-type
algorithms test. Bins are arrays indexed like ``geometry.e1`` so every detector is vectorised
over pairs and can be replayed over recorded runs (``runtime/incident_eval.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
MAX_PAIR_GAP_M = 800.0  # loops further apart than this are not a station pair (no evidence between)
LANE_END_M = 30.0  # a loop this close to its lane's end is a stop-line loop
BIN_S = 30.0


@dataclass(frozen=True, slots=True)
class LoopPair:
    """An upstream loop, the next loop downstream, and the lanes between them (both included)."""

    up: int  # index into geometry.e1
    down: int
    up_id: str
    down_id: str
    lanes: tuple[str, ...]
    edges: tuple[str, ...]
    gap_m: float
    xy: tuple[float, float]  # midpoint of the two loops
    up_at_lane_end: bool = False  # the upstream loop is a stop-line loop: the signal sets its occupancy
    no_exit: bool = False  # one lane between the loops, on an edge of one lane: no vehicle can leave it

    @property
    def id(self) -> str:
        return f"{self.up_id}>{self.down_id}"


def loop_pairs(
    geometry: NetGeometry,
    successors: Mapping[str, Sequence[str]],
    loops: Sequence[int] | None = None,
    max_gap_m: float = MAX_PAIR_GAP_M,
) -> tuple[LoopPair, ...]:
    """Every (loop, next loop downstream) pair among ``loops`` (default: every E1 loop)."""
    e1, lanes = geometry.e1, geometry.lanes
    chosen = sorted(set(range(len(e1)) if loops is None else loops))
    by_lane: dict[int, list[int]] = {}
    for i in chosen:
        by_lane.setdefault(int(e1.lanes[i]), []).append(i)
    for members in by_lane.values():
        members.sort(key=lambda i: float(e1.positions[i]))
    index = lanes.index()
    out: list[LoopPair] = []
    for up in chosen:
        lane = int(e1.lanes[up])
        pos = float(e1.positions[up])
        # (lane, metres travelled to the lane's start, path so far, position from which to look)
        stack: list[tuple[int, float, tuple[int, ...], float]] = [(lane, -pos, (lane,), pos)]
        seen: set[int] = set()
        while stack:
            at, start_m, path, after = stack.pop()
            later = [d for d in by_lane.get(at, []) if float(e1.positions[d]) > after + 1e-6]
            if later:
                down = later[0]
                gap = start_m + float(e1.positions[down])
                if gap <= max_gap_m:
                    out.append(_pair(geometry, up, down, path, gap))
                continue
            end_m = start_m + float(lanes.lengths[at])
            if end_m > max_gap_m:
                continue
            for name in successors.get(lanes.ids[at], ()):
                nxt = index.get(name)
                if nxt is not None and nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, end_m, (*path, nxt), -1.0))
    return tuple(out)


def _pair(geometry: NetGeometry, up: int, down: int, path: tuple[int, ...], gap: float) -> LoopPair:
    e1, lanes = geometry.e1, geometry.lanes
    mid = (e1.xy[up] + e1.xy[down]) / 2
    names = tuple(lanes.ids[i] for i in path)
    edges = tuple(dict.fromkeys(lanes.edges[i] for i in path))
    at_end = float(lanes.lengths[int(e1.lanes[up])]) - float(e1.positions[up]) < LANE_END_M
    no_exit = len(path) == 1 and sum(1 for e in lanes.edges if e == lanes.edges[path[0]]) == 1
    return LoopPair(
        up,
        down,
        e1.ids[up],
        e1.ids[down],
        names,
        edges,
        gap,
        (float(mid[0]), float(mid[1])),
        at_end,
        no_exit,
    )


@dataclass(frozen=True, slots=True)
class LoopBin:
    """One bin of every E1 loop: mean occupancy (0..1), mean speed (m/s, NaN where no vehicle
    gave one) and vehicles counted."""

    end_s: float
    occupancy: F64
    speed: F64
    count: F64


class LoopBinner:
    """30 s bins of every loop from sampled snapshots (``sample`` returns a bin when one closes)."""

    def __init__(self, n_loops: int, bin_s: float = BIN_S) -> None:
        self.n, self.bin_s = n_loops, bin_s
        self._start_s: float | None = None
        self._reset()
        self._count_start: I64 | None = None

    def _reset(self) -> None:
        self._occ = np.zeros(self.n)
        self._speed = np.zeros(self.n)
        self._speed_n = np.zeros(self.n)
        self._samples = 0

    def sample(self, snapshot: Snapshot) -> LoopBin | None:
        det = snapshot.detectors
        if det.e1_occupancy.size != self.n or self.n == 0:
            return None
        counts = det.e1_count.astype(np.int64)
        if self._start_s is None or self._count_start is None:
            self._start_s, self._count_start = snapshot.time_s, counts
        out = None
        if snapshot.time_s - self._start_s >= self.bin_s - 1e-6 and self._samples:
            n = self._samples
            speed = np.where(self._speed_n > 0, self._speed / np.maximum(self._speed_n, 1), np.nan)
            count = (counts - self._count_start).astype(np.float64)
            out = LoopBin(snapshot.time_s, self._occ / n, speed, count)
            self._start_s, self._count_start = snapshot.time_s, counts
            self._reset()
        speeds = det.e1_speed.astype(np.float64)
        has = speeds >= 0
        self._occ += det.e1_occupancy
        self._speed[has] += speeds[has]
        self._speed_n += has
        self._samples += 1
        return out
