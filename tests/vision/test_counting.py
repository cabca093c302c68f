"""The line counter against scripted ground tracks on arm N (travel south; the stop line at y = 8,
so a vehicle at y = 8 + d is d metres before it)."""

from __future__ import annotations

import numpy as np
import pytest

from trafficai.vision.counting import CountLine, LineCounter, queue_lengths, zone_occupancy

X = 0.0  # the lane's centre


def at(s: float, x: float = X) -> np.ndarray:
    """The ground point ``s`` metres past the stop line (negative: before it)."""
    return np.array([x, 8.0 - s])


def drive(
    counter: LineCounter, track: int, positions: list[float], t0: float = 0.0, dt: float = 0.2
) -> float:
    t = t0
    for s in positions:
        counter.observe(track, t, at(s))
        t += dt
    return t


def test_a_plain_crossing_counts_once_at_the_time_it_passed_zero(north_line: CountLine) -> None:
    counter = LineCounter((north_line,))
    drive(counter, 1, list(np.arange(-20.0, 10.0, 2.0)))  # 10 m/s at 5 frames/s
    (crossing,) = counter.crossings
    assert (crossing.line, crossing.lane, crossing.track_id) == ("N_in", 0, 1)
    assert crossing.time_s == pytest.approx(2.0, abs=1e-9)


def test_a_vehicle_stopping_on_the_line_counts_once_when_it_leaves(north_line: CountLine) -> None:
    counter = LineCounter((north_line,))
    t = drive(counter, 1, [-10.0, -6.0, -3.0, -1.0, -0.2])
    t = drive(counter, 1, [0.3] * 150, t)  # 30 s stopped with its front just over the line
    assert counter.crossings == []
    drive(counter, 1, [1.0, 2.5, 5.0, 8.0], t)
    assert len(counter.crossings) == 1


def test_a_vehicle_rocking_on_the_line_is_counted_once(north_line: CountLine) -> None:
    counter = LineCounter((north_line,))
    rocking = [-0.8, 0.8] * 40  # box jitter across the line: supervision's LineZone counts each flip
    t = drive(counter, 1, [-8.0, -4.0, -1.5, *rocking])
    assert counter.crossings == []
    drive(counter, 1, [1.4, 0.9, 1.4, 0.9, 1.6, 3.0, 6.0], t)  # jitter around the band's edge, then away
    assert len(counter.crossings) == 1


def test_an_id_switch_while_waiting_at_the_line_is_not_counted_twice(north_line: CountLine) -> None:
    counter = LineCounter((north_line,))
    t = drive(counter, 1, [-12.0, -8.0, -4.0, -1.0, -0.3, -0.3, -0.3])  # waits, then its id is lost
    t = drive(counter, 2, [-0.3] * 20 + [0.5, 2.0, 4.0, 7.0], t)  # same vehicle, new id, then it goes
    assert [c.track_id for c in counter.crossings] == [2]


def test_an_id_switch_just_after_the_line_is_not_counted_twice(north_line: CountLine) -> None:
    counter = LineCounter((north_line,))
    t = drive(counter, 1, [-6.0, -3.0, -0.5, 1.2, 1.8])
    drive(counter, 2, [0.9, 2.2, 4.0, 7.0], t)  # re-detected under a new id, inside the band
    assert [c.track_id for c in counter.crossings] == [1]


def test_two_vehicles_crossing_together_in_adjacent_lanes_count_twice() -> None:
    line = CountLine("N_in", (-3.2, 8.0), (0.0, -1.0), (1.6, -1.6), (0, 1))  # lane 0 (right) at x = -4.8
    counter = LineCounter((line,))
    for k, s in enumerate(np.arange(-10.0, 8.0, 1.5)):
        counter.observe(1, k * 0.2, np.array([-1.6, 8.0 - s]))
        counter.observe(2, k * 0.2, np.array([-4.8, 8.0 - s]))
    assert sorted((c.track_id, c.lane) for c in counter.crossings) == [(1, 1), (2, 0)]


def test_a_track_first_seen_past_the_line_is_not_counted(north_line: CountLine) -> None:
    counter = LineCounter((north_line,))
    drive(counter, 1, [3.0, 5.0, 8.0])
    drive(counter, 2, [-6.0, -3.0, 0.0, 3.0], t0=0.0, dt=0.2)
    assert [c.track_id for c in counter.crossings] == [2]


def test_queue_is_the_distance_to_the_rear_of_the_last_halting_vehicle(north_line: CountLine) -> None:
    xy = np.array([at(-0.5), at(-7.5), at(-14.0), at(-30.0)])
    speed = np.array([0.0, 0.2, 0.5, 12.0])  # the last one still moves: not queued
    queues = queue_lengths((north_line,), xy, speed, np.full(4, 4.5))
    assert queues == {("N_in", 0): pytest.approx(18.5)}
    assert zone_occupancy((north_line,), xy) == {"N_in": 4}
    assert queue_lengths((north_line,), np.zeros((0, 2)), np.zeros(0), np.zeros(0)) == {("N_in", 0): 0.0}
