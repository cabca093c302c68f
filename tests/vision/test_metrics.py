"""Accuracy measures: GEH on hourly volumes, WAPE, crossing matching, IDF1."""

from __future__ import annotations

import math

import pytest

from trafficai.vision import metrics


def test_geh_is_computed_on_hourly_equivalent_volumes() -> None:
    assert metrics.geh(110.0, 100.0) == pytest.approx(math.sqrt(2 * 100 / 210))
    # 5-minute counts 11 vs 10 are 132 vs 120 veh/h: GEH 1.07, not the lenient 0.31 of raw counts
    (hourly,) = metrics.geh_hourly([11.0], [10.0])
    assert hourly == pytest.approx(metrics.geh(132.0, 120.0))
    assert hourly > 3 * metrics.geh(11.0, 10.0)


def test_wape_and_mape() -> None:
    assert metrics.wape([9, 12], [10, 10]) == pytest.approx(0.15)
    assert metrics.mape([9, 12], [10, 10]) == pytest.approx(0.15)
    assert metrics.wape([1], [0]) is None


def test_crossings_match_one_to_one_within_the_tolerance() -> None:
    truth = [("a", 10.0), ("a", 12.0), ("b", 10.0)]
    measured = [("a", 10.4), ("a", 10.6), ("b", 11.5), ("a", 12.9)]
    assert metrics.match_events(measured, truth, 1.0) == 2  # a@10.4-10.0, a@12.9-12.0; b is 1.5 s off
    p, r, f = metrics.precision_recall_f1(2, 4, 3)
    assert (p, r) == (0.5, pytest.approx(2 / 3))
    assert f == pytest.approx(2 * p * r / (p + r))


def test_idf1_is_one_for_consistent_ids_and_drops_with_a_switch() -> None:
    perfect = [(1, "a")] * 10 + [(2, "b")] * 10
    assert metrics.idf1(perfect, 20, 20) == 1.0
    switched = [(1, "a")] * 5 + [(3, "a")] * 5 + [(2, "b")] * 10
    assert metrics.idf1(switched, 20, 20) == pytest.approx(0.75)
