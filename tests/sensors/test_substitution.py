"""Substitution: a failed loop's count follows its learned share of its approach neighbours."""

from __future__ import annotations

import numpy as np

from trafficai.core.snapshot import DetectorArrays, frozen
from trafficai.sensors.substitution import Substitution, approach_neighbours

from .fakes import cross_geometry


def arrays(counts: list[int], occupancy: list[float]) -> DetectorArrays:
    def f(v: list[float]) -> np.ndarray:
        return frozen(np.array(v, dtype=np.float32))

    return DetectorArrays(
        frozen(np.array(counts, dtype=np.int32)),
        f(occupancy),
        f([-1.0] * 4),
        frozen(np.zeros(1, np.int32)),
        frozen(np.zeros(1, np.int32)),
        f([0.0]),
        f([-1.0]),
    )


def test_neighbours_are_the_loops_of_the_same_edge() -> None:
    assert approach_neighbours(cross_geometry()) == ((1,), (0,), (), ())


def test_a_failed_loop_counts_its_share_of_its_neighbour_and_the_profile_without_one() -> None:
    sub = Substitution(cross_geometry())
    # stop_N counts half of up_N; stop_S 1 per 10 s (its profile)
    for t in range(0, 600, 10):
        sub.apply(arrays([t // 20, t // 10, t // 10, 0], [0.0] * 4), float(t))
    sub.set_failed(np.array([True, False, True, False]))
    before = sub.apply(arrays([29, 60, 60, 0], [0.0, 0.5, 0.0, 0.0]), 600.0)
    after = sub.apply(arrays([29, 120, 60, 0], [0.0, 0.5, 0.0, 0.0]), 1200.0)  # both stuck
    grown = int(after.e1_count[0]) - int(before.e1_count[0])
    assert 25 <= grown <= 35  # half of up_N's 60
    assert 50 <= int(after.e1_count[2]) - int(before.e1_count[2]) <= 70  # 0.1 veh/s for 600 s
    assert after.e1_occupancy[0] == np.float32(0.5)  # the neighbour's occupancy
    assert int(after.e1_count[1]) == 120  # healthy loops are untouched


def witness_arrays(
    counts: list[int], area_vehicles: int, area_speed: float, halting: int = 0
) -> DetectorArrays:
    """Readings with stop_N's witness ``area_N`` holding ``area_vehicles`` at ``area_speed``."""

    def f(v: list[float]) -> np.ndarray:
        return frozen(np.array(v, dtype=np.float32))

    return DetectorArrays(
        frozen(np.array(counts, dtype=np.int32)),
        f([0.1] * 4),
        f([5.0] * 4),
        frozen(np.array([area_vehicles], np.int32)),
        frozen(np.array([halting], np.int32)),
        f([0.3]),
        f([area_speed]),
    )


def test_a_failed_loop_with_a_witness_counts_its_learned_ratio_of_the_witness_flow() -> None:
    sub = Substitution(cross_geometry())
    # area_N (60 m): 2 vehicles at 6 m/s = 1 vehicle per 5 s through it; stop_N counts 0.8 of that
    for t in range(0, 1200, 5):
        sub.apply(witness_arrays([int(t / 5 * 0.8), t // 10, t // 10, 0], 2, 6.0), float(t))
    sub.set_failed(np.array([True, False, False, False]))
    before = sub.apply(witness_arrays([191, 120, 120, 0], 2, 6.0), 1200.0)
    t, after = 1200, before
    while t < 1800:
        t += 5
        after = sub.apply(witness_arrays([191, t // 10, t // 10, 0], 2, 12.0, halting=1), float(t))
    grown = int(after.e1_count[0]) - int(before.e1_count[0])
    assert 185 <= grown <= 200  # 0.8 x 2 per 5 s over 600 s (the witness flow doubled): 192
    assert after.e1_occupancy[0] == np.float32(1.0)  # a vehicle stands in the area: over the loop
    assert after.e1_speed[0] == np.float32(12.0)


def test_the_neighbours_source_ignores_the_witness() -> None:
    sub = Substitution(cross_geometry(), source="neighbours")
    for t in range(0, 1200, 5):
        sub.apply(witness_arrays([t // 20, t // 10, t // 10, 0], 2, 6.0), float(t))
    sub.set_failed(np.array([True, False, False, False]))
    before = sub.apply(witness_arrays([60, 120, 120, 0], 2, 6.0), 1200.0)
    after = sub.apply(witness_arrays([60, 180, 180, 0], 2, 60.0), 1800.0)
    assert 25 <= int(after.e1_count[0]) - int(before.e1_count[0]) <= 35  # half of up_N's 60
