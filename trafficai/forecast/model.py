"""The learned forecaster: LightGBM, one model per variable and horizon (direct multi-horizon),
with 80 % prediction intervals by split conformal prediction.

Days are split chronologically (:func:`split_days`): the first days train the trees, the next
*calibration* days give the intervals (the 80 % quantile of absolute errors, per level class of the
historical average: wider at busy times), the last days are held out for evaluation and never seen
here. A training day's historical-average features leave that day out (else the model would learn
to trust a profile that contains its own future).

    model = train_model(history)            # History of the train + calibration days
    fc = model.forecast_day(flow_bins, speed_bins, day_type, origins)   # per variable and horizon
    model.save(path); ForecastModel.load(path, expect_objects=...)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from trafficai.errors import ModelError
from trafficai.forecast.data import History
from trafficai.forecast.features import FEATURES, DayInputs, features, scaled_target
from trafficai.forecast.series import (
    F64,
    HORIZONS_MIN,
    VARIABLES,
    WINDOW_MIN,
    Profile,
    bins_for,
    nan_mean,
    window_mean,
)
from trafficai.storage import default_data_dir

FORMAT = "trafficai-forecast/1"
MIN_DAYS = 4
COVERAGE = 0.8
_LEVEL_CLASSES = 4
_TRAIN_STRIDE = 2  # every other origin bin trains (neighbouring origins are near duplicates)
_PARAMS: dict[str, Any] = {
    "objective": "l1",
    "learning_rate": 0.08,
    # small, heavily regularised trees: the 5-minute targets are mostly noise (measured: 31 leaves
    # / 200 per leaf did no better at +15 min and worse at +60 min, docs/forecasting.md)
    "num_leaves": 15,
    "min_data_in_leaf": 1000,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "num_threads": 1,
    "verbose": -1,
    "seed": 1,
    "deterministic": True,
}
_ROUNDS = 150


def default_model_path(scenario: str) -> Path:
    """Where ``forecast train`` saves a scenario's model and the control center looks for it."""
    return default_data_dir() / "forecast" / f"{scenario}.npz"


@dataclass(frozen=True, slots=True)
class Split:
    train: tuple[int, ...]
    calibration: tuple[int, ...]
    test: tuple[int, ...]


def split_days(n_days: int) -> Split:
    """Chronological: the last quarter held out, the 15 % before it calibrates, the rest trains."""
    if n_days < MIN_DAYS:
        raise ModelError(f"too little history to train: {n_days} day(s), at least {MIN_DAYS} needed")
    test = max(1, round(n_days * 0.25))
    calibration = max(1, round(n_days * 0.15))
    train = n_days - test - calibration
    return Split(
        tuple(range(train)),
        tuple(range(train, train + calibration)),
        tuple(range(train + calibration, n_days)),
    )


def day_targets(flow_bins: F64, speed_bins: F64, window: int) -> dict[str, F64]:
    return {"flow": window_mean(flow_bins, window), "speed": window_mean(speed_bins, window)}


