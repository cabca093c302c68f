"""Detector health after IRIS ATMS's auto-fail rules, judged on simulated time.

Rules for induction loops (E1), thresholds from IRIS (docs: shared reference "anchors"):

- **Locked on** (IRIS: 100 % occupancy for 2 min) fails a loop. A vehicle standing at a red sits on a
  stop-line loop for the whole red, and a queue can stand over any loop while its lane is blocked, so
  only time in which traffic over the loop *could* move counts: its lane's signal shows green (or is
  dark, or the lane has no signal) and the lane is not one standing queue (some vehicle on it moves,
  or it is empty). The loop must read full occupancy in every sample until that time reaches 2 min;
  a sample below full occupancy clears it.
- **Chatter** (IRIS: >= 38 vehicles in 30 s) fails a loop; a later 30 s window below that clears it.
- **No hits** (IRIS: no vehicle for hours; scaled to simulated scenarios of about an hour: 15 min)
  makes a loop *suspect* when it counted nothing during 15 min in which vehicles moved on its lane
  (a lane that carries no traffic or one standing queue is no evidence). Any count clears it.

IRIS's "no change" (24 h) and "occupancy spike" (rules on 30 s occupancy averages, which one-step
loop occupancy jumping 0 -> 100 % with every vehicle would trip) are not applied. Lane-area
detectors (E2) have no rule yet: a queue covering one is normal, and they always read "ok".

Evidence accumulates over simulated time between samples, never per sample, so the sampling rate
does not matter. Two samples more than ``max_gap_s`` apart (a jump, a paused frame stream, a restart)
reset the evidence windows: what happened in between is unknown, not silence. A state set before a
gap stays until a sample contradicts it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.config import FaultSection, HealthSection
from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.errors import TrafficAIError
from trafficai.sensors.bin_health import LoopEvidence
from trafficai.sensors.camera_witness import CameraLaneCounts
from trafficai.sensors.cameras import CameraSpec
from trafficai.sensors.health_camera_bias import CameraBiasTest

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Mask = NDArray[np.bool_]

OK, SUSPECT, FAILED = "ok", "suspect", "failed"
LOCKED_ON_S = 120.0
LOCKED_OCCUPANCY = 0.99  # "100 %": SUMO's one-step occupancy of a vehicle covering the loop
CHATTER_VEHICLES = 38
CHATTER_WINDOW_S = 30.0
NO_HITS_S = 900.0
MAX_GAP_S = 30.0
# signal state characters under which vehicles may cross the stop line (SUMO: G/g green, s green
# after a stop, o/O signal dark); r/R, y/Y and u hold traffic
MOVING_SIGNAL = frozenset("GgsoO")


MARKED_FAILED = "marked failed by"  # how a failure set by an operator's mark reads


@dataclass(frozen=True, slots=True)
class DetectorHealth:
    """One detector's state (ok | suspect | failed), why, and since when (simulated seconds)."""

    state: str = OK
    reason: str = ""
    since_s: float = 0.0


IN_SERVICE = DetectorHealth()  # shared: a frame's many healthy detectors pickle as one object


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A detector's new health and who set it ("system": judged by the rules)."""

    detector: str
    health: DetectorHealth
    user: str = "system"


# -- pure rules (vectorised over loops) ------------------------------------------------------------


def is_gap(dt_s: float, max_gap_s: float = MAX_GAP_S) -> bool:
    """Whether two samples ``dt_s`` apart leave the time between unobserved (or time ran back)."""
    return dt_s < 0.0 or dt_s > max_gap_s


def locked_on_seconds(previous_s: F64, dt_s: float, full: Mask, was_full: Mask, could_move: Mask) -> F64:
    """Time a loop has read full occupancy while traffic over it could move. An interval counts
    when the loop was full at both its ends; any sample below full occupancy starts again at 0."""
    grown = previous_s + np.where(was_full & could_move, dt_s, 0.0)
    return np.where(full, grown, 0.0)


def no_hit_seconds(previous_s: F64, dt_s: float, hits: I64, lane_moving: Mask) -> F64:
    """Time with vehicles moving on a loop's lane and nothing counted; a count starts again at 0."""
    grown = previous_s + np.where(lane_moving, dt_s, 0.0)
    return np.where(hits > 0, 0.0, grown)


def chatter_rate(vehicles: I64, window_s: float) -> NDArray[np.float64]:
    """Vehicles per ``CHATTER_WINDOW_S`` counted in a window of ``window_s``."""
    return vehicles.astype(np.float64) * (CHATTER_WINDOW_S / max(window_s, 1e-9))


def judge(locked: bool, chatter: bool, quiet: bool) -> str:
    """The state a loop's standing conditions give: a failure outranks a suspicion."""
    if locked or chatter:
        return FAILED
    return SUSPECT if quiet else OK


