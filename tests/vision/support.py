"""Scripted vehicles for the vision tests."""

from __future__ import annotations

import numpy as np

from trafficai.vision.scene import CAR, VehicleView


def vehicles(rows: list[tuple[str, float, float, float, float]], cls: int = CAR) -> VehicleView:
    """Vehicles from (id, x, y, angle, speed) rows, all of class ``cls``."""
    return VehicleView(
        tuple(r[0] for r in rows),
        np.array([[r[1], r[2]] for r in rows], np.float64).reshape(-1, 2),
        np.array([r[3] for r in rows], np.float64),
        np.array([r[4] for r in rows], np.float64),
        np.full(len(rows), cls, np.int64),
    )
