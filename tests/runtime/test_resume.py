"""Resume points: SUMO saves its state every few simulated minutes in the worker; after a SUMO
failure, Resume goes on from the last saved state (not t=0). The worker runs in this process here,
so a failure can be injected into its backend."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from trafficai.core.scenario import resolve_scenario
from trafficai.errors import SimulationError
from trafficai.runtime import commands as c
from trafficai.runtime import messages as m
from trafficai.runtime.resume import ResumePoints, clock, resumed
from trafficai.runtime.sim_worker import SimWorker
from trafficai.runtime.worker_config import WorkerConfig
from trafficai.sim.state_files import SavedState, latest_state

from .conftest import TINY

pytestmark = pytest.mark.sumo


def _worker(published: list[m.Message], every_s: float = 60.0) -> SimWorker:
    config = WorkerConfig.for_scenario(
        TINY, speed=None, playing=False, frames=False, record=False, save_state_every_s=every_s
    )
    worker = SimWorker(config, published.append, lambda: 10**9)
    worker.start(first=True)
    return worker


def _run_to(worker: SimWorker, time_s: float) -> None:
    worker.apply(c.Jump(time_s))
    while worker.jump_target is not None and not worker.failed:
        worker._advance_once()


def _fail_next_step(worker: SimWorker) -> None:
    def broken() -> None:
        raise SimulationError("SUMO: simulation step failed: injected", scenario="tiny")

    assert worker.backend is not None
    worker.backend.advance = broken  # type: ignore[method-assign]
    worker._advance_once()


def test_after_a_sumo_failure_resume_goes_on_from_the_last_saved_state() -> None:
    published: list[m.Message] = []
    worker = _worker(published)
    try:
        _run_to(worker, 150.0)
        worker.apply(c.CloseLane("N_in_0", "ann", "works"))
        _fail_next_step(worker)
        failed = [x for x in published if isinstance(x, m.Failed)]
        assert failed and "injected" in failed[-1].message
        assert failed[-1].resume_from_s == 120.0  # states at 60 and 120 s
        worker.apply(c.Resume("ann"))
        assert worker.backend is not None and worker.backend.time_s == 120.0
        assert [r.generation for r in published if isinstance(r, m.Ready)] == [0, 1]
        running = worker.backend.snapshot(vehicles=False).counters.running
        assert running > 0  # the traffic of t=120 s, not an empty network
        _run_to(worker, 200.0)
        assert worker.backend.time_s == 200.0 and not worker.failed
        events = [e for x in published if isinstance(x, m.Events) for e in x.events]
        note = next(e for e in events if "resumed from the state saved at 00:02:00" in e.message)
        assert "INC-1 lane closed N_in_0" in note.message and note.user == "ann"
    finally:
        worker.end_simulation("interrupted")
        worker.resume_points.close()


def test_resume_without_a_failure_is_refused_and_the_run_goes_on() -> None:
    published: list[m.Message] = []
    worker = _worker(published)
    try:
        _run_to(worker, 10.0)
        worker.apply(c.Resume("ann"))
        refused = [x for x in published if isinstance(x, m.Refused)]
        assert refused and "no saved state" in refused[-1].message
        assert worker.backend is not None and worker.backend.time_s == 10.0
    finally:
        worker.end_simulation("interrupted")
        worker.resume_points.close()


def test_a_failure_before_the_first_saved_state_offers_no_resume() -> None:
    published: list[m.Message] = []
    worker = _worker(published, every_s=300.0)
    try:
        _run_to(worker, 30.0)
        _fail_next_step(worker)
        failed = [x for x in published if isinstance(x, m.Failed)]
        assert failed and failed[-1].resume_from_s is None
    finally:
        worker.resume_points.close()


def test_a_state_cut_short_is_skipped(tmp_path: Path) -> None:
    prefix = tmp_path / "state"
    good = tmp_path / "state_60.00.xml.gz"
    import gzip

    with gzip.open(good, "wb") as fh:
        fh.write(b"<snapshot time='60'></snapshot>\n")
    whole = gzip.compress(b"<snapshot time='120'>" + b"<vehicle/>" * 1000 + b"</snapshot>")
    (tmp_path / "state_120.00.xml.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "state_notatime.xml.gz").write_bytes(b"")
    assert latest_state(prefix) == SavedState(good, 60.0)
    assert latest_state(tmp_path / "none" / "state") is None


def test_resumed_scenario_begins_at_the_state_time_and_keeps_its_end() -> None:
    scenario = resolve_scenario(TINY)
    run = WorkerConfig.for_scenario(TINY, end_s=500.0).run
    later, moved = resumed(scenario, run, SavedState(Path("s.xml.gz"), 120.0))
    assert (later.begin_s, later.end_s) == (120.0, scenario.end_s)
    assert moved.end_s == 380.0  # still ends at t=500
    assert (
        resumed(replace(scenario), run.model_copy(update={"end_s": None}), SavedState(Path("s"), 60.0))[
            1
        ].end_s
        is None
    )
    assert clock(3725.0) == "01:02:05"
    assert ResumePoints(0.0).saving(0) is None  # saving off
