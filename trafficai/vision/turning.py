"""Turning movements at a stop line: which way a counted vehicle leaves the junction.

A movement is ``left``, ``through``, ``right`` or ``uturn``, from the signed angle between the
approach's travel direction and the exit lane's first segment (left positive). The net's links
say which movements each approach lane serves. A camera's crossing is classified from its lane
when the lane serves one movement; on a shared lane (through + right ...) from the heading of the
track's last observed motion (an approach camera sees the first metres past the stop line, where
a turning vehicle has started to turn), taking the lane's movement nearest that heading.
Ground truth is the vehicle's route: the edge after the approach edge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from trafficai.core.geometry import NetGeometry

MOVES = ("left", "through", "right", "uturn")
NOMINAL_DEG = {"left": 90.0, "through": 0.0, "right": -90.0, "uturn": 180.0}


def turn_class(angle_deg: float) -> str:
    """``angle_deg``: signed turn, left positive, in -180..180."""
    if abs(angle_deg) > 135.0:
        return "uturn"
    if angle_deg > 30.0:
        return "left"
    if angle_deg < -30.0:
        return "right"
    return "through"


def signed_angle(a: tuple[float, float] | np.ndarray, b: tuple[float, float] | np.ndarray) -> float:
    """Angle from direction ``a`` to ``b`` in degrees, counter-clockwise (left) positive."""
    ax, ay = float(a[0]), float(a[1])
    bx, by = float(b[0]), float(b[1])
    return math.degrees(math.atan2(ax * by - ay * bx, ax * bx + ay * by))


def _direction(shape: np.ndarray, end: bool) -> np.ndarray:
    step = shape[-1] - shape[-2] if end else shape[1] - shape[0]
    norm = float(np.hypot(*step)) or 1.0
    out: np.ndarray = step / norm
    return out


class Movements:
    """The movements of every signalised approach: per lane the ones it serves, per (approach,
    exit edge) the movement."""

    def __init__(self, geometry: NetGeometry) -> None:
        self.lane_moves: dict[int, tuple[str, ...]] = {}
        self.exit_move: dict[tuple[str, str], str] = {}
        lanes = geometry.lanes
        for signal in geometry.signals:
            for link in signal.links:
                if link.in_lane < 0 or link.out_lane < 0:
                    continue
                angle = signed_angle(
                    _direction(lanes.shapes[link.in_lane], True),
                    _direction(lanes.shapes[link.out_lane], False),
                )
                move = turn_class(angle)
                served = self.lane_moves.get(link.in_lane, ())
                if move not in served:
                    self.lane_moves[link.in_lane] = (*served, move)
                self.exit_move[(lanes.edges[link.in_lane], lanes.edges[link.out_lane])] = move

    def of_exit(self, approach: str, exit_edge: str) -> str | None:
        return self.exit_move.get((approach, exit_edge))

    def of_crossing(self, lane: int, heading_deg: float | None) -> str | None:
        """The movement of a crossing on geometry lane ``lane``; ``heading_deg``: the track's last
        motion relative to the approach (left positive), None when it was not moving."""
        served = self.lane_moves.get(lane, ())
        if not served:
            return None
        if len(served) == 1 or heading_deg is None:
            return "through" if "through" in served and len(served) > 1 else served[0]
        # a vehicle a few metres into its turn has turned a fraction of it: compare at a third
        return min(served, key=lambda m: abs(NOMINAL_DEG[m] / 3.0 - heading_deg))


def movement_counts(events: list[tuple[str, str]]) -> Mapping[str, int]:
    """``(line, movement)`` events as counts keyed ``line/movement``."""
    counts: dict[str, int] = {}
    for line, move in events:
        counts[f"{line}/{move}"] = counts.get(f"{line}/{move}", 0) + 1
    return counts
