"""The simulation worker process: commands applied in SUMO, overrides held and expiring, refusals,
incidents, jumps, recording, failures. No Qt here."""

from __future__ import annotations

import pytest

from trafficai.runtime import commands as c
from trafficai.runtime import messages as m
from trafficai.storage import RunStore

from .conftest import BROKEN, Worker

pytestmark = pytest.mark.sumo

GREEN_NS = "rrrGGgrrrGGg"  # tiny's first phase (42 s in its own program)


def _started(worker: Worker) -> m.Ready:
    worker.wait(lambda: bool(worker.of(m.SimFrame)), what="the first frame")
    return worker.of(m.Ready)[0]


def _changes(worker: Worker, signal: int = 0) -> list[tuple[float, str]]:
    return [(t, state) for m in worker.of(m.SignalChanges) for i, t, state in m.changes if i == signal]


def _events(worker: Worker) -> list:  # type: ignore[type-arg]
    return [e for m in worker.of(m.Events) for e in m.events]


def _time(worker: Worker) -> float:
    progress = worker.of(m.Progress)
    return progress[-1].time_s if progress else 0.0


def test_hold_keeps_the_phase_in_sumo_then_expires_and_the_plan_resumes(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory()
    _started(worker)
    assert _changes(worker)[0] == (0.0, GREEN_NS)
    worker.handle.send(c.Override("C", "hold", 100.0, "police on site", "ann"))
    worker.handle.send(c.Play())
    worker.wait(lambda: _time(worker) >= 260 or bool(worker.of(m.Finished)), what="t=260")
    changes = _changes(worker)
    # held: SUMO showed the first green until the override expired at t=100 (its plan switches at 42)
    assert changes[0] == (0.0, GREEN_NS)
    assert changes[1][0] >= 100.0, changes[:3]
    assert "y" in changes[1][1]
    for frame in worker.of(m.SimFrame):
        if frame.snapshot.time_s < 100:
            assert frame.snapshot.signals.state[0] == GREEN_NS  # read back from SUMO
    # after expiry the signal is handed back to its own plan: 42 s greens again
    greens = [t for t, state in changes[1:] if "G" in state and "y" not in state]
    assert len(greens) >= 2 and greens[1] - greens[0] == pytest.approx(45.0)
    last = worker.of(m.SimFrame)[-1].signals[0]
    assert last.override == "" and last.stage.startswith("program:")
    events = _events(worker)
    held = [
        e for e in events if e.kind == "override" and "hold" in e.message and "police on site" in e.message
    ]
    assert held and held[0].user == "ann" and held[0].time_s == 0.0
    assert any(e.kind == "override" and "expired" in e.message for e in events)


def test_invalid_overrides_are_refused_with_a_message(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory()
    _started(worker)
    for command in (
        c.Override("C", "force", 60.0, "test", "ann", green=7),
        c.Override("C", "hold", 60.0, "  ", "ann"),
        c.Override("Z", "hold", 60.0, "test", "ann"),
        c.Override("C", "hold", 0.0, "test", "ann"),
        c.Override("C", "dance", 60.0, "test", "ann"),
    ):
        worker.handle.send(command)
    worker.wait(lambda: len(worker.of(m.Refused)) == 5, what="five refusals")
    messages = [r.message for r in worker.of(m.Refused)]
    assert "has no green stage 7" in messages[0]
    assert "needs a reason" in messages[1]
    assert "unknown signal 'Z'" in messages[2]
    assert "duration" in messages[3]
    assert "unknown override" in messages[4]
    assert sum(1 for e in _events(worker) if e.kind == "refused") == 5


def test_controller_per_intersection_and_incidents(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory()
    _started(worker)
    worker.handle.send(c.SetController("max-pressure", ("C",), "ann"))
    worker.handle.send(c.CloseEdge("N_in", "ann", "works"))
    worker.handle.send(c.BlockLane("E_in_0", 100.0, 60.0, "ann", "breakdown"))
    worker.handle.send(c.Step(2))
    worker.wait(lambda: any(f.snapshot.time_s >= 2 for f in worker.of(m.SimFrame)), what="two steps")
    incidents = worker.of(m.Incidents)[-1].incidents
    assert [(i.kind, i.target) for i in incidents] == [("edge closed", "N_in"), ("lane blocked", "E_in_0")]
    frame = worker.of(m.SimFrame)[-1]
    assert frame.signals[0].controller == "max-pressure"
    assert incidents[1].vehicle in frame.snapshot.vehicles.ids  # the stopped vehicle is in SUMO
    worker.handle.send(c.ClearIncident(incidents[1].id, "ann"))
    worker.handle.send(c.Step(1))
    worker.wait(lambda: worker.of(m.SimFrame)[-1].snapshot.time_s >= 3, what="a step")
    assert [i.kind for i in worker.of(m.Incidents)[-1].incidents] == ["edge closed"]
    assert incidents[1].vehicle not in worker.of(m.SimFrame)[-1].snapshot.vehicles.ids
    worker.handle.send(c.RestoreAll("ann"))
    worker.handle.send(c.CloseLane("nowhere_0", "ann"))
    worker.wait(lambda: bool(worker.of(m.Refused)), what="a refusal")
    assert worker.of(m.Incidents)[-1].incidents == ()
    assert "unknown lane" in worker.of(m.Refused)[0].message


def test_jump_forward_and_back(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory()
    _started(worker)
    worker.handle.send(c.Jump(300.0))
    worker.wait(lambda: any(f.snapshot.time_s == 300.0 for f in worker.of(m.SimFrame)), what="t=300")
    worker.handle.send(c.Jump(100.0))
    worker.wait(
        lambda: any(f.generation == 1 and f.snapshot.time_s == 100.0 for f in worker.of(m.SimFrame)),
        what="a restart and t=100",
    )
    assert [r.generation for r in worker.of(m.Ready)] == [0, 1]


def test_the_run_is_recorded_like_a_headless_run(worker_factory, isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory(record=True)
    ready = _started(worker)
    assert ready.run_id
    worker.handle.send(c.Override("C", "hold", 30.0, "event traffic", "ann"))
    worker.handle.send(c.Play())
    worker.wait(lambda: bool(worker.of(m.Finished)), what="the end of the scenario")
    finished = worker.of(m.Finished)[0]
    assert finished.run_id == ready.run_id and finished.kpis["arrived"] > 0
    with RunStore() as store:
        run = store.get_run(ready.run_id)
        assert run.status == "completed" and run.n_bins >= 9 and run.config["source"] == "gui"
        events = store.events(ready.run_id)
    assert any(e.kind == "override" and e.user == "ann" and "event traffic" in e.message for e in events)


def test_a_broken_scenario_is_reported_and_the_worker_waits(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory(scenario=BROKEN)
    worker.wait(lambda: bool(worker.of(m.Failed)), what="the failure")
    assert "broken" in worker.of(m.Failed)[0].message
    assert worker.handle.alive()
    worker.handle.send(c.Play())
    worker.wait(lambda: bool(worker.of(m.Refused)), what="a refusal")
    assert "restart" in worker.of(m.Refused)[0].message


def test_route_demand_round_trip_incident_refusals_and_effect(worker_factory) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory()
    _started(worker)
    worker.handle.send(c.RouteDemand("N_in", 0.0, "ann", "car park full"))
    worker.handle.send(c.RouteDemand("nowhere", 0.5, "ann"))
    worker.handle.send(c.RouteDemand("N_in", -1.0, "ann"))
    worker.handle.send(c.Step(2))
    worker.wait(lambda: len(worker.of(m.Refused)) == 2, what="two refusals")
    refused = [(r.command, r.message) for r in worker.of(m.Refused)]
    assert refused[0][0] == "RouteDemand" and "unknown edge 'nowhere'" in refused[0][1]
    assert "must be in [0, 5], got -1" in refused[1][1] and "\n" not in refused[1][1]
    (incident,) = worker.of(m.Incidents)[-1].incidents
    assert (incident.kind, incident.target, incident.demand_factor, incident.user, incident.reason) == (
        "route demand",
        "N_in",
        0.0,
        "ann",
        "car park full",
    )
    assert incident.lanes == ("N_in_0",) and not incident.closes_lanes and incident.since_s == 0.0
    worker.handle.send(c.RouteDemand("N_in", 2.0, "bob"))  # again on the same edge: a new factor
    worker.wait(lambda: worker.of(m.Incidents)[-1].incidents[0].demand_factor == 2.0, what="the new factor")
    again = worker.of(m.Incidents)[-1].incidents
    assert len(again) == 1 and again[0].id == incident.id and again[0].user == "bob"
    worker.handle.send(c.ClearIncident(incident.id, "ann"))
    worker.wait(lambda: worker.of(m.Incidents)[-1].incidents == (), what="the incident cleared")
    worker.handle.send(c.RouteDemand("W_in", 0.5, "ann"))
    worker.handle.send(c.RestoreAll("ann"))
    worker.handle.send(c.Step(1))
    worker.wait(lambda: any(f.snapshot.time_s >= 3 for f in worker.of(m.SimFrame)), what="a step")
    assert worker.of(m.Incidents)[-1].incidents == ()
    messages = [(e.time_s, e.user, e.message) for e in _events(worker) if e.kind == "incident"]
    assert (
        0.0,
        "ann",
        f"{incident.id}: demand on routes through N_in scaled to 0x: car park full",
    ) in messages
    assert any(u == "bob" and "scaled to 2x (was 0x)" in m for _, u, m in messages)
    assert any(u == "ann" and "route demand 2x through N_in cleared" in m for _, u, m in messages)
    assert any("route demand 0.5x through W_in cleared" in m for _, _, m in messages)
    # in effect: no vehicle through N_in departs (tiny's first one is due at t=4); the others all do
    worker.handle.send(c.RouteDemand("N_in", 0.0, "ann"))
    worker.handle.send(c.Play())
    worker.wait(lambda: bool(worker.of(m.Finished)), what="the end of the scenario")
    assert worker.of(m.Finished)[0].kpis["departed"] == 100 - 22  # tiny: 100 vehicles, 22 via N_in
