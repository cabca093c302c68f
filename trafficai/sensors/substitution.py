"""Readings of loops flagged faulty, substituted for the controllers that read sensor state.

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

from dataclasses import replace
from typing import Any

import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import DetectorArrays, Snapshot, frozen
from trafficai.sim.backend import SimBackend

SHARE_TAU_S = 3600.0  # long: a fault before its detection dilutes a short memory


def approach_neighbours(geometry: NetGeometry) -> tuple[tuple[int, ...], ...]:
    """Per loop: the other loops on lanes of the same edge."""
    edges = [geometry.lanes.edges[int(lane)] if lane >= 0 else "" for lane in geometry.e1.lanes]
    return tuple(
        tuple(j for j, other in enumerate(edges) if j != i and other == edge and edge)
        for i, edge in enumerate(edges)
    )


class Substitution:
    """Learns each loop's share of its neighbours and rate; substitutes the failed loops."""

    def __init__(self, geometry: NetGeometry) -> None:
        n = len(geometry.e1)
        self.neighbours = approach_neighbours(geometry)
        self.failed = np.zeros(n, dtype=bool)
        self._own = np.zeros(n)  # weighted own hits and neighbours' hits (healthy time only)
        self._theirs = np.zeros(n)
        self._rate_hits = np.zeros(n)
        self._rate_s = np.zeros(n)
        self._last_true: np.ndarray | None = None
        self._last_time: float | None = None
        self._out = np.zeros(n)  # the cumulative counts handed out
        self.raw: tuple[float, DetectorArrays] | None = None  # the last readings, as the loops gave them

    def unsubstituted(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` with the loops' own readings (health judges those, never its substitutes)."""
        if self.raw is None or self.raw[0] != snapshot.time_s:
            return snapshot
        return replace(snapshot, detectors=self.raw[1])

    def set_failed(self, failed: np.ndarray) -> None:
        self.failed = failed.astype(bool)

    def apply(self, det: DetectorArrays, time_s: float) -> DetectorArrays:
        if det.e1_count.size != self.failed.size or self.failed.size == 0:
            return det
        self.raw = (time_s, det)
        counts = det.e1_count.astype(np.float64)
        if self._last_true is None or self._last_time is None or time_s < self._last_time:
            self._last_true, self._last_time, self._out = counts, time_s, counts.copy()
            return det
        dt = time_s - self._last_time  # 0: the same step read again (the loop, then the bins)
        if dt > 0:
            hits = np.maximum(counts - self._last_true, 0.0)
            self._learn(hits, dt)
            self._out = self._out + np.where(self.failed, self._estimate(hits, dt), hits)
            self._last_true, self._last_time = counts, time_s
        if not self.failed.any():
            return det
        occupancy = det.e1_occupancy.copy()
        speed = det.e1_speed.copy()
        for i in np.flatnonzero(self.failed):
            good = [j for j in self.neighbours[i] if not self.failed[j]]
            occupancy[i] = float(np.mean(det.e1_occupancy[good])) if good else 0.0
            speeds = [float(det.e1_speed[j]) for j in good if det.e1_speed[j] >= 0]
            speed[i] = float(np.mean(speeds)) if speeds else -1.0
        return replace(
            det,
            e1_count=frozen(np.floor(self._out + 1e-9).astype(det.e1_count.dtype)),
            e1_occupancy=frozen(occupancy),
            e1_speed=frozen(speed),
        )

    def _learn(self, hits: np.ndarray, dt: float) -> None:
        keep = float(np.exp(-dt / SHARE_TAU_S))
        theirs = np.array([hits[list(nb)].sum() if nb else 0.0 for nb in self.neighbours])
        healthy = ~self.failed
        self._own = np.where(healthy, self._own * keep + hits, self._own)
        self._theirs = np.where(healthy, self._theirs * keep + theirs, self._theirs)
        self._rate_hits = np.where(healthy, self._rate_hits * keep + hits, self._rate_hits)
        self._rate_s = np.where(healthy, self._rate_s * keep + dt, self._rate_s)

    def _estimate(self, hits: np.ndarray, dt: float) -> np.ndarray:
        out = np.zeros_like(hits)
        for i in np.flatnonzero(self.failed):
            good = [j for j in self.neighbours[i] if not self.failed[j]]
            if good and self._theirs[i] > 0:
                out[i] = (
                    self._own[i] / self._theirs[i] * hits[good].sum() * len(self.neighbours[i]) / len(good)
                )
            elif self._rate_s[i] > 0:
                out[i] = self._rate_hits[i] / self._rate_s[i] * dt  # the loop's own profile
        return out


class SubstitutingBackend:
    """A backend whose snapshots carry substituted readings for the loops flagged failed."""

    def __init__(self, backend: SimBackend) -> None:
        self._backend = backend
        self.substitution = Substitution(backend.geometry)

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
