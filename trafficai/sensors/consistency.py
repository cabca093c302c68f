"""Cross-detector consistency: a stop-line loop's word against the area detector ending at it.

A compromised loop can lie plausibly to the IRIS-style health rules (a steady occupancy, a steady
count, a believable speed: ``spoofing`` in ``faults.py``), but it cannot make the E2 area detector
of its lane (``health_rules.area_witness``) agree. Two contradictions, judged as shares of time
(exponentially weighted, time constant ``TAU_S``) so a single odd step proves nothing:

- *phantom*: the loop reads occupied (> ``PHANTOM_OCCUPANCY``) while the area detector, which
  covers the loop, holds no vehicle at all — an inflated queue;
- *hidden*: the area detector holds ``HIDDEN_HALTING`` or more standing vehicles while the loop
  reads almost empty (< ``HIDDEN_OCCUPANCY``) — a queue hidden from the controller. The queue's
  front vehicle stands over the stop-line loop, so a true loop reads it.

A loop whose contradiction share passes ``DISTRUST_SHARE`` over at least ``MIN_EVIDENCE_S`` of
evidence is *distrusted* until its share falls back below half that (hysteresis). E1 occupancy
refers to the last step and E2 to the current state, so a vehicle that just left the area detector
makes one phantom sample: the share, not the sample, decides.

:class:`WitnessStandIn` wraps a backend (right above the injected faults) and *quarantines* a loop
for the rest of the run once it is distrusted (or flagged by the health rules: :meth:`quarantine`):
a device caught lying is not trusted again until an operator returns it to service. A quarantined
loop's occupancy and speed, for every consumer, are its witness's: occupancy 1 while the area
detector holds a standing vehicle (the queue's front stands over the stop-line loop), else the
area detector's occupancy. A loop without a witness is left as it reads; who uses this falls back
on the signal's own plan for it instead (``runtime/attack_eval.py``).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import DetectorArrays, Snapshot, frozen
from trafficai.sensors.health_rules import area_witness
from trafficai.sim.backend import SimBackend

F64 = NDArray[np.float64]
Mask = NDArray[np.bool_]

TAU_S = 120.0
PHANTOM_OCCUPANCY = 0.1
HIDDEN_OCCUPANCY = 0.2
HIDDEN_HALTING = 2
DISTRUST_SHARE = 0.6
MIN_EVIDENCE_S = 30.0


def contradictions(
    loop_occupancy: F64, area_vehicles: F64, area_halting: F64, has_witness: Mask
) -> tuple[Mask, Mask, Mask, Mask]:
    """Per loop: (phantom evidence possible, phantom seen, hidden evidence possible, hidden seen)."""
    empty_area = has_witness & (area_vehicles == 0)
    queued_area = has_witness & (area_halting >= HIDDEN_HALTING)
    return (
        empty_area,
        empty_area & (loop_occupancy > PHANTOM_OCCUPANCY),
        queued_area,
        queued_area & (loop_occupancy < HIDDEN_OCCUPANCY),
    )


class CrossCheck:
    """Per loop, the weighted share of time it contradicted its area detector; who is distrusted."""

    def __init__(self, geometry: NetGeometry) -> None:
        self.ids = geometry.e1.ids
        self.witness = area_witness(geometry)
        n = len(self.ids)
        self._seen = np.zeros((2, n))  # phantom, hidden: weighted seconds contradicted
        self._possible = np.zeros((2, n))  # weighted seconds in which it could be judged
        self.distrusted = np.zeros(n, dtype=bool)
        self._last_s: float | None = None

    def observe(self, snapshot: Snapshot) -> Mask:
        """Judge one sample of the loops' own readings; the distrusted loops after it."""
        det = snapshot.detectors
        if det.e1_occupancy.size != len(self.ids) or not len(self.ids):
            return self.distrusted
        dt = 0.0 if self._last_s is None else max(0.0, snapshot.time_s - self._last_s)
        self._last_s = snapshot.time_s
        has = self.witness >= 0
        j = np.maximum(self.witness, 0)
        zeros = np.zeros(len(self.ids))
        vehicles = det.e2_vehicles[j].astype(np.float64) if det.e2_vehicles.size else zeros
        halting = det.e2_halting[j].astype(np.float64) if det.e2_halting.size else zeros
        phantom_ok, phantom, hidden_ok, hidden = contradictions(
            det.e1_occupancy.astype(np.float64), vehicles, halting, has & bool(det.e2_vehicles.size)
        )
        keep = math.exp(-dt / TAU_S)
        self._possible = self._possible * keep + dt * np.stack([phantom_ok, hidden_ok])
        self._seen = self._seen * keep + dt * np.stack([phantom, hidden])
        share = np.divide(self._seen, self._possible, out=np.zeros_like(self._seen), where=self._possible > 0)
        judged = self._possible >= MIN_EVIDENCE_S
        worst = np.where(judged, share, 0.0).max(axis=0)
        self.distrusted = np.where(self.distrusted, worst >= DISTRUST_SHARE / 2, worst >= DISTRUST_SHARE)
        return self.distrusted


def stand_in(det: DetectorArrays, witness: NDArray[np.int64], loops: NDArray[np.int64]) -> DetectorArrays:
    """``det`` with the occupancy and speed of ``loops`` (each with a witness) taken from their witness."""
    if not loops.size or not det.e2_vehicles.size:
        return det
    occupancy = det.e1_occupancy.copy()
    speed = det.e1_speed.copy()
    j = witness[loops]
    occupancy[loops] = np.where(det.e2_halting[j] > 0, 1.0, det.e2_occupancy[j])
    speed[loops] = det.e2_speed[j]
    return replace(det, e1_occupancy=frozen(occupancy), e1_speed=frozen(speed))


class WitnessStandIn:
    """A backend whose snapshots carry the witnesses' word for the quarantined loops."""

    def __init__(self, backend: SimBackend) -> None:
        self._backend = backend
        self.check = CrossCheck(backend.geometry)
        self.quarantined = np.zeros(len(backend.geometry.e1), dtype=bool)
        self._judged_s: float | None = None

    def quarantine(self, loops: Mask) -> None:
        self.quarantined = self.quarantined | loops

    def snapshot(self, vehicles: bool = True, parts: frozenset[str] | None = None) -> Snapshot:
        snap = self._backend.snapshot(vehicles) if parts is None else self._backend.snapshot(vehicles, parts)
        if snap.detectors.e1_occupancy.size != self.quarantined.size:
            return snap
        if snap.time_s != self._judged_s:  # judge the loops' own word once per step
            self._judged_s = snap.time_s
            self.quarantine(self.check.observe(snap))
        loops = np.flatnonzero(self.quarantined & (self.check.witness >= 0))
        det = stand_in(snap.detectors, self.check.witness, loops)
        return snap if det is snap.detectors else replace(snap, detectors=det)

    def value_reader(self, kind: str, value: str) -> Any:
        if kind == "e1" and self.quarantined.any():
            return None  # raw readers would bypass the stand-in: read snapshots
        return self._backend.value_reader(kind, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)
