"""The KPI dashboard's baseline: which runs it offers, how it names them, and that the live series
keeps the plot's width (the baseline may cover hours more)."""

from __future__ import annotations

import numpy as np
import pytest

from trafficai.gui.panels.kpis import KpiDashboard, baseline_candidates, baseline_label
from trafficai.runtime.messages import KpiSample
from trafficai.storage import RunSummary

from .conftest import cross_ready

pytestmark = pytest.mark.gui


def run(run_id: str, scenario: str, status: str, started: str, delay: float | None = 30.0) -> RunSummary:
    kpis = {"mean_delay_s": delay} if delay is not None else {}
    return RunSummary(run_id, scenario, "max-pressure", 1, status, started, None, kpis, {}, 60)


def test_failed_runs_are_not_offered_and_runs_are_named_by_what_they_were() -> None:
    runs = [
        run("a1", "cross", "completed", "2024-05-01T10:00:00"),
        run("b2", "cross", "failed", "2024-05-01T11:00:00"),
        run("c3", "other", "completed", "2024-05-01T12:00:00"),
        run("d4", "cross", "interrupted", "2024-05-01T13:00:00"),
        run("own", "cross", "running", "2024-05-01T14:00:00"),
    ]
    offered = baseline_candidates(runs, "cross", "own")
    assert [r.id for r in offered] == ["d4", "a1", "c3"]  # this scenario first, newest first
    assert baseline_label(offered[1]) == "cross · max-pressure · 2024-05-01 10:00 · delay 30.0 s/veh"
    assert "interrupted (partial)" in baseline_label(offered[0])


def test_the_x_range_follows_the_live_series_not_the_baseline_hour(qtbot) -> None:  # type: ignore[no-untyped-def]
    dash = KpiDashboard()
    qtbot.addWidget(dash)
    dash.resize(900, 400)
    dash.show()
    dash.set_ready(cross_ready(), None)
    t = np.arange(60.0, 3601.0, 60.0)
    dash.baseline = {"t": t, "queue_veh": np.full(t.size, 5.0)}
    dash._show_baseline()
    for time_s in range(0, 601, 5):
        dash.add_sample(KpiSample(0, float(time_s), {"queue_veh": 3.0}, {}))
    for _ in range(12):  # one plot per tick
        dash._redraw()
    low, high = dash.plots["queue_veh"].getViewBox().viewRange()[0]
    assert low < 30 and 600 <= high < 700, (low, high)
