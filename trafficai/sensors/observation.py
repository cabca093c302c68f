"""What controllers observe: the simulator's own lane state (``oracle``), the road's detectors
(``loops``) or the cameras (``cameras``), as the lane arrays controllers already read.

Controllers read ``snapshot.lanes`` (vehicles, halting, mean speed, occupancy per lane). An
:class:`LaneObserver` replaces those arrays, in the snapshot handed to a controller only, by what a
sensor source measured; KPIs, bins and the run record keep the simulator's truth.

- ``loops``: the scenario's detectors. A lane with a lane-area detector (E2, SUMO's model of a
  row of loops or a presence radar in the last tens of metres before the stop line) reads its
  vehicles, halting vehicles and speed; a lane with only a stop-line loop (E1) reads one vehicle
  while the loop is occupied (halting when its speed is below 1 m/s); a lane without a detector
  reads empty.
- ``cameras``: :class:`CameraLanes` fuses the latest :class:`CameraCounts` of every camera (from a
  :class:`CameraSource`: the vision pipeline, or a fake in tests). A lane seen by several online
  cameras takes the largest count (each camera only undercounts: occlusion, range). A lane no
  online camera sees (a camera offline, or a lane out of every camera's view, such as an exit
  link's downstream end) falls back on its ``loops`` reading where it has a detector, else reads
  empty (``fallback=False``, cameras only: it always reads empty).

Occupancy is estimated from the vehicles read (``VEHICLE_SPACE_M`` each over the lane's length);
waiting time and emissions are not sensed and read zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import DETECTORS, LaneArrays, Snapshot, frozen
from trafficai.sensors.camera_counts import CameraCounts

ObserveSource = Literal["oracle", "loops", "cameras"]
OBSERVE_SOURCES: tuple[str, ...] = ("oracle", "loops", "cameras")
HALTING_MPS = 1.0
VEHICLE_SPACE_M = 7.5  # SUMO's default 5 m vehicle plus 2.5 m gap
F32 = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class SensedLanes:
    """Per geometry lane: vehicles, halting vehicles, mean speed (NaN: no speed) and whether any
    sensor reported on it."""

    vehicles: F32
    halting: F32
    speed: F32
    seen: NDArray[np.bool_]

    @staticmethod
    def empty(n: int) -> SensedLanes:
        zeros = np.zeros(n, np.float32)
        return SensedLanes(zeros, zeros.copy(), np.full(n, np.nan, np.float32), np.zeros(n, bool))


class LaneObserver(Protocol):
    """A sensor source as controllers see it (the control loop calls it; it knows no vision)."""

    name: str
    needs: frozenset[str]  # snapshot parts it reads at decision time
    needs_vehicles: bool  # it sees every step's vehicles (cameras render them)

    def observe(self, snapshot: Snapshot) -> None:
        """Every simulation step (with vehicles when ``needs_vehicles``)."""

    def sensed(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` with its lane arrays as this source measures them."""


class CameraSource(Protocol):
    """Cameras as a sensor: fed every step's snapshot (with vehicles), returns each camera's
    latest reading (``CameraCounts.offline`` for a camera that is down)."""

    def frames(self, snapshot: Snapshot) -> Sequence[CameraCounts]: ...


def loop_lanes(geometry: NetGeometry, snapshot: Snapshot) -> SensedLanes:
    """The lanes as the scenario's E1/E2 detectors see them (needs the ``detectors`` part)."""
    n = len(geometry.lanes.ids)
    out = SensedLanes.empty(n)
    det = snapshot.detectors
    e1_lanes, e2_lanes = geometry.e1.lanes, geometry.e2.lanes
    if det.e1_occupancy.size == len(e1_lanes):
        for i, lane in enumerate(e1_lanes.tolist()):
            if lane < 0:
                continue
            occupied = float(det.e1_occupancy[i]) > 0.0
            speed = float(det.e1_speed[i])
            out.vehicles[lane] = max(out.vehicles[lane], 1.0 if occupied else 0.0)
            out.halting[lane] = max(out.halting[lane], 1.0 if occupied and 0 <= speed < HALTING_MPS else 0.0)
            out.speed[lane] = speed if speed >= 0 else np.nan
            out.seen[lane] = True
    if det.e2_vehicles.size == len(e2_lanes):
        for i, lane in enumerate(e2_lanes.tolist()):
            if lane < 0:
                continue
            out.vehicles[lane] = float(det.e2_vehicles[i])
            out.halting[lane] = float(det.e2_halting[i])
            speed = float(det.e2_speed[i])
            out.speed[lane] = speed if speed >= 0 else np.nan
            out.seen[lane] = True
    return out


