"""Extended health rules on scripted data: each fires on its fault, stays quiet on healthy data,
night included (tests/sensors/fakes.py: stop_N and up_N on lane 0, area_N covering both)."""

from __future__ import annotations

import numpy as np

from trafficai.config import HealthSection
from trafficai.sensors.health import OK, DetectorHealthMonitor
from trafficai.sensors.health_rules import (
    conservation_broken,
    improbably_few,
    pems_categories,
    poisson_cdf,
    spike_timer,
    unchanged,
)

from .fakes import cross_geometry, cycle_state, snapshot

LIMITS = HealthSection().pems_limits()


def healthy_day(t: int, rate_s: float = 10.0) -> tuple[int, str, tuple[int, int, float, float]]:
    """Cumulative count (one vehicle every ``rate_s`` s of green), signal state, area reading: one
    vehicle moving at the speed that carries as many vehicles through the 60 m area as the loops
    count (the count-bias rule checks that they agree: 3 m/s for one per 20 s)."""
    state = cycle_state(t)
    green_seconds = (t // 60) * 30 + min(t % 60, 30)
    speed = 60.0 * 30.0 / (60.0 * rate_s) if rate_s < 1e6 else 8.0
    return int(green_seconds // rate_s), state, (1, 0, 0.1, speed)


def run(  # type: ignore[no-untyped-def]
    monitor: DetectorHealthMonitor, times: range, loop_n, rate_s: float = 10.0, area_of=None
) -> list:  # type: ignore[type-arg]
    """Scripted samples: ``loop_n(t, true_count)`` gives stop_N's (occupancy, count); the area
    detector holds one moving vehicle (``area_of(t)``: another reading); no traffic at night."""
    events = []
    for t in times:
        count, state, area = healthy_day(t, rate_s)
        traffic = rate_s < 1e6
        area = area_of(t) if area_of is not None else (area if traffic else (0, 0, 0.0, -1.0))
        occupancy_n, count_n = loop_n(t, count)
        lanes = [2, 0, 2, 0, 0, 0, 0, 0] if traffic else [0] * 8
        snap = snapshot(
            float(t),
            [count_n, count, count, 0],
            [occupancy_n, 0.0, 0.0, 0.0],
            state=state,
            lane_vehicles=lanes,
            area=area,
            speed=[8.0, 8.0, 8.0, -1.0],
        )
        events += monitor.observe(snap)
    return events


def test_pure_rules() -> None:
    assert poisson_cdf(0, 9.3) < 1e-4 < poisson_cdf(0, 9.0)
    few = improbably_few(np.array([0, 0, 3]), np.array([10.0, 2.0, 10.0]), 1e-4)
    assert list(few) == [True, False, False]
    occ = np.array([[0.3, 0.0, 1.0, 0.3], [0.3, 0.0, 1.0, 0.31]])
    assert list(unchanged(occ, np.zeros_like(occ))) == [True, False, False, False]
    timer = spike_timer(
        np.zeros(2), np.array([0.0, 0.0]), np.array([0.8, 0.8]), np.array([True, False]), 0.25, 30.0, 30.0
    )
    assert list(timer) == [90.0, 0.0]
    assert conservation_broken(40, 10, 2, 5, 0.2) and not conservation_broken(40, 36, 2, 5, 0.2)


def test_pems_card_off_needs_an_expectation_so_night_is_quiet() -> None:
    k = 40
    zeros = np.zeros((k, 1))
    ones = np.ones(k)
    green = np.full((k, 1), 0.5)
    day = pems_categories(zeros, zeros, np.full((k, 1), 6.0), 6.0 * ones, green, np.array([60.0]), LIMITS)
    night = pems_categories(zeros, zeros, np.full((k, 1), 6.0), 6.0 * ones, green, np.array([3.0]), LIMITS)
    assert day["card off"][0] and not night["card off"][0]
    few = pems_categories(zeros, zeros, np.full((k, 1), 2.0), 6.0 * ones, green, np.array([3.0]), LIMITS)
    assert few["insufficient data"][0]
    high = pems_categories(
        np.full((k, 1), 40.0), zeros + 0.2, np.full((k, 1), 6.0), 6.0 * ones, green, np.array([0.0]), LIMITS
    )
    assert high["high value"][0]


def test_healthy_loops_at_day_and_at_night_raise_nothing() -> None:
    monitor = DetectorHealthMonitor(cross_geometry())
    day = run(monitor, range(0, 1800, 5), lambda t, c: (0.0, c))
    night = run(monitor, range(1800, 5400, 5), lambda t, c: (0.0, c), rate_s=1e9)  # no traffic at all
    assert day == [] and night == []
    assert {h.state for h in monitor.states().values()} == {OK}


def test_a_loop_counting_nothing_while_its_neighbours_count_fails_within_two_minutes() -> None:
    monitor = DetectorHealthMonitor(cross_geometry())
    events = run(monitor, range(0, 1800, 5), lambda t, c: (0.0, c if t < 900 else healthy_day(900)[0]))
    first = [e for e in events if e.object_id == "stop_N"]
    # one vehicle per 10 s of green: zero is p < 1e-4 after 93 s of green, about 3 min here
    assert first and first[0].severity == "alarm" and 900 < first[0].time_s <= 1100, first


def test_full_occupancy_over_an_empty_area_is_locked_on_in_seconds() -> None:
    monitor = DetectorHealthMonitor(cross_geometry())
    empty_after = lambda t: (1, 0, 0.1, 3.0) if t < 600 else (0, 0, 0.0, -1.0)  # noqa: E731
    events = run(monitor, range(0, 1200, 5), lambda t, c: (1.0 if t >= 600 else 0.0, c), area_of=empty_after)
    first = [e for e in events if e.object_id == "stop_N"]
    assert first and "locked on" in first[0].message and 600 < first[0].time_s <= 620, first


def test_noisy_occupancy_over_an_empty_area_is_erratic() -> None:
    rng = np.random.default_rng(3)
    monitor = DetectorHealthMonitor(cross_geometry())
    events = run(
        monitor,
        range(0, 1200, 5),
        lambda t, c: (float(np.clip(rng.normal(0, 0.15), 0, 1)) if t >= 600 else 0.0, c),
        area_of=lambda t: (1, 0, 0.1, 18.0) if t % 60 < 10 else (0, 0, 0.0, -1.0),
    )
    erratic = [e for e in events if e.object_id == "stop_N"]
    assert erratic and erratic[0].severity == "alarm" and 600 < erratic[0].time_s <= 780, erratic


def test_a_frozen_reading_is_no_change() -> None:
    monitor = DetectorHealthMonitor(cross_geometry(), limits=HealthSection(no_change_bins=4))
    frozen_count = healthy_day(600)[0]
    events = run(monitor, range(0, 1200, 5), lambda t, c: (0.4, frozen_count) if t >= 600 else (0.0, c))
    assert [e for e in events if e.object_id == "stop_N"], events


def queue_at_red(t: int) -> tuple[int, int, float, float]:
    """The area at stop_N: three vehicles standing at red; at green two of them are out of it (the
    queue left over the loop) and one moves on, as fast as carries the vehicles the loop counts."""
    return (3, 3, 0.4, 0.0) if cycle_state(t) == "rGrG" else (1, 0, 0.1, 6.0)


def test_a_loop_empty_under_a_standing_queue_then_silent_as_it_leaves_fails_in_one_cycle() -> None:
    monitor = DetectorHealthMonitor(cross_geometry())
    frozen_count = healthy_day(600)[0]

    def loop_n(t: int, c: int) -> tuple[float, int]:
        if t >= 600:
            return 0.0, frozen_count  # stuck off
        return (1.0 if cycle_state(t) == "rGrG" else 0.0), c  # the queue's front stands over it

    events = run(monitor, range(0, 1200, 5), loop_n, area_of=queue_at_red)
    first = [e for e in events if e.object_id == "stop_N"]
    # red from 630 s: 20 s of it under the standing queue, then the queue leaves at 660 s
    assert first and first[0].severity == "alarm" and "at red" in first[0].message, first
    assert first[0].time_s == 660.0
    healthy = DetectorHealthMonitor(cross_geometry())
    healthy_loop = lambda t, c: ((1.0 if cycle_state(t) == "rGrG" else 0.0), c)  # noqa: E731
    assert [e for e in run(healthy, range(0, 1200, 5), healthy_loop, area_of=queue_at_red)] == []


def test_a_queue_behind_a_lane_blocked_inside_the_area_is_no_evidence_at_red() -> None:
    """An incident inside the area: vehicles stand there at red and green, none over the loop."""
    monitor = DetectorHealthMonitor(cross_geometry())
    blocked = lambda t: (1, 0, 0.1, 3.0) if t < 600 else (4, 4, 0.5, 0.0)  # noqa: E731
    events = run(monitor, range(0, 1800, 5), lambda t, c: (0.0, c if t < 600 else healthy_day(600)[0]),
                 area_of=blocked)  # fmt: skip
    assert not [e for e in events if "at red" in e.message], events


def blocked_then_reopened(t: int, count: int) -> tuple[int, tuple[int, int, float, float]]:
    """stop_N's count and area when a vehicle stops inside the area at 600 s (a blocked lane: it
    stands there through red and green, the others pass it on the next lane, none crosses the loop)
    and drives off at the green of 900 s: at 900 s it moves, still in the area; at 905 s it crossed
    the loop (counted) and left the area (taken from a SUMO run: single, block-lane S_app_1)."""
    frozen = healthy_day(600)[0]
    if t < 600:
        return count, (1, 0, 0.1, 3.0)
    if t < 900:
        return frozen, (1, 1, 0.1, 0.0)
    if t == 900:
        return frozen, (1, 0, 0.1, 6.8)
    return frozen + 1 + count - healthy_day(905)[0], (0, 0, 0.0, -1.0) if t < 960 else (1, 0, 0.1, 3.0)


def test_a_blocked_lane_s_stopped_vehicle_driving_off_at_green_is_no_silent_loop() -> None:
    """Regression: the vehicle no longer stands but has not left the area yet; the old rule (no
    vehicle standing any more at green = the queue left) failed this healthy loop at 900 s."""
    monitor = DetectorHealthMonitor(cross_geometry())
    events = []
    for t in range(0, 1500, 5):
        count, area = blocked_then_reopened(t, healthy_day(t)[0])
        lanes = [2, 0, 2, 0, 0, 0, 0, 0]
        speed = [8.0, 8.0, 8.0, -1.0]
        snap = snapshot(float(t), [count, 0, 0, 0], [0.0] * 4, cycle_state(t), lanes, area=area, speed=speed)
        events += monitor.observe(snap)
    assert not [e for e in events if e.object_id == "stop_N" and e.severity == "alarm"], events


def test_one_vehicle_out_of_the_area_is_no_queue_that_left() -> None:
    """One vehicle out of the area at green (a lane change, or a stopped vehicle removed) after a
    silent red is not enough: a stuck-off loop under a queue of three is (test above)."""
    lone = lambda t: (1, 1, 0.1, 0.0) if cycle_state(t) == "rGrG" else (0, 0, 0.0, -1.0)  # noqa: E731
    monitor = DetectorHealthMonitor(cross_geometry())
    events = run(monitor, range(0, 900, 5), lambda t, c: (0.0, healthy_day(600)[0] if t >= 600 else c),
                 area_of=lone)  # fmt: skip
    assert not [e for e in events if "at red" in e.message], events
