"""Features of the learned model: one row per (origin bin, object), for one variable and horizon.

Everything is scaled by the object's level (its mean historical-average value over the day), so
one model serves a side-street loop and an arterial approach alike; the model predicts the
*deviation* of the target from the historical average, which is what lags, neighbours and the
day's level so far can tell: a busier day (its scale), a shifted peak, a slowdown, a closure.

    day = DayInputs.of(targets, profiles, scales, groups, weekend, objects, bins_15min)
    X = features(day, variable, origins, horizon)                      # (len(origins) * objects, F)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.forecast.series import F64, VARIABLES

FEATURES = (
    "ha_target",
    "ha_now",
    "now",
    "lag15",
    "lag30",
    "dev_now",
    "dev_15m",
    "dev_60m",
    "dev_day",
    "group_dev",
    "network_dev",
    "other_dev_15m",
    "time_of_day",
    "weekend",
    "log_level",
    "is_approach",
    "horizon_ha_change",
)


@dataclass(frozen=True)
class DayInputs:
    """One day's 5-minute targets and their historical averages, per variable ``(bins, objects)``,
    and what the features derive from them once per day."""

    targets: dict[str, F64]
    profiles: dict[str, F64]
    scales: dict[str, F64]  # (objects,)
    dev: dict[str, F64]  # (target - profile) / scale
    dev_cum: dict[str, F64]  # cumulative sums of dev (NaN as 0) and counts, for running means
    dev_cnt: dict[str, F64]
    group_index: NDArray[np.int64]
    n_groups: int
    weekend: float
    is_approach: F64
    bins_15min: int

    @staticmethod
    def of(
        targets: dict[str, F64],
        profiles: dict[str, F64],
        scales: dict[str, F64],
        groups: tuple[str, ...],
        weekend: bool,
        objects: tuple[str, ...],
        bins_15min: int,
    ) -> DayInputs:
        dev, cum, cnt = {}, {}, {}
        for v in VARIABLES:
            d = (targets[v] - profiles[v]) / scales[v][None, :]
            finite = np.isfinite(d)
            dev[v] = d
            cum[v] = np.cumsum(np.where(finite, d, 0.0), axis=0)
            cnt[v] = np.cumsum(finite, axis=0).astype(float)
        names = sorted(set(groups))
        index = np.array([names.index(g) for g in groups], dtype=np.int64)
        approach = np.array([1.0 if "/" in o else 0.0 for o in objects])
        return DayInputs(
            targets, profiles, scales, dev, cum, cnt, index, len(names), float(weekend), approach, bins_15min
        )

    def running_dev(self, variable: str, origins: NDArray[np.int64], width: int | None) -> F64:
        """Mean scaled deviation over the last ``width`` bins up to each origin (None: the day so far)."""
        cum, cnt = self.dev_cum[variable], self.dev_cnt[variable]
        total, count = cum[origins], cnt[origins]
        if width is not None:
            start = origins - width
            ok = start >= 0
            safe = np.where(ok, start, 0)
            total = total - np.where(ok[:, None], cum[safe], 0.0)
            count = count - np.where(ok[:, None], cnt[safe], 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def group_mean(self, values: F64) -> F64:
        """Each object's group mean of ``values`` ``(origins, objects)`` (NaN ignored)."""
        finite = np.isfinite(values)
        sums = np.zeros((values.shape[0], self.n_groups))
        counts = np.zeros_like(sums)
        for g in range(self.n_groups):
            cols = self.group_index == g
            sums[:, g] = np.where(finite[:, cols], values[:, cols], 0.0).sum(axis=1)
            counts[:, g] = finite[:, cols].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        return means[:, self.group_index]


def features(day: DayInputs, variable: str, origins: NDArray[np.int64], horizon: int) -> F64:
    """Rows ``origin-major`` (all objects of the first origin, then the next ...), columns FEATURES."""
    target, profile, scale = day.targets[variable], day.profiles[variable], day.scales[variable]
    n_bins, n_objects = target.shape
    other = VARIABLES[1 - VARIABLES.index(variable)]
    ahead = np.minimum(origins + horizon, n_bins - 1)

    def lag(bins: int) -> F64:
        back = origins - bins
        return np.where((back >= 0)[:, None], target[np.maximum(back, 0)], np.nan) / scale

    b15 = day.bins_15min
    dev15 = day.running_dev(variable, origins, b15)
    network = _row_mean(dev15)
    columns = [
        profile[ahead] / scale,
        profile[origins] / scale,
        target[origins] / scale,
        lag(b15),
        lag(2 * b15),
        day.dev[variable][origins],
        dev15,
        day.running_dev(variable, origins, 4 * b15),
        day.running_dev(variable, origins, None),
        day.group_mean(dev15),
        np.repeat(network[:, None], n_objects, axis=1),
        day.running_dev(other, origins, b15),
        np.repeat((origins / n_bins)[:, None], n_objects, axis=1),
        np.full((origins.size, n_objects), day.weekend),
        np.repeat(np.log1p(np.abs(scale))[None, :], origins.size, axis=0),
        np.repeat(day.is_approach[None, :], origins.size, axis=0),
        (profile[ahead] - profile[origins]) / scale,
    ]
    return np.stack([c.reshape(-1) for c in columns], axis=1)


def scaled_target(day: DayInputs, variable: str, origins: NDArray[np.int64], horizon: int) -> F64:
    """What the model learns: ``(target(t + h) - profile(t + h)) / scale``, origin-major."""
    return day.dev[variable][origins + horizon].reshape(-1)


def _row_mean(values: F64) -> F64:
    finite = np.isfinite(values)
    count = finite.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.where(finite, values, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan)