def lane_arrays(geometry: NetGeometry, sensed: SensedLanes) -> LaneArrays:
    """Controllers' lane arrays from sensed values (speed: the lane's limit where none is known,
    as SUMO reports an empty lane)."""
    lengths = np.maximum(np.asarray(geometry.lanes.lengths, np.float64), 1.0)
    limits = np.asarray(geometry.lanes.max_speeds, np.float32)
    vehicles = np.rint(sensed.vehicles).astype(np.int32)
    halting = np.minimum(np.rint(sensed.halting).astype(np.int32), vehicles)
    speed = np.where(np.isfinite(sensed.speed) & (vehicles > 0), sensed.speed, limits).astype(np.float32)
    occupancy = np.clip(vehicles * VEHICLE_SPACE_M / lengths, 0.0, 1.0).astype(np.float32)
    zeros = np.zeros(len(vehicles), np.float32)
    return LaneArrays(
        frozen(vehicles),
        frozen(halting),
        frozen(occupancy),
        frozen(speed),
        frozen(zeros),
        frozen(zeros.copy()),
    )


def with_lanes(snapshot: Snapshot, lanes: LaneArrays) -> Snapshot:
    return replace(snapshot, lanes=lanes)


class LoopObserver:
    """Controllers see the lanes through the scenario's detectors only."""

    name = "loops"
    needs = frozenset({DETECTORS})
    needs_vehicles = False

    def __init__(self, geometry: NetGeometry) -> None:
        self.geometry = geometry

    def observe(self, snapshot: Snapshot) -> None:
        return None

    def sensed(self, snapshot: Snapshot) -> Snapshot:
        return with_lanes(snapshot, lane_arrays(self.geometry, loop_lanes(self.geometry, snapshot)))


class CameraLanes:
    """Fuses camera readings into per-lane values (largest count per lane over online cameras)."""

    def __init__(self, geometry: NetGeometry) -> None:
        self.geometry = geometry
        self.index = {lane: i for i, lane in enumerate(geometry.lanes.ids)}
        self.latest: dict[str, CameraCounts] = {}

    def update(self, readings: Sequence[CameraCounts]) -> None:
        for reading in readings:
            self.latest[reading.camera] = reading

    def offline(self) -> dict[str, str]:
        """Camera id -> reason, for the cameras down now."""
        return {c: r.reason for c, r in sorted(self.latest.items()) if not r.online}

    def lanes(self) -> SensedLanes:
        out = SensedLanes.empty(len(self.geometry.lanes.ids))
        for reading in self.latest.values():
            if not reading.online:
                continue
            for lane_id, vehicles in reading.lane_vehicles.items():
                i = self.index.get(lane_id)
                if i is None or (out.seen[i] and vehicles < out.vehicles[i]):
                    continue
                out.vehicles[i] = vehicles
                out.halting[i] = reading.lane_halting.get(lane_id, 0)
                out.speed[i] = reading.lane_speed_mps.get(lane_id, np.nan)
                out.seen[i] = True
        return out


def fuse(primary: SensedLanes, fallback: SensedLanes) -> SensedLanes:
    """``primary`` where it saw a lane, else ``fallback``."""
    seen = primary.seen
    return SensedLanes(
        np.where(seen, primary.vehicles, fallback.vehicles).astype(np.float32),
        np.where(seen, primary.halting, fallback.halting).astype(np.float32),
        np.where(seen, primary.speed, fallback.speed).astype(np.float32),
        seen | fallback.seen,
    )


class CameraObserver:
    """Controllers see the lanes through the cameras (loops where no online camera sees a lane)."""

    name = "cameras"
    needs = frozenset({DETECTORS})
    needs_vehicles = True

    def __init__(self, geometry: NetGeometry, source: CameraSource, *, fallback: bool = True) -> None:
        self.geometry = geometry
        self.source = source
        self.fallback = fallback  # False: lanes no online camera sees read empty (cameras only)
        self.fusion = CameraLanes(geometry)
        self.needs = frozenset({DETECTORS}) if fallback else frozenset()

    def observe(self, snapshot: Snapshot) -> None:
        self.fusion.update(self.source.frames(snapshot))

    def sensed(self, snapshot: Snapshot) -> Snapshot:
        cameras = self.fusion.lanes()
        sensed = fuse(cameras, loop_lanes(self.geometry, snapshot)) if self.fallback else cameras
        return with_lanes(snapshot, lane_arrays(self.geometry, sensed))
