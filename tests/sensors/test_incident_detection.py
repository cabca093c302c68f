"""Incident detectors on scripted occupancy series: California #8's states (tentative, confirmed,
compression-wave suppression), the fixed threshold, the baseline detector, and the loop pairs."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.sensors.fakes import cross_geometry
from trafficai.sensors.incident_detection import (
    BaselineAnomaly,
    California8,
    FixedThreshold,
    FlowBalance,
    HeldVehicles,
    fit_held_bounds,
)
from trafficai.sensors.loop_pairs import LoopBin, LoopPair, loop_pairs

PAIR = LoopPair(0, 1, "up", "down", ("a_0", "b_0"), ("a", "b"), 300.0, (0.0, 0.0))


def series(up: list[float], down: list[float], speed_up: float = 10.0) -> list[LoopBin]:
    return [
        LoopBin(30.0 * (k + 1), np.array([u, d]), np.array([speed_up, 10.0]), np.array([5.0, 5.0]))
        for k, (u, d) in enumerate(zip(up, down, strict=True))
    ]


def alarms_of(
    detector: California8 | FixedThreshold | BaselineAnomaly | FlowBalance | HeldVehicles,
    bins: list[LoopBin],
) -> list[float]:
    return [a.time_s for b in bins for a in detector.update(b)]


def test_california8_confirms_a_persistent_incident_once() -> None:
    # free flow, then the upstream station fills while the downstream one empties
    up = [0.1] * 8 + [0.5] * 8
    down = [0.2] * 8 + [0.02] * 8
    times = alarms_of(California8([PAIR]), series(up, down))
    assert len(times) == 1
    # tentative at the first interval whose one-minute occupancy passes all three tests (bin 9 is
    # half-changed: OCCDF 0.19, OCCRDF 0.63, DOCCTD 0.45), confirmed one persistence interval later
    assert times[0] == 30.0 * 10


def test_california8_needs_persistence() -> None:
    # a 30 s blip passes the one-minute tests for two intervals: tentative, then one interval of
    # persistence, then it fails; three intervals of persistence are never reached
    up = [0.1] * 8 + [0.5] + [0.1] * 7
    down = [0.2] * 8 + [0.02] + [0.2] * 7
    assert alarms_of(California8([PAIR], persistence=3), series(up, down)) == []
    assert len(alarms_of(California8([PAIR], persistence=1), series(up, down))) == 1


def test_california8_compression_wave_suppresses_five_minutes() -> None:
    # the same incident pattern, once alone and once two minutes after a sharp occupancy rise at
    # the downstream station (a compression wave): the wave suppresses the incident tests
    up = [0.1] * 14 + [0.6] * 12
    alone = [0.2] * 14 + [0.02] * 12
    after_wave = [0.2] * 8 + [0.7, 0.7] + [0.2] * 4 + [0.02] * 12
    assert len(alarms_of(California8([PAIR]), series(up, alone))) == 1
    assert alarms_of(California8([PAIR]), series(up, after_wave)) == []


def test_california8_ignores_general_congestion() -> None:
    up = [0.1] * 8 + [0.5] * 8
    down = [0.1] * 8 + [0.5] * 8  # both stations congest: no spatial difference
    assert alarms_of(California8([PAIR]), series(up, down)) == []


def test_fixed_threshold_needs_stopped_traffic() -> None:
    up = [0.1] * 4 + [0.9] * 6
    moving = alarms_of(FixedThreshold([PAIR]), series(up, [0.1] * 10, speed_up=10.0))
    stopped = alarms_of(FixedThreshold([PAIR]), series(up, [0.1] * 10, speed_up=0.5))
    assert moving == [] and len(stopped) == 1


def test_baseline_judges_a_loop_against_itself() -> None:
    rng = np.random.default_rng(1)
    # a loop that is always half-covered (a red queue) is normal for itself
    busy = list(0.5 + rng.normal(0, 0.03, 40))
    assert alarms_of(BaselineAnomaly([PAIR], window=1), series(busy, [0.1] * 40)) == []
    # a quiet loop that fills up while its downstream loop starves is an incident
    quiet = list(0.05 + rng.normal(0, 0.01, 20)) + [0.95] * 10
    times = alarms_of(BaselineAnomaly([PAIR], window=1), series(quiet, [0.1] * 20 + [0.0] * 10))
    assert times == [30.0 * 22]  # persistence: the second bin of the queue


def test_baseline_ignores_a_queue_spilling_back_from_downstream() -> None:
    quiet = [0.05] * 20 + [0.95] * 10
    down = [0.1] * 20 + [0.9] * 10  # downstream congested too: not an incident between them
    assert alarms_of(BaselineAnomaly([PAIR], window=1), series(quiet, down)) == []


def counted(up: list[float], down: list[float], occ_down: float = 0.05) -> list[LoopBin]:
    return [
        LoopBin(30.0 * (k + 1), np.array([0.05, occ_down]), np.array([10.0, 10.0]), np.array([u, d]))
        for k, (u, d) in enumerate(zip(up, down, strict=True))
    ]


def test_flow_balance_lets_a_signal_store_and_release_vehicles() -> None:
    # 6 vehicles per bin in; out in pulses (red: none, green: 12): the balance comes back each cycle
    up = [6.0] * 60
    down = [0.0 if k % 2 else 12.0 for k in range(60)]
    assert alarms_of(FlowBalance([PAIR], min_missing=8.0, drift=1.0, z=99.0), counted(up, down)) == []


def test_flow_balance_accumulates_the_vehicles_a_blocked_lane_swallows() -> None:
    up = [6.0] * 40
    down = [6.0] * 20 + [1.0] * 20  # blocked from bin 21 on: 5 vehicles go missing every bin
    detector = FlowBalance([PAIR], min_missing=7.0, drift=1.0, z=99.0)
    assert alarms_of(detector, counted(up, down)) == [30.0 * 22]  # 4 missing, then 7.8: the second bin
    # a queue of its own over the downstream loop: it counts nothing because it is covered
    covered = FlowBalance([PAIR], min_missing=8.0, drift=1.0, z=99.0)
    assert alarms_of(covered, counted(up, down, occ_down=0.6)) == []


LANE = LoopPair(0, 1, "up", "down", ("a_0",), ("a",), 100.0, (0.0, 0.0), no_exit=True)


def sparse(blocked_from: int, bins: int = 60) -> tuple[list[float], list[float]]:
    """A vehicle every other bin upstream, arriving downstream in the same bin, until the lane
    is blocked between the loops: from then on the downstream loop counts nothing."""
    up = [float(k % 2 == 0) for k in range(bins)]
    return up, [u if k < blocked_from else 0.0 for k, u in enumerate(up)]


def held(**settings: Any) -> HeldVehicles:
    return HeldVehicles([LANE], z=99.0, min_missing=99.0, **settings)  # the section test alone


def test_held_vehicles_counts_the_vehicles_a_blocked_lane_keeps() -> None:
    up, down = sparse(blocked_from=30)
    # blocked at bin 31 (a vehicle in bins 31, 33, 35, 37): less the 0.1 allowance a bin, 3 are
    # held at bin 37 (3.3), the downstream loop quiet since bin 30
    times = alarms_of(held(held_min=3.0, quiet_bins=4, held_drift=0.1), counted(up, down))
    assert times == [30.0 * 37]
    # the flow test's allowance of a vehicle per bin absorbs the whole deficit at this flow
    assert alarms_of(FlowBalance([LANE], min_missing=3.0, drift=1.0, z=99.0), counted(up, down)) == []


def test_held_vehicles_lets_a_red_signal_hold_and_release() -> None:
    # 3 vehicles a bin in, out in pulses (two bins of red, then a green bin gives all 9 back)
    up = [3.0] * 60
    down = [9.0 if k % 3 == 2 else 0.0 for k in range(60)]
    assert alarms_of(held(held_min=3.0, quiet_bins=3), counted(up, down)) == []
    assert alarms_of(held(held_min=3.0, quiet_bins=2), counted(up, down)) != []  # a red of 2 bins


def test_held_vehicles_is_not_judged_across_junctions() -> None:
    up, down = sparse(blocked_from=30)
    across = HeldVehicles([PAIR], z=99.0, min_missing=99.0, held_min=2.0)  # path of two lanes
    assert alarms_of(across, counted(up, down)) == []


def test_fitted_bounds_raise_a_pairs_threshold_for_as_long_as_it_was_seen_quiet() -> None:
    # incident-free: the downstream loop sees each vehicle two bins late (a slow section): one
    # vehicle held while the downstream loop has been quiet 1-3 bins, never longer
    up = [float(k % 4 == 0) for k in range(60)]
    late = [0.0, 0.0, *up[:-2]]
    bounds = fit_held_bounds([LANE], {"held_drift": 0.0}, [counted(up, late)], quiet_levels=6)
    assert bounds.shape == (1, 7)
    assert list(bounds[0]) == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    settings = {"held_min": 1.0, "quiet_bins": 1, "held_drift": 0.0}
    assert alarms_of(held(**settings), counted(up, late)) != []  # unfitted: the slow section alarms
    fitted = held(**settings, held_bounds=bounds, held_margin=0.5)
    assert alarms_of(fitted, counted(up, late)) == []
    # the same section blocked from bin 41: a vehicle held past the 3 quiet bins ever seen there
    blocked = [0.0 if k >= 40 else d for k, d in enumerate(late)]
    first = alarms_of(held(**settings, held_bounds=bounds, held_margin=0.5), counted(up, blocked))
    # the vehicle of bin 41 still held at bin 43, the downstream loop quiet since bin 39: 4 bins
    assert first == [30.0 * 43]


def test_loop_pairs_follow_lanes_and_connections() -> None:
    geometry = cross_geometry()  # loops up_N (30 m) and stop_N (90 m) on lane N_in_0, stop_S, free
    successors = {"N_in_0": ("C_S_0",), "S_in_0": ("C_N_0",)}
    pairs = {p.id: p for p in loop_pairs(geometry, successors)}
    assert "up_N>stop_N" in pairs and pairs["up_N>stop_N"].gap_m == 60.0
    assert not pairs["up_N>stop_N"].up_at_lane_end
    assert "stop_N>free" not in pairs  # N_in_0 leads to C_S_0, which has no loop
    assert (
        "stop_S>free" in pairs and pairs["stop_S>free"].up_at_lane_end
    )  # S_in_0 -> C_N_0 carries loop 'free' at 50 m
    assert pairs["stop_S>free"].lanes == ("S_in_0", "C_N_0")
