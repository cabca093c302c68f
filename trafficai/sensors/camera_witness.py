"""A camera's count of each lane's stop-line crossings: the count-bias test's witness for the
stop-line loops of the approaches a scenario camera covers (docs/health.md, *count bias*).

A camera that sees an approach's whole stop line (``camera_truth.covered_lanes``: every lane's
stop-line end in view) counts every vehicle that crosses it, by lane, independently of the loops.
The counts here are the perfect camera's (``camera_truth``), per lane rather than per approach: a
vehicle seen on a covered lane is *pending* on the last covered lane it was seen on; when it is next
seen on one of the edges the junction's links lead to from that approach it has crossed, and counts
once for that lane's stop-line loop. A vehicle that changed lanes between its last sample on the
approach and the stop line shows up on an exit that lane does not serve; it counts for the nearest
lane of the approach that does serve it (the lane it must have crossed on). Why per lane and not
per approach: an approach's sum judges a loop diluted by its lane's share (a +30 % bias on a lane
carrying a fifth of the approach is +6 % of the sum, inside the approach ratio's drift) and cannot
say which loop is biased; the per-lane count is the loop's own count from another sensor.

Injected camera faults (``sensors.camera_faults``) act on these counts as on the camera's bins:
``blackout``: nothing crossed; ``frozen``: the camera repeats what it saw before the onset (its
crossings of the last ``FROZEN_WINDOW_S`` as a rate). Whether a camera is *healthy* is camera
health's verdict on its bins (``sensors.camera_health``), handed in by the run
(``DetectorHealthMonitor.set_camera_health``); the count-bias test uses a camera only while it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trafficai.config import FaultSection
from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.sensors.camera_truth import covered_lanes
from trafficai.sensors.cameras import CameraSpec
from trafficai.sensors.health_rules import F64, I64
from trafficai.sensors.readings import approaches

FROZEN_WINDOW_S = 30.0  # a frozen camera repeats its bin: the crossings of this window before the onset


@dataclass(frozen=True, slots=True)
class CameraLanes:
    """Which camera counts which stop-line loop's lane (indices into ``geometry.e1``)."""

    cameras: tuple[str, ...]  # camera ids
    loop_camera: I64  # per loop: index into ``cameras``, -1 where no camera covers its lane
    lane_loop: I64  # per geometry lane: its stop-line loop if a camera covers the lane, else -1
    lane_approach: tuple[str, ...]  # per geometry lane: its approach edge if covered, else ""
    lane_exits: tuple[frozenset[str], ...]  # per geometry lane: the exit edges its links lead to
    approach_lanes: dict[str, tuple[int, ...]]  # covered approach edge -> its lanes, right to left

    @property
    def covered(self) -> np.ndarray:
        """Per loop: a camera counts its lane."""
        return self.loop_camera >= 0


def camera_lanes(geometry: NetGeometry, cameras: Sequence[CameraSpec]) -> CameraLanes:
    """The stop-line loops of the lanes ``cameras`` cover (the first camera wins where two do)."""
    n_lanes = len(geometry.lanes.ids)
    loop_camera = np.full(len(geometry.e1), -1, np.int64)
    lane_loop = np.full(n_lanes, -1, np.int64)
    lane_approach = [""] * n_lanes
    exits: list[set[str]] = [set() for _ in range(n_lanes)]
    for signal in geometry.signals:
        for link in signal.links:
            if link.in_lane >= 0 and link.out_lane >= 0:
                exits[link.in_lane].add(geometry.lanes.edges[link.out_lane])
    stop_line = {
        lane: loop for a in approaches(geometry) for lane, loop in _lane_loops(geometry, a.stop_line_loops)
    }
    by_approach: dict[str, list[int]] = {}
    for c, camera in enumerate(cameras):
        for lane, edge in covered_lanes(geometry, camera).items():
            loop = stop_line.get(lane, -1)
            if lane_approach[lane] or loop < 0:
                continue  # another camera counts it already, or no loop to judge on it
            lane_approach[lane], lane_loop[lane], loop_camera[loop] = edge, loop, c
            by_approach.setdefault(edge, []).append(lane)
    return CameraLanes(
        cameras=tuple(c.id for c in cameras),
        loop_camera=loop_camera,
        lane_loop=lane_loop,
        lane_approach=tuple(lane_approach),
        lane_exits=tuple(frozenset(e) for e in exits),
        approach_lanes={edge: tuple(sorted(lanes)) for edge, lanes in by_approach.items()},
    )


def _lane_loops(geometry: NetGeometry, loops: tuple[int, ...]) -> list[tuple[int, int]]:
    return [(int(geometry.e1.lanes[i]), int(i)) for i in loops]


def crossing_lane(lanes: CameraLanes, last_lane: int, exit_edge: str) -> int:
    """The lane a vehicle last seen on ``last_lane`` crossed the stop line on, now that it is on
    ``exit_edge``: its own if that lane leads there, else the nearest lane of its approach that does;
    -1 if no lane of the approach leads there (it left the approach some other way: not a crossing)."""
    if exit_edge in lanes.lane_exits[last_lane]:
        return last_lane
    siblings = lanes.approach_lanes.get(lanes.lane_approach[last_lane], ())
    serving = [lane for lane in siblings if exit_edge in lanes.lane_exits[lane]]
    return min(serving, key=lambda lane: abs(lane - last_lane)) if serving else -1


