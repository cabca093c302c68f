"""What-if from the live worker process: the branches are forked from its serve loop while the
live run (recorded in the store, saving resume points) goes on; a bad branch is refused."""

from __future__ import annotations

import pytest

from trafficai.runtime import commands as c
from trafficai.runtime import messages as m

from .conftest import Worker

pytestmark = pytest.mark.sumo


def _time(worker: Worker) -> float:
    progress = worker.of(m.Progress)
    return progress[-1].time_s if progress else 0.0


def test_branches_fork_from_the_live_worker_and_it_goes_on(worker_factory) -> None:  # type: ignore[no-untyped-def]
    # paced (30x real time): flat out, tiny's 600 s can end on an idle machine before the fork
    worker = worker_factory(speed=30.0)
    worker.wait(lambda: bool(worker.of(m.SimFrame)), what="the first frame")
    worker.handle.send(c.Play())
    worker.wait(lambda: _time(worker) >= 120, what="t=120")
    worker.handle.send(c.ForkWhatIf(("controller=nope",), 120.0, "ann"))
    worker.wait(lambda: bool(worker.of(m.Refused)), what="the refusal")
    assert "unknown controller 'nope'" in worker.of(m.Refused)[0].message
    worker.handle.send(c.ForkWhatIf(("controller=max-pressure", "demand=2"), 120.0, "ann"))
    worker.wait(lambda: bool(worker.of(m.WhatIfResults)), timeout_s=120.0, what="the branches")
    results = worker.of(m.WhatIfResults)[0]
    assert [row[0] for row in results.rows] == ["unchanged", "controller=max-pressure", "demand=2"]
    assert all(not error and kpis["mean_delay_s"] > 0 for _, kpis, error in results.rows), results.rows
    forked = [e for msg in worker.of(m.Events) for e in msg.events if e.kind == "whatif"]
    assert forked and "forked at" in forked[0].message
    at = forked[0].time_s
    worker.wait(lambda: _time(worker) >= at + 200, what="the live run going on")
    assert not worker.of(m.Failed)
