"""Readings of loops flagged faulty, substituted for the controllers that read sensor state.

First choice, the loop's *witness*: the E2 area detector of its lane ending at the loop
(``health_rules.area_witness``; every shipped stop-line loop has one). Its flow (vehicles x mean
speed / length, ``health_bias.area_flow``) times the ratio of the loop's count to that flow,
learned while the loop was healthy, is the substituted count; occupancy and speed are the
witness's (``consistency.stand_in``: 1 while a vehicle stands in the area). Measured on
``single`` (docs/benchmarks.md) this is several times closer to the true 5-min counts than the
neighbours' share. Without a witness (or a learned ratio):

A loop's *neighbours* are the other loops of its approach (same incoming edge, so the same
signal groups and the same platoons); IRIS substitutes the average of named neighbours. While a
loop is healthy its share of its neighbours' counts is learned (exponentially weighted); once it
is flagged failed, its count grows by that share of what the neighbours count, and its occupancy
and speed are the neighbours' means. A loop without neighbours (or whose neighbours are failed
too) falls back on its own profile: the count rate it had before it failed. Counts stay
cumulative and never decrease.

:class:`SubstitutingBackend` wraps a backend (above the injected faults) so every snapshot it hands
out, to controllers and bins alike, carries the substituted loops; the run lifecycle tells it
which loops are failed after each health sample. Which readings were substituted is kept so the
recorded bins can flag them (metric ``substituted`` = 1).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import DetectorArrays, Snapshot, frozen
from trafficai.sensors.consistency import stand_in
from trafficai.sensors.health_bias import area_flow, witness_lengths
from trafficai.sensors.health_rules import area_witness
from trafficai.sim.backend import SimBackend

SHARE_TAU_S = 3600.0  # long: a fault before its detection dilutes a short memory
# what a loop reads is learned only this long after it was read, and dropped if the loop is
# flagged failed before then: a fault acts before its detection (chatter's extra counts in the
# minute before it is flagged doubled the learned ratio of a quiet lane), and most are detected
# within 2 minutes (docs/benchmarks.md)
LEARN_LAG_S = 300.0
MIN_WITNESS_VEHICLES = 3.0  # witness flow learned before its ratio is trusted (a quiet lane: a few)
SOURCES = ("auto", "witness", "neighbours", "profile")


def approach_neighbours(geometry: NetGeometry) -> tuple[tuple[int, ...], ...]:
    """Per loop: the other loops on lanes of the same edge."""
    edges = [geometry.lanes.edges[int(lane)] if lane >= 0 else "" for lane in geometry.e1.lanes]
    return tuple(
        tuple(j for j, other in enumerate(edges) if j != i and other == edge and edge)
        for i, edge in enumerate(edges)
    )


@dataclass
class _Pending:
    """One interval's readings, waiting ``LEARN_LAG_S`` before they are learned."""

    time_s: float
    dt: float
    hits: np.ndarray
    flow: np.ndarray
    valid: np.ndarray  # per loop: not flagged failed since


