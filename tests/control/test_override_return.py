"""Issue 9 on real SUMO: clearing a flash override on the city's intersection 6 (plan: 42 s greens,
3 s yellows) gave it back to its plan only after ~130 s of green; it must return at the first green
after the clearance, then run its plan's own 42 s green."""

from __future__ import annotations

import pytest

from trafficai.config import SafetyConfig
from trafficai.control.loop import ControlLoop
from trafficai.control.registry import make_controller
from trafficai.core.scenario import resolve_scenario
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

pytestmark = pytest.mark.sumo


def test_a_cleared_flash_on_city_6_resumes_its_plan_after_the_clearance() -> None:
    scenario = resolve_scenario("city")
    backend = open_backend(scenario, SumoOptions(seed=42, end_s=600.0), vehicles=False)
    loop = ControlLoop(backend, SafetyConfig(), decision_interval_s=5.0)
    loop.assign(make_controller("fixed"))
    shown: list[tuple[float, str, bool]] = []
    try:
        while backend.time_s < 500:
            if backend.time_s == 300:
                loop.safety.override("6", "flash", 600.0)
            if backend.time_s == 360:
                loop.safety.clear_override("6")
            loop.step()
            if backend.time_s > 360:
                shown.append((backend.time_s, backend.signal_state("6"), loop.safety.is_controlled("6")))
    finally:
        backend.close()
    assert shown[0][1] == "r" * 16  # leaving flash through all-red
    back = next(t for t, _, controlled in shown if not controlled)
    assert back <= 364.0, shown[:5]  # the plan has it again within seconds, not after max green
    green_state = shown[1][1]
    assert "G" in green_state and "y" not in green_state
    green_until = next(t for t, state, _ in shown if state != green_state and t > shown[1][0])
    # the plan's own green (42 s) from where it resumed, not ~130 s
    assert 40.0 <= green_until - shown[1][0] <= 46.0, green_until
