"""``bench sim`` on the tiny network: every variant measured, spreads and ratios well formed."""

from __future__ import annotations

import pytest

from trafficai.runtime.bench_sim import VARIANTS, bench_sim


@pytest.mark.sumo
def test_bench_sim_measures_every_variant_with_spreads(tiny: str) -> None:
    said: list[str] = []
    result = bench_sim(tiny, end_s=60, repeat=2, progress=said.append)
    assert result["steps"] == 60 and result["max_vehicles"] > 0 and result["repeat"] == 2
    assert said == [f"{v}, run {k}/2" for k in (1, 2) for v in VARIANTS]  # interleaved
    assert set(result["variants"]) == set(VARIANTS)
    for spreads in result["variants"].values():
        for clock in ("wall", "cpu"):
            s = spreads[clock]
            assert 0 < s["low"] <= s["median"] <= s["high"]
    ratios = result["ratios"]
    assert set(ratios) == {f"ratio_{v}" for v in VARIANTS[1:]} | {"overhead_control"}
    for ratio in ratios.values():
        assert ratio["wall"]["median"] > 0 and ratio["cpu"]["median"] > 0
    assert result["overhead_control"] == ratios["overhead_control"]["cpu"]["median"]
    assert result["ratio_control"] == ratios["ratio_control"]["wall"]["median"]
    assert result["overhead_control_met"] == (result["overhead_control"] <= 1.10)
