"""What the cameras look at: vehicle classes, their 3D shapes and colours, and vehicle states
between two simulation steps.

SUMO reports a vehicle's position at the middle of its front bumper and its heading in degrees
(0 = north, clockwise). The shipped scenarios use SUMO's default vehicle type only, so a vehicle's
class is read from its type name when that says what it is (``bus``, ``truck`` ...) and otherwise
drawn from a stable hash of its id with a fixed fleet mix: the same vehicle always looks the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.core.snapshot import VehicleArrays
from trafficai.sensors.vehicle_classes import (  # re-exported: the renderer's classes
    BUS,
    CAR,
    CLASS_NAMES,
    FLEET_MIX,
    MOTORCYCLE,
    TRUCK,
    TYPE_WORDS,
    VAN,
    stable_hash,
    vehicle_class,
)

F64 = NDArray[np.float64]
__all__ = ["BUS", "CAR", "CLASS_NAMES", "FLEET_MIX", "MOTORCYCLE", "TRUCK", "TYPE_WORDS", "VAN"]
__all__ += ["SHAPES", "VehicleView", "interpolate", "vehicle_class", "vehicle_colour", "vehicle_view"]


@dataclass(frozen=True, slots=True)
class Part:
    """One box of a vehicle's shape, in metres from the rear bumper (along) and the ground (up)."""

    rear: float
    front: float
    half_width: float
    bottom: float
    top: float
    shade: float  # colour factor against the body colour (windows darker, cargo lighter)


@dataclass(frozen=True, slots=True)
class Shape:
    length: float
    width: float
    height: float
    parts: tuple[Part, ...]


def _car(length: float, width: float, height: float, cabin: tuple[float, float]) -> Shape:
    body_top = height * 0.58
    lo, hi = cabin
    return Shape(
        length,
        width,
        height,
        (
            Part(0.0, length, width / 2, 0.25, body_top, 1.0),
            Part(length * lo, length * hi, width / 2 * 0.88, body_top, height, 0.55),
        ),
    )


# Rendered lengths of trucks and buses are kept near SUMO's default 5 m + 2.5 m gap so that queued
# vehicles do not overlap much (the scenarios give every vehicle the default 5 m length).
SHAPES: dict[int, Shape] = {
    CAR: _car(4.5, 1.8, 1.5, (0.25, 0.75)),
    VAN: _car(5.0, 2.0, 2.3, (0.05, 0.9)),
    TRUCK: Shape(
        7.5,
        2.5,
        3.4,
        (
            Part(0.0, 5.6, 1.25, 0.5, 3.4, 1.25),  # cargo box
            Part(5.8, 7.5, 1.2, 0.4, 2.8, 0.9),  # cab
        ),
    ),
    BUS: Shape(9.0, 2.55, 3.1, (Part(0.0, 9.0, 1.275, 0.3, 2.0, 1.0), Part(0.0, 9.0, 1.275, 2.0, 3.1, 0.5))),
    MOTORCYCLE: Shape(
        2.1, 0.8, 1.5, (Part(0.0, 2.1, 0.35, 0.3, 0.95, 1.0), Part(0.6, 1.3, 0.3, 0.95, 1.55, 0.45))
    ),
}

PALETTE: tuple[tuple[int, int, int], ...] = (  # BGR body colours
    (235, 235, 235),
    (30, 30, 30),
    (150, 150, 150),
    (40, 40, 170),
    (160, 80, 30),
    (60, 120, 60),
    (200, 200, 210),
    (30, 150, 220),
    (90, 60, 40),
    (120, 120, 200),
)
BUS_COLOURS: tuple[tuple[int, int, int], ...] = ((40, 180, 240), (50, 50, 200), (200, 120, 40))
TRUCK_COLOURS: tuple[tuple[int, int, int], ...] = ((230, 230, 230), (50, 90, 170), (160, 160, 160))


def vehicle_colour(vehicle_id: str, cls: int) -> tuple[int, int, int]:
    palette = BUS_COLOURS if cls == BUS else TRUCK_COLOURS if cls == TRUCK else PALETTE
    return palette[stable_hash(vehicle_id, "colour") % len(palette)]


@dataclass(frozen=True, slots=True)
class VehicleView:
    """Vehicles as the renderer needs them: front-bumper position, heading, speed and class."""

    ids: tuple[str, ...]
    xy: F64  # (n, 2) front bumper
    angle: F64  # deg, SUMO convention
    speed: F64  # m/s
    classes: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.ids)

    def centres(self) -> F64:
        """Ground centre (n, 2) of each vehicle's rendered footprint."""
        lengths = np.array([SHAPES[int(c)].length for c in self.classes])
        rad = np.radians(self.angle)
        direction = np.column_stack([np.sin(rad), np.cos(rad)])
        centre: F64 = self.xy - direction * (lengths / 2)[:, None]
        return centre


def vehicle_view(vehicles: VehicleArrays, type_names: tuple[str, ...] = ()) -> VehicleView:
    def type_of(i: int) -> str:
        t = int(vehicles.vtype[i]) if len(vehicles.vtype) > i else -1
        return type_names[t] if 0 <= t < len(type_names) else ""

    classes = np.array([vehicle_class(v, type_of(i)) for i, v in enumerate(vehicles.ids)], np.int64)
    return VehicleView(
        vehicles.ids,
        np.asarray(vehicles.xy, np.float64).reshape(-1, 2),
        np.asarray(vehicles.angle, np.float64),
        np.asarray(vehicles.speed, np.float64),
        classes,
    )


def interpolate(before: VehicleView, after: VehicleView, fraction: float) -> VehicleView:
    """The vehicles at ``fraction`` (0..1) of the way from one step to the next: positions, speeds
    and headings (the short way round) interpolated for vehicles in both; a vehicle in only one
    step is shown while that step is the nearer one."""
    index_after = {v: i for i, v in enumerate(after.ids)}
    keep_ids: list[str] = []
    rows: list[tuple[float, float, float, float, int]] = []
    for i, vid in enumerate(before.ids):
        j = index_after.get(vid)
        if j is None:
            if fraction < 0.5:
                keep_ids.append(vid)
                rows.append((*before.xy[i], before.angle[i], before.speed[i], int(before.classes[i])))
            continue
        turn = (after.angle[j] - before.angle[i] + 180.0) % 360.0 - 180.0
        xy = before.xy[i] + (after.xy[j] - before.xy[i]) * fraction
        speed = before.speed[i] + (after.speed[j] - before.speed[i]) * fraction
        keep_ids.append(vid)
        rows.append(
            (xy[0], xy[1], (before.angle[i] + turn * fraction) % 360.0, speed, int(before.classes[i]))
        )
    if fraction >= 0.5:
        seen = set(before.ids)
        for j, vid in enumerate(after.ids):
            if vid not in seen:
                keep_ids.append(vid)
                rows.append((*after.xy[j], after.angle[j], after.speed[j], int(after.classes[j])))
    table = np.array(rows, np.float64).reshape(-1, 5)
    return VehicleView(
        tuple(keep_ids),
        table[:, :2].copy(),
        table[:, 2].copy(),
        table[:, 3].copy(),
        table[:, 4].astype(np.int64),
    )


def heading_vector(angle_deg: float) -> tuple[float, float]:
    rad = math.radians(angle_deg)
    return math.sin(rad), math.cos(rad)
