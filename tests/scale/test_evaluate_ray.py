"""``evaluate --ray``: the episodes and baselines as Ray tasks give the serial report."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.support import assert_one_line_error, cli_app, last_json, trafficai
from tests.conftest import DATA
from trafficai.runtime.evaluation import evaluate, plan_evaluation
from trafficai.scale.evaluate import ray_runner, shipped_plan
from trafficai.scale.shipping import stage

TINY = str(DATA / "tiny" / "scenario.toml")

pytestmark = [pytest.mark.usefixtures("ray_cluster"), pytest.mark.xdist_group("ray")]


def test_ray_episodes_give_the_serial_statistics() -> None:
    plan = plan_evaluation(TINY, "greedy", None, (1, 2), end_s=150)
    serial = evaluate(plan)
    on_ray = evaluate(plan, runner=ray_runner())
    assert [s.controller for s in on_ray] == [s.controller for s in serial] == list(plan.controllers)
    assert [(s.mean, s.std, s.per_episode) for s in on_ray] == [(s.mean, s.std, s.per_episode) for s in serial]


def test_evaluate_ray_json_is_the_serial_report(tmp_path: Path) -> None:
    args = ["evaluate", TINY, "--controller", "fixed", "--seeds", "3,4", "--end", "120", "--json"]
    serial = last_json(CliRunner().invoke(cli_app(), [*args, "--out", str(tmp_path / "a")]))
    result = CliRunner().invoke(cli_app(), [*args, "--ray", "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    on_ray = last_json(result)
    assert on_ray.pop("chart") != serial.pop("chart")
    assert on_ray == serial


def test_shipped_files_replace_the_driver_paths_in_the_tasks_only(tmp_path: Path) -> None:
    plan = plan_evaluation(TINY, "fixed", None, (1,), end_s=60)
    shipment = stage([plan.scenario], into=tmp_path / "ship")
    remote = shipped_plan(plan, shipment)
    assert remote.scenario == "scenarios/0/scenario.toml"
    assert {p.name for p in (tmp_path / "ship" / "scenarios" / "0").iterdir()} >= {
        "scenario.toml",
        "tiny.net.xml",
        "tiny.rou.xml",
    }
    assert shipped_plan(plan, None) is plan


def test_address_without_ray_is_refused() -> None:
    assert_one_line_error(trafficai("evaluate", TINY, "--address", "127.0.0.1:1"), "--address needs --ray")