def faulty_crossings(kind: str, true: F64, frozen_rate: F64, dt_s: float) -> F64:
    """What a camera with fault ``kind`` counts in ``dt_s`` (``true``: what it saw; ``frozen_rate``:
    its crossings per second before the onset). Pure."""
    if kind == "blackout":
        return np.zeros_like(true)
    if kind == "frozen":
        out: F64 = frozen_rate * dt_s
        return out
    return true


class CameraLaneCounts:
    """Per loop: the vehicles its camera saw cross its lane's stop line since the last sample."""

    def __init__(
        self,
        geometry: NetGeometry,
        cameras: Sequence[CameraSpec],
        faults: Sequence[FaultSection] = (),
        begin_s: float = 0.0,
    ) -> None:
        self.lanes = camera_lanes(geometry, cameras)
        self.edges = geometry.lanes.edges
        self.n = len(geometry.e1)
        self.begin_s = begin_s
        self.faults: tuple[tuple[int, FaultSection], ...] = ()
        self.update_faults(faults)
        self._pending: dict[str, int] = {}  # vehicle id -> the covered lane it was last seen on
        self._counted: dict[str, str] = {}  # vehicle id -> approach: past its count line, still on it
        ends = np.zeros((len(geometry.lanes.ids), 2))
        self.line_m = np.zeros(len(geometry.lanes.ids))  # per lane: count line, m before its end
        for lane in np.flatnonzero(self.lanes.lane_loop >= 0).tolist():
            shape = np.asarray(geometry.lanes.shapes[lane], dtype=np.float64)
            ends[lane] = shape[-1]
            length = float(np.hypot(*np.diff(shape, axis=0).T).sum())
            self.line_m[lane] = max(0.0, length - float(geometry.e1.positions[self.lanes.lane_loop[lane]]))
        self.stop_xy = ends
        self._window = np.zeros(self.n)  # crossings in the current FROZEN_WINDOW_S ...
        self._window_s = 0.0
        self._last_window = np.zeros(self.n)  # ... and in the one before
        self._frozen: dict[int, F64] = {}  # per fault position: the frozen camera's rate

    def update_faults(self, faults: Sequence[FaultSection]) -> None:
        """The run's faults from now on: those on the counting cameras act on the counts."""
        ids = set(self.lanes.cameras)
        self.faults = tuple((n, f) for n, f in enumerate(faults) if f.device in ids)

    def reset(self) -> None:
        """Forget pending vehicles (a gap in the samples: crossings in it went unseen)."""
        self._pending.clear()
        self._counted.clear()

    def sample(self, snapshot: Snapshot, dt_s: float) -> F64:
        """Crossings per loop since the previous sample (0 for loops no camera counts); needs the
        snapshot's vehicles."""
        true = self._true_crossings(snapshot)
        self._window += true
        self._window_s += dt_s
        if self._window_s >= FROZEN_WINDOW_S:
            self._last_window, self._window, self._window_s = self._window, np.zeros(self.n), 0.0
        return self._with_faults(true, float(snapshot.time_s) - self.begin_s, dt_s)

    def _true_crossings(self, snapshot: Snapshot) -> F64:
        out = np.zeros(self.n)
        vehicles, lanes = snapshot.vehicles, self.lanes
        lane_of = vehicles.lane
        index = dict(zip(vehicles.ids, range(len(vehicles.ids)), strict=True))  # built in C, every step
        for vid, approach in list(self._counted.items()):
            i = index.get(vid)
            if i is None or (lane_of[i] >= 0 and self.edges[int(lane_of[i])] != approach):
                del self._counted[vid]  # off the approach it was counted on
        for vid, last in list(self._pending.items()):
            i = index.get(vid)
            if i is None:
                del self._pending[vid]  # left the network
                continue
            lane = int(lane_of[i])
            if lane >= 0 and self.edges[lane] == lanes.lane_approach[last]:
                continue  # still on the approach (its lane is updated below)
            del self._pending[vid]  # crossed between two samples without being seen past the line
            crossed = last if lane < 0 else crossing_lane(lanes, last, self.edges[lane])
            if crossed >= 0:
                out[lanes.lane_loop[crossed]] += 1.0
        if len(vehicles):
            on = np.flatnonzero((lane_of >= 0) & (lanes.lane_loop[np.maximum(lane_of, 0)] >= 0))
            if on.size:
                on_lane = lane_of[on].astype(np.int64)
                past = np.hypot(*(vehicles.xy[on] - self.stop_xy[on_lane]).T) <= self.line_m[on_lane]
                for i, ln, over in zip(on.tolist(), on_lane.tolist(), past.tolist(), strict=True):
                    self._on_approach(vehicles.ids[i], ln, over, out)
        return out

    def _on_approach(self, vid: str, lane: int, past_line: bool, out: F64) -> None:
        """A vehicle on covered lane ``lane``: counted once its front is past the lane's count line
        (at the loop), else pending on that lane."""
        if vid in self._counted:
            return
        if past_line:
            self._pending.pop(vid, None)
            self._counted[vid] = self.lanes.lane_approach[lane]
            out[self.lanes.lane_loop[lane]] += 1.0
        else:
            self._pending[vid] = lane

    def _with_faults(self, true: F64, elapsed_s: float, dt_s: float) -> F64:
        out = true
        for n, fault in self.faults:
            if not fault.active(elapsed_s):
                self._frozen.pop(n, None)
                continue
            rate = self._frozen.setdefault(n, self._last_window / FROZEN_WINDOW_S)
            mine = self.lanes.loop_camera == self.lanes.cameras.index(fault.device)
            out = np.where(mine, faulty_crossings(fault.kind, out, rate, dt_s), out)
        return out
