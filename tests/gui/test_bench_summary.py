"""bench gui's figures from its measurement windows: medians, per-pair ratios, the CPU ratio."""

from __future__ import annotations

import pytest

from trafficai.gui.bench import Heartbeat, Window, _summary

pytestmark = pytest.mark.gui


def window(rate: float, cpu: float | None, paints: int = 0, steps: int = 100) -> Window:
    return Window(
        steps_per_s=rate,
        wall_s=2.0,
        paints=paints,
        frames=paints // 10,
        vehicles=5000,
        worker_steps=steps,
        worker_cpu_s=cpu,
        gui_cpu_s=0.5,
    )


def test_the_summary_pairs_windows_and_reports_medians_with_ranges() -> None:
    # a slow moment (pair 2) slows both windows of the pair: its ratio stays 0.5
    headless = [window(20.0, 1.0), window(10.0, 1.0), window(20.0, 1.0)]
    rendering = [window(10.0, 2.0, 60), window(5.0, 2.0, 80), window(12.0, 1.25, 70)]
    beat = Heartbeat()
    beat.max_stall_ms, beat.gaps = 42.0, [1.0, 2.0]
    result = _summary(headless, rendering, beat)
    assert result["fps"] == 35.0 and result["spreads"]["fps"] == {"median": 35.0, "low": 30.0, "high": 40.0}
    assert result["sim_ratio"] == 0.5
    assert result["spreads"]["sim_ratio"]["wall"] == {"median": 0.5, "low": 0.5, "high": 0.6}
    # steps per worker CPU second: 50 / 100, 50 / 100, 80 / 100
    assert result["sim_ratio_cpu"] == 0.5 and result["spreads"]["sim_ratio"]["cpu"]["high"] == 0.8
    assert result["spreads"]["gui_cpu_load"]["median"] == 0.25
    assert result["max_stall_ms"] == 42.0 and result["vehicles"] == 5000


def test_without_the_workers_cpu_there_is_no_cpu_ratio() -> None:
    result = _summary([window(20.0, None)], [window(10.0, 1.0, 60)], Heartbeat())
    assert result["sim_ratio_cpu"] is None and "cpu" not in result["spreads"]["sim_ratio"]
    assert window(1.0, 0.0).steps_per_cpu_s is None
