"""Synthetic detector history where the right forecast is known: each day is a known daily
profile times that day's own scale (unknown to a historical average, visible in the first
hours), with Poisson counts; speed falls with flow. A learned model that reads the day's level
beats the historical average; one that knows the profile beats persistence before a peak."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trafficai.forecast.data import History, HistoryDay, object_groups
from trafficai.storage import RunStore

OBJECTS = ("A/e_in", "A/n_in", "e1_e_in_0", "e1_e_in_1", "e1_n_in_0", "e1_n_in_1")
BIN_S = 30.0


def _profile(n_bins: int) -> np.ndarray:
    x = np.arange(n_bins) / n_bins
    return 0.4 + 1.0 * np.exp(-0.5 * ((x - 0.3) / 0.07) ** 2) + 0.8 * np.exp(-0.5 * ((x - 0.7) / 0.08) ** 2)


def synthetic_history(
    n_days: int = 8, n_bins: int = 480, seed: int = 0, objects: tuple[str, ...] = OBJECTS
) -> History:
    rng = np.random.default_rng(seed)
    levels = np.resize(np.array([30.0, 10.0, 15.0, 15.0, 5.0, 5.0]), len(objects))  # counts per bin at 1
    profile = _profile(n_bins)
    scales = rng.uniform(0.6, 1.4, size=n_days)
    rate = scales[:, None, None] * profile[None, :, None] * levels[None, None, :] / 4
    counts = rng.poisson(rate).astype(float)
    flow = counts * 3600.0 / BIN_S
    speed = 15.0 - 6.0 * rate / levels[None, None, :] + rng.normal(0, 0.5, size=rate.shape)
    speed[rng.random(speed.shape) < 0.3] = np.nan  # bins where no vehicle gave a speed
    days = tuple(HistoryDay(d, "weekday", d % 2 == 1, f"run{d}") for d in range(n_days))
    return History("synthetic", "synthetic/seed0", BIN_S, objects, object_groups(objects), days, flow, speed)


def store_history(store: RunStore, history: History, scenario: str) -> list[str]:
    """Write ``history`` as `trafficai history` would (one run per day, 30 s detector bins)."""
    ids = []
    for d, day in enumerate(history.days):
        record = {
            "set": history.set_id,
            "seed": 0,
            "day": day.day,
            "day_type": day.day_type,
            "day_s": history.n_bins * history.bin_s,
            "bin_s": history.bin_s,
            "plan": {"has_incident": day.has_incident},
        }
        run_id = store.create_run(
            scenario, "fixed", 0, {"history": record, "resolved_scenario": {"begin_s": 0.0}}
        )
        for t in range(history.n_bins):
            detectors: dict[str, dict[str, float]] = {}
            for o, obj in enumerate(history.objects):
                values = {"count": float(history.flow[d, t, o] * history.bin_s / 3600.0)}
                if np.isfinite(history.speed[d, t, o]):
                    values["speed"] = float(history.speed[d, t, o])
                detectors[obj] = values
            store.add_bin(
                run_id, t * history.bin_s, (t + 1) * history.bin_s, {"queue_veh": 0.0}, {}, detectors
            )
        store.finish_run(run_id, {})
        ids.append(run_id)
    return ids


def synthetic_store(path: Path, n_days: int = 6, n_bins: int = 360, scenario: str = "single") -> History:
    history = synthetic_history(n_days, n_bins)
    with RunStore(path) as store:
        store_history(store, history, scenario)
    return history
