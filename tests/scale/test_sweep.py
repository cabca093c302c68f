"""Sweeps on Ray: the same KPIs as serial runs, every run in the store, resume, retry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA
from trafficai.cli.launch import resolve_launch
from trafficai.scale import results
from trafficai.scale import sweep as engine
from trafficai.scale.spec import expand, load_spec
from trafficai.storage import RunStore

TINY = str(DATA / "tiny" / "scenario.toml")
SPEC = (
    f'[sweep]\nscenarios = ["{TINY}"]\ncontrollers = ["fixed", "max-pressure"]\nseeds = [1, 2]\nend_s = 200\n'
)

pytestmark = [pytest.mark.usefixtures("ray_cluster"), pytest.mark.xdist_group("ray")]


def _runs(tmp_path: Path) -> list[engine.SweepRun]:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    return expand(load_spec(path), path, resolve_launch)


def test_a_sweep_on_ray_gives_the_serial_kpis_and_records_every_run(tmp_path: Path) -> None:
    runs = _runs(tmp_path)
    with RunStore() as store:
        outcomes = engine.run_on_ray(runs, lambda o: results.record(store, o, "spec.toml"))
        assert all(o.ok and o.attempts == 1 for o in outcomes)
        assert engine.identical(outcomes, engine.run_serially(runs))
        finished = results.finished_in_store(store)
    assert set(finished) == {r.config_hash for r in runs}
    rows = results.summarize(outcomes)
    assert [r["runs"] for r in rows] == [2, 2]
    assert rows[0]["mean_delay_s"] <= rows[1]["mean_delay_s"]


def test_resume_skips_the_runs_already_finished(tmp_path: Path) -> None:
    runs = _runs(tmp_path)
    with RunStore() as store:
        first = engine.run_on_ray(runs[:3], lambda o: results.record(store, o, "spec.toml"))
        todo, resumed = results.split_resumed(runs, results.finished_in_store(store))
    assert todo == runs[3:]
    assert [o.kpis for o in resumed] == [o.kpis for o in first]
    assert all(o.resumed for o in resumed)


def test_a_failing_task_is_retried_once_and_reported(tmp_path: Path) -> None:
    run = _runs(tmp_path)[0]
    bad = engine.SweepRun("broken", run.config.model_copy(update={"scenario": "/no/such/scenario"}), "x")
    seen: list[engine.Outcome] = []
    [outcome] = engine.run_on_ray([bad], seen.append)
    assert not outcome.ok and outcome.attempts == 2
    assert "no/such/scenario" in outcome.error and "\n" not in outcome.error
    assert seen == [outcome]
