"""A synthetic one-junction network and snapshots built value by value, for the sensors' rules."""

from __future__ import annotations

import numpy as np

from trafficai.core.geometry import DetectorInfo, LaneGeometry, NetGeometry, SignalInfo, SignalLink
from trafficai.core.signals import Phase, SignalProgram
from trafficai.core.snapshot import (
    DetectorArrays,
    LaneArrays,
    NetworkCounters,
    SignalArrays,
    Snapshot,
    frozen,
)

N_LANES = 8  # lanes 0-3 enter junction C (N, E, S, W), 4-7 leave it


def cross_geometry() -> NetGeometry:
    """Junction 'C' at (0, 0) with 100 m arms; link i lets lane i go straight; loops: 'stop_N' at
    the stop line of lane 0 and 'up_N' 60 m upstream of it, 'stop_S' on lane 2, 'free' on exit lane
    4 (no signal); one lane-area detector 'area_N' on lane 0."""
    ends = {"N": (0.0, 100.0), "E": (100.0, 0.0), "S": (0.0, -100.0), "W": (-100.0, 0.0)}
    ids, edges, shapes = [], [], []
    for arm, (x, y) in ends.items():
        ids.append(f"{arm}_in_0")
        edges.append(f"{arm}_in")
        shapes.append(np.array([[x, y], [x * 0.08, y * 0.08]]))
    for arm, (x, y) in ends.items():
        ids.append(f"C_{arm}_0")
        edges.append(f"C_{arm}")
        shapes.append(np.array([[x * 0.08, y * 0.08], [x, y]]))
    lanes = LaneGeometry(
        tuple(ids), tuple(edges), tuple(shapes), np.full(N_LANES, 92.0), np.full(N_LANES, 13.9)
    )
    program = SignalProgram(
        "0", (Phase("GrGr", 30.0), Phase("yryr", 3.0), Phase("rGrG", 30.0), Phase("ryry", 3.0))
    )
    links = tuple(SignalLink(i, i, (i + 2) % 4 + 4) for i in range(4))
    signal = SignalInfo("C", (0.0, 0.0), links, program, np.array([s[-1] for s in shapes[:4]]))
    e1 = DetectorInfo(
        ("stop_N", "up_N", "stop_S", "free"),
        np.array([0, 0, 2, 4], np.int32),
        np.array([90.0, 30.0, 90.0, 50.0]),
        np.zeros(4),
        np.array([[0.0, 10.0], [0.0, 70.0], [0.0, -10.0], [0.0, 50.0]]),
    )
    e2 = DetectorInfo(
        ("area_N",), np.array([0], np.int32), np.array([90.0]), np.array([60.0]), np.array([[0.0, 40.0]])
    )
    return NetGeometry(lanes, ("C",), np.zeros((1, 2)), (signal,), e1, e2, (-100.0, -100.0, 100.0, 100.0))


def snapshot(
    time_s: float,
    count: list[int],
    occupancy: list[float],
    state: str = "GrGr",
    lane_vehicles: list[int] | None = None,
    lane_halting: list[int] | None = None,
    speed: list[float] | None = None,
    area: tuple[int, int, float, float] = (0, 0, 0.0, -1.0),
    step_length_s: float = 1.0,
) -> Snapshot:
    """A snapshot of ``cross_geometry``: E1 cumulative counts, occupancy (0..1) and speeds per loop,
    the signal state, lane vehicles / halting (omitted: lane counts not read), and the E2
    (vehicles, halting, occupancy, speed)."""

    def f32(values: list[float]) -> np.ndarray:
        return frozen(np.array(values, dtype=np.float32))

    def i32(values: list[int]) -> np.ndarray:
        return frozen(np.array(values, dtype=np.int32))

    n = N_LANES if lane_vehicles is not None else 0
    lanes = LaneArrays(
        vehicles=i32(lane_vehicles or []),
        halting=i32(lane_halting if lane_halting is not None else [0] * n),
        occupancy=f32([0.0] * n),
        mean_speed=f32([0.0] * n),
        waiting=f32([0.0] * n),
        co2_mg_s=f32([0.0] * n),
    )
    detectors = DetectorArrays(
        e1_count=i32(count),
        e1_occupancy=f32(occupancy),
        e1_speed=f32(speed if speed is not None else [-1.0] * len(count)),
        e2_vehicles=i32([area[0]]),
        e2_halting=i32([area[1]]),
        e2_occupancy=f32([area[2]]),
        e2_speed=f32([area[3]]),
    )
    signals = SignalArrays((state,), i32([0]), f32([0.0]))
    step = round(time_s / step_length_s)
    return Snapshot(step, time_s, lanes, signals, detectors, NetworkCounters())


def cycle_state(time_s: float, green_n_s: float = 30.0, red_n_s: float = 30.0) -> str:
    """A fixed cycle for lane N/S (links 0, 2): green for ``green_n_s``, then red for ``red_n_s``."""
    return "GrGr" if time_s % (green_n_s + red_n_s) < green_n_s else "rGrG"
