from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.fakes import FOUR
from tests.support.safety_monitor import SafetyMonitor
from trafficai.core.signals import (
    Phase,
    SafetySettings,
    SignalProgram,
    SignalStateMachine,
    Stage,
    all_red_state,
    clearance_times,
    green_stages,
    yellow_state,
)
from trafficai.errors import SignalError


def run(machine: SignalStateMachine, steps: int) -> list[str]:
    return [machine.tick() for _ in range(steps)]


def test_green_stages_and_clearance_come_from_the_program() -> None:
    assert green_stages(FOUR) == ("GGgrrrGGgrrr", "rrGrrrrrGrrr", "rrrGGgrrrGGg")
    assert clearance_times(FOUR) == (3.0, 2.0)


def test_yellow_and_all_red_keep_continuing_movements() -> None:
    assert yellow_state("GGgrr", "rrGGr") == "yygrr"
    assert all_red_state("GGgrr", "rrGGr") == "rrgrr"


def test_switch_inserts_yellow_then_all_red_then_green() -> None:
    m = SignalStateMachine(FOUR, 1.0, SafetySettings(min_green_s=5, max_green_s=None))
    m.request(2)
    states = run(m, 5 + 3 + 2 + 1)
    assert states[:5] == ["GGgrrrGGgrrr"] * 5  # min green honoured
    assert states[5:8] == ["yyyrrryyyrrr"] * 3
    assert states[8:10] == ["rrrrrrrrrrrr"] * 2
    assert states[10] == "rrrGGgrrrGGg"
    assert m.current_green == 2 and m.stage is Stage.GREEN


def test_step_length_counts_whole_steps() -> None:
    m = SignalStateMachine(FOUR, 0.2, SafetySettings(min_green_s=1, max_green_s=None))
    assert (m.yellow_steps, m.all_red_steps, m.min_green_steps) == (15, 10, 5)
    m.request(1)
    states = run(m, 5 + 15 + 10 + 1)
    yellow = yellow_state("GGgrrrGGgrrr", "rrGrrrrrGrrr")
    assert yellow == "yygrrryygrrr"
    assert states.count(yellow) == 15
    assert states.count(all_red_state("GGgrrrGGgrrr", "rrGrrrrrGrrr")) == 10
    assert states[-1] == "rrGrrrrrGrrr"


def test_max_green_forces_the_next_stage() -> None:
    m = SignalStateMachine(FOUR, 1.0, SafetySettings(min_green_s=5, max_green_s=20))
    states = run(m, 21)
    assert states[19] == "GGgrrrGGgrrr" and states[20] != "GGgrrrGGgrrr"
    assert m.target_green == 1


def test_hold_suspends_max_green_and_requests() -> None:
    m = SignalStateMachine(FOUR, 1.0, SafetySettings(min_green_s=5, max_green_s=10))
    m.hold(True)
    m.request(2)
    assert set(run(m, 50)) == {"GGgrrrGGgrrr"}
    m.hold(False)
    m.force_next()
    assert "yygrrryygrrr" in run(m, 2)  # next stage: left turns keep their g


def test_flash_goes_through_yellow_and_returns_through_all_red() -> None:
    m = SignalStateMachine(FOUR, 1.0, SafetySettings(min_green_s=5, max_green_s=None))
    m.flash(True)
    states = run(m, 6)
    assert states[:3] == ["yyyrrryyyrrr"] * 3 and states[3:] == ["o" * 12] * 3
    m.flash(False)
    states = run(m, 4)
    assert states[0] == "r" * 12 and states[-1] == "GGgrrrGGgrrr"


def test_invalid_stage_is_refused() -> None:
    m = SignalStateMachine(FOUR, 1.0)
    with pytest.raises(SignalError, match="green stage 7 does not exist"):
        m.request(7)


def test_program_without_green_is_refused() -> None:
    with pytest.raises(SignalError, match="no green stage"):
        SignalStateMachine(SignalProgram("x", (Phase("rrrr", 10),)), 1.0)


def test_monitor_flags_unsafe_streams() -> None:
    monitor = SafetyMonitor(yellow_steps=3)
    for state in ["Gr", "rG"]:
        monitor.observe(state)
    assert any("without yellow" in v for v in monitor.violations)
    monitor = SafetyMonitor(yellow_steps=3)
    for state in ["Gr", "yr", "rr"]:
        monitor.observe(state)
    assert any("yellow 1 < 3" in v for v in monitor.violations)


@st.composite
def programs(draw: st.DrawFn) -> SignalProgram:
    links = draw(st.integers(2, 10))
    n_greens = draw(st.integers(2, 5))
    phases = []
    for _ in range(n_greens):
        state = "".join(draw(st.sampled_from("GGgrr")) for _ in range(links))
        if not any(c in "Gg" for c in state):
            state = "G" + state[1:]
        phases.append(Phase(state, draw(st.integers(5, 40))))
        phases.append(Phase("".join("y" if c in "Gg" else "r" for c in state), draw(st.integers(2, 5))))
        if draw(st.booleans()):
            phases.append(Phase("r" * links, draw(st.integers(1, 3))))
    return SignalProgram("p", tuple(phases))


@settings(max_examples=150, deadline=None)
@given(
    program=programs(),
    step_length=st.sampled_from([0.1, 0.2, 0.5, 1.0]),
    min_green=st.integers(0, 10),
    requests=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 4)), max_size=40),
)
def test_property_no_unsafe_transition_and_min_green(
    program: SignalProgram, step_length: float, min_green: int, requests: list[tuple[int, int]]
) -> None:
    settings_ = SafetySettings(min_green_s=min_green, max_green_s=min_green + 30)
    m = SignalStateMachine(program, step_length, settings_)
    monitor = SafetyMonitor(yellow_steps=m.yellow_steps)
    monitor.observe(m.state)
    green_run = 0
    plan = dict(requests)
    last_green: int | None = m.current_green
    for step in range(400):
        if step in plan:
            m.request(plan[step] % m.n_greens)
        state = m.tick()
        monitor.observe(state)
        current = m.current_green if m.stage is Stage.GREEN else None
        if current is not None and current == last_green:
            green_run += 1
        else:
            if last_green is not None and step > m.min_green_steps:
                assert green_run >= m.min_green_steps, f"green {last_green} lasted {green_run} steps"
            green_run = 1 if current is not None else 0
        last_green = current
    assert monitor.violations == []
