from __future__ import annotations

import math

from trafficai.storage.compare import compare_header, compare_kpis, format_change, format_value
from trafficai.storage.records import RunSummary


def _run(run_id: str, **kpis: float) -> RunSummary:
    return RunSummary(
        run_id, "grid", "fixed", 0, "completed", "2026-01-01T00:00:00+00:00", None, kpis, {}, 10
    )


def test_two_runs_with_relative_change() -> None:
    base = _run("a", delay=40.0, throughput=1000.0, stops=0.0)
    better = _run("b", delay=38.72, throughput=1032.0, stops=0.0)
    rows = compare_kpis([base, better], ["delay", "throughput", "stops"])
    assert rows == [
        ["delay", "40.00", "38.72", "-3.2 %"],
        ["throughput", "1000.00", "1032.00", "+3.2 %"],
        ["stops", "0.00", "0.00", "+0.0 %"],
    ]
    assert compare_header([base, better]) == ["metric", "a", "b", "b vs a"]


def test_three_runs_each_compared_with_the_first() -> None:
    runs = [_run("a", delay=50.0), _run("b", delay=25.0), _run("c", delay=125.0)]
    assert compare_kpis(runs, ["delay"]) == [["delay", "50.00", "25.00", "125.00", "-50.0 %", "+150.0 %"]]
    assert compare_header(runs)[-2:] == ["b vs a", "c vs a"]


def test_single_run_has_no_change_column() -> None:
    assert compare_kpis([_run("a", delay=1.5)], ["delay", "queue"]) == [["delay", "1.50"], ["queue", "n/a"]]


def test_missing_and_undefined_values() -> None:
    runs = [_run("a", delay=0.0, queue=math.nan), _run("b", delay=3.0, queue=2.0), _run("c")]
    assert compare_kpis(runs, ["delay", "queue"]) == [
        ["delay", "0.00", "3.00", "n/a", "n/a", "n/a"],  # change from 0 is undefined
        ["queue", "n/a", "2.00", "n/a", "n/a", "n/a"],
    ]


def test_negative_baseline_change_sign_follows_the_value() -> None:
    assert format_change(-10.0, -5.0) == "+50.0 %"  # moved up, i.e. towards zero
    assert format_change(-10.0, -15.0) == "-50.0 %"


def test_value_formatting() -> None:
    assert format_value(0.004321) == "0.00432"
    assert format_value(-0.004321) == "-0.00432"
    assert format_value(1234.567) == "1234.57"
    assert format_value(math.inf) == "inf"
    assert format_value(None) == "n/a"
