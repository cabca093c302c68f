"""What-if branches by fork(): the unchanged branch is the live run exactly, a branch that dies is
reported while the others finish, and no branch writes into the live run's files or resume points."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import TINY
from trafficai.config import RunConfig, SimConfig
from trafficai.control.registry import make_controller
from trafficai.core.scenario import resolve_scenario
from trafficai.runtime.lifecycle import RunLifecycle
from trafficai.runtime.resume import ResumePoints
from trafficai.runtime.whatif import BranchResult, BranchSpec, BranchTask, parse_branch, run_branch
from trafficai.runtime.whatif_fork import fork_branches, fork_supported, run_with_forks
from trafficai.runtime.whatif_run import fork_and_compare

pytestmark = [
    pytest.mark.sumo,
    pytest.mark.skipif(not fork_supported(), reason="fork() of a libsumo process needs Linux"),
]


def test_the_unchanged_forked_branch_is_the_live_run_exactly() -> None:
    scenario = resolve_scenario(TINY)
    config = RunConfig(scenario=TINY, sim=SimConfig(seed=5))
    result = fork_and_compare(
        config, scenario, "fixed", 240.0, 240.0, [parse_branch("controller=max-pressure")], method="fork"
    )
    assert result["method"] == "fork" and result["branches_cpu_s"] > 0
    unchanged, pressure = result["branches"]
    assert "error" not in unchanged and "error" not in pressure
    assert unchanged["kpis"] == result["uninterrupted"]  # every KPI, not within a tolerance
    assert result["unchanged_branch_delay_error"] == 0.0
    assert pressure["kpis"]["mean_delay_s"] != unchanged["kpis"]["mean_delay_s"]
    # the live run forked four ways ends as a run never forked: the branches took nothing from it
    alone = run_branch(BranchTask(BranchSpec("unchanged"), config, scenario, 240.0, 240.0, None, "fixed"))
    assert alone.kpis == result["uninterrupted"]


def crash_one(
    life: Any, spec: BranchSpec, at_s: float, horizon_s: float, sources: Sequence[str]
) -> BranchResult:
    """A branch body that dies for one branch (as a SUMO segfault would) and answers the others."""
    if spec.text == "demand=2":
        os._exit(3)
    return BranchResult(spec.text, {"time_s": life.backend.time_s, "at_s": at_s})


def test_a_crashed_forked_branch_is_reported_and_the_others_finish() -> None:
    scenario = resolve_scenario(TINY)
    life = RunLifecycle(RunConfig(scenario=TINY, end_s=400.0), scenario)
    life.record(None, "fixed")
    try:
        backend = life.open(warnings=False).backend
        life.attach(make_controller("fixed"))
        while backend.time_s < 100.0:
            life.step()
        specs = [parse_branch(t) for t in ("unchanged", "demand=2", "controller=max-pressure")]
        forked = fork_branches(life, specs, 60.0, jobs=2, body=crash_one)
        while backend.time_s < 150.0:  # the live run goes on meanwhile
            life.step()
        results = forked.collect()
    finally:
        life.close_simulation()
    assert [r.branch for r in results] == ["unchanged", "demand=2", "controller=max-pressure"]
    assert results[1].error == "branch worker crashed (exit code 3)"
    assert results[0].kpis == {"time_s": 100.0, "at_s": 100.0} and results[2].kpis["time_s"] == 100.0


def test_branches_leave_the_live_runs_resume_points_alone(tmp_path: Path) -> None:
    """SUMO saves the live run's states through /proc/self/fd: forked branches save theirs elsewhere."""
    scenario = resolve_scenario(TINY)
    points = ResumePoints(100.0)
    saving = points.saving(0)
    assert saving is not None and str(saving.prefix).startswith("/proc/self/fd/")
    life = RunLifecycle(RunConfig(scenario=TINY, end_s=700.0), scenario)
    life.record(None, "fixed")
    try:
        backend = life.open(warnings=False, state_saving=saving).backend
        life.attach(make_controller("fixed"))
        while backend.time_s < 150.0:
            life.step()
        assert points.dir_fd is not None
        forked = fork_branches(life, [parse_branch("demand=3")], 500.0, state_dirs=(points.dir_fd,))
        results = forked.collect()  # the branch runs to 650 s, past four save times, first
        latest = points.latest(0)
        assert latest is not None and latest.time_s == 100.0  # the live run has not reached 200 s
        while backend.step < backend.end_step:
            life.step()
    finally:
        life.close_simulation()
    assert not results[0].error
    assert points.root is not None
    names = sorted(p.name for p in (points.root / "sim0").iterdir())
    assert names == ["state_500.00.xml.gz", "state_600.00.xml.gz"]
    points.close()


def test_run_with_forks_reports_a_failing_reference() -> None:
    scenario = resolve_scenario(TINY)
    task = BranchTask(BranchSpec("unchanged"), RunConfig(scenario=TINY), scenario, 60.0, 60.0, None, "nope")
    reference, branches, _ = run_with_forks(task, [BranchSpec("unchanged")])
    assert reference.error and not branches