def could_move(
    n_loops: int, loop_links: tuple[tuple[int, int, tuple[int, ...]], ...], states: tuple[str, ...]
) -> Mask:
    """Per loop: its lane's signal lets traffic go (loops on lanes without a signal: always)."""
    out = np.ones(n_loops, dtype=bool)
    for loop, signal, links in loop_links:
        state = states[signal] if signal < len(states) else ""
        out[loop] = any(k < len(state) and state[k] in MOVING_SIGNAL for k in links)
    return out


# -- the monitor ------------------------------------------------------------------------------------


def _loop_links(geometry: NetGeometry) -> tuple[tuple[int, int, tuple[int, ...]], ...]:
    """(loop, signal index, link indices leaving the loop's lane) for every loop on a signalised lane."""
    by_lane: dict[int, tuple[int, tuple[int, ...]]] = {}
    for s, info in enumerate(geometry.signals):
        for lane in {link.in_lane for link in info.links if link.in_lane >= 0}:
            by_lane[lane] = (s, tuple(link.index for link in info.links if link.in_lane == lane))
    out = []
    for i, lane in enumerate(geometry.e1.lanes):
        if int(lane) in by_lane:
            signal, links = by_lane[int(lane)]
            out.append((i, signal, links))
    return tuple(out)


class DetectorHealthMonitor:
    """Judges every detector from sampled snapshots; ``observe`` returns one event per transition
    (kind "detector": alarm when a detector fails, warning when it becomes suspect, info when it is
    back to normal). Feed it the snapshots of one run in time order, with detectors read.

    An operator can :meth:`mark` a detector failed (it then reads "failed", reason "marked failed
    by <user>", whatever the rules find) or back in service (its evidence starts again). Every change
    is also kept in :attr:`changes` until its owner takes it (for the run record).

    ``cameras``: the scenario's cameras; the stop-line loops of the lanes they cover are judged for
    count bias against the camera's count of their lane (``health_camera_bias``; needs the
    snapshots' vehicles, :attr:`wants_vehicles`, best at every step: :meth:`watch_vehicles`), with
    ``faults`` on those cameras acting on their counts (``begin_s``: the scenario's begin)."""

    def __init__(
        self,
        geometry: NetGeometry,
        max_gap_s: float = MAX_GAP_S,
        limits: HealthSection | None = None,
        cameras: Sequence[CameraSpec] = (),
        faults: Sequence[FaultSection] = (),
        begin_s: float = 0.0,
    ) -> None:
        self.geometry = geometry
        self.max_gap_s = max_gap_s
        self.limits = limits or HealthSection()
        self.evidence = LoopEvidence(geometry, self.limits)
        n = len(geometry.e1)
        self.cameras: CameraLaneCounts | None = None
        if cameras and self.limits.bias_camera:
            counts = CameraLaneCounts(geometry, cameras, faults, begin_s)
            if counts.lanes.covered.any():
                self.cameras = counts
                self.evidence.camera_bias = CameraBiasTest(counts.lanes, self.limits)
        self._crossings = np.zeros(n)  # camera crossings per loop since the last sample
        self._vehicles_s: float | None = None  # time of the last snapshot the cameras looked at
        self._n = n
        self._lanes = np.asarray(geometry.e1.lanes, dtype=np.int64)
        self._loop_links = _loop_links(geometry)
        for loop, _signal, _links in self._loop_links:
            self.evidence.free_flow[loop] = False
        self._health = {det_id: IN_SERVICE for det_id in (*geometry.e1.ids, *geometry.e2.ids)}
        self._loop_index = {det_id: i for i, det_id in enumerate(geometry.e1.ids)}
        self._marked: set[str] = set()
        self.changes: list[HealthChange] = []
        self._time_s: float | None = None
        self._count = np.zeros(n, np.int64)
        self._full = np.zeros(n, dtype=bool)
        self._locked_s = np.zeros(n)
        self._quiet_s = np.zeros(n)
        self._window_s = 0.0
        self._window_count = np.zeros(n, np.int64)
        self._locked = np.zeros(n, dtype=bool)
        self._chatter = np.zeros(n, dtype=bool)
        self._quiet = np.zeros(n, dtype=bool)
        self._why: dict[str, list[str]] = {"locked": [""] * n, "chatter": [""] * n, "quiet": [""] * n}

    def states(self) -> dict[str, DetectorHealth]:
        """Every detector (E1 then E2 ids, in geometry order) and its current health."""
        return dict(self._health)

    @property
    def wants_vehicles(self) -> bool:
        """Whether cameras count loops' lanes: the snapshots it sees must carry the vehicles."""
        return self.cameras is not None

    def watch_vehicles(self, snapshot: Snapshot) -> None:
        """A snapshot with vehicles between two samples: the cameras count the crossings in it (a
        camera sees continuously; at 5-s samples a vehicle can drive past a short approach unseen)."""
        cameras = self.cameras
        if cameras is None:
            return
        t = float(snapshot.time_s)
        if self._vehicles_s is not None and t <= self._vehicles_s:
            return  # seen already
        dt = t - self._vehicles_s if self._vehicles_s is not None else 0.0
        self._crossings += cameras.sample(snapshot, dt)
        self._vehicles_s = t

    def set_camera_health(self, states: Mapping[str, DetectorHealth]) -> None:
        """Camera health's verdicts (camera id -> health): a camera is a witness only while ok."""
        camera = self.evidence.camera_bias
        if camera is not None:
            camera.set_camera_health({c: h.state == OK for c, h in states.items()})

    def update_faults(self, faults: Sequence[FaultSection]) -> None:
        """The run's faults from now on (injected live): those on cameras act on their counts."""
        if self.cameras is not None:
            self.cameras.update_faults(faults)

    def mark(self, detector: str, in_service: bool, time_s: float, user: str = "", reason: str = "") -> Event:
        """An operator marks ``detector`` failed or back in service; the event that logs it."""
        old = self._health.get(detector)
        if old is None:
            raise TrafficAIError(f"unknown detector {detector!r}")
        who = user or "operator"
        why = f": {reason.strip()}" if reason.strip() else ""
        what = "loop" if detector in self._loop_index else "area detector"
        if in_service:
            if detector not in self._marked and old.state == OK:
                raise TrafficAIError(f"detector {detector} is in service already")
            self._marked.discard(detector)
            self._forget_evidence(detector)
            health, severity = DetectorHealth(OK, "", time_s), "info"
            message = f"back in service (marked by {who}){why}"
        else:
            self._marked.add(detector)
            health, severity = DetectorHealth(FAILED, f"{MARKED_FAILED} {who}{why}", time_s), "warning"
            message = health.reason
        self._health[detector] = health
        self.changes.append(HealthChange(detector, health, user))
        return Event(time_s, severity, "detector", f"{what} {detector}: {message}", detector, user)

    def _forget_evidence(self, detector: str) -> None:
        """A detector back in service is judged afresh: its standing conditions and time end."""
        i = self._loop_index.get(detector)
        if i is None:
            return
        for array in (self._locked_s, self._quiet_s):
            array[i] = 0.0
        for standing in (self._locked, self._chatter, self._quiet):
            standing[i] = False
        self.evidence.forget(i)

    def observe(self, snapshot: Snapshot) -> list[Event]:
        det = snapshot.detectors
        if self._n == 0 or det.e1_count.size != self._n or det.e1_occupancy.size != self._n:
            return []  # no loop readings in this snapshot: no evidence either way
        t = float(snapshot.time_s)
        count = det.e1_count.astype(np.int64)
        full = det.e1_occupancy >= LOCKED_OCCUPANCY
        self.watch_vehicles(snapshot)
        if self._time_s is None or t == self._time_s:
            if self._time_s is None:
                self._start_window(t, count, full)
            return []
        dt = t - self._time_s
        hits = count - self._count
        if is_gap(dt, self.max_gap_s) or (hits < 0).any():
            self._clear_contradicted(full, np.maximum(hits, 0), np.zeros(self._n, dtype=bool))
            self._start_window(t, count, full)
            self.evidence.reset()
            if self.cameras is not None:
                self.cameras.reset()
            return self._transitions(t)
        moving = could_move(self._n, self._loop_links, snapshot.signals.state)
        lane_moving, lane_standing = self._lane_traffic(snapshot)
        self._observe_evidence(snapshot, t, dt, hits, moving)
        self._locked_s = locked_on_seconds(self._locked_s, dt, full, self._full, moving & ~lane_standing)
        self._quiet_s = no_hit_seconds(self._quiet_s, dt, hits, lane_moving)
        self._window_s += dt
        self._window_count += hits
        window_done = self._window_s >= CHATTER_WINDOW_S
        self._clear_contradicted(full, hits, window_done)
        self._raise_conditions(window_done)
        self._time_s, self._count, self._full = t, count, full
        if window_done:
            self._window_s, self._window_count = 0.0, np.zeros(self._n, np.int64)
        return self._transitions(t)

    def _observe_evidence(self, snapshot: Snapshot, t: float, dt: float, hits: I64, moving: Mask) -> None:
        det = snapshot.detectors
        witness = self.evidence.witness
        has = (witness >= 0) & (det.e2_vehicles.size == len(self.geometry.e2))
        idx = np.where(has, witness, 0)
        nan = np.full(self._n, np.nan)
        vehicles = np.where(has, det.e2_vehicles[idx], nan) if det.e2_vehicles.size else nan
        halting = np.where(has, det.e2_halting[idx], nan) if det.e2_halting.size else nan
        speed_e2 = np.where(has, det.e2_speed[idx], nan) if det.e2_speed.size else nan
        healthy = np.array([self._health[d].state == OK for d in self.geometry.e1.ids], dtype=bool)
        occupancy = det.e1_occupancy.astype(np.float64)
        speed = det.e1_speed.astype(np.float64)
        crossings = self._crossings if self.cameras is not None else None
        self.evidence.sample(
            t, dt, hits, occupancy, speed, moving, vehicles, halting, healthy, speed_e2, crossings
        )
        self._crossings = np.zeros(self._n)

    def _start_window(self, t: float, count: I64, full: Mask) -> None:
        self._time_s, self._count, self._full = t, count, full
        self._crossings = np.zeros(self._n)  # crossings before the window are not the loops' hits
        self._locked_s = np.zeros(self._n)
        self._quiet_s = np.zeros(self._n)
        self._window_s, self._window_count = 0.0, np.zeros(self._n, np.int64)

    def _lane_traffic(self, snapshot: Snapshot) -> tuple[Mask, Mask]:
        """Per loop: some vehicle moves on its lane; its lane holds vehicles that all stand."""
        lanes = snapshot.lanes
        none = np.zeros(self._n, dtype=bool)
        if lanes.vehicles.size == 0 or lanes.halting.size == 0:
            return none, none  # lane counts not read: no evidence of traffic, nor of a queue
        known = self._lanes >= 0
        idx = np.where(known, self._lanes, 0)
        vehicles, halting = lanes.vehicles[idx], lanes.halting[idx]
        return known & (halting < vehicles), known & (vehicles > 0) & (halting >= vehicles)

    def _clear_contradicted(self, full: Mask, hits: I64, window_done: bool | Mask) -> None:
        """Drop standing conditions a sample contradicts (a free loop, a count, a calm window)."""
        self._locked &= full
        self._quiet &= hits <= 0
        if np.any(window_done):
            calm = chatter_rate(self._window_count, self._window_s) < self.limits.chatter_per_30s
            self._chatter &= ~calm

    def _raise_conditions(self, window_done: bool) -> None:
        locked = (self._locked_s >= self.limits.locked_on_s) & ~self._locked
        for i in np.flatnonzero(locked):
            self._why["locked"][i] = f"locked on (occupancy 100 % for {self._locked_s[i]:.0f} s of green)"
        self._locked |= locked
        if window_done:
            rate = chatter_rate(self._window_count, self._window_s)
            chatter = (rate >= self.limits.chatter_per_30s) & ~self._chatter
            for i in np.flatnonzero(chatter):
                self._why["chatter"][i] = (
                    f"chatter ({self._window_count[i]} vehicles in {self._window_s:.0f} s)"
                )
            self._chatter |= chatter
        quiet = (self._quiet_s >= self.limits.no_hits_s) & ~self._quiet
        for i in np.flatnonzero(quiet):
            self._why["quiet"][i] = f"no hits for {self._quiet_s[i]:.0f} s while vehicles moved on its lane"
        self._quiet |= quiet

    def _reason(self, i: int) -> str:
        """Why loop ``i`` is not ok: its failure, or else its suspicion."""
        for condition, standing in (("locked", self._locked), ("chatter", self._chatter)):
            if standing[i]:
                return self._why[condition][i]
        if self.evidence.failed[i] or not self._quiet[i]:
            return self.evidence.reason(i)
        return self._why["quiet"][i]

    def _transitions(self, t: float) -> list[Event]:
        events: list[Event] = []
        failed, suspect = self.evidence.failed, self.evidence.suspect
        for i, det_id in enumerate(self.geometry.e1.ids):
            locked, quiet = bool(self._locked[i] or failed[i]), bool(self._quiet[i] or suspect[i])
            state = judge(locked, bool(self._chatter[i]), quiet)
            old = self._health[det_id]
            if state == old.state or det_id in self._marked:
                continue  # unchanged, or an operator's mark stands until it is lifted
            reason = self._reason(i) if state != OK else ""
            self._health[det_id] = DetectorHealth(state, reason, t)
            self.changes.append(HealthChange(det_id, self._health[det_id]))
            severity = {FAILED: "alarm", SUSPECT: "warning"}.get(state, "info")
            message = f"loop {det_id}: {reason or 'back to normal'}"
            events.append(Event(t, severity, "detector", message, det_id, "system"))
        return events
