"""Accuracy measures against the simulator's ground truth (pure functions).

GEH is defined on hourly volumes, so 5-minute counts are multiplied by 12 first (on raw 5-minute
counts it is about 3.5 times too lenient).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


def wape(measured: Sequence[float], truth: Sequence[float]) -> float | None:
    """Weighted absolute percentage error: sum |M - C| / sum C (None when there is no truth)."""
    total = float(np.sum(truth))
    if total <= 0:
        return None
    return float(np.abs(np.asarray(measured, float) - np.asarray(truth, float)).sum() / total)


def mape(measured: Sequence[float], truth: Sequence[float]) -> float | None:
    m, c = np.asarray(measured, float), np.asarray(truth, float)
    keep = c > 0
    if not keep.any():
        return None
    return float(np.mean(np.abs(m[keep] - c[keep]) / c[keep]))


def geh(measured_per_hour: float, truth_per_hour: float) -> float:
    total = measured_per_hour + truth_per_hour
    return 0.0 if total <= 0 else math.sqrt(2.0 * (measured_per_hour - truth_per_hour) ** 2 / total)


def geh_hourly(
    measured_5min: Sequence[float], truth_5min: Sequence[float], factor: float = 12.0
) -> list[float]:
    """GEH of each interval on hourly-equivalent volumes (5-minute counts x 12)."""
    return [geh(m * factor, c * factor) for m, c in zip(measured_5min, truth_5min, strict=True)]


def match_events(
    measured: Sequence[tuple[str, float]], truth: Sequence[tuple[str, float]], tolerance_s: float = 1.0
) -> int:
    """Crossings matched one to one: same key (line, lane ...) and within ``tolerance_s``, greedy
    by time (both sorted), which is optimal for one-dimensional intervals per key."""
    matched = 0
    keys = {k for k, _ in measured} | {k for k, _ in truth}
    for key in keys:
        m = sorted(t for k, t in measured if k == key)
        c = sorted(t for k, t in truth if k == key)
        i = j = 0
        while i < len(m) and j < len(c):
            if abs(m[i] - c[j]) <= tolerance_s:
                matched += 1
                i += 1
                j += 1
            elif m[i] < c[j]:
                i += 1
            else:
                j += 1
    return matched


def precision_recall_f1(matched: int, n_measured: int, n_truth: int) -> tuple[float, float, float]:
    p = matched / n_measured if n_measured else (1.0 if n_truth == 0 else 0.0)
    r = matched / n_truth if n_truth else (1.0 if n_measured == 0 else 0.0)
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return p, r, f


def idf1(pairs: Sequence[tuple[int, str]], n_track_dets: int, n_truth_dets: int) -> float:
    """IDF1 from per-frame matches (track id, true id): each track id is assigned to one true id
    maximising the frames they share (Hungarian), IDF1 = 2 IDTP / (tracker dets + true dets)."""
    if n_track_dets + n_truth_dets == 0:
        return 1.0
    tracks = sorted({p[0] for p in pairs})
    truths = sorted({p[1] for p in pairs})
    if not tracks:
        return 0.0
    ti = {t: i for i, t in enumerate(tracks)}
    gi = {g: i for i, g in enumerate(truths)}
    shared = np.zeros((len(tracks), len(truths)))
    for t, g in pairs:
        shared[ti[t], gi[g]] += 1
    import lap  # type: ignore[import-untyped]

    _, rows, _ = lap.lapjv(shared.max() - shared, extend_cost=True)
    idtp = sum(shared[r, c] for r, c in enumerate(rows) if c >= 0)
    return float(2 * idtp / (n_track_dets + n_truth_dets))


def rmse(errors: Sequence[float]) -> float | None:
    return float(np.sqrt(np.mean(np.square(errors)))) if len(errors) else None


def median_abs(errors: Sequence[float]) -> float | None:
    return float(np.median(np.abs(errors))) if len(errors) else None


def box_iou(a: NDArray[np.floating], b: NDArray[np.floating]) -> F64:
    """IoU matrix (len(a), len(b)) of x1, y1, x2, y2 boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    iou: F64 = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
    return iou
