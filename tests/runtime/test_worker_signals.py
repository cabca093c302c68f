"""Issue 9 item 4 in the worker: overrides logged and shown with the operator's stage numbers and
kind, the clearance rule enforced, every controller in charge recorded with its time."""

from __future__ import annotations

import pytest

from trafficai.runtime import commands as c
from trafficai.runtime import messages as m
from trafficai.storage import ControllerRecord, RunStore

from .conftest import Worker

pytestmark = pytest.mark.sumo


def _frame_at(worker: Worker, time_s: float) -> m.SimFrame:
    worker.wait(
        lambda: bool(worker.of(m.SimFrame)) and worker.of(m.SimFrame)[-1].snapshot.time_s >= time_s,
        what=f"t={time_s:g}",
    )
    return worker.of(m.SimFrame)[-1]


def _events(worker: Worker, kind: str) -> list:  # type: ignore[type-arg]
    return [e for msg in worker.of(m.Events) for e in msg.events if e.kind == kind]


def test_overrides_name_their_kind_and_stage_and_are_refused_in_clearance(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory()
    _frame_at(worker, 0.0)
    worker.handle.send(c.Override("C", "force", 60.0, "parade", "ann", green=1))  # "Green stage 2"
    worker.handle.send(c.Step(1))
    frame = _frame_at(worker, 1.0)
    assert frame.signals[0].override == "force stage 2"
    logged = [e.message for e in _events(worker, "override")]
    assert logged == ["force stage 2 on C for 60 s: parade"]
    # min green (5 s) first, then the yellow towards stage 2
    for t in range(2, 12):
        worker.handle.send(c.Step(1))
        frame = _frame_at(worker, float(t))
        if frame.signals[0].stage == "yellow":
            break
    assert frame.signals[0].stage == "yellow", frame.signals[0]
    for _ in range(3):  # the operator of issue 9 pressed force-next three times during the yellow
        worker.handle.send(c.Override("C", "force", 60.0, "again", "ann"))
    worker.wait(lambda: len(worker.of(m.Refused)) == 3, what="three refusals")
    assert all("in clearance (yellow" in r.message for r in worker.of(m.Refused))
    assert worker.of(m.SimFrame)[-1].signals[0].override == "force stage 2"  # nothing replaced
    worker.handle.send(c.ClearOverride("C", "ann"))
    worker.handle.send(c.Step(1))
    worker.wait(lambda: len(_events(worker, "override")) == 2, what="the clearing")
    assert _events(worker, "override")[-1].message == "force stage 2 override on C cleared"


def test_the_run_record_lists_every_controller_in_charge_and_when(worker_factory, isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory(record=True)
    _frame_at(worker, 0.0)
    ready = worker.of(m.Ready)[0]
    worker.handle.send(c.Step(10))
    _frame_at(worker, 10.0)
    worker.handle.send(c.SetController("max-pressure", ("C",), "ann"))
    worker.handle.send(c.Step(10))
    _frame_at(worker, 20.0)
    worker.handle.send(c.SetController("greedy", (), "bob"))
    worker.handle.send(c.Step(1))
    _frame_at(worker, 21.0)
    worker.handle.send(c.Shutdown())
    worker.wait(lambda: bool(worker.of(m.Closed)), what="the worker closed")
    with RunStore() as store:
        history = store.controllers([ready.run_id])[ready.run_id]
        assert store.get_run(ready.run_id).controller == "fixed"  # the one it started with
    assert history == [
        ControllerRecord(0.0, "fixed"),
        ControllerRecord(10.0, "max-pressure", ("C",)),
        ControllerRecord(20.0, "greedy"),
    ]
