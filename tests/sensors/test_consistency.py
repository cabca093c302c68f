"""Cross-detector consistency: a loop against the area detector ending at it."""

from __future__ import annotations

import numpy as np

from trafficai.sensors.consistency import contradictions


def test_a_loop_occupied_over_an_empty_area_detector_is_a_phantom() -> None:
    occupancy = np.array([0.9, 0.9, 0.0])
    vehicles = np.array([0.0, 3.0, 0.0])
    halting = np.zeros(3)
    phantom_ok, phantom, _hidden_ok, hidden = contradictions(occupancy, vehicles, halting, np.ones(3, bool))
    assert phantom_ok.tolist() == [True, False, True]
    assert phantom.tolist() == [True, False, False]
    assert not hidden.any()


def test_an_empty_loop_under_a_standing_queue_hides_it() -> None:
    occupancy = np.array([0.02, 1.0, 0.02])
    halting = np.array([4.0, 4.0, 4.0])
    has_witness = np.array([True, True, False])
    _p_ok, _p, hidden_ok, hidden = contradictions(occupancy, halting, halting, has_witness)
    assert hidden_ok.tolist() == [True, True, False]
    assert hidden.tolist() == [True, False, False]


def test_a_quarantined_loop_reads_its_witness() -> None:
    from trafficai.core.snapshot import DetectorArrays
    from trafficai.sensors.consistency import stand_in

    det = DetectorArrays(
        e1_count=np.array([5, 7], np.int32),
        e1_occupancy=np.array([0.95, 0.3], np.float32),
        e1_speed=np.array([3.0, 9.0], np.float32),
        e2_vehicles=np.array([0, 4], np.int32),
        e2_halting=np.array([0, 2], np.int32),
        e2_occupancy=np.array([0.0, 0.4], np.float32),
        e2_speed=np.array([-1.0, 0.5], np.float32),
    )
    out = stand_in(det, np.array([1, 0]), np.array([0, 1]))  # loop 0 sees e2 #1, loop 1 sees e2 #0
    assert out.e1_occupancy.tolist() == [1.0, 0.0]  # a standing vehicle in the area: the loop is covered
    assert out.e1_speed.tolist() == [0.5, -1.0]
    assert out.e1_count.tolist() == [5, 7]  # counts stay the loop's own
