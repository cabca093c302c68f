"""The live forecaster: bins in, a ForecastUpdate after each, its quality figure once forecasts come due."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.forecast_data import OBJECTS, synthetic_history
from trafficai.errors import ModelError

pytest.importorskip("lightgbm")

from trafficai.forecast.model import train_model
from trafficai.runtime.live_forecast import LiveForecaster


@pytest.fixture(scope="module")
def model_and_day():  # type: ignore[no-untyped-def]
    history = synthetic_history(n_days=5, n_bins=240)
    return train_model(history), history


def test_every_bin_gives_a_forecast_and_the_quality_figure_follows(model_and_day) -> None:  # type: ignore[no-untyped-def]
    model, history = model_and_day
    live = LiveForecaster(model, OBJECTS)
    day = 4
    for t in range(60):
        readings = {
            o: {"count": history.flow[day, t, i] * history.bin_s / 3600.0, "speed": history.speed[day, t, i]}
            for i, o in enumerate(OBJECTS)
        }
        update = live.add_bin(readings, (t + 1) * history.bin_s)
        assert live.take_update() is update and live.take_update() is None
        point, low, high = (np.array(p) for p in update.values["flow"][15])
        assert point.shape == (len(OBJECTS),) and np.all(low <= point) and np.all(point <= high)
        assert set(update.network_flow) == {15, 30, 60}
        if t < 30:  # no +15 min forecast has come due yet
            assert update.quality_mae is None
    assert update.quality_samples == 30 and 0 < update.quality_mae < 2000


def test_a_model_of_other_detectors_is_refused(model_and_day, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, _ = model_and_day
    with pytest.raises(ModelError, match="does not match this network's detectors"):
        LiveForecaster(model, OBJECTS[:-1])
    model.save(tmp_path / "m.npz")
    with pytest.raises(ModelError, match="not of single"):
        LiveForecaster.for_scenario(tmp_path / "m.npz", None, "single")  # type: ignore[arg-type]
    assert LiveForecaster.for_scenario(tmp_path / "none.npz", None, "single") is None  # type: ignore[arg-type]


@pytest.mark.sumo
def test_the_worker_publishes_forecasts_when_the_scenario_has_a_model(worker_factory) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from tests.runtime.conftest import TINY
    from trafficai.core.scenario import resolve_scenario
    from trafficai.forecast.model import default_model_path
    from trafficai.runtime import commands as c
    from trafficai.runtime import messages as m
    from trafficai.sensors.readings import approaches
    from trafficai.sim.factory import open_backend
    from trafficai.sim.sumo_command import SumoOptions

    backend = open_backend(resolve_scenario(TINY), SumoOptions(), vehicles=False)
    try:
        objects = tuple(backend.geometry.e1.ids) + tuple(a.id for a in approaches(backend.geometry))
    finally:
        backend.close()
    history = replace(synthetic_history(4, 240, objects=objects), scenario="tiny")
    train_model(history).save(default_model_path("tiny"))
    worker = worker_factory()
    worker.handle.send(c.Play())
    worker.wait(lambda: len(worker.of(m.ForecastUpdate)) >= 3, timeout_s=90.0, what="3 forecasts")
    worker.handle.send(c.Pause())
    update = worker.of(m.ForecastUpdate)[-1]
    assert update.objects == objects and set(update.values) == {"flow", "speed"}
    assert update.network_flow[15][0] >= 0
