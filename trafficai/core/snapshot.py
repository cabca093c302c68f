"""Immutable per-step state of a simulation, as numpy arrays.

A snapshot is produced by a simulation backend from subscription results, once per published step.
Arrays are read-only; index arrays refer to the static :class:`~trafficai.core.geometry.NetGeometry`
(lane ``i`` of ``LaneArrays`` is ``geometry.lanes.ids[i]``), so nothing per-step carries strings
except the vehicle ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
I32 = NDArray[np.int32]

# What a snapshot can hold besides signals and counters; reading only what a consumer needs keeps
# a controller that decides every few seconds close to bare SUMO speed. Parts not read are empty.
LANE_COUNTS = "lane_counts"  # LaneArrays.vehicles, .halting
LANE_FLOW = "lane_flow"  # LaneArrays.occupancy, .mean_speed
LANE_EMISSIONS = "lane_emissions"  # LaneArrays.waiting, .co2_mg_s
DETECTORS = "detectors"  # DetectorArrays
ALL_PARTS = frozenset({LANE_COUNTS, LANE_FLOW, LANE_EMISSIONS, DETECTORS})


A = TypeVar("A", bound=np.ndarray)  # type: ignore[type-arg]


def frozen(array: A) -> A:
    """Mark an array read-only and return it (snapshots never change after publication)."""
    array.setflags(write=False)
    return array


def _empty_f32(n: int = 0) -> F32:
    return frozen(np.zeros(n, dtype=np.float32))


def _empty_i32(n: int = 0) -> I32:
    return frozen(np.zeros(n, dtype=np.int32))


@dataclass(frozen=True, slots=True)
class VehicleArrays:
    """Every vehicle on the network. ``lane`` indexes geometry lanes (-1: internal/junction lane)."""

    ids: tuple[str, ...] = ()
    xy: F32 = field(default_factory=lambda: frozen(np.zeros((0, 2), np.float32)))
    angle: F32 = field(default_factory=_empty_f32)  # degrees, SUMO convention: 0 = north, clockwise
    speed: F32 = field(default_factory=_empty_f32)  # m/s
    lane: I32 = field(default_factory=_empty_i32)
    vtype: I32 = field(default_factory=_empty_i32)  # index into Snapshot.vehicle_types
    waiting: F32 = field(default_factory=_empty_f32)  # s, current continuous waiting time
    time_loss: F32 = field(default_factory=_empty_f32)  # s, accumulated since departure

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class LaneArrays:
    """Per-lane state aligned with ``geometry.lanes``."""

    vehicles: I32
    halting: I32
    occupancy: F32  # 0..1
    mean_speed: F32  # m/s (lane max speed when empty, as SUMO reports)
    waiting: F32  # s, summed waiting time of the lane's vehicles
    co2_mg_s: F32  # mg/s, summed emissions of the lane's vehicles


@dataclass(frozen=True, slots=True)
class SignalArrays:
    """Per-signal state aligned with ``geometry.signals``."""

    state: tuple[str, ...]
    phase: I32  # index in the running SUMO program (meaningful while SUMO runs its own program)
    time_in_phase: F32  # s since the current state string began


@dataclass(frozen=True, slots=True)
class DetectorArrays:
    """Induction loops (E1) and lane-area detectors (E2), aligned with ``geometry.e1`` / ``geometry.e2``.

    E1 values refer to the last simulation step, E2 values to the current jam state.
    """

    e1_count: I32  # vehicles counted since the start (cumulative, never decreasing)
    e1_occupancy: F32  # 0..1 during the last step
    e1_speed: F32  # m/s of vehicles that passed (-1: none)
    e2_vehicles: I32  # vehicles on the detector now
    e2_halting: I32  # halting vehicles on the detector now
    e2_occupancy: F32  # 0..1
    e2_speed: F32  # m/s (-1: none)


@dataclass(frozen=True, slots=True)
class NetworkCounters:
    """Network-wide counters of the step (from simulation subscriptions)."""

    running: int = 0
    departed_total: int = 0
    arrived_total: int = 0
    pending: int = 0  # loaded but not yet inserted (waiting to depart)
    teleports_total: int = 0
    collisions_total: int = 0
    arrived_step: int = 0
    departed_step: int = 0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """All state of one simulation step. ``vehicles`` is empty when vehicle subscriptions are off."""

    step: int
    time_s: float
    lanes: LaneArrays
    signals: SignalArrays
    detectors: DetectorArrays
    counters: NetworkCounters
    vehicles: VehicleArrays = field(default_factory=VehicleArrays)
    vehicle_types: tuple[str, ...] = ()
    parts: frozenset[str] = ALL_PARTS  # which optional parts were read (the others are empty)
