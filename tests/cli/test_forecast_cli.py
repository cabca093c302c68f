"""``trafficai history`` and ``trafficai forecast train|eval`` on a tiny history."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.cli.support import assert_one_line_error, trafficai
from tests.support.forecast_data import store_history, synthetic_history
from trafficai.storage import RunStore

pytest.importorskip("lightgbm")


def _store(path: Path, days: int = 6, rename: bool = False) -> Path:
    history = synthetic_history(days, 360)
    if rename:
        history = replace(history, objects=(*history.objects[:-1], "e1_elsewhere_0"))
    with RunStore(path) as store:
        store_history(store, history, "single")
    return path


def test_train_then_eval_prints_the_ratios(tmp_path: Path) -> None:
    store, model = _store(tmp_path / "runs.sqlite"), tmp_path / "single.npz"
    trained = trafficai("forecast", "train", "single", "--store", str(store), "--model", str(model), "--json")
    assert trained.returncode == 0, trained.stderr
    info = json.loads(trained.stdout)
    assert model.is_file() and info["test_days"] == [4, 5] and 4 not in info["train_days"]
    proc = trafficai("forecast", "eval", "single", "--store", str(store), "--model", str(model), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    for key in ("mae_ratio_ha", "mae_ratio_persistence"):
        assert set(report[key]) == {"15", "30", "60"} and all(v > 0 for v in report[key].values())
    assert 0 < report["coverage_80"] < 1 and report["train_s"] > 0 and report["test_days"] == [4, 5]
    assert {"incident_days", "normal_days", "by_variable", "forecast_ms"} <= set(report)
    table = trafficai("forecast", "eval", "single", "--store", str(store), "--model", str(model))
    assert table.returncode == 0 and "mae_ratio_ha (+15/+30/+60)" in table.stdout


def test_too_little_history_is_one_line(tmp_path: Path) -> None:
    store = _store(tmp_path / "runs.sqlite", days=3)
    assert_one_line_error(
        trafficai("forecast", "train", "single", "--store", str(store)), "too little history to train: 3 day"
    )
    assert_one_line_error(
        trafficai("forecast", "eval", "corridor", "--store", str(store)), "no history of corridor"
    )


def test_a_model_of_other_detectors_is_one_line(tmp_path: Path) -> None:
    from trafficai.forecast.model import train_model

    model = tmp_path / "m.npz"
    train_model(replace(synthetic_history(4, 240), scenario="single")).save(model)
    other = _store(tmp_path / "b.sqlite", rename=True)
    assert_one_line_error(
        trafficai("forecast", "eval", "single", "--store", str(other), "--model", str(model)), "do not match"
    )


@pytest.mark.sumo
def test_history_records_days_with_their_type(tmp_path: Path) -> None:
    store = tmp_path / "runs.sqlite"
    proc = trafficai(
        "history",
        "single",
        "--days",
        "2",
        "--first-day",
        "4",
        "--day-hours",
        "0.2",
        "--jobs",
        "1",
        "--store",
        str(store),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    days = json.loads(proc.stdout)["days"]
    assert [(d["day"], d["day_type"]) for d in days] == [(4, "weekday"), (5, "weekend")]
    with RunStore(store) as runs:
        assert len(runs.list_runs()) == 2
    assert_one_line_error(
        trafficai("history", "single", "--days", "0", "--store", str(store)), "at least 1 day"
    )
    assert_one_line_error(
        trafficai("history", "single", "--cameras", "vision", "--store", str(store)),
        "--cameras: expected one of off | truth",
    )
