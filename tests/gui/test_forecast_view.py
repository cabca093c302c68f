"""The forecast in the control center: the inspector's band on a loop's flow or speed plot, the KPI
dashboard's network line with the live forecast-quality figure."""

from __future__ import annotations

import pytest

from trafficai.gui.forecast_view import forecast_band, network_forecast_text
from trafficai.gui.map.picking import Pick
from trafficai.runtime.messages import ForecastUpdate

pytestmark = pytest.mark.gui

OBJECTS = ("C/E_in", "e1_E_in_0")


def _update(quality: float | None = None) -> ForecastUpdate:
    def parts(base: float) -> tuple[tuple[float, ...], ...]:
        return ((base, base + 1), (base - 1, base), (base + 2, base + 3))

    values = {
        "flow": {m: parts(100.0 + m) for m in (15, 30, 60)},
        "speed": {m: parts(10.0) for m in (15, 30, 60)},
    }
    network = {m: (500.0, 400.0, 600.0) for m in (15, 30, 60)}
    return ForecastUpdate(600.0, OBJECTS, values, network, quality, 0 if quality is None else 12)  # type: ignore[arg-type]


def test_the_band_follows_the_plotted_value_and_its_units() -> None:
    times, low, point, high = forecast_band(_update(), "e1_E_in_0", "flow 5 min (veh/h)")  # type: ignore[misc]
    assert times == (1500.0, 2400.0, 4200.0) and point == (116.0, 131.0, 161.0)
    assert low == (115.0, 130.0, 160.0) and high == (118.0, 133.0, 163.0)
    speed = forecast_band(_update(), "e1_E_in_0", "speed (km/h)")
    assert speed is not None and speed[2] == (11.0 * 3.6,) * 3
    assert forecast_band(_update(), "e1_E_in_0", "occupancy (%)") is None
    assert forecast_band(_update(), "e1_other_0", "speed (km/h)") is None


def test_the_network_line_says_when_no_quality_figure_is_due_yet() -> None:
    assert "none due yet" in network_forecast_text(_update())
    text = network_forecast_text(_update(42.0))
    assert "+15 min 500 (400-600)" in text and "MAE 42 veh/h per detector at +15 min (last 12)" in text


def test_inspector_and_dashboard_show_the_forecast(qtbot) -> None:  # type: ignore[no-untyped-def]
    from trafficai.gui.panels.inspector import InspectorPanel
    from trafficai.gui.panels.kpis import KpiDashboard

    panel = InspectorPanel()
    qtbot.addWidget(panel)
    panel.pick = Pick("e1", "e1_E_in_0", 0, 0.0, 0.0)
    panel.plotted = "speed (km/h)"
    panel.update_forecast(_update())
    xs, ys = panel.band_point.getData()
    assert list(xs) == [1500.0, 2400.0, 4200.0] and ys[0] == pytest.approx(39.6)
    panel.set_pick(None)
    assert panel.band_point.getData()[0] is None or len(panel.band_point.getData()[0]) == 0
    dashboard = KpiDashboard()
    qtbot.addWidget(dashboard)
    assert dashboard.forecast_label.isHidden()
    dashboard.update_forecast(_update(7.0))
    assert not dashboard.forecast_label.isHidden() and "MAE 7" in dashboard.forecast_label.text()
