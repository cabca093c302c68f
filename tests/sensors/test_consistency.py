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
