"""Issue 8/9: detector health is judged by the worker at simulation rate and published with every
frame; the two false alarms the operator saw (after a jump, at a long red) do not happen; an operator
marks a detector failed or back in service, logged and recorded."""

from __future__ import annotations

import time

import pytest

from trafficai.runtime import commands as c
from trafficai.runtime import messages as m
from trafficai.storage import HealthRecord, RunStore

from .conftest import Worker

pytestmark = pytest.mark.sumo

GREEN_NS = "rrrGGgrrrGGg"  # tiny's first green; held, it keeps E and W at red


def _detector_events(worker: Worker) -> list:  # type: ignore[type-arg]
    return [e for msg in worker.of(m.Events) for e in msg.events if e.kind == "detector"]


def _last_frame(worker: Worker, time_s: float) -> m.SimFrame:
    worker.wait(
        lambda: bool(worker.of(m.SimFrame)) and worker.of(m.SimFrame)[-1].snapshot.time_s >= time_s,
        what=f"a frame at t={time_s:g}",
        timeout_s=90.0,
    )
    return worker.of(m.SimFrame)[-1]


def test_no_detector_alarm_after_a_jump_to_15_minutes_on_city(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory(scenario="city")
    _last_frame(worker, 0.0)
    worker.handle.send(c.Jump(900.0))  # 00:15:00, as the operator did
    _last_frame(worker, 900.0)
    worker.handle.send(c.Play())
    frame = _last_frame(worker, 1020.0)  # "all back to normal within a minute or two": none at all
    worker.handle.send(c.Pause())
    assert _detector_events(worker) == []
    geometry = worker.of(m.Ready)[0].geometry
    assert set(frame.detector_health) == {*geometry.e1.ids, *geometry.e2.ids}
    assert {h.state for h in frame.detector_health.values()} == {"ok"}


def test_a_queue_standing_at_a_long_red_raises_no_locked_on(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory()
    _last_frame(worker, 0.0)
    geometry = worker.of(m.Ready)[0].geometry
    signal = geometry.signals[0]
    red_lanes = {link.in_lane for link in signal.links if GREEN_NS[link.index] == "r"}
    red_loops = [i for i, lane in enumerate(geometry.e1.lanes) if int(lane) in red_lanes]
    worker.handle.send(c.Override("C", "hold", 400.0, "long red for E and W", "ann"))
    worker.handle.send(c.Play())
    full_since: dict[int, float] = {}
    longest = 0.0
    deadline = time.monotonic() + 60.0
    while worker.of(m.SimFrame)[-1].snapshot.time_s < 400.0:
        assert time.monotonic() < deadline, "timed out waiting for t=400"
        worker.pump()
        snap = worker.of(m.SimFrame)[-1].snapshot
        for i in red_loops:
            if snap.detectors.e1_occupancy[i] >= 0.99:
                longest = max(longest, snap.time_s - full_since.setdefault(i, snap.time_s))
            else:
                full_since.pop(i, None)
    worker.handle.send(c.Pause())
    assert longest >= 150.0, longest  # the queue did stand on a stop-line loop beyond 2 minutes
    assert _detector_events(worker) == []
    frame = worker.of(m.SimFrame)[-1]
    assert {frame.detector_health[geometry.e1.ids[i]].state for i in red_loops} == {"ok"}


def test_an_operator_marks_a_detector_failed_and_back_in_service(worker_factory, isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory(record=True)
    _last_frame(worker, 0.0)
    run_id = worker.of(m.Ready)[0].run_id
    worker.handle.send(c.MarkDetector("e1_N_in_0", False, "ann", "cable cut"))
    worker.handle.send(c.MarkDetector("nope", False, "ann"))
    worker.handle.send(c.Step(5))
    health = _last_frame(worker, 5.0).detector_health["e1_N_in_0"]
    assert (health.state, health.reason, health.since_s) == ("failed", "marked failed by ann: cable cut", 0.0)
    assert "unknown detector 'nope'" in worker.of(m.Refused)[0].message
    worker.handle.send(c.MarkDetector("e1_N_in_0", True, "bob"))
    worker.handle.send(c.Step(1))
    assert _last_frame(worker, 6.0).detector_health["e1_N_in_0"].state == "ok"
    logged = [(e.severity, e.user, e.message) for e in _detector_events(worker)]
    assert logged == [
        ("warning", "ann", "loop e1_N_in_0: marked failed by ann: cable cut"),
        ("info", "bob", "loop e1_N_in_0: back in service (marked by bob)"),
    ]
    worker.handle.send(c.Shutdown())
    worker.wait(lambda: bool(worker.of(m.Closed)), what="the worker closed")
    with RunStore() as store:
        assert store.detector_health(run_id) == [
            HealthRecord(0.0, "e1_N_in_0", "failed", "marked failed by ann: cable cut", "ann"),
            HealthRecord(5.0, "e1_N_in_0", "ok", "", "bob"),
        ]
        assert [e.message for e in store.events(run_id) if e.kind == "detector"] == [m for *_, m in logged]