class Substitution:
    """Learns each loop's share of its neighbours and rate; substitutes the failed loops."""

    def __init__(self, geometry: NetGeometry, source: str = "auto") -> None:
        n = len(geometry.e1)
        self.source = source  # auto: witness, else neighbours, else profile
        self.neighbours = approach_neighbours(geometry)
        self.witness = area_witness(geometry)
        self._length = witness_lengths(geometry, self.witness)
        self._flow = np.zeros(n)  # weighted witness flow (healthy time only)
        self._flow_hits = np.zeros(n)  # weighted own hits over the same time
        self.failed = np.zeros(n, dtype=bool)
        self._own = np.zeros(n)  # weighted own hits and neighbours' hits (healthy time only)
        self._theirs = np.zeros(n)
        self._rate_hits = np.zeros(n)
        self._rate_s = np.zeros(n)
        self._last_true: np.ndarray | None = None
        self._last_time: float | None = None
        self._out = np.zeros(n)  # the cumulative counts handed out
        self._pending: deque[_Pending] = deque()
        self.raw: tuple[float, DetectorArrays] | None = None  # the last readings, as the loops gave them

    def unsubstituted(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` with the loops' own readings (health judges those, never its substitutes)."""
        if self.raw is None or self.raw[0] != snapshot.time_s:
            return snapshot
        return replace(snapshot, detectors=self.raw[1])

    def set_failed(self, failed: np.ndarray) -> None:
        self.failed = failed.astype(bool)
        for entry in self._pending:  # what a loop read just before it was flagged is not learned
            entry.valid &= ~self.failed

    def apply(self, det: DetectorArrays, time_s: float) -> DetectorArrays:
        if det.e1_count.size != self.failed.size or self.failed.size == 0:
            return det
        self.raw = (time_s, det)
        counts = det.e1_count.astype(np.float64)
        if self._last_true is None or self._last_time is None or time_s < self._last_time:
            self._last_true, self._last_time, self._out = counts, time_s, counts.copy()
            self._pending.clear()
            return det
        dt = time_s - self._last_time  # 0: the same step read again (the loop, then the bins)
        if dt > 0:
            hits = np.maximum(counts - self._last_true, 0.0)
            flow = self._witness_flow(det, dt)
            self._pending.append(_Pending(time_s, dt, hits, flow, ~self.failed))
            while self._pending and self._pending[0].time_s <= time_s - LEARN_LAG_S:
                entry = self._pending.popleft()
                self._learn(entry.hits, entry.dt, entry.flow, entry.valid & ~self.failed)
            self._out = self._out + np.where(self.failed, self._estimate(hits, dt, flow), hits)
            self._last_true, self._last_time = counts, time_s
        if not self.failed.any():
            return det
        occupancy = det.e1_occupancy.copy()
        speed = det.e1_speed.copy()
        seen = self._uses_witness()
        for i in np.flatnonzero(self.failed & ~seen):
            good = [j for j in self.neighbours[i] if not self.failed[j]]
            occupancy[i] = float(np.mean(det.e1_occupancy[good])) if good else 0.0
            speeds = [float(det.e1_speed[j]) for j in good if det.e1_speed[j] >= 0]
            speed[i] = float(np.mean(speeds)) if speeds else -1.0
        out = replace(
            det,
            e1_count=frozen(np.floor(self._out + 1e-9).astype(det.e1_count.dtype)),
            e1_occupancy=frozen(occupancy),
            e1_speed=frozen(speed),
        )
        return stand_in(out, self.witness, np.flatnonzero(self.failed & seen))

    def _witness_flow(self, det: DetectorArrays, dt: float) -> np.ndarray:
        """Per loop: vehicles through its witness since the last reading (0 without one)."""
        if det.e2_vehicles.size == 0 or det.e2_speed.size == 0 or not (self.witness >= 0).any():
            return np.zeros(self.failed.size)
        j = np.maximum(self.witness, 0)
        vehicles = np.where(self.witness >= 0, det.e2_vehicles[j], np.nan).astype(np.float64)
        return area_flow(dt, vehicles, det.e2_speed[j].astype(np.float64), self._length)

    def _uses_witness(self) -> np.ndarray:
        """Per loop: its substitute comes from its witness (one, with a learned ratio)."""
        learned = (self.witness >= 0) & (self._flow >= MIN_WITNESS_VEHICLES)
        out: np.ndarray = learned & (self.source in ("auto", "witness"))
        return out

    def _learn(self, hits: np.ndarray, dt: float, flow: np.ndarray, healthy: np.ndarray) -> None:
        keep = float(np.exp(-dt / SHARE_TAU_S))
        theirs = np.array([hits[list(nb)].sum() if nb else 0.0 for nb in self.neighbours])
        self._own = np.where(healthy, self._own * keep + hits, self._own)
        self._theirs = np.where(healthy, self._theirs * keep + theirs, self._theirs)
        self._rate_hits = np.where(healthy, self._rate_hits * keep + hits, self._rate_hits)
        self._rate_s = np.where(healthy, self._rate_s * keep + dt, self._rate_s)
        self._flow = np.where(healthy, self._flow * keep + flow, self._flow)
        self._flow_hits = np.where(healthy, self._flow_hits * keep + hits, self._flow_hits)

    def _estimate(self, hits: np.ndarray, dt: float, flow: np.ndarray) -> np.ndarray:
        out = np.zeros_like(hits)
        seen = self._uses_witness()
        for i in np.flatnonzero(self.failed):
            good = [j for j in self.neighbours[i] if not self.failed[j]]
            if seen[i]:
                out[i] = self._flow_hits[i] / self._flow[i] * flow[i]
            elif good and self._theirs[i] > 0 and self.source != "profile":
                out[i] = (
                    self._own[i] / self._theirs[i] * hits[good].sum() * len(self.neighbours[i]) / len(good)
                )
            elif self._rate_s[i] > 0:
                out[i] = self._rate_hits[i] / self._rate_s[i] * dt  # the loop's own profile
        return out


class SubstitutingBackend:
    """A backend whose snapshots carry substituted readings for the loops flagged failed."""

    def __init__(self, backend: SimBackend, source: str = "auto") -> None:
        self._backend = backend
        self.substitution = Substitution(backend.geometry, source)

    def snapshot(self, vehicles: bool = True, parts: frozenset[str] | None = None) -> Snapshot:
        snap = self._backend.snapshot(vehicles) if parts is None else self._backend.snapshot(vehicles, parts)
        det = self.substitution.apply(snap.detectors, snap.time_s)
        return snap if det is snap.detectors else replace(snap, detectors=det)

    def value_reader(self, kind: str, value: str) -> Any:
        if kind == "e1" and self.substitution.failed.any():
            return None  # raw readers would bypass the substitution: read snapshots
        return self._backend.value_reader(kind, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def substituted_ids(backend: object) -> frozenset[str]:
    """The loops whose readings ``backend``'s snapshots carry substituted now (none unless it is a
    :class:`SubstitutingBackend` with failed loops)."""
    substitution = getattr(backend, "substitution", None)
    if not isinstance(substitution, Substitution) or not substitution.failed.any():
        return frozenset()
    ids = getattr(getattr(backend, "geometry", None), "e1", None)
    names = ids.ids if ids is not None else ()
    return frozenset(d for d, failed in zip(names, substitution.failed, strict=False) if failed)
