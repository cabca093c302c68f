"""What-if branches: parsing and refusals, a crashed branch reported while the others finish, and
the unchanged branch reproducing the uninterrupted run on a tiny network."""

from __future__ import annotations

import os

import pytest

from tests.runtime.conftest import TINY
from trafficai.config import RunConfig, SimConfig
from trafficai.core.scenario import resolve_scenario
from trafficai.errors import ConfigError
from trafficai.runtime.whatif import BranchResult, BranchTask, kendall_tau, parse_branch, run_branches
from trafficai.runtime.whatif_run import fork_and_compare


def test_branches_parse_and_bad_ones_are_one_line() -> None:
    assert parse_branch("controller=max-pressure").controller == "max-pressure"
    assert parse_branch("incident=close-lane:L_0").incident == ("close-lane", "L_0")
    assert parse_branch("demand=1.2").demand == 1.2
    for bad, says in (
        ("controller=nope", "unknown controller 'nope'"),
        ("incident=melt:L_0", "close-lane|close-edge|block-lane"),
        ("demand=-1", "between 0 and 5"),
        ("colour=red", "unknown key 'colour'"),
    ):
        with pytest.raises(ConfigError, match=says) as info:
            parse_branch(bad)
        assert "\n" not in str(info.value) and bad in str(info.value)


def test_kendall_tau() -> None:
    assert kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert kendall_tau([1, 2, 3, 4], [40, 30, 20, 10]) == -1.0


def crash_or_answer(task: BranchTask) -> BranchResult:
    """A branch worker that dies for one branch (as a SUMO segfault would) and answers the others."""
    if task.spec.text == "demand=2":
        os._exit(3)
    return BranchResult(task.spec.text, {"mean_delay_s": 1.0})


def test_a_crashed_branch_is_reported_and_the_others_finish() -> None:
    scenario = resolve_scenario(TINY)
    config = RunConfig(scenario=TINY)
    tasks = [
        BranchTask(parse_branch(text), config, scenario, 300.0, 60.0, None, "fixed")
        for text in ("unchanged", "demand=2", "controller=max-pressure")
    ]
    results = run_branches(tasks, jobs=2, target=crash_or_answer)
    assert [r.branch for r in results] == ["unchanged", "demand=2", "controller=max-pressure"]
    assert results[1].error == "branch worker crashed (exit code 3)"
    assert results[0].kpis and results[2].kpis and not results[0].error and not results[2].error


@pytest.mark.sumo
def test_unchanged_state_branch_reproduces_the_live_run_on_a_tiny_network() -> None:
    scenario = resolve_scenario(TINY)
    config = RunConfig(scenario=TINY, sim=SimConfig(seed=5))
    specs = [parse_branch("controller=max-pressure"), parse_branch("incident=close-lane:nowhere_0")]
    with pytest.raises(ConfigError, match="no lane 'nowhere_0'"):
        fork_and_compare(config, scenario, "fixed", 240.0, 240.0, specs, jobs=2)
    result = fork_and_compare(config, scenario, "fixed", 240.0, 240.0, specs[:1], jobs=2, method="state")
    unchanged, pressure = result["branches"]
    assert unchanged["branch"] == "unchanged" and "error" not in unchanged
    assert result["unchanged_branch_delay_error"] is not None
    assert result["unchanged_branch_delay_error"] <= 0.01
    assert unchanged["kpis"]["throughput_veh"] == pytest.approx(
        result["uninterrupted"]["throughput_veh"], abs=1
    )
    assert pressure["kpis"]["mean_delay_s"] > 0
