"""Pacing and the frame budget, on a clock the tests set."""

from __future__ import annotations

import pytest

from trafficai.runtime.pacing import MAX_UNACKED_FRAMES, FrameBudget, Pacer, Rate


def test_rate_measures_simulated_seconds_and_steps_per_wall_second() -> None:
    rate = Rate()
    assert rate.rates() == (0.0, 0.0)
    for i in range(11):
        rate.add(i * 0.1, i * 1.0, i)
    sim_per_s, steps_per_s = rate.rates()
    assert sim_per_s == pytest.approx(10.0) and steps_per_s == pytest.approx(10.0)
    rate.add(1.02, 99.0, 99)  # closer than 50 ms to the last mark: ignored
    assert rate.rates()[0] == pytest.approx(10.0)
    rate.reset()
    assert rate.rates() == (0.0, 0.0)


def test_pacer_holds_the_real_time_factor_and_reanchors_when_behind() -> None:
    pacer = Pacer(2.0)
    pacer.anchor_wall, pacer.anchor_sim = 100.0, 0.0
    assert pacer.wait(100.0, 0.0, 1.0) == pytest.approx(0.5)  # 1 s of simulation at 2x
    assert pacer.wait(100.6, 0.0, 1.0) == 0.0
    assert pacer.wait(110.0, 0.0, 1.0) == 0.0  # far behind: count from here on
    assert pacer.anchor_wall > 100.0 and pacer.anchor_sim == 0.0
    assert Pacer(None).wait(0.0, 0.0, 1.0) == 0.0  # as fast as possible


def test_frame_budget_respects_acks_rate_cost_and_dirty() -> None:
    budget = FrameBudget(max_fps=10.0, budget=0.2)
    assert budget.due(0.0, 0, unacked=0)  # dirty at the start
    assert not budget.due(0.0, 0, unacked=MAX_UNACKED_FRAMES)  # never ahead of the client
    budget.sent(1.0, 1.01, step=5)  # a frame costs 10 ms
    assert not budget.dirty
    assert not budget.due(1.5, 5, unacked=0)  # same step: nothing new to show
    assert not budget.due(1.05, 6, unacked=0)  # over 10 fps
    # 10 ms per frame at a 20 % budget: at least 40 ms of simulating between frames
    assert not budget.due(1.049, 6, unacked=0) and budget.due(1.11, 6, unacked=0)
    budget.dirty = True
    assert budget.due(1.02, 5, unacked=1)
