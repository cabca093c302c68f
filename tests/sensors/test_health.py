"""Detector health: a stuck or chattering loop is reported once, a queue or a jump never is."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trafficai.core.events import Event
from trafficai.errors import TrafficAIError
from trafficai.sensors.health import (
    FAILED,
    MARKED_FAILED,
    NO_HITS_S,
    OK,
    SUSPECT,
    DetectorHealth,
    DetectorHealthMonitor,
    chatter_rate,
    is_gap,
    judge,
    locked_on_seconds,
    no_hit_seconds,
)

from .fakes import cycle_state, snapshot

# loops of the fake: stop_N, up_N (lane 0, link 0), stop_S (lane 2, link 2), free (lane 4, no signal)
MOVING = [2, 2, 2, 2, 0, 0, 0, 0]  # vehicles on the incoming lanes, none halting


def run(monitor: DetectorHealthMonitor, snapshots: list) -> list[Event]:  # type: ignore[type-arg]
    events: list[Event] = []
    for snap in snapshots:
        events += monitor.observe(snap)
    return events


def test_rules_are_pure_functions_of_their_evidence() -> None:
    full = np.array([True, True, False])
    was = np.array([True, False, True])
    green = np.array([True, True, True])
    assert list(locked_on_seconds(np.array([10.0, 10.0, 10.0]), 5.0, full, was, green)) == [15.0, 10.0, 0.0]
    assert list(locked_on_seconds(np.array([10.0]), 5.0, full[:1], was[:1], ~green[:1])) == [10.0]
    hits = np.array([0, 1, 0])
    moving = np.array([True, True, False])
    assert list(no_hit_seconds(np.array([5.0, 5.0, 5.0]), 2.0, hits, moving)) == [7.0, 0.0, 5.0]
    assert chatter_rate(np.array([19]), 15.0)[0] == pytest.approx(38.0)
    assert judge(True, False, True) == FAILED and judge(False, False, True) == SUSPECT
    assert judge(False, False, False) == OK
    assert is_gap(31.0) and is_gap(-1.0) and not is_gap(30.0)


def test_a_queue_standing_through_a_long_red_raises_nothing(geometry) -> None:  # type: ignore[no-untyped-def]
    monitor = DetectorHealthMonitor(geometry)
    snaps = []
    for t in range(0, 3600, 5):
        red = (t % 400) < 300  # 300 s red for N, then 100 s green in which the queue leaves
        occupied = 1.0 if red or (t % 400) < 310 else 0.0
        queue = [10, 2, 2, 2, 0, 0, 0, 0]
        halting = [10 if red else 0, 0, 0, 0, 0, 0, 0, 0]
        count = 100 + t // 10
        snaps.append(
            snapshot(
                float(t),
                [count, count, count, count],
                [occupied, occupied, 0.0, 0.0],
                state="rGrG" if red else "GrGr",
                lane_vehicles=queue,
                lane_halting=halting,
            )
        )
    assert run(monitor, snaps) == []
    assert {h.state for h in monitor.states().values()} == {OK}


def test_a_queue_standing_at_green_behind_a_blocked_exit_raises_nothing(geometry) -> None:  # type: ignore[no-untyped-def]
    monitor = DetectorHealthMonitor(geometry)
    snaps = [
        snapshot(
            float(t),
            [5, 5, 5, 5],
            [1.0, 1.0, 0.0, 0.0],
            lane_vehicles=[12, 0, 0, 0, 0, 0, 0, 0],
            lane_halting=[12, 0, 0, 0, 0, 0, 0, 0],
        )
        for t in range(0, 1200, 5)
    ]
    assert run(monitor, snaps) == []


def test_a_loop_stuck_on_fails_once_after_two_minutes_of_green_and_recovers_once(geometry) -> None:  # type: ignore[no-untyped-def]
    monitor = DetectorHealthMonitor(geometry)
    snaps = [
        snapshot(float(t), [0, 0, 0, 0], [1.0, 0.0, 0.0, 0.0], state=cycle_state(t), lane_vehicles=[0] * 8)
        for t in range(0, 600, 5)
    ]
    events = run(monitor, snaps)
    assert [(e.severity, e.kind, e.object_id) for e in events] == [("alarm", "detector", "stop_N")]
    assert "locked on" in events[0].message
    # 30 s green per 60 s cycle: 2 min of green take 4 cycles, not 2 min of wall or simulated time
    assert 200.0 <= events[0].time_s <= 240.0 + 5.0
    health = monitor.states()["stop_N"]
    assert (health.state, health.since_s) == (FAILED, events[0].time_s)
    assert health.reason and health.reason in events[0].message
    back = monitor.observe(snapshot(600.0, [1, 0, 0, 0], [0.0, 0.0, 0.0, 0.0], lane_vehicles=[0] * 8))
    assert [(e.severity, e.object_id) for e in back] == [("info", "stop_N")]
    assert monitor.states()["stop_N"].state == OK


def test_a_jump_resets_the_evidence_instead_of_counting_as_silence(geometry) -> None:  # type: ignore[no-untyped-def]
    def quiet_stuck(times: range) -> list:  # type: ignore[type-arg]
        # N loops read full occupancy at green and count nothing while vehicles move on their lane
        return [snapshot(float(t), [100] * 4, [1.0, 1.0, 0.0, 0.0], lane_vehicles=MOVING) for t in times]

    jumped = DetectorHealthMonitor(geometry)
    before = [snapshot(float(t), [t, t, t, t], [0.0] * 4, lane_vehicles=MOVING) for t in range(0, 60, 5)]
    assert run(jumped, before + quiet_stuck(range(900, 1000, 5))) == []  # 15 min skipped, 100 s seen
    contiguous = DetectorHealthMonitor(geometry)
    events = run(contiguous, quiet_stuck(range(0, 1000, 5)))
    assert {(e.object_id, e.severity) for e in events} >= {("stop_N", "alarm"), ("stop_S", "warning")}


def test_a_count_going_back_is_a_restart_not_evidence(geometry) -> None:  # type: ignore[no-untyped-def]
    monitor = DetectorHealthMonitor(geometry)
    snaps = [snapshot(float(t), [50] * 4, [0.0] * 4, lane_vehicles=MOVING) for t in range(0, 800, 5)]
    snaps += [snapshot(float(t), [0] * 4, [0.0] * 4, lane_vehicles=MOVING) for t in range(800, 1600, 5)]
    assert run(monitor, snaps) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.5, 20.0), min_size=200, max_size=400))
def test_no_hits_is_judged_on_simulated_time_whatever_the_sampling(intervals: list[float]) -> None:
    from .fakes import cross_geometry

    monitor = DetectorHealthMonitor(cross_geometry())
    t, first = 0.0, None
    for dt in intervals:
        for event in monitor.observe(snapshot(t, [3, 3, 3, 3], [0.0] * 4, lane_vehicles=MOVING)):
            if event.object_id == "stop_S" and first is None:
                first = event
        t += dt
    if t - intervals[-1] < NO_HITS_S:
        assert first is None
    else:
        assert first is not None and first.severity == "warning" and "no hits" in first.message
        assert NO_HITS_S <= first.time_s < NO_HITS_S + 20.0


@settings(max_examples=30, deadline=None)
@given(red_s=st.floats(30.0, 1800.0), sample_s=st.floats(1.0, 25.0), queue=st.integers(1, 30))
def test_no_red_of_any_length_raises_a_locked_on(red_s: float, sample_s: float, queue: int) -> None:
    from .fakes import cross_geometry

    monitor = DetectorHealthMonitor(cross_geometry())
    t = 0.0
    while t < 2 * (red_s + 60.0):
        phase = t % (red_s + 60.0)
        red = phase < red_s
        occupied = 1.0 if red or phase < red_s + 3.0 else 0.0  # the queue leaves in the green's first s
        lanes = [queue, 0, 0, 0, 0, 0, 0, 0]
        halting = lanes if red else [0] * 8
        snap = snapshot(t, [int(t)] * 4, [occupied, 0.0, 0.0, 0.0], "rGrG" if red else "GrGr", lanes, halting)
        assert [e for e in monitor.observe(snap) if e.object_id == "stop_N"] == []
        t += sample_s


def test_a_chattering_loop_fails_and_a_calm_window_clears_it(geometry) -> None:  # type: ignore[no-untyped-def]
    monitor = DetectorHealthMonitor(geometry)
    snaps = [snapshot(float(t), [0, 0, 0, 2 * t], [0.0] * 4) for t in range(0, 61, 5)]  # 60 per 30 s
    events = run(monitor, snaps)
    assert [(e.severity, e.object_id) for e in events] == [("alarm", "free")]
    assert "chatter" in events[0].message and events[0].time_s == pytest.approx(30.0)
    calm = [snapshot(float(t), [0, 0, 0, 120 + (t - 60) // 5], [0.0] * 4) for t in range(65, 126, 5)]
    assert [(e.severity, e.object_id) for e in run(monitor, calm)] == [("info", "free")]


def test_states_name_every_detector_and_snapshots_without_loops_are_no_evidence(geometry) -> None:  # type: ignore[no-untyped-def]
    monitor = DetectorHealthMonitor(geometry)
    assert list(monitor.states()) == ["stop_N", "up_N", "stop_S", "free", "area_N"]
    empty = snapshot(0.0, [], [])
    assert monitor.observe(empty) == []
    assert all(h.state == OK and h.reason == "" for h in monitor.states().values())


def test_an_operator_marks_a_detector_failed_and_back_in_service(geometry) -> None:  # type: ignore[no-untyped-def]
    monitor = DetectorHealthMonitor(geometry)
    event = monitor.mark("stop_N", False, 60.0, "ann", "cable cut")
    assert (event.severity, event.kind, event.object_id, event.user) == (
        "warning",
        "detector",
        "stop_N",
        "ann",
    )
    assert event.message == "loop stop_N: marked failed by ann: cable cut"
    assert monitor.states()["stop_N"] == DetectorHealth(FAILED, "marked failed by ann: cable cut", 60.0)
    # the rules would find it healthy: the mark stands until it is lifted
    healthy = [snapshot(float(t), [t] * 4, [0.0] * 4, lane_vehicles=MOVING) for t in range(60, 400, 5)]
    assert run(monitor, healthy) == []
    assert monitor.states()["stop_N"].reason.startswith(MARKED_FAILED)
    back = monitor.mark("stop_N", True, 400.0, "bob")
    assert (back.severity, back.message) == ("info", "loop stop_N: back in service (marked by bob)")
    assert monitor.states()["stop_N"] == DetectorHealth(OK, "", 400.0)
    area = monitor.mark("area_N", False, 410.0, "ann")
    assert area.message == "area detector area_N: marked failed by ann"
    assert [(c.detector, c.health.state, c.user) for c in monitor.changes] == [
        ("stop_N", FAILED, "ann"),
        ("stop_N", OK, "bob"),
        ("area_N", FAILED, "ann"),
    ]


def test_marks_of_unknown_or_healthy_detectors_are_refused(geometry) -> None:  # type: ignore[no-untyped-def]
    monitor = DetectorHealthMonitor(geometry)
    with pytest.raises(TrafficAIError, match="unknown detector 'nope'"):
        monitor.mark("nope", False, 0.0)
    with pytest.raises(TrafficAIError, match="stop_N is in service already"):
        monitor.mark("stop_N", True, 0.0)
    assert monitor.changes == []


def test_a_failed_loop_put_back_in_service_is_judged_afresh(geometry) -> None:  # type: ignore[no-untyped-def]
    monitor = DetectorHealthMonitor(geometry)
    stuck = [
        snapshot(float(t), [0] * 4, [1.0, 0.0, 0.0, 0.0], lane_vehicles=[0] * 8) for t in range(0, 200, 5)
    ]
    assert [e.severity for e in run(monitor, stuck)] == ["alarm"]
    assert [c.user for c in monitor.changes] == ["system"]
    monitor.mark("stop_N", True, 200.0, "ann")  # "repaired": two more minutes of evidence needed
    later = [
        snapshot(float(t), [0] * 4, [1.0, 0.0, 0.0, 0.0], lane_vehicles=[0] * 8) for t in range(200, 440, 5)
    ]
    events = run(monitor, later)
    assert [(e.severity, e.object_id) for e in events] == [("alarm", "stop_N")]
    assert events[0].time_s >= 195.0 + 120.0  # from the last sample before the mark
