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
from trafficai.control.safety import SafetyLayer, SignalStatus, override_label
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


# -- overrides: back to the plan after clearance, one clearance rule, the operator's names -------


def _flash_then_clear(loop: ControlLoop, flash_steps: int = 20) -> int:
    """Flash J on a fixed-time plan, clear it after ``flash_steps``; the step it was cleared at."""
    loop.safety.override("J", "flash", duration_s=600)
    for _ in range(flash_steps):
        loop.step()
    assert loop.safety.status("J").stage == "flash"
    loop.safety.clear_override("J")
    return loop.backend.step


def test_a_cleared_flash_returns_to_the_plan_right_after_the_all_red() -> None:
    """Issue 9: the signal stayed in the machine's green until max green (~90 s) before its plan
    resumed; it must resume at the first green after the mandatory clearance."""
    backend = fakes.backend([0, 0, 0, 0])
    loop = ControlLoop(backend, SafetyConfig(min_green_s=5, max_green_s=90), decision_interval_s=1.0)
    loop.assign(make_controller("fixed"))
    cleared_at = _flash_then_clear(loop)
    shown = []
    for _ in range(5):
        loop.step()
        shown.append((loop.safety.is_controlled("J"), backend.signal_state("J")))
    # the program's 2 s all-red out of flash, the green it leads to (one step), then the plan has it
    assert shown[:3] == [(True, "r" * 12), (True, "r" * 12), (True, "GGgrrrGGgrrr")]
    assert not shown[3][0], shown
    assert ("program", "J", "0", "0") in backend.actions  # resumed at that green phase
    assert backend.step - cleared_at == 5


def test_a_hand_back_pending_through_clearance_happens_at_the_next_green() -> None:
    """Also a controller's fallback requested during yellow: no wait for max green."""
    backend = fakes.backend([0, 9, 0, 9])
    loop = ControlLoop(backend, SafetyConfig(min_green_s=5, max_green_s=60), decision_interval_s=1.0)
    loop.assign(GreedyController())
    for _ in range(7):
        loop.step()
    assert loop.safety.status("J").stage == "yellow"
    loop.safety.delegate(["J"])
    steps = 0
    while loop.safety.is_controlled("J") and steps < 20:
        loop.step()
        steps += 1
    assert steps <= 7, steps  # the yellow's rest, 2 s all-red, one step of green, then the plan
    assert ("program", "J", "0", "5") in backend.actions  # the plan resumes at stage 3's phase


@pytest.mark.parametrize("action, green", [("force", None), ("force", 0), ("hold", None), ("flash", None)])
def test_every_override_is_refused_during_clearance_with_the_time_left(
    action: str, green: int | None
) -> None:
    backend = fakes.backend([0, 9, 0, 9])
    loop = ControlLoop(backend, SafetyConfig(min_green_s=5, max_green_s=None), decision_interval_s=1.0)
    loop.assign(GreedyController())
    for _ in range(7):
        loop.step()
    status = loop.safety.status("J")
    assert status.stage == "yellow"
    before = list(backend.actions)
    with pytest.raises(SignalError, match=r"in clearance \(yellow, 3 s left\).*once it shows green"):
        loop.safety.override("J", action, 30, green)
    assert backend.actions == before and loop.safety.override_left_s("J") is None  # nothing changed
    loop.step()
    loop.step()
    with pytest.raises(SignalError, match=r"in clearance \(all-red, 1 s left\)"):
        loop.safety.override("J", action, 30, green)
    for _ in range(2):
        loop.step()
    assert loop.safety.status("J").stage == "green"
    loop.safety.override("J", action, 30, green)  # at green: accepted
    assert loop.safety.override_left_s("J") == 30.0


def test_a_flashing_signal_takes_only_another_flash_until_cleared() -> None:
    backend = fakes.backend([0, 0, 0, 0])
    loop = ControlLoop(backend, SafetyConfig(), decision_interval_s=1.0)
    loop.assign(GreedyController())
    loop.safety.override("J", "flash", duration_s=60)
    for action in ("hold", "force"):
        with pytest.raises(SignalError, match="J is flashing: clear the flash override first"):
            loop.safety.override("J", action, 30)
    for _ in range(10):
        loop.step()
    loop.safety.override("J", "flash", duration_s=100)  # extends it
    assert loop.safety.override_left_s("J") == 100.0


def test_a_plan_in_clearance_refuses_an_override_the_same_way() -> None:
    backend = fakes.backend([0, 0, 0, 0])
    backend.set_signal_state("J", "yyyrrryyyrrr")  # SUMO's plan in yellow
    loop = ControlLoop(backend, SafetyConfig(), decision_interval_s=1.0)
    loop.assign(make_controller("fixed"))
    with pytest.raises(SignalError, match=r"J is in clearance .*once it shows green"):
        loop.safety.override("J", "hold", 30)
    assert not loop.safety.is_controlled("J")


def test_override_labels_number_stages_from_one_and_name_the_kind() -> None:
    assert [
        override_label(a, g) for a, g in (("hold", None), ("force", None), ("force", 1), ("flash", None))
    ] == [
        "hold",
        "force next",
        "force stage 2",
        "flash",
    ]
    loop = ControlLoop(fakes.backend([0]), SafetyConfig(), decision_interval_s=1.0)
    loop.assign(GreedyController())
    loop.safety.override("J", "force", 30, green=2)
    assert any(e.message == "force stage 3 on J for 30 s" for e in loop.safety.events)


def test_the_loop_lists_every_controller_that_takes_charge_and_when() -> None:
    backend = fakes.backend([1, 1, 1, 1])
    loop = ControlLoop(backend, SafetyConfig(controller_deadline_s=0.2), decision_interval_s=1.0)
    loop.assign(make_controller("fixed"))
    for _ in range(3):
        loop.step()
    loop.assign(Raising(), ["J"])
    for _ in range(5):
        loop.step()
    assert [(h.time_s, h.controller, h.signals) for h in loop.handovers] == [
        (0.0, "fixed", ()),
        (3.0, "raising", ("J",)),
        (5.0, "fixed", ()),  # it failed: the net's own plan has every signal again
    ]
