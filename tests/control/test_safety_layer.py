from __future__ import annotations

import time
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import fakes
from tests.support.safety_monitor import SafetyMonitor
from trafficai.config import SafetyConfig
from trafficai.control.baselines import GreedyController, MaxPressureController
from trafficai.control.controller import Controller
from trafficai.control.loop import ControlLoop
from trafficai.control.registry import make_controller
from trafficai.control.safety import SafetyLayer, SignalStatus
from trafficai.core.signals import SafetySettings, SignalStateMachine
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ControllerError, SignalError


def states_sent(backend: fakes.ReplayBackend) -> list[str]:
    """States the safety layer set, after the first one that pins SUMO when it takes control."""
    return [a[2] for a in backend.actions if a[0] == "state"][1:]


def test_greedy_switches_to_the_longest_queue_through_clearance() -> None:
    # lanes 1 and 3 (served by stage 2: links 3-5 and 9-11) have the queues
    backend = fakes.backend([0, 9, 0, 9])
    loop = ControlLoop(backend, SafetyConfig(min_green_s=5, max_green_s=None), decision_interval_s=1.0)
    loop.assign(GreedyController())
    monitor = SafetyMonitor(yellow_steps=3)
    for _ in range(30):
        loop.step()
        monitor.observe(backend.signal_state("J"))
    sent = states_sent(backend)
    assert sent[:3] == ["yyyrrryyyrrr", "rrrrrrrrrrrr", "rrrGGgrrrGGg"]
    assert monitor.violations == []
    assert loop.controller_of("J") == "greedy"


def test_max_pressure_prefers_upstream_minus_downstream() -> None:
    # stage 0 has queues upstream (lanes 0, 2) but more downstream (lanes 4, 6): stage 2 wins
    backend = fakes.backend([5, 0, 5, 0, 9, 0, 9, 0])
    loop = ControlLoop(backend, SafetyConfig(min_green_s=1, max_green_s=None), decision_interval_s=1.0)
    loop.assign(MaxPressureController())
    for _ in range(10):
        loop.step()
    assert loop.safety.status("J").current_green == 2


class Raising(Controller):
    """Works twice, then raises."""

    name = "raising"
    calls = 0

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        self.calls += 1
        if self.calls > 2:
            raise RuntimeError("model exploded")
        return {"J": 0}


class Stalling(Raising):
    name = "stalling"

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        self.calls += 1
        if self.calls > 2:
            time.sleep(5)
        return {"J": 0}


@pytest.mark.parametrize(
    "controller, reason", [(Raising(), "model exploded"), (Stalling(), "no answer within 0.2 s")]
)
def test_failing_controller_falls_back_to_the_net_plan(controller: Controller, reason: str) -> None:
    backend = fakes.backend([1, 1, 1, 1])
    loop = ControlLoop(backend, SafetyConfig(controller_deadline_s=0.2), decision_interval_s=1.0)
    loop.assign(controller)
    for _ in range(5):
        loop.step()
    events = loop.safety.events
    assert any(e.kind == "fallback" and reason in e.message and e.severity == "alarm" for e in events)
    assert ("program", "J", "0", "0") in backend.actions  # handed back at its current green
    assert not loop.safety.is_controlled("J")
    assert loop.controller_of("J") == "fixed"


def test_override_hold_expires_and_invalid_stage_is_refused() -> None:
    backend = fakes.backend([0, 9, 0, 9])
    loop = ControlLoop(backend, SafetyConfig(min_green_s=5, max_green_s=20), decision_interval_s=1.0)
    loop.assign(GreedyController())
    loop.safety.override("J", "hold", duration_s=40)
    for _ in range(39):
        loop.step()
    assert set(states_sent(backend)) <= {"GGgrrrGGgrrr"}  # held despite greedy and max green
    for _ in range(10):
        loop.step()
    assert states_sent(backend)[0].startswith("yy")  # released: clearance began
    assert any("expired" in e.message for e in loop.safety.events)
    with pytest.raises(SignalError, match="green stage 9 does not exist"):
        loop.safety.override("J", "force", 10, green=9)
    with pytest.raises(SignalError, match="unknown signal"):
        loop.safety.override("nope", "hold", 10)


def test_unknown_signal_subset_is_refused() -> None:
    loop = ControlLoop(fakes.backend([0]), decision_interval_s=1.0)
    with pytest.raises(ControllerError, match="unknown signal"):
        loop.assign(GreedyController(), ["X"])


@settings(max_examples=60, deadline=None)
@given(
    requests=st.lists(st.tuples(st.integers(0, 300), st.integers(0, 2), st.booleans()), max_size=30),
    max_green=st.one_of(st.none(), st.integers(10, 60)),
)
def test_idle_signals_are_skipped_without_changing_what_shows(
    requests: list[tuple[int, int, bool]], max_green: int | None
) -> None:
    """The safety layer ticks idle signals lazily; what SUMO shows equals ticking every step."""
    backend = fakes.backend([0], steps=10)
    settings_ = SafetySettings(min_green_s=5, max_green_s=max_green)
    layer = SafetyLayer(backend.geometry, backend, 1.0, settings_, read_state=backend.signal_state)
    reference = SignalStateMachine(fakes.FOUR, 1.0, settings_)
    layer.take_control(["J"])
    layer.before_step()
    reference.tick()
    plan = {step: (green, look) for step, green, look in requests}
    for step in range(1, 320):
        if step in plan:
            green, look = plan[step]
            if look:  # reading the status must not disturb the clock either
                assert layer.status("J").time_in_stage_s == reference.steps_in_stage
            layer.request("J", green)
            reference.request(green)
        layer.before_step()
        expected = reference.tick()
        assert backend.signal_state("J") == expected, f"step {step}"


def test_override_on_a_delegated_signal_returns_it_to_its_program() -> None:
    backend = fakes.backend([0, 9, 0, 9])
    loop = ControlLoop(backend, SafetyConfig(min_green_s=5, max_green_s=20), decision_interval_s=1.0)
    loop.assign(make_controller("fixed"))
    loop.safety.override("J", "hold", duration_s=30)
    assert loop.safety.is_controlled("J")
    for _ in range(40):
        loop.step()
    assert not loop.safety.is_controlled("J")
    assert ("program", "J", "0", "0") in backend.actions  # resumed at the held green
    assert loop.controller_of("J") == "fixed"
