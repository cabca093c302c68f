"""Detector health from the live readings, after IRIS's auto-fail rules scaled to simulated time.

Induction loops: *locked on* (occupancy ~100 % for 2 minutes) fails a loop; *no hits* (no vehicle
counted for 15 minutes while its lane carried traffic) makes it suspect. Pure numpy; no Qt.
"""

from __future__ import annotations

import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot

LOCKED_ON_S = 120.0
NO_HITS_S = 900.0


class DetectorHealth:
    def __init__(self, geometry: NetGeometry) -> None:
        self.n_e1 = len(geometry.e1)
        self.n_e2 = len(geometry.e2)
        self.e1_lane = np.asarray(geometry.e1.lanes, dtype=np.int64)
        self.states = ["ok"] * (self.n_e1 + self.n_e2)
        self.reasons = [""] * (self.n_e1 + self.n_e2)
        self._count = np.full(self.n_e1, -1, np.int64)
        self._changed = np.zeros(self.n_e1)
        self._traffic_after_change = np.zeros(self.n_e1, dtype=bool)
        self._locked_since = np.full(self.n_e1, np.nan)

    def update(self, snapshot: Snapshot) -> list[tuple[int, str, str]]:
        """Feed one snapshot; returns the detectors whose state changed: (index, state, reason)."""
        det = snapshot.detectors
        if det.e1_count.size != self.n_e1 or self.n_e1 == 0:
            return []
        t = snapshot.time_s
        count = det.e1_count.astype(np.int64)
        first = self._count < 0
        moved = (count != self._count) | first
        self._changed[moved] = t
        self._traffic_after_change[moved] = False
        self._count = count
        if snapshot.lanes.vehicles.size:
            lanes_ok = self.e1_lane >= 0
            busy = np.zeros(self.n_e1, dtype=bool)
            busy[lanes_ok] = snapshot.lanes.vehicles[self.e1_lane[lanes_ok]] > 0
            self._traffic_after_change |= busy & ~moved
        locked = det.e1_occupancy >= 0.99
        self._locked_since[~locked] = np.nan
        start = locked & np.isnan(self._locked_since)
        self._locked_since[start] = t
        changes: list[tuple[int, str, str]] = []
        for i in range(self.n_e1):
            if locked[i] and t - self._locked_since[i] >= LOCKED_ON_S:
                state, reason = "failed", f"locked on (occupancy 100 % for {t - self._locked_since[i]:.0f} s)"
            elif self._traffic_after_change[i] and t - self._changed[i] >= NO_HITS_S:
                state, reason = (
                    "suspect",
                    f"no hits for {t - self._changed[i]:.0f} s while its lane carried traffic",
                )
            else:
                state, reason = "ok", ""
            if state != self.states[i]:
                self.states[i] = state
                self.reasons[i] = reason
                changes.append((i, state, reason))
        return changes
