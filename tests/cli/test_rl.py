"""The RL commands through Typer: train (and resume), evaluate (JSON + chart), bench rl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.cli.support import cli_app, last_json
from tests.conftest import DATA
from trafficai.errors import ConfigError, ModelError, ScenarioError

pytestmark = pytest.mark.sumo


@pytest.fixture
def app() -> typer.Typer:
    return cli_app()


TINY_TRAIN = ["--algo", "ppo", "--episode", "100", "--reward", "queue", "--checkpoint-every", "16", "--json"]


def test_train_then_resume(
    app: typer.Typer, tiny: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAFFICAI_TRAIN__HYPER__N_STEPS", "16")  # user config layer: env variables
    monkeypatch.setenv("TRAFFICAI_TRAIN__HYPER__BATCH_SIZE", "16")
    runner = CliRunner()
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", tiny, "--timesteps", "32", "--out", str(out), *TINY_TRAIN])
    assert result.exit_code == 0, result.output
    payload = last_json(result)
    assert payload["timesteps"] == 32 and Path(str(payload["model"])).is_file()
    saved = json.loads((out / "train_config.json").read_text())
    assert saved["env"]["reward"]["kind"] == "queue" and saved["hyper"]["n_steps"] == 16
    result = runner.invoke(app, ["train", tiny, "--timesteps", "64", "--out", str(out), "--resume", "--json"])
    assert result.exit_code == 0, result.output
    assert last_json(result)["timesteps"] == 64
    assert json.loads((out / "model.json").read_text())["env"]["reward"]["kind"] == "queue"  # kept on resume


def test_evaluate_json_and_chart(app: typer.Typer, tiny: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            tiny,
            "--controller",
            "greedy",
            "--episodes",
            "2",
            "--end",
            "150",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = last_json(result)
    assert report["controller"] == "greedy" and report["episodes"] == 2
    assert isinstance(report["mean_delay_s"], float) and isinstance(report["std_delay_s"], float)
    assert set(report["baselines"]) == {"fixed", "actuated", "webster", "max-pressure", "sotl"}  # type: ignore[arg-type]
    assert Path(str(report["chart"])).stat().st_size > 1000
    assert report["best_baseline"] in report["baselines"]  # type: ignore[operator]


def test_evaluate_a_model_and_refusals(app: typer.Typer, tiny: str, grid2x2: str, tmp_path: Path) -> None:
    runner = CliRunner()
    trained = runner.invoke(
        app, ["train", tiny, "--timesteps", "16", "--out", str(tmp_path / "m"), *TINY_TRAIN]
    )
    model = last_json(trained)["model"]
    result = runner.invoke(
        app,
        [
            "evaluate",
            tiny,
            "--model",
            str(model),
            "--seeds",
            "3,4",
            "--end",
            "120",
            "--no-baselines",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = last_json(result)
    assert (
        report["controller"] == "model:m/model.zip"
        and report["seeds"] == [3, 4]
        and report["baselines"] == {}
    )
    wrong = runner.invoke(
        app,
        [
            "evaluate",
            grid2x2,
            "--model",
            str(model),
            "--episodes",
            "1",
            "--end",
            "60",
            "--no-baselines",
            "--json",
        ],
    )
    assert isinstance(wrong.exception, ModelError) and "not in the model" in str(wrong.exception)
    none = runner.invoke(
        app,
        [
            "train",
            str(DATA / "odd" / "nosignals.sumocfg"),
            "--timesteps",
            "16",
            "--out",
            str(tmp_path / "n"),
            "--json",
        ],
    )
    assert isinstance(none.exception, ScenarioError) and "no controllable signals" in str(none.exception)


def test_evaluate_training_seeds_together(app: typer.Typer, tiny: str, tmp_path: Path) -> None:
    runner = CliRunner()
    models = []
    for seed in (0, 1):
        out = tmp_path / f"s{seed}"
        trained = runner.invoke(
            app, ["train", tiny, "--timesteps", "16", "--seed", str(seed), "--out", str(out), *TINY_TRAIN]
        )
        assert trained.exit_code == 0, trained.output
        models += ["--model", str(last_json(trained)["model"])]
    common = ["--seeds", "3,4", "--end", "120", "--no-baselines", "--out", str(tmp_path), "--json"]
    result = runner.invoke(app, ["evaluate", tiny, *models, *common])
    assert result.exit_code == 0, result.output
    report = last_json(result)
    per_model = report["models"]
    assert isinstance(per_model, list) and [m["model"] for m in per_model] == [
        "model:s0/model.zip",
        "model:s1/model.zip",
    ]
    assert report["controller"] == "2 models" and report["episodes"] == 4
    pooled = [d for m in per_model for d in m["per_episode_delay_s"]]
    assert report["per_episode_delay_s"] == pooled
    assert report["mean_delay_s"] == pytest.approx(sum(pooled) / 4)
    twice = runner.invoke(app, ["evaluate", tiny, *models[:2], *models[:2], *common])
    assert isinstance(twice.exception, ConfigError) and "given twice" in str(twice.exception)


def test_bench_rllast_json(app: typer.Typer, tiny: str) -> None:
    result = CliRunner().invoke(
        app, ["bench", "rl", tiny, "--seconds", "200", "--repeat", "1", "--envs", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = last_json(result)
    assert "ratio_vs_sumo_rl" in report
    assert report["trafficai"]["steps"] == 40  # type: ignore[index]
    if report["sumo_rl_available"]:
        assert report["sumo_rl"]["steps"] == 40 and report["ratio_vs_sumo_rl"] > 0  # type: ignore[index,operator]
    assert [row["workers"] for row in report["scaling"]] == [1]  # type: ignore[union-attr,index]


def test_evaluate_refuses_an_unknown_controller_before_any_run(app: typer.Typer, tiny: str) -> None:
    from trafficai.errors import ControllerError

    result = CliRunner().invoke(app, ["evaluate", tiny, "--controller", "bogus", "--json"])
    assert isinstance(result.exception, ControllerError) and "unknown controller 'bogus'" in str(
        result.exception
    )
