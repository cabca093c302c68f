"""Colour schemes of the network map: values per lane or vehicle -> colour bins (pure numpy).

A scheme has fixed bin edges and one colour per bin, so a colour always means the same value
(the legend shows the edges). Bin -1 means "no value" (an empty lane): drawn in the road colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import LaneGeometry
from trafficai.core.snapshot import LaneArrays, VehicleArrays

RGB = tuple[int, int, int]

# green (good) -> red (bad), ColorBrewer RdYlGn
GOOD_TO_BAD: tuple[RGB, ...] = (
    (26, 152, 80),
    (102, 189, 99),
    (166, 217, 106),
    (254, 224, 139),
    (253, 174, 97),
    (244, 109, 67),
    (215, 48, 39),
)
CATEGORIES: tuple[RGB, ...] = (
    (78, 161, 255),
    (255, 179, 71),
    (190, 120, 255),
    (90, 220, 200),
    (255, 110, 160),
    (200, 200, 90),
    (160, 160, 160),
    (255, 255, 255),
)
ROAD: RGB = (72, 76, 84)
JUNCTION: RGB = (58, 61, 68)  # junction areas: a shade darker than the road, lighter than the ground
# Closed lanes are striped like barrier tape (magenta dashes on black), a blocked lane's marker is
# magenta: no colour scheme uses magenta, so a closure never reads as a speed or a queue. The
# selection is a translucent halo drawn *under* lanes and closures, so it never hides them.
CLOSED: RGB = (255, 0, 255)
CLOSED_GAP: RGB = (0, 0, 0)
SELECTION: RGB = (255, 255, 0)
NO_BIN = -1


@dataclass(frozen=True, slots=True)
class Scheme:
    """``edges`` split values into ``len(edges) + 1`` bins; ``colors`` has one colour per bin."""

    key: str
    label: str
    unit: str
    edges: tuple[float, ...]
    colors: tuple[RGB, ...]

    def __post_init__(self) -> None:
        if self.edges and len(self.colors) != len(self.edges) + 1:
            raise ValueError(f"scheme {self.key}: {len(self.edges) + 1} bins need as many colours")

    @property
    def n_bins(self) -> int:
        return len(self.colors)

    def bins(self, values: NDArray[np.floating], valid: NDArray[np.bool_] | None = None) -> NDArray[np.int32]:
        """Bin of each value; NaN or not ``valid`` -> NO_BIN."""
        out = np.searchsorted(np.asarray(self.edges, dtype=np.float64), values, side="right").astype(np.int32)
        bad = ~np.isfinite(values)
        if valid is not None:
            bad |= ~valid
        out[bad] = NO_BIN
        return out

    def labels(self) -> list[str]:
        """One legend label per bin ("< 5", "5-10", ">= 80")."""
        if not self.edges:
            return []
        fmt = _fmt
        out = [f"< {fmt(self.edges[0])}"]
        out += [f"{fmt(a)}-{fmt(b)}" for a, b in zip(self.edges[:-1], self.edges[1:], strict=True)]
        out.append(f">= {fmt(self.edges[-1])}")
        return out


def _fmt(value: float) -> str:
    return f"{value:g}"


LANE_SCHEMES: dict[str, Scheme] = {
    "speed": Scheme(
        "speed", "Speed", "% of limit", (15.0, 30.0, 45.0, 60.0, 75.0, 90.0), tuple(reversed(GOOD_TO_BAD))
    ),
    "occupancy": Scheme("occupancy", "Occupancy", "%", (2.0, 5.0, 10.0, 20.0, 30.0, 50.0), GOOD_TO_BAD),
    "density": Scheme("density", "Density", "veh/km", (5.0, 10.0, 20.0, 35.0, 50.0, 80.0), GOOD_TO_BAD),
    "waiting": Scheme("waiting", "Total waiting", "s", (1.0, 10.0, 30.0, 60.0, 120.0, 300.0), GOOD_TO_BAD),
    "none": Scheme("none", "Plain", "", (), ()),
}

# vehicles in cool colours (violet = stopped ... white = fast), so they stand out on red/green lanes
SLOW_TO_FAST: tuple[RGB, ...] = (
    (200, 80, 255),
    (130, 120, 255),
    (70, 170, 255),
    (60, 220, 240),
    (170, 245, 255),
    (255, 255, 255),
)
VEHICLE_SPEED = Scheme("speed", "Vehicle speed", "km/h", (5.0, 15.0, 30.0, 45.0, 60.0), SLOW_TO_FAST)

VEHICLE_SCHEMES = ("speed", "type")


def lane_values(
    key: str, lanes: LaneArrays, geometry: LaneGeometry
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The value a lane scheme colours by, and which lanes have one (empty lanes have no speed)."""
    n = len(geometry)
    vehicles = lanes.vehicles.astype(np.float64) if lanes.vehicles.size == n else np.zeros(n)
    occupied = vehicles > 0
    if key == "speed":
        speed = lanes.mean_speed.astype(np.float64) if lanes.mean_speed.size == n else np.full(n, np.nan)
        limit = np.maximum(geometry.max_speeds, 0.1)
        return 100.0 * speed / limit, occupied
    if key == "occupancy":
        occ = lanes.occupancy.astype(np.float64) if lanes.occupancy.size == n else np.full(n, np.nan)
        return 100.0 * occ, occupied
    if key == "density":
        return vehicles / np.maximum(geometry.lengths, 1.0) * 1000.0, occupied
    if key == "waiting":
        waiting = lanes.waiting.astype(np.float64) if lanes.waiting.size == n else np.full(n, np.nan)
        return waiting, waiting > 0
    return np.full(n, np.nan), np.zeros(n, dtype=bool)


def lane_bins(key: str, lanes: LaneArrays, geometry: LaneGeometry) -> NDArray[np.int32]:
    scheme = LANE_SCHEMES[key]
    if not scheme.edges:
        return np.full(len(geometry), NO_BIN, np.int32)
    values, valid = lane_values(key, lanes, geometry)
    return scheme.bins(values, valid)


def vehicle_bins(key: str, vehicles: VehicleArrays) -> NDArray[np.int32]:
    """Colour bin per vehicle: speed bins (km/h) or vehicle type (modulo the category palette)."""
    if key == "type":
        return (vehicles.vtype.astype(np.int32) % len(CATEGORIES)).astype(np.int32)
    return VEHICLE_SPEED.bins(vehicles.speed.astype(np.float64) * 3.6)


def vehicle_colors(key: str) -> tuple[RGB, ...]:
    return CATEGORIES if key == "type" else VEHICLE_SPEED.colors


# signal link state character -> colour (SUMO's meaning of each letter)
SIGNAL_COLORS: dict[str, RGB] = {
    "G": (0, 230, 64),
    "g": (0, 150, 40),
    "y": (255, 220, 0),
    "Y": (255, 220, 0),
    "r": (230, 20, 20),
    "R": (230, 20, 20),
    "u": (255, 130, 0),
    "o": (255, 170, 0),
    "O": (120, 120, 120),
    "s": (170, 0, 200),
}
SIGNAL_UNKNOWN: RGB = (90, 90, 90)


def signal_char_lut() -> tuple[NDArray[np.int32], tuple[RGB, ...]]:
    """Lookup from a state character's byte value to a colour index, and the colours."""
    colors = [*SIGNAL_COLORS.values(), SIGNAL_UNKNOWN]
    lut = np.full(256, len(colors) - 1, np.int32)
    for i, char in enumerate(SIGNAL_COLORS):
        lut[ord(char)] = i
    return lut, tuple(colors)
