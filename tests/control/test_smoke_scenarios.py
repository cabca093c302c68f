"""Every shipped scenario and every odd SUMO configuration, with every baseline, on real SUMO.

Each run checks SUMO's actual signal states every step for unsafe transitions.
"""

from __future__ import annotations

import pytest

from tests.conftest import DATA, ROOT
from tests.support.safety_monitor import SafetyMonitor
from trafficai.config import SafetyConfig
from trafficai.control.loop import ControlLoop
from trafficai.control.registry import BASELINES, make_controller
from trafficai.core.scenario import available_scenarios, resolve_scenario
from trafficai.core.signals import clearance_times
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

pytestmark = pytest.mark.sumo

SHIPPED = ["single", "corridor", "grid4x4", "city"]
ODD = ["gz", "addprog", "allred", "actuated", "delay", "noalt", "begin"]


def test_the_library_ships_the_four_scenarios() -> None:
    assert set(SHIPPED) <= set(available_scenarios())
    assert (ROOT / "scenarios" / "generate.py").is_file()


def run_and_check(scenario_ref: str, controller_name: str, seconds: float) -> ControlLoop:
    scenario = resolve_scenario(scenario_ref)
    backend = open_backend(scenario, SumoOptions(seed=1, end_s=scenario.begin_s + seconds), vehicles=False)
    loop = ControlLoop(backend, SafetyConfig(), decision_interval_s=5.0)
    controller = make_controller(controller_name)
    loop.assign(controller)
    # transitions of delegated signals are the net's own program (netconvert plans may go y->g);
    # the monitor checks every transition trafficai itself decides
    monitors = (
        {}
        if controller.program is not None
        else {
            s.id: SafetyMonitor(
                yellow_steps=round(
                    min(p.duration for p in s.program.phases if "y" in p.state) / backend.step_length_s
                )
            )
            for s in backend.geometry.signals
            if any("y" in p.state for p in s.program.phases)
        }
    )
    try:
        while backend.step < backend.end_step:
            loop.step()
            for signal_id, monitor in monitors.items():
                monitor.observe(backend.signal_state(signal_id))
        assert backend.snapshot(vehicles=False).counters.departed_total > 0
    finally:
        backend.close()
    for signal_id, monitor in monitors.items():
        assert monitor.violations == [], f"{signal_id}: {monitor.violations[:3]}"
    assert not [e for e in loop.safety.events if e.kind == "fallback"]
    if make_controller(controller_name).program is None:
        assert any(loop.safety.is_controlled(s) for s in loop.safety.signal_ids)
    return loop


@pytest.mark.parametrize("controller", BASELINES)
@pytest.mark.parametrize("scenario", SHIPPED)
def test_shipped_scenario_with_every_baseline(scenario: str, controller: str) -> None:
    run_and_check(scenario, controller, 300.0)


@pytest.mark.parametrize("controller", BASELINES)
@pytest.mark.parametrize("config", ODD)
def test_odd_sumocfg_with_every_baseline(config: str, controller: str) -> None:
    run_and_check(str(DATA / "odd" / f"{config}.sumocfg"), controller, 300.0)


def test_clearance_comes_from_the_program_with_all_red() -> None:
    scenario = resolve_scenario(str(DATA / "odd" / "allred.sumocfg"))
    backend = open_backend(scenario, SumoOptions(end_s=200.0), vehicles=False)
    try:
        program = backend.geometry.signals[0].program
        assert clearance_times(program)[1] == 2.0
        loop = ControlLoop(backend, SafetyConfig(), decision_interval_s=5.0)
        loop.assign(make_controller("max-pressure"))
        seen = []
        while backend.step < backend.end_step:
            loop.step()
            seen.append(backend.signal_state(program.program_id and backend.geometry.signals[0].id))
        assert any(set(s) == {"r"} for s in seen)  # the all-red clearance really shows in SUMO
    finally:
        backend.close()


def test_controller_on_a_subset_leaves_the_rest_on_their_program() -> None:
    scenario = resolve_scenario("grid4x4")
    backend = open_backend(scenario, SumoOptions(end_s=120.0), vehicles=False)
    try:
        loop = ControlLoop(backend, SafetyConfig(), decision_interval_s=5.0)
        ids = loop.safety.signal_ids
        loop.assign(make_controller("greedy"), ids[:2])
        while backend.step < backend.end_step:
            loop.step()
        assert [loop.safety.is_controlled(s) for s in ids[:3]] == [True, True, False]
        assert loop.controller_of(ids[2]) == "fixed"
    finally:
        backend.close()
