"""Lane aggregates computed from the vehicle arrays of a snapshot (pure, vectorised).

When every vehicle is subscribed anyway, this replaces six SUMO calls per lane per step with a few
``bincount`` calls. Counts, halting (speed < 0.1 m/s, SUMO's threshold), mean speed and waiting
time equal SUMO's lane values; occupancy counts each vehicle's length on its front lane only
(SUMO also counts the rear of a vehicle reaching back onto a previous lane).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import LaneGeometry
from trafficai.core.snapshot import LaneArrays, VehicleArrays, frozen

HALTING_SPEED_MPS = 0.1


def lanes_from_vehicles(
    vehicles: VehicleArrays, lanes: LaneGeometry, type_lengths: NDArray[np.float64]
) -> LaneArrays:
    n = len(lanes)
    on_lane = vehicles.lane >= 0
    idx = vehicles.lane[on_lane]
    speed = vehicles.speed[on_lane].astype(np.float64)
    count = np.bincount(idx, minlength=n)
    halting = np.bincount(idx, weights=(speed < HALTING_SPEED_MPS).astype(np.float64), minlength=n)
    speed_sum = np.bincount(idx, weights=speed, minlength=n)
    waiting = np.bincount(idx, weights=vehicles.waiting[on_lane].astype(np.float64), minlength=n)
    length = type_lengths[vehicles.vtype[on_lane]] if type_lengths.size else np.full(idx.size, 5.0)
    occupied = np.bincount(idx, weights=length, minlength=n)
    mean_speed = np.where(count > 0, speed_sum / np.maximum(count, 1), lanes.max_speeds)
    return LaneArrays(
        vehicles=frozen(count.astype(np.int32)),
        halting=frozen(halting.astype(np.int32)),
        occupancy=frozen(np.minimum(occupied / lanes.lengths, 1.0).astype(np.float32)),
        mean_speed=frozen(mean_speed.astype(np.float32)),
        waiting=frozen(waiting.astype(np.float32)),
        co2_mg_s=frozen(np.zeros(0, np.float32)),
    )
