"""Accuracy measures against the simulator's ground truth (pure functions).

GEH is defined on hourly volumes, so 5-minute counts are multiplied by 12 first (on raw 5-minute
counts it is about 3.5 times too lenient).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

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


def idf1(pairs: Sequence[tuple[Hashable, Hashable]], n_track_dets: int, n_truth_dets: int) -> float:
    """IDF1 from per-frame matches (track id, true id), ids unique across cameras (a tracker per
    camera numbers its tracks from 1: key them by camera): each track id is assigned to one true id
    maximising the frames they share (Hungarian), IDF1 = 2 IDTP / (tracker dets + true dets)."""
    if n_track_dets + n_truth_dets == 0:
        return 1.0
    tracks = sorted({p[0] for p in pairs}, key=repr)
    truths = sorted({p[1] for p in pairs}, key=repr)
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


HOTA_ALPHAS = np.arange(0.05, 0.951, 0.05)


class HotaAccumulator:
    """HOTA (Luiten et al. 2021) as TrackEval computes it, on box IoU.

    Per frame, ground-truth and tracker boxes are matched by Hungarian assignment on IoU weighted
    by each id pair's global alignment score (how much of their lives the two ids overlap, from
    every frame), the matches kept at each localisation threshold alpha (IoU >= alpha, 0.05 ..
    0.95). Per alpha: DetA = TP / (TP + FN + FP); AssA = the mean over true positives of the
    association IoU of their id pair, TPA / (TPA + FNA + FPA); HOTA_alpha = sqrt(DetA * AssA);
    HOTA is the mean over alpha (0..1; x100 for the usual figure). Frames are kept until
    :meth:`result` because the alignment score needs the whole sequence."""

    def __init__(self) -> None:
        self.frames: list[tuple[list[str], list[str], F64]] = []

    def add(self, gt_ids: Sequence[str], track_ids: Sequence[str], iou: F64) -> None:
        """One frame: true ids, tracker ids and their IoU matrix (len(gt), len(tracks))."""
        self.frames.append((list(gt_ids), list(track_ids), np.asarray(iou, np.float64)))

    def result(self) -> dict[str, float]:
        gts = sorted({g for f in self.frames for g in f[0]})
        trs = sorted({t for f in self.frames for t in f[1]})
        gi = {g: i for i, g in enumerate(gts)}
        ti = {t: i for i, t in enumerate(trs)}
        n_gt_dets = sum(len(f[0]) for f in self.frames)
        n_tr_dets = sum(len(f[1]) for f in self.frames)
        if not gts or not trs:
            return {"hota": 0.0, "deta": 0.0, "assa": 0.0}
        potential = np.zeros((len(gts), len(trs)))
        gt_count = np.zeros(len(gts))
        tr_count = np.zeros(len(trs))
        for g_ids, t_ids, iou in self.frames:
            rows = [gi[g] for g in g_ids]
            cols = [ti[t] for t in t_ids]
            gt_count[rows] += 1
            tr_count[cols] += 1
            if not rows or not cols:
                continue
            norm = iou / (iou.sum(0)[None, :] + iou.sum(1)[:, None] - iou + np.finfo(float).eps)
            potential[np.ix_(rows, cols)] += norm
        alignment = potential / (gt_count[:, None] + tr_count[None, :] - potential)
        matches = np.zeros((len(HOTA_ALPHAS), len(gts), len(trs)))
        tp = np.zeros(len(HOTA_ALPHAS))
        for g_ids, t_ids, iou in self.frames:
            if not g_ids or not t_ids:
                continue
            row_idx = np.array([gi[g] for g in g_ids])
            col_idx = np.array([ti[t] for t in t_ids])
            score = alignment[np.ix_(row_idx, col_idx)] * iou
            for r, c in _max_assignment(score):
                for a, alpha in enumerate(HOTA_ALPHAS):
                    if iou[r, c] >= alpha - np.finfo(float).eps:
                        tp[a] += 1
                        matches[a, row_idx[r], col_idx[c]] += 1
        hota, deta, assa = [], [], []
        for a in range(len(HOTA_ALPHAS)):
            m = matches[a]
            ass_iou = m / np.maximum(gt_count[:, None] + tr_count[None, :] - m, 1.0)
            ass = float((m * ass_iou).sum() / max(tp[a], 1.0))
            det = float(tp[a] / max(n_gt_dets + n_tr_dets - tp[a], 1.0))
            deta.append(det)
            assa.append(ass)
            hota.append(math.sqrt(det * ass))
        return {"hota": float(np.mean(hota)), "deta": float(np.mean(deta)), "assa": float(np.mean(assa))}


def _max_assignment(score: F64) -> list[tuple[int, int]]:
    """Pairs maximising the total score (only pairs with a positive score)."""
    import lap  # type: ignore[import-untyped]

    _, rows, _ = lap.lapjv(score.max() - score + 1e-9, extend_cost=True)
    return [(r, int(c)) for r, c in enumerate(rows) if c >= 0 and score[r, c] > 0]


class IdSwitches:
    """CLEAR-MOT identity switches: per frame, true boxes are matched to tracks at IoU >= 0.5
    (Hungarian, a true id's previous track winning ties as in CLEAR MOT); a switch is a true id
    matched to another track than the one it was last matched to."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self.last: dict[str, int] = {}
        self.switches = 0
        self.vehicles: set[str] = set()

    def add(self, gt_ids: Sequence[str], track_ids: Sequence[int], iou: F64) -> None:
        self.vehicles.update(gt_ids)
        if not gt_ids or not track_ids:
            return
        iou = np.asarray(iou, np.float64)
        bonus = np.array([[1.0 if self.last.get(g) == t else 0.0 for t in track_ids] for g in gt_ids])
        score = np.where(iou >= self.threshold, iou + bonus, 0.0)
        for r, c in _max_assignment(score):
            g, t = gt_ids[r], track_ids[c]
            previous = self.last.get(g)
            if previous is not None and previous != t:
                self.switches += 1
            self.last[g] = t

    def per_100_vehicles(self) -> float | None:
        return 100.0 * self.switches / len(self.vehicles) if self.vehicles else None
