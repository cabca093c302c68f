"""A configuration with every signal switched off (``<tls.all-off value="true"/>``): it loads and
runs on the net's own "off" program; a controller that would need signals is refused."""

from __future__ import annotations

import pytest

from tests.conftest import DATA
from trafficai.control.loop import ControlLoop
from trafficai.control.registry import make_controller
from trafficai.core.scenario import resolve_scenario
from trafficai.core.signals import is_switched_off
from trafficai.errors import ControllerError
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

pytestmark = pytest.mark.sumo

ALL_OFF = str(DATA / "odd" / "alloff.sumocfg")


def test_signals_off_run_on_the_nets_own_off_program() -> None:
    backend = open_backend(resolve_scenario(ALL_OFF), SumoOptions(end_s=120), vehicles=False)
    try:
        (signal,) = backend.geometry.signals
        assert signal.program.kind == "off" and is_switched_off(signal.program)
        loop = ControlLoop(backend)
        loop.assign(make_controller("fixed"))  # nothing to control: accepted, SUMO's program runs
        assert loop.assignments == [] and not loop.safety.is_controlled(signal.id)
        states = set()
        while backend.step < backend.end_step:
            loop.step()
            states.add(backend.signal_state(signal.id))
        assert states and all(set(state) <= set("oO") for state in states)
        assert backend.snapshot(vehicles=False).counters.departed_total > 0
    finally:
        backend.close()


@pytest.mark.parametrize("controller", ["max-pressure", "actuated", "webster"])
def test_signals_off_refuse_other_controllers(controller: str) -> None:
    backend = open_backend(resolve_scenario(ALL_OFF), SumoOptions(end_s=10), vehicles=False)
    try:
        with pytest.raises(ControllerError, match=f"switched off.*'{controller}'.*--controller fixed"):
            ControlLoop(backend).assign(make_controller(controller))
    finally:
        backend.close()


def test_a_net_without_signals_still_has_nothing_to_run_on() -> None:
    backend = open_backend(resolve_scenario(str(DATA / "odd" / "nosignals.sumocfg")), SumoOptions(end_s=10))
    try:
        with pytest.raises(ControllerError, match="no controllable signals"):
            ControlLoop(backend).assign(make_controller("fixed"))
    finally:
        backend.close()
