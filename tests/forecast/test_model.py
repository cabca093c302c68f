"""The learned forecaster on a synthetic series whose answer is known (tests/support/forecast_data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.forecast_data import synthetic_history
from trafficai.errors import ModelError

pytest.importorskip("lightgbm")

from trafficai.forecast.evaluate import evaluate
from trafficai.forecast.model import ForecastModel, split_days, train_model


@pytest.fixture(scope="module")
def trained() -> tuple[object, ForecastModel, dict]:  # type: ignore[type-arg]
    history = synthetic_history(n_days=8, n_bins=400)
    split = split_days(8)
    model = train_model(history, split)
    return history, model, evaluate(model, history, split)


def test_the_model_beats_every_baseline_at_every_horizon(trained) -> None:  # type: ignore[no-untyped-def]
    _, _, report = trained
    for variable, values in report["by_variable"].items():
        for base in ("historical_average", "persistence", "seasonal_naive"):
            for h, ratio in values[f"mae_ratio_{base}"].items():
                assert ratio < 0.95, (variable, base, h, ratio)
    assert set(report["mae_ratio_ha"]) == {"15", "30", "60"}


def test_intervals_cover_about_80_percent(trained) -> None:  # type: ignore[no-untyped-def]
    _, _, report = trained
    assert 0.7 <= report["coverage_80"] <= 0.9
    assert report["incident_days"]["samples"] + report["normal_days"]["samples"] == report["samples"]


def test_a_saved_model_forecasts_the_same_and_refuses_other_detectors(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    history, model, _ = trained
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = ForecastModel.load(path, "synthetic", history.objects)
    now = model.forecast(history.flow[7, :100], history.speed[7, :100], "weekday")
    again = loaded.forecast(history.flow[7, :100], history.speed[7, :100], "weekday")
    for variable in ("flow", "speed"):
        for minutes in (15, 30, 60):
            point, low, high = now[variable][minutes]
            np.testing.assert_allclose(again[variable][minutes][0], point)
            assert np.all(low <= point) and np.all(point <= high)
    with pytest.raises(ModelError, match="do not match"):
        ForecastModel.load(path, "synthetic", (*history.objects[:-1], "e1_other_0"))
    with pytest.raises(ModelError, match="not of corridor"):
        ForecastModel.load(path, "corridor")
    with pytest.raises(ModelError, match="has 6 detectors, the data 5"):
        model.forecast(history.flow[7, :100, :5], history.speed[7, :100, :5], "weekday")
    (tmp_path / "bad.npz").write_text("no")
    with pytest.raises(ModelError, match="not a forecast model file"):
        ForecastModel.load(tmp_path / "bad.npz")
