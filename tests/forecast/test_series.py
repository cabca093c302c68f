"""Targets and baselines on series where the answer is known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from trafficai.errors import ModelError
from trafficai.forecast.data import object_groups
from trafficai.forecast.model import split_days
from trafficai.forecast.series import Profile, seasonal_naive, window_mean


def test_window_mean_is_trailing_and_skips_gaps() -> None:
    x = np.array([[1.0], [3.0], [np.nan], [5.0], [7.0]])
    np.testing.assert_allclose(window_mean(x, 2)[:, 0], [1.0, 2.0, 3.0, 5.0, 6.0])
    assert np.isnan(window_mean(np.full((3, 1), np.nan), 2)).all()


def test_historical_average_by_day_type_and_left_out_day() -> None:
    days = np.array([[[1.0]], [[3.0]], [[10.0]]])  # (days, bins, objects)
    profile = Profile.fit(days, ["weekday", "weekday", "weekend"])
    assert profile.mean("weekday")[0, 0] == 2.0 and profile.mean("weekend")[0, 0] == 10.0
    assert profile.mean("weekday", leave_out=days[0])[0, 0] == 3.0  # a training day without itself
    assert profile.mean("weekend", leave_out=days[2])[0, 0] == 2.0  # its type's only day: the others
    assert profile.mean("holiday")[0, 0] == pytest.approx(14 / 3)  # an unseen type: every day


def test_seasonal_naive_takes_the_last_day_of_the_same_type() -> None:
    targets = np.arange(4.0).reshape(4, 1, 1)
    fallback = np.full((1, 1), -1.0)
    types = ["weekday", "weekend", "weekday", "weekday"]
    assert seasonal_naive(targets, types, 3, fallback)[0, 0] == 2.0
    assert seasonal_naive(targets, types, 1, fallback)[0, 0] == -1.0


def test_days_split_chronologically_and_too_few_are_refused() -> None:
    split = split_days(14)
    assert split.train == tuple(range(8)) and split.calibration == (8, 9) and split.test == (10, 11, 12, 13)
    with pytest.raises(ModelError, match="too little history to train: 3 day"):
        split_days(3)


def test_loops_belong_to_the_signal_of_their_edge() -> None:
    assert object_groups(("J1/a_b", "e1_a_b_0", "e1_x_0")) == ("J1", "J1", "")