@dataclass
class ForecastModel:
    scenario: str
    set_id: str
    bin_s: float
    n_bins: int
    objects: tuple[str, ...]
    groups: tuple[str, ...]
    profiles: dict[str, dict[str, F64]]  # variable -> day type -> (bins, objects)
    scales: dict[str, F64]
    boosters: dict[str, Any]  # "<variable>/<minutes>" -> lightgbm.Booster
    level_edges: dict[str, F64]  # per key: historical-average levels splitting the interval classes
    half_widths: dict[str, F64]  # per key: the 80 % absolute error of each level class
    meta: dict[str, Any] = field(default_factory=dict)
    window_min: float = WINDOW_MIN  # the targets' averaging window

    @property
    def window(self) -> int:
        return bins_for(self.window_min, self.bin_s)

    @property
    def horizons(self) -> dict[int, int]:
        """Minutes -> bins."""
        return {m: bins_for(m, self.bin_s) for m in HORIZONS_MIN}

    def inputs(
        self, targets: dict[str, F64], day_type: str, profiles: dict[str, F64] | None = None
    ) -> DayInputs:
        chosen = profiles or {v: _profile_of(self.profiles[v], day_type) for v in VARIABLES}
        return DayInputs.of(
            targets,
            chosen,
            self.scales,
            self.groups,
            day_type == "weekend",
            self.objects,
            bins_for(15, self.bin_s),
        )

    def predict(self, day: DayInputs, variable: str, minutes: int, origins: NDArray[np.int64]) -> F64:
        """Point forecasts ``(origins, objects)`` in the variable's units."""
        h = self.horizons[minutes]
        x = features(day, variable, origins, h)
        # one thread: a forecast is a few hundred rows, and OpenMP threads on busy cores cost 10x
        scaled = np.asarray(self.boosters[f"{variable}/{minutes}"].predict(x, num_threads=1), dtype=float)
        ahead = np.minimum(origins + h, day.profiles[variable].shape[0] - 1)
        out = (
            day.profiles[variable][ahead] + scaled.reshape(origins.size, -1) * self.scales[variable][None, :]
        )
        return np.asarray(np.maximum(out, 0.0), dtype=float)

    def interval(
        self, day: DayInputs, variable: str, minutes: int, origins: NDArray[np.int64], point: F64
    ) -> tuple[F64, F64]:
        key = f"{variable}/{minutes}"
        ahead = np.minimum(origins + self.horizons[minutes], day.profiles[variable].shape[0] - 1)
        level = np.searchsorted(self.level_edges[key], day.profiles[variable][ahead])
        half = self.half_widths[key][level]
        return np.maximum(point - half, 0.0), point + half

    def forecast(
        self, flow_bins: F64, speed_bins: F64, day_type: str
    ) -> dict[str, dict[int, tuple[F64, F64, F64]]]:
        """The forecast now (after the last of the day's bins so far, ``(bins, objects)``): per
        variable and horizon in minutes, (point, low, high) per object."""
        if flow_bins.shape[1] != len(self.objects):
            raise ModelError(
                f"forecast model of {self.scenario} has {len(self.objects)} detectors, "
                f"the data {flow_bins.shape[1]}"
            )
        padded = {k: _pad(v, self.n_bins) for k, v in (("flow", flow_bins), ("speed", speed_bins))}
        day = self.inputs(day_targets(padded["flow"], padded["speed"], self.window), day_type)
        origin = np.array([min(flow_bins.shape[0], self.n_bins) - 1], dtype=np.int64)
        out: dict[str, dict[int, tuple[F64, F64, F64]]] = {}
        for v in VARIABLES:
            out[v] = {}
            for m in HORIZONS_MIN:
                point = self.predict(day, v, m, origin)
                low, high = self.interval(day, v, m, origin, point)
                out[v][m] = (point[0], low[0], high[0])
        return out

    # -- files ---------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {}
        for v in VARIABLES:
            arrays[f"scale/{v}"] = self.scales[v]
            for kind, profile in self.profiles[v].items():
                arrays[f"profile/{v}/{kind}"] = profile
        for key in self.boosters:
            arrays[f"booster/{key}"] = np.array(self.boosters[key].model_to_string())
            arrays[f"edges/{key}"] = self.level_edges[key]
            arrays[f"half/{key}"] = self.half_widths[key]
        header = {
            "format": FORMAT,
            "scenario": self.scenario,
            "set_id": self.set_id,
            "bin_s": self.bin_s,
            "n_bins": self.n_bins,
            "objects": list(self.objects),
            "groups": list(self.groups),
            "meta": self.meta,
            "window_min": self.window_min,
        }
        arrays["header"] = np.array(json.dumps(header))
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        tmp.replace(path)

    @staticmethod
    def load(
        path: Path, scenario: str | None = None, objects: tuple[str, ...] | None = None
    ) -> ForecastModel:
        """Read a model file; ``scenario``/``objects``: refuse one trained for other detectors."""
        import lightgbm as lgb

        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            header = json.loads(str(arrays.pop("header")))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{path}: not a forecast model file ({exc})") from exc
        if header.get("format") != FORMAT:
            raise ModelError(f"{path}: not a forecast model file (format {header.get('format')!r})")
        model_objects = tuple(header["objects"])
        if scenario is not None and header["scenario"] != scenario:
            raise ModelError(f"{path}: forecast model of {header['scenario']}, not of {scenario}")
        if objects is not None and set(objects) != set(model_objects):
            missing = sorted(set(objects) - set(model_objects))[:3]
            raise ModelError(
                f"{path}: the model's {len(model_objects)} detectors do not match the {len(objects)} of "
                f"{header['scenario']} (e.g. not in the model: {', '.join(missing) or '-'})"
            )
        profiles: dict[str, dict[str, F64]] = {v: {} for v in VARIABLES}
        boosters, edges, halves = {}, {}, {}
        for name, value in arrays.items():
            kind, _, rest = name.partition("/")
            if kind == "profile":
                v, _, day_type = rest.partition("/")
                profiles[v][day_type] = value
            elif kind == "booster":
                boosters[rest] = lgb.Booster(model_str=str(value))
            elif kind == "edges":
                edges[rest] = value
            elif kind == "half":
                halves[rest] = value
        scales = {v: arrays[f"scale/{v}"] for v in VARIABLES}
        return ForecastModel(
            header["scenario"],
            header["set_id"],
            float(header["bin_s"]),
            int(header["n_bins"]),
            model_objects,
            tuple(header["groups"]),
            profiles,
            scales,
            boosters,
            edges,
            halves,
            dict(header["meta"]),
        )


