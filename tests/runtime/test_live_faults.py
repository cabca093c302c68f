"""Issue 12 item 2: faults injected into the live run (the GUI's InjectFault / ClearFault), in a real
worker: the loop reads what the fault says, detector health raises its alarm, the fault is the run's
ground truth in the run store exactly as a ``--fault`` is, audited; a viewer's injection is refused
by the worker."""

from __future__ import annotations

import pytest

from tests.access.conftest import CHEAP
from trafficai.access.audit import AuditLog
from trafficai.access.roles import Role
from trafficai.access.users import UserStore
from trafficai.runtime import commands as c
from trafficai.runtime import messages as m
from trafficai.storage import RunStore

from .conftest import Worker

pytestmark = pytest.mark.sumo

LOOP = "e1_N_in_0"


def _frame_at(worker: Worker, time_s: float) -> m.SimFrame:
    worker.wait(
        lambda: bool(worker.of(m.SimFrame)) and worker.of(m.SimFrame)[-1].snapshot.time_s >= time_s,
        what=f"a frame at t={time_s:g}",
        timeout_s=90.0,
    )
    return worker.of(m.SimFrame)[-1]


def _loop_reading(worker: Worker, frame: m.SimFrame) -> tuple[int, float]:
    index = worker.of(m.Ready)[0].geometry.e1.ids.index(LOOP)
    det = frame.snapshot.detectors
    return int(det.e1_count[index]), float(det.e1_occupancy[index])


def _events(worker: Worker, kind: str) -> list:  # type: ignore[type-arg]
    return [e for msg in worker.of(m.Events) for e in msg.events if e.kind == kind]


def test_stuck_off_injected_live_zeroes_the_loop_raises_an_alarm_and_is_ground_truth(  # type: ignore[no-untyped-def]
    worker_factory,
) -> None:
    worker = worker_factory()
    worker.wait(lambda: bool(worker.of(m.InjectedFaults)), what="the fault list")
    assert worker.of(m.InjectedFaults)[0].faults == ()
    worker.handle.send(c.Jump(120.0))
    _frame_at(worker, 120.0)
    worker.handle.send(c.InjectFault(LOOP, "stuck-off", user="ann"))
    worker.wait(lambda: len(worker.of(m.InjectedFaults)) == 2, what="the injected fault")
    (view,) = worker.of(m.InjectedFaults)[-1].faults
    assert (view.index, view.device, view.kind, view.at_s, view.until_s, view.user) == (
        0, LOOP, "stuck-off", 120.0, None, "ann",
    )  # fmt: skip
    worker.handle.send(c.Step(1))
    onset = _loop_reading(worker, _frame_at(worker, 121.0))
    worker.handle.send(c.Jump(480.0))
    frame = _frame_at(worker, 480.0)
    assert _loop_reading(worker, frame) == (onset[0], 0.0)  # no vehicle counted, never occupied
    alarms = [e for e in _events(worker, "detector") if e.object_id == LOOP and e.severity == "alarm"]
    assert alarms, "stuck-off raised no detector alarm"
    assert frame.detector_health[LOOP].state == "failed"
    injected = _events(worker, "fault")
    assert [(e.severity, e.object_id, e.user) for e in injected] == [("warning", LOOP, "ann")]

    worker.handle.send(c.ClearFault(0, LOOP, user="ann"))
    worker.wait(lambda: len(worker.of(m.InjectedFaults)) == 3, what="the cleared fault")
    assert worker.of(m.InjectedFaults)[-1].faults[0].until_s == 480.0
    run_id = worker.of(m.Ready)[0].run_id
    with RunStore() as store:
        recorded = store.get_run(run_id).config["faults"]
    assert recorded == [{"device": LOOP, "kind": "stuck-off", "at": 120.0, "duration": 360.0, "param": None}]
    with AuditLog() as log:
        actions = [(r.user, r.action, r.target) for r in log.rows()]
    assert ("ann", "fault.inject", LOOP) in actions and ("ann", "fault.clear", LOOP) in actions


def test_bad_injections_are_refused_in_one_line(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory()
    _frame_at(worker, 0.0)
    worker.handle.send(c.InjectFault("nope", "stuck-on", user="ann"))
    worker.handle.send(c.InjectFault(LOOP, "melted", user="ann"))
    worker.handle.send(c.InjectFault(LOOP, "noise", delay_s=60.0, user="ann"))
    worker.handle.send(c.ClearFault(0, LOOP, user="ann"))  # it starts in a minute
    worker.wait(lambda: len(worker.of(m.Refused)) == 3, what="three refusals")
    messages = [r.message for r in worker.of(m.Refused)]
    assert "unknown device 'nope'" in messages[0]
    assert "unknown fault kind 'melted'" in messages[1]
    assert "starts at 00:01:00: it can be cleared once it acts" in messages[2]


def test_a_viewers_injection_is_refused_by_the_worker(worker_factory) -> None:  # type: ignore[no-untyped-def]
    with UserStore(hasher=CHEAP) as users:
        users.add("vic", Role.VIEW, "password1", by="test")
    worker = worker_factory(user="vic")
    _frame_at(worker, 0.0)
    worker.handle.send(c.InjectFault(LOOP, "stuck-off", user="vic"))
    worker.wait(lambda: bool(worker.of(m.Refused)), what="the refusal")
    assert worker.of(m.Refused)[0].message == "vic (view) may not InjectFault: it needs manage"
    assert len(worker.of(m.InjectedFaults)) == 1  # only the list sent at the start: nothing injected
