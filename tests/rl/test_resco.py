"""RESCO maps from the optional sumo-rl package: located, trained on and evaluated with RESCO's timing."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.cli.support import cli_app, last_json
from trafficai.control.rl.resco import resco_sumocfg, resco_timing
from trafficai.errors import ScenarioError

pytestmark = pytest.mark.sumo

needs_sumo_rl = pytest.mark.skipif(
    importlib.util.find_spec("sumo_rl") is None, reason="the optional sumo-rl package (RESCO maps)"
)


@pytest.fixture
def app() -> typer.Typer:
    return cli_app()


def test_timing_is_rescos() -> None:
    assert (resco_timing("cologne8").decision_interval_s, resco_timing("cologne8").yellow_s) == (10.0, 3.0)
    assert (resco_timing("arterial4x4").decision_interval_s, resco_timing("arterial4x4").yellow_s) == (
        5.0,
        2.0,
    )
    assert resco_timing("cologne8").time_to_teleport < 0  # RESCO runs without teleporting


def test_unknown_map_and_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ScenarioError, match="unknown RESCO map 'cologne9'"):
        resco_sumocfg("cologne9")
    monkeypatch.setattr(importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(ScenarioError, match="pip install sumo-rl"):
        resco_sumocfg("cologne8")


@needs_sumo_rl
def test_train_and_evaluate_on_a_resco_map(app: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "c1"
    trained = runner.invoke(
        app,
        [
            "train",
            "--resco",
            "cologne1",
            "--timesteps",
            "32",
            "--episode",
            "200",
            "--checkpoint-every",
            "32",
            "--out",
            str(out),
            "--json",
        ],
        env={"TRAFFICAI_TRAIN__HYPER__N_STEPS": "16", "TRAFFICAI_TRAIN__HYPER__BATCH_SIZE": "16"},
    )
    assert trained.exit_code == 0, trained.output
    saved = json.loads((out / "model.json").read_text())
    assert saved["env"]["delta_time_s"] == 10.0 and saved["env"]["safety"]["yellow_s"] == 3.0
    assert saved["env"]["time_to_teleport"] < 0
    model = str(last_json(trained)["model"])
    evaluate = ["evaluate", "--resco", "cologne1", "--seeds", "1", "--end", "300", "--json"]
    result = runner.invoke(app, [*evaluate, "--model", model, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = last_json(result)
    assert report["resco"] == "cologne1" and report["decision_interval_s"] == 10.0
    assert report["scenario"] == "cologne1" and float(report["mean_delay_s"]) > 0  # type: ignore[arg-type]
    assert {"fixed", "max-pressure", "greedy"} <= set(report["baselines"])  # type: ignore[arg-type]
