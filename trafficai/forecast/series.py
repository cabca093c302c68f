"""What is forecast, and the three baselines.

The forecast target at horizon ``h`` from an origin bin ``t`` is the 5-minute mean (the last
``WINDOW_BINS`` bins) ending at bin ``t + h``: raw 30 s counts are mostly noise (a loop counts 0-10
vehicles per bin), and 5-minute aggregates are what forecasting benchmarks (METR-LA, PeMS) use.
Baselines, for origin ``t`` of day ``d`` and horizon ``h``:

* historical average: the mean of the target at ``t + h`` over the fitted days of ``d``'s type
  (weekday/weekend; all days when a type has none);
* persistence: the target now (the last 5 minutes);
* seasonal naive: the target at ``t + h`` on the last earlier day of the same type (the
  historical average where there is none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
HORIZONS_MIN = (15, 30, 60)
WINDOW_MIN = 5.0
VARIABLES = ("flow", "speed")


def bins_for(minutes: float, bin_s: float) -> int:
    return max(1, round(minutes * 60.0 / bin_s))


def window_mean(values: F64, width: int) -> F64:
    """Trailing mean over ``width`` bins along axis -2 (bins), ignoring NaN; NaN where the window
    holds no value. Works on ``(bins, objects)`` and ``(days, bins, objects)``."""
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    axis = values.ndim - 2
    csum = np.cumsum(filled, axis=axis)
    ccount = np.cumsum(finite, axis=axis)
    shifted_sum = np.zeros_like(csum)
    shifted_count = np.zeros_like(ccount)
    index = [slice(None)] * values.ndim
    source = list(index)
    index[axis], source[axis] = slice(width, None), slice(None, -width)
    if values.shape[axis] > width:
        shifted_sum[tuple(index)] = csum[tuple(source)]
        shifted_count[tuple(index)] = ccount[tuple(source)]
    total, count = csum - shifted_sum, ccount - shifted_count
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def nan_mean(values: F64, axis: int | tuple[int, ...]) -> F64:
    """``np.nanmean`` without its warning: NaN where a slice holds no finite value."""
    finite = np.isfinite(values)
    count = finite.sum(axis=axis)
    total = np.where(finite, values, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(count > 0, total / np.maximum(count, 1), np.nan), dtype=float)


@dataclass(frozen=True)
class Profile:
    """Per day type: sums and counts of the target over the fitted days, ``(bins, objects)``."""

    sums: dict[str, F64]
    counts: dict[str, F64]

    @staticmethod
    def fit(targets: F64, day_types: Sequence[str]) -> Profile:
        sums: dict[str, F64] = {}
        counts: dict[str, F64] = {}
        for kind in sorted(set(day_types)):
            rows = targets[[i for i, k in enumerate(day_types) if k == kind]]
            finite = np.isfinite(rows)
            sums[kind] = np.where(finite, rows, 0.0).sum(axis=0)
            counts[kind] = finite.sum(axis=0).astype(float)
        return Profile(sums, counts)

    def mean(self, kind: str, leave_out: F64 | None = None) -> F64:
        """The historical average profile of ``kind`` (all types where it has no day); ``leave_out``:
        a fitted day's own target, removed (a training day's feature must not hold its own future)."""
        all_total: F64 = np.sum(list(self.sums.values()), axis=0)
        all_count: F64 = np.sum(list(self.counts.values()), axis=0)
        total = self.sums.get(kind, all_total)
        count = self.counts.get(kind, all_count)
        if leave_out is not None:
            finite = np.isfinite(leave_out)
            removed = np.where(finite, leave_out, 0.0)
            total, count = total - removed, count - finite
            all_total, all_count = all_total - removed, all_count - finite
        with np.errstate(invalid="ignore", divide="ignore"):
            every = np.where(all_count > 0, all_total / np.maximum(all_count, 1), np.nan)
            out = np.where(count > 0, total / np.maximum(count, 1), every)
        if np.isnan(out).any():  # never seen at that time: the object's mean over the day
            level = np.nan_to_num(nan_mean(out, axis=0), nan=0.0)
            out = np.where(np.isfinite(out), out, level[None, :])
        return np.asarray(out, dtype=float)


def seasonal_naive(targets: F64, day_types: Sequence[str], day: int, profile: F64) -> F64:
    """The last earlier day of ``day``'s type (``targets`` in day order), else ``profile``."""
    for earlier in range(day - 1, -1, -1):
        if day_types[earlier] == day_types[day]:
            found = targets[earlier]
            return np.where(np.isfinite(found), found, profile)
    return profile
