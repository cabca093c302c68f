"""The benchmarks' statistics: interleaved order, spreads, per-repetition ratios, CPU clocks."""

from __future__ import annotations

import os

import pytest

from trafficai.runtime.bench_stats import (
    Spread,
    Timing,
    cpu_seconds_of,
    interleaved_order,
    process_cpu_seconds,
    ratio_spread,
    run_interleaved,
    timing_ratio,
    timing_spreads,
)


def test_the_order_interleaves_every_variant_once_per_repetition() -> None:
    assert interleaved_order(["a", "b", "c"], 3) == ["a", "b", "c"] * 3
    assert interleaved_order(["a", "b"], 0) == ["a", "b"]  # at least one repetition


def test_a_spread_is_the_median_and_the_range() -> None:
    assert Spread.of([3.0, 1.0, 2.0, 10.0, 4.0]) == Spread(3.0, 1.0, 10.0)
    assert Spread.of([1.0, 2.0]).median == 1.5
    assert Spread.of([2.0]).as_dict() == {"median": 2.0, "low": 2.0, "high": 2.0}
    with pytest.raises(ValueError):
        Spread.of([])


def test_ratios_pair_the_runs_of_one_repetition() -> None:
    # a slow moment hits both variants of repetition 1: the ratio stays 2, a ratio of medians would not
    fast = [1.0, 3.0, 1.1]
    slow = [2.0, 6.0, 2.2]
    assert ratio_spread(slow, fast) == Spread(2.0, 2.0, 2.0)
    assert ratio_spread([1.0, 4.0], [2.0, 2.0]) == Spread(1.25, 0.5, 2.0)
    with pytest.raises(ValueError, match="2 against 1"):
        ratio_spread([1.0, 2.0], [1.0])


def test_timing_ratios_and_spreads_keep_wall_and_cpu_apart() -> None:
    a = [Timing(2.0, 1.0), Timing(4.0, 1.5)]
    b = [Timing(1.0, 1.0), Timing(1.0, 1.0)]
    assert timing_ratio(a, b) == {
        "wall": {"median": 3.0, "low": 2.0, "high": 4.0},
        "cpu": {"median": 1.25, "low": 1.0, "high": 1.5},
    }
    assert timing_spreads(a)["cpu"] == {"median": 1.25, "low": 1.0, "high": 1.5}


def test_run_interleaved_calls_in_order_and_keeps_one_timing_per_repetition() -> None:
    calls: list[str] = []
    said: list[str] = []
    timings = run_interleaved(
        {"x": lambda: calls.append("x"), "y": lambda: calls.append("y")}, 3, said.append
    )
    assert calls == ["x", "y", "x", "y", "x", "y"]
    assert said[:3] == ["x, run 1/3", "y, run 1/3", "x, run 2/3"]
    assert [len(t) for t in timings.values()] == [3, 3]
    assert all(t.wall_s >= 0 and t.cpu_s >= 0 for ts in timings.values() for t in ts)


def test_cpu_clocks_count_work_and_not_waiting() -> None:
    before = process_cpu_seconds()
    total = sum(i * i for i in range(300_000))  # some CPU work
    assert total > 0 and process_cpu_seconds() > before
    own = cpu_seconds_of(os.getpid())
    if os.path.exists("/proc/self/stat"):
        assert own is not None and own > 0
    assert cpu_seconds_of(-1) is None
