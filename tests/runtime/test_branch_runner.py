"""The live run's branch runner: branches run on a background thread (separate processes), an
unchanged branch is always added first, results come once, a second fork while busy is refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.runtime.conftest import TINY
from tests.runtime.test_whatif import crash_or_answer
from trafficai.config import RunConfig
from trafficai.core.scenario import resolve_scenario
from trafficai.errors import TrafficAIError
from trafficai.runtime.branch_runner import BranchRunner
from trafficai.runtime.whatif import BranchTask, parse_branch


def test_branches_run_in_the_background_and_report_once(tmp_path: Path) -> None:
    scenario = resolve_scenario(TINY)
    scratch = tmp_path / "state"
    scratch.mkdir()
    tasks = [
        BranchTask(parse_branch(t), RunConfig(scenario=TINY), scenario, 120.0, 60.0, None, "fixed")
        for t in ("controller=max-pressure", "demand=2")
    ]
    runner = BranchRunner(jobs=2, target=crash_or_answer)
    runner.start(tasks, 120.0, 60.0, scratch)
    with pytest.raises(TrafficAIError, match="already running"):
        runner.start(tasks, 120.0, 60.0, scratch)
    deadline = time.monotonic() + 60
    results = None
    while results is None and time.monotonic() < deadline:
        results = runner.take()
        time.sleep(0.05)
    assert results is not None and not runner.busy
    assert [row[0] for row in results.rows] == ["unchanged", "controller=max-pressure", "demand=2"]
    assert results.rows[2][2] == "branch worker crashed (exit code 3)" and results.rows[1][1]
    assert not scratch.exists()  # the saved state is removed once the branches are done
    assert runner.take() is None
