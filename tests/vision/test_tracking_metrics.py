"""HOTA and id switches against hand-computed values (TrackEval's definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trafficai.vision.metrics import HOTA_ALPHAS, HotaAccumulator, IdSwitches


def test_perfect_tracking_scores_100() -> None:
    hota = HotaAccumulator()
    for _ in range(5):
        hota.add(["a", "b"], ["1", "2"], np.eye(2))
    assert hota.result()["hota"] == pytest.approx(1.0)


def test_one_id_switch_halves_association() -> None:
    # one vehicle over 4 frames, tracked as 1, 1, 2, 2: DetA 1, AssA (2 x 0.5 + 2 x 0.5) / 4
    hota = HotaAccumulator()
    switches = IdSwitches()
    for track in (1, 1, 2, 2):
        hota.add(["a"], [str(track)], np.ones((1, 1)))
        switches.add(["a"], [track], np.ones((1, 1)))
    result = hota.result()
    assert result["deta"] == pytest.approx(1.0)
    assert result["assa"] == pytest.approx(0.5)
    assert result["hota"] == pytest.approx(math.sqrt(0.5))
    assert switches.switches == 1 and switches.per_100_vehicles() == pytest.approx(100.0)


def test_localisation_counts_only_the_thresholds_a_match_passes() -> None:
    hota = HotaAccumulator()
    hota.add(["a"], ["7"], np.full((1, 1), 0.5))
    passed = int((HOTA_ALPHAS <= 0.5 + 1e-12).sum())
    assert hota.result()["hota"] == pytest.approx(passed / len(HOTA_ALPHAS))


def test_misses_and_false_tracks_lower_detection_accuracy() -> None:
    hota = HotaAccumulator()
    hota.add(["a", "b"], ["1"], np.array([[1.0], [0.0]]))  # b missed
    hota.add(["a"], ["1", "9"], np.array([[1.0, 0.0]]))  # 9 is a false track
    assert hota.result()["deta"] == pytest.approx(2 / 4)  # TP 2, FN 1, FP 1


def test_a_track_that_keeps_its_vehicle_never_switches() -> None:
    switches = IdSwitches()
    for _ in range(3):
        switches.add(["a", "b"], [4, 5], np.array([[0.9, 0.6], [0.6, 0.9]]))
    switches.add(["a"], [], np.zeros((1, 0)))  # a frame where the track is lost
    switches.add(["a"], [4], np.ones((1, 1)))
    assert switches.switches == 0
