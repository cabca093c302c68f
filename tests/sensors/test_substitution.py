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
