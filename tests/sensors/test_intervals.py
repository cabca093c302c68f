"""Per-interval detector data for the inspector: the last 30 s and the last 5 minutes."""

from __future__ import annotations

import math

import pytest

from trafficai.core.geometry import NetGeometry
from trafficai.sensors.intervals import RecentDetectorBins

from .fakes import snapshot


def test_thirty_second_bins_and_a_five_minute_window(geometry: NetGeometry) -> None:
    recent = RecentDetectorBins(geometry)
    assert recent.stats("stop_N", 30.0) is None  # no closed bin yet
    count = 0
    for step in range(0, 331, 5):  # sampled every 5 s; the loop counts 1 vehicle per 10 s
        count = step // 10
        speed = 10.0 if step < 300 else -1.0  # nobody crossed in the last 30 s
        recent.observe(
            snapshot(float(step), [count, 0, 0, 0], [0.2, 0.0, 0.0, 0.0], speed=[speed, -1, -1, -1])
        )
    last = recent.stats("stop_N", 30.0)
    window = recent.stats("stop_N", 300.0)
    assert last is not None and window is not None
    assert (last.end_s, last.covered_s, last.volume) == (330.0, 30.0, 3)
    assert last.occupancy == pytest.approx(0.2) and math.isnan(last.speed_m_s)
    assert (window.covered_s, window.volume) == (300.0, 30)  # ten bins, 1 vehicle per 10 s
    assert window.flow_veh_h == pytest.approx(360.0)
    assert window.speed_m_s == pytest.approx(10.0)  # from the bins that had a speed
    area = recent.stats("area_N", 30.0)
    assert area is not None and area.volume is None  # a lane-area detector counts nothing


def test_sparse_samples_keep_the_volume_exact(geometry: NetGeometry) -> None:
    recent = RecentDetectorBins(geometry)
    recent.observe(snapshot(0.0, [0, 0, 0, 0], [0.0] * 4))
    recent.observe(snapshot(60.0, [57, 0, 0, 0], [0.0] * 4))  # one sample a minute later
    stats = recent.stats("stop_N", 300.0)
    assert stats is not None and stats.volume == 57  # the cumulative counter's difference
    assert stats.covered_s == 60.0  # what there was, not the window asked for
    assert recent.stats("stop_N", 30.0) is not None