def _pad(bins: F64, n_bins: int) -> F64:
    """A day's bins so far, as a full day (NaN after now; nothing after now is read)."""
    out = np.full((n_bins, bins.shape[1]), np.nan)
    out[: min(n_bins, bins.shape[0])] = bins[:n_bins]
    return out


def _profile_of(profiles: dict[str, F64], day_type: str) -> F64:
    if day_type in profiles:
        return profiles[day_type]
    return np.mean(list(profiles.values()), axis=0)  # type: ignore[no-any-return]


def _scales(profiles: dict[str, F64]) -> F64:
    level = nan_mean(np.stack(list(profiles.values())), axis=(0, 1))
    return np.maximum(np.nan_to_num(level, nan=1.0), 1.0)


def _origins(n_bins: int, horizon: int, first: int, stride: int = 1) -> NDArray[np.int64]:
    return np.arange(first, n_bins - horizon, stride, dtype=np.int64)


def train_model(
    history: History, split: Split | None = None, window_min: float = WINDOW_MIN
) -> ForecastModel:
    """Train on ``split.train``, calibrate the intervals on ``split.calibration`` (default:
    :func:`split_days`; its test days are not touched)."""
    import lightgbm as lgb

    started = time.perf_counter()
    split = split or split_days(len(history.days))
    window = bins_for(window_min, history.bin_s)
    targets = {"flow": window_mean(history.flow, window), "speed": window_mean(history.speed, window)}
    types = history.day_types
    train_types = [types[i] for i in split.train]
    fitted = {v: Profile.fit(targets[v][list(split.train)], train_types) for v in VARIABLES}
    train_profiles = {v: {k: fitted[v].mean(k) for k in sorted(set(types))} for v in VARIABLES}
    scales = {v: _scales(train_profiles[v]) for v in VARIABLES}
    model = ForecastModel(
        history.scenario,
        history.set_id,
        history.bin_s,
        history.n_bins,
        history.objects,
        history.groups,
        train_profiles,
        scales,
        {},
        {},
        {},
        window_min=window_min,
    )
    first = bins_for(15, history.bin_s)
    rows: dict[str, list[tuple[F64, F64]]] = {}
    for pos, d in enumerate(split.train):
        day_targets_ = {v: targets[v][d] for v in VARIABLES}
        loo = {v: fitted[v].mean(types[d], leave_out=targets[v][d]) for v in VARIABLES}
        day = model.inputs(day_targets_, types[d], profiles=loo)
        del pos
        for v in VARIABLES:
            for m, h in model.horizons.items():
                origins = _origins(history.n_bins, h, first, _TRAIN_STRIDE)
                rows.setdefault(f"{v}/{m}", []).append(
                    (features(day, v, origins, h), scaled_target(day, v, origins, h))
                )
    for key, parts in rows.items():
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        keep = np.isfinite(y)
        if keep.sum() < 100:
            raise ModelError(f"too little history to train: {int(keep.sum())} {key} samples")
        data = lgb.Dataset(x[keep], y[keep], feature_name=list(FEATURES), free_raw_data=True)
        # a small history (tests, a few short days) still gets trees of several leaves
        leaf = min(int(_PARAMS["min_data_in_leaf"]), max(20, int(keep.sum()) // 100))
        params = {**_PARAMS, "min_data_in_leaf": leaf}
        model.boosters[key] = lgb.train(params, data, num_boost_round=_ROUNDS)
    _calibrate(model, history, targets, split)
    # from now on the model forecasts with profiles of every day it may know (train + calibration)
    known = list(split.train) + list(split.calibration)
    known_types = [types[i] for i in known]
    for v in VARIABLES:
        refit = Profile.fit(targets[v][known], known_types)
        model.profiles[v] = {k: refit.mean(k) for k in sorted(set(types))}
    model.meta = {
        "train_s": time.perf_counter() - started,
        "train_days": [history.days[i].day for i in split.train],
        "calibration_days": [history.days[i].day for i in split.calibration],
        "test_days": [history.days[i].day for i in split.test],
        "threads": _PARAMS["num_threads"],
        "rows": {k: int(sum(p[1].size for p in parts)) for k, parts in rows.items()},
    }
    return model


def _calibrate(model: ForecastModel, history: History, targets: dict[str, F64], split: Split) -> None:
    first = bins_for(15, history.bin_s)
    errors: dict[str, list[tuple[F64, F64]]] = {}
    for d in split.calibration:
        day = model.inputs({v: targets[v][d] for v in VARIABLES}, history.days[d].day_type)
        for v in VARIABLES:
            for m, h in model.horizons.items():
                origins = _origins(history.n_bins, h, first)
                point = model.predict(day, v, m, origins)
                truth = day.targets[v][origins + h]
                level = day.profiles[v][origins + h]
                errors.setdefault(f"{v}/{m}", []).append(
                    (np.abs(truth - point).reshape(-1), level.reshape(-1))
                )
    for key, parts in errors.items():
        err = np.concatenate([p[0] for p in parts])
        level = np.concatenate([p[1] for p in parts])
        ok = np.isfinite(err)
        err, level = err[ok], level[ok]
        if err.size == 0:
            raise ModelError(f"too little history to calibrate the {key} intervals")
        edges = np.quantile(level, np.linspace(0, 1, _LEVEL_CLASSES + 1)[1:-1])
        classes = np.searchsorted(edges, level)
        halves = np.array(
            [
                _conformal(err[classes == c]) if (classes == c).any() else _conformal(err)
                for c in range(_LEVEL_CLASSES)
            ]
        )
        model.level_edges[key], model.half_widths[key] = edges, halves


def _conformal(abs_errors: F64) -> float:
    """The split-conformal quantile: the ceil((n + 1) * 0.8)-th smallest error."""
    n = abs_errors.size
    rank = min(n - 1, int(np.ceil((n + 1) * COVERAGE)) - 1)
    return float(np.partition(abs_errors, rank)[rank])
