"""Count bias: a loop counting a steady share too many against its area detector's flow."""

from __future__ import annotations

import numpy as np

from trafficai.config import HealthSection
from trafficai.sensors.health_bias import CountBiasTest, area_flow, cusum_step
from trafficai.sensors.health_rules import area_witness

from .fakes import cross_geometry

DT = 5.0


def test_area_flow_is_vehicles_times_speed_over_length() -> None:
    flow = area_flow(
        5.0, np.array([2.0, 3.0, np.nan]), np.array([6.0, -1.0, 5.0]), np.array([60.0, 60.0, 60.0])
    )
    assert flow.tolist() == [1.0, 0.0, 0.0]  # no speed (-1) or no witness (NaN): nothing moved


def test_cusum_accumulates_past_the_allowance_only() -> None:
    plus, minus = cusum_step(np.zeros(2), np.zeros(2), np.array([0.3, -0.05]), 0.1)
    assert np.allclose(plus, [0.2, 0.0]) and np.allclose(minus, [0.0, 0.0])


def _run(factor_after: float, onset_s: float, end_s: float, seed: int) -> tuple[bool, float]:
    """stop_N counts ~0.9 of its witness's flow (1 vehicle per sample), then ``factor_after`` of
    that from ``onset_s``; whether and when the test flagged it."""
    geometry = cross_geometry()
    test = CountBiasTest(geometry, area_witness(geometry), HealthSection())
    rng = np.random.default_rng(seed)
    n = len(geometry.e1)
    owed = 0.0
    for t in np.arange(DT, end_s, DT):
        speed = 6.0 * (1.0 + rng.normal(0.0, 0.1))  # 2 vehicles at ~6 m/s over 60 m: ~1 per sample
        owed += 0.9 * (factor_after if t >= onset_s else 1.0) * (speed / 6.0)
        hits = np.zeros(n, np.int64)
        hits[0] = int(owed)
        owed -= int(owed)
        vehicles = np.array([2.0, 2.0, np.nan, np.nan])
        flagged = test.sample(DT, hits, vehicles, np.full(n, speed), np.ones(n, dtype=bool))
        if flagged[0]:
            return True, float(t)
        assert not flagged[2:].any()  # loops without a witness are never judged
    return False, float("nan")


def test_a_loop_counting_30_percent_too_many_is_flagged_within_minutes() -> None:
    found, at = _run(1.3, 1200.0, 3600.0, 0)
    assert found and 1200.0 < at <= 1200.0 + 600.0


def test_a_loop_counting_30_percent_too_few_is_flagged_too() -> None:
    found, _at = _run(0.7, 1200.0, 3600.0, 1)
    assert found


def test_a_healthy_loop_is_never_flagged() -> None:
    for seed in range(5):
        found, _at = _run(1.0, 0.0, 3 * 3600.0, seed)
        assert not found


def test_a_loop_biased_from_the_start_is_flagged_by_its_implausible_ratio() -> None:
    found, at = _run(3.0, 0.0, 1800.0, 2)  # 2.7 counts per vehicle through its area detector
    assert found and at <= 600.0
