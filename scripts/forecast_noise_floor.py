"""How much of the forecast error is noise no forecaster can predict (docs/benchmarks.md, Forecasting).

    python scripts/forecast_noise_floor.py STORE SCENARIO

For the held-out days of a history (the split of ``trafficai forecast``), the MAE of the historical
average against the 5-minute targets, and of an oracle that knows each day's own future: the
30-minute centred mean of the target itself. The oracle's ratio to the historical average is about
the best any forecaster of these targets can reach.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from trafficai.forecast.data import load_history
from trafficai.forecast.model import split_days
from trafficai.forecast.series import Profile, bins_for, nan_mean, window_mean
from trafficai.storage import RunStore


def main(store_path: str, scenario: str) -> None:
    with RunStore(Path(store_path)) as store:
        history = load_history(store, scenario)
    split = split_days(len(history.days))
    known = list(split.train + split.calibration)
    types = history.day_types
    half = bins_for(15, history.bin_s)
    for name, values in (("flow (veh/h)", history.flow), ("speed (m/s)", history.speed)):
        targets = window_mean(values, bins_for(5, history.bin_s))
        profile = Profile.fit(targets[known], [types[d] for d in known])
        ha_errors, oracle_errors = [], []
        for d in split.test:
            target = targets[d]
            oracle = np.stack(
                [nan_mean(target[max(0, t - half) : t + half], axis=0) for t in range(target.shape[0])]
            )
            ok = np.isfinite(target)
            ha_errors.append(np.abs(profile.mean(types[d]) - target)[ok])
            oracle_errors.append(np.abs(oracle - target)[ok])
        ha, best = float(np.mean(np.concatenate(ha_errors))), float(np.mean(np.concatenate(oracle_errors)))
        print(
            f"{name}: historical average MAE {ha:.2f}, own-future oracle MAE {best:.2f}, "
            f"ratio {best / ha:.3f}"
        )


if __name__ == "__main__":
    main(*sys.argv[1:3])
