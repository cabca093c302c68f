"""Forecast accuracy on held-out days: the learned model against the three baselines.

Every held-out day is forecast from every bin (``updated every bin``) at each horizon; errors are
against the 5-minute target that then happened. The report keeps flow and speed apart and the
incident days apart from the others; its headline ratios (``mae_ratio_ha``, ...) are the mean of
the flow and the speed ratio at each horizon, so neither variable's units dominate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trafficai.errors import ModelError
from trafficai.forecast.data import History
from trafficai.forecast.model import ForecastModel, Split, day_targets
from trafficai.forecast.series import F64, HORIZONS_MIN, VARIABLES, bins_for, seasonal_naive, window_mean

METHODS = ("model", "historical_average", "persistence", "seasonal_naive")
_TIMED_ORIGINS = 20


@dataclass
class _Sums:
    """Absolute-error sums and counts per (method, variable, minutes); interval hits."""

    errors: dict[tuple[str, str, int], float] = field(default_factory=dict)
    counts: dict[tuple[str, str, int], int] = field(default_factory=dict)
    inside: dict[tuple[str, int], int] = field(default_factory=dict)

    def add(self, method: str, variable: str, minutes: int, abs_errors: F64) -> None:
        key = (method, variable, minutes)
        self.errors[key] = self.errors.get(key, 0.0) + float(abs_errors.sum())
        self.counts[key] = self.counts.get(key, 0) + int(abs_errors.size)

    def mae(self, method: str, variable: str, minutes: int) -> float:
        n = self.counts.get((method, variable, minutes), 0)
        return self.errors.get((method, variable, minutes), 0.0) / n if n else float("nan")

    def report(self) -> dict[str, Any]:
        by_variable: dict[str, Any] = {}
        for v in VARIABLES:
            mae = {m: {str(h): self.mae(m, v, h) for h in HORIZONS_MIN} for m in METHODS}
            ratios = {
                f"mae_ratio_{base}": {
                    str(h): _ratio(mae["model"][str(h)], mae[base][str(h)]) for h in HORIZONS_MIN
                }
                for base in ("historical_average", "persistence", "seasonal_naive")
            }
            hits = sum(self.inside.get((v, h), 0) for h in HORIZONS_MIN)
            total = sum(self.counts.get(("model", v, h), 0) for h in HORIZONS_MIN)
            by_variable[v] = {"mae": mae, **ratios, "coverage_80": hits / total if total else float("nan")}
        out: dict[str, Any] = {}
        for name, base in (
            ("ha", "historical_average"),
            ("persistence", "persistence"),
            ("seasonal_naive", "seasonal_naive"),
        ):
            out[f"mae_ratio_{name}"] = {
                str(h): float(np.mean([by_variable[v][f"mae_ratio_{base}"][str(h)] for v in VARIABLES]))
                for h in HORIZONS_MIN
            }
        hits = sum(self.inside.values())
        total = sum(self.counts.get(("model", v, h), 0) for v in VARIABLES for h in HORIZONS_MIN)
        out["coverage_80"] = hits / total if total else float("nan")
        out["samples"] = total
        out["by_variable"] = by_variable
        return out


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def _last_observed(target: F64) -> F64:
    """Persistence for a series with gaps (speed): the last 5-minute value seen, NaN before any."""
    out = target.copy()
    for t in range(1, out.shape[0]):
        gap = ~np.isfinite(out[t])
        out[t, gap] = out[t - 1, gap]
    return out


def evaluate(model: ForecastModel, history: History, split: Split) -> dict[str, Any]:
    """The report of ``model`` on ``split.test`` (every day of ``history``, in day order)."""
    if tuple(model.objects) != tuple(history.objects):
        raise ModelError(
            f"forecast model of {model.scenario} has {len(model.objects)} detectors, the history "
            f"{len(history.objects)}: retrain it (`trafficai forecast train {history.scenario}`)"
        )
    window = model.window
    all_targets = {"flow": window_mean(history.flow, window), "speed": window_mean(history.speed, window)}
    types = history.day_types
    sums = {k: _Sums() for k in ("all", "incident_days", "normal_days", "approaches", "loops")}
    is_approach = np.array(["/" in o for o in history.objects])
    everywhere = np.ones_like(is_approach)
    first = bins_for(15, history.bin_s)
    for d in split.test:
        day = model.inputs({v: all_targets[v][d] for v in VARIABLES}, types[d])
        group = "incident_days" if history.days[d].has_incident else "normal_days"
        for v in VARIABLES:
            target = all_targets[v][d]
            seasonal = seasonal_naive(all_targets[v], types, d, day.profiles[v])
            persistent = _last_observed(target)
            for minutes, h in model.horizons.items():
                origins = np.arange(first, history.n_bins - h, dtype=np.int64)
                truth = target[origins + h]
                point = model.predict(day, v, minutes, origins)
                low, high = model.interval(day, v, minutes, origins, point)
                ha = day.profiles[v][origins + h]
                guesses = {
                    "model": point,
                    "historical_average": ha,
                    "persistence": np.where(np.isfinite(persistent[origins]), persistent[origins], ha),
                    "seasonal_naive": seasonal[origins + h],
                }
                ok = np.isfinite(truth)
                inside = (truth >= low) & (truth <= high)
                for name, columns in (
                    ("all", everywhere),
                    (group, everywhere),
                    ("approaches", is_approach),
                    ("loops", ~is_approach),
                ):
                    mask = ok & columns[None, :]
                    for method, guess in guesses.items():
                        sums[name].add(method, v, minutes, np.abs(guess - truth)[mask])
                    key = (v, minutes)
                    sums[name].inside[key] = sums[name].inside.get(key, 0) + int(inside[mask].sum())
    report = sums["all"].report()
    report["incident_days"] = _brief(sums["incident_days"])
    report["normal_days"] = _brief(sums["normal_days"])
    report["approaches"] = _brief(sums["approaches"])
    report["loops"] = _brief(sums["loops"])
    report["forecast_ms"] = forecast_latency_ms(model, history, split.test[0])
    report["train_s"] = float(model.meta.get("train_s", float("nan")))
    report["test_days"] = [history.days[d].day for d in split.test]
    report["train_days"] = list(model.meta.get("train_days", []))
    report["calibration_days"] = list(model.meta.get("calibration_days", []))
    report["detectors"] = len(history.objects)
    return report


def _brief(sums: _Sums) -> dict[str, Any]:
    if not sums.counts:
        return {"samples": 0}
    full = sums.report()
    return {k: full[k] for k in ("mae_ratio_ha", "mae_ratio_persistence", "coverage_80", "samples")}


def forecast_latency_ms(model: ForecastModel, history: History, day: int) -> float:
    """Median wall time of one forecast of every detector and approach (both variables, every
    horizon, intervals), from the day's raw bins so far, as the live worker makes it."""
    times = []
    n_bins = history.n_bins
    for t in np.linspace(bins_for(20, history.bin_s), n_bins - 1, _TIMED_ORIGINS).astype(int):
        started = time.perf_counter()
        model.forecast(history.flow[day, : t + 1], history.speed[day, : t + 1], history.days[day].day_type)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000.0)


__all__ = ["METHODS", "day_targets", "evaluate", "forecast_latency_ms"]
