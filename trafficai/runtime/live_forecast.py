"""Forecasts of a running simulation from a trained model (``trafficai forecast train``).

    live, warning = open_live_forecaster(scenario_name, geometry)   # None: no model file (or unusable)
    life = RunLifecycle(..., observers=[live])     # it bins the sampled snapshots (30 s)
    update = live.take_update()                    # a ForecastUpdate after each new bin, else None

The live run is taken as a day of the model's history starting at its beginning (time 0 of the
run is bin 0 of the day), of ``day_type``. Each bin's forecast of the network's flow at +15 min is
kept and scored when that time comes: ``quality_mae`` is the mean absolute error of the last
``QUALITY_WINDOW`` of them, per object (veh/h), what an operator's "forecast quality" figure shows.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ModelError
from trafficai.extras import is_installed
from trafficai.forecast.model import ForecastModel, default_model_path
from trafficai.forecast.series import HORIZONS_MIN, VARIABLES, window_mean
from trafficai.runtime.messages import ForecastUpdate
from trafficai.sensors.bins import DetectorBins
from trafficai.sensors.readings import Reading, approaches

QUALITY_WINDOW = 40
_QUALITY_HORIZON = 15


class LiveForecaster:
    def __init__(self, model: ForecastModel, objects: tuple[str, ...], day_type: str = "weekday") -> None:
        missing = sorted(set(model.objects) - set(objects))
        if missing:
            raise ModelError(
                f"forecast model of {model.scenario} does not match this network's detectors "
                f"({len(missing)} of its {len(model.objects)} missing, e.g. {missing[0]})"
            )
        self.model, self.day_type = model, day_type
        self.flow_rows: list[np.ndarray] = []
        self.speed_rows: list[np.ndarray] = []
        self.bins: DetectorBins | None = None
        self._bin_start_s: float | None = None
        self._pending: dict[int, np.ndarray] = {}  # due bin -> +15 min flow forecast per object
        self._errors: deque[float] = deque(maxlen=QUALITY_WINDOW)
        self._update: ForecastUpdate | None = None
        self._approach = np.array(["/" in o for o in model.objects])

    @staticmethod
    def for_scenario(model_path: Path, geometry: NetGeometry, scenario: str) -> LiveForecaster | None:
        """The forecaster of ``model_path`` if that file exists (ModelError if it does not fit)."""
        if not model_path.is_file():
            return None
        model = ForecastModel.load(model_path, scenario)
        objects = tuple(geometry.e1.ids) + tuple(a.id for a in approaches(geometry))
        live = LiveForecaster(model, objects)
        live.bins = DetectorBins(geometry)
        return live

    # -- a SnapshotObserver ---------------------------------------------------------------------

    def observe(self, snapshot: Snapshot) -> list[Event]:
        if self.bins is None:
            return []
        if self._bin_start_s is None:
            self._bin_start_s = snapshot.time_s
        self.bins.sample(snapshot)
        if snapshot.time_s - self._bin_start_s >= self.model.bin_s - 1e-9:
            self.add_bin(self.bins.close(snapshot), snapshot.time_s)
            self._bin_start_s = snapshot.time_s
        return []

    # -- bins in, forecasts out -----------------------------------------------------------------

    def add_bin(self, readings: dict[str, Reading], time_s: float) -> ForecastUpdate:
        """One closed bin (object -> count, speed); the forecast made after it."""
        objects = self.model.objects
        per_hour = 3600.0 / self.model.bin_s
        self.flow_rows.append(
            np.array([readings.get(o, {}).get("count", np.nan) * per_hour for o in objects], dtype=float)
        )
        self.speed_rows.append(
            np.array([readings.get(o, {}).get("speed", np.nan) for o in objects], dtype=float)
        )
        flow, speed = np.stack(self.flow_rows), np.stack(self.speed_rows)
        now = len(self.flow_rows) - 1
        self._score(now, window_mean(flow, self.model.window)[-1])
        forecast = self.model.forecast(flow, speed, self.day_type)
        h15 = self.model.horizons[_QUALITY_HORIZON]
        self._pending[now + h15] = forecast["flow"][_QUALITY_HORIZON][0]
        values = {
            v: {m: tuple(tuple(float(x) for x in part) for part in forecast[v][m]) for m in HORIZONS_MIN}
            for v in VARIABLES
        }
        network = {
            m: tuple(float(np.nansum(part[self._approach])) for part in forecast["flow"][m])
            for m in HORIZONS_MIN
        }
        quality = float(np.mean(self._errors)) if self._errors else None
        self._update = ForecastUpdate(
            time_s,
            objects,
            values,  # type: ignore[arg-type]
            network,  # type: ignore[arg-type]
            quality,
            len(self._errors),
        )
        return self._update

    def _score(self, now: int, actual: np.ndarray) -> None:
        """The +15 min forecast made for this bin against what happened."""
        predicted = self._pending.pop(now, None)
        if predicted is None:
            return
        ok = np.isfinite(actual) & np.isfinite(predicted)
        if ok.any():
            self._errors.append(float(np.abs(actual[ok] - predicted[ok]).mean()))

    def take_update(self) -> ForecastUpdate | None:
        """The forecast after the newest bin, once (None if no bin closed since the last call)."""
        update, self._update = self._update, None
        return update


def open_live_forecaster(scenario: str, geometry: NetGeometry) -> tuple[LiveForecaster | None, str]:
    """The forecaster of the scenario's trained model, if there is one; else None and why not when
    it is an error worth telling the operator (a model of other detectors, LightGBM missing)."""
    path = default_model_path(scenario)
    if not path.is_file():
        return None, ""
    if not is_installed("lightgbm"):
        return None, f"forecast model {path} not used: pip install 'trafficai[forecast]'"
    try:
        return LiveForecaster.for_scenario(path, geometry, scenario), ""
    except ModelError as exc:
        return None, f"no forecasts: {exc}"
