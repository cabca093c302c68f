"""Closing lanes and edges in a running SUMO: the routes a closure cuts are repaired (detour, or the
trip ends before the closure) so the simulation runs on; reopening restores a lane's own permissions."""

from __future__ import annotations

import pytest

from tests.conftest import DATA
from trafficai.core.detours import RouteRepairs
from trafficai.core.scenario import resolve_scenario
from trafficai.sim.backend import SimBackend
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

pytestmark = pytest.mark.sumo

CROSS = str(DATA / "odd" / "actuated.sumocfg")  # one lane per arm: no way round a closed exit


def _open(scenario: str, end_s: float) -> SimBackend:
    return open_backend(resolve_scenario(scenario), SumoOptions(end_s=end_s), vehicles=False)


def _run(backend: SimBackend, until_s: float) -> None:
    while backend.time_s < until_s:
        backend.advance()


def test_closing_the_only_lane_of_a_turn_reroutes_instead_of_stopping_the_simulation() -> None:
    """The reported case: city, lane 177_0 (the only lane from 177 into 222) closed; SUMO's
    edge-level router still sent vehicles 177 -> 222 and the run stopped ("no valid route")."""
    backend = _open("city", 660.0)
    try:
        _run(backend, 60.0)
        now = backend.set_lanes_closed(("177_0",), True)
        assert now.rerouted > 0 and now.shortened == 0
        _run(backend, 660.0)  # ten simulated minutes
        later = backend.route_repairs()
        assert later.rerouted > now.rerouted  # vehicles loaded after the closure were rerouted too
        assert backend.snapshot(vehicles=False).counters.teleports_total == 0  # nobody got stuck
    finally:
        backend.close()


def test_closing_an_edge_with_no_way_round_ends_the_trips_before_it() -> None:
    backend = _open(CROSS, 400.0)
    try:
        _run(backend, 30.0)
        now = backend.set_lanes_closed(("C_N_0",), True)
        assert now.shortened > 0 and now.rerouted == 0
        _run(backend, 400.0)
        api = backend.api  # type: ignore[attr-defined]
        running = api.vehicle.getIDList()
        assert running and not any("C_N" in api.vehicle.getRoute(v) for v in running)
        assert backend.snapshot(vehicles=False).counters.teleports_total == 0  # nobody stuck at C
        assert backend.route_repairs().shortened > now.shortened  # later ones too
    finally:
        backend.close()


def test_closing_a_departure_edge_keeps_the_simulation_running() -> None:
    backend = _open(CROSS, 300.0)
    try:
        _run(backend, 5.0)
        backend.set_lanes_closed(("N_in_0",), True)
        _run(backend, 300.0)  # SUMO drops the vehicles due to depart there (--ignore-route-errors)
        assert backend.time_s == 300.0
    finally:
        backend.close()


def test_reopening_restores_the_lanes_own_permissions() -> None:
    backend = _open(CROSS, 60.0)
    api = backend.api  # type: ignore[attr-defined]
    try:
        api.lane.setAllowed("E_in_0", ["bus", "taxi"])  # a bus lane
        backend.set_lanes_closed(("E_in_0",), True)
        assert tuple(api.lane.getAllowed("E_in_0")) == ()
        assert backend.set_lanes_closed(("E_in_0",), True) == RouteRepairs()  # closed already: nothing
        backend.set_lanes_closed(("E_in_0",), False)
        assert set(api.lane.getAllowed("E_in_0")) == {"bus", "taxi"}
        _run(backend, 60.0)
    finally:
        backend.close()


def test_a_block_stands_on_a_closed_lane_and_leaves_after_its_duration() -> None:
    backend = _open(CROSS, 200.0)
    try:
        backend.set_lanes_closed(("W_in_0",), True)
        vehicle = backend.add_stopped_vehicle("W_in_0", 75.3, 60.0)  # odd position: no rounding trap
        _run(backend, 5.0)
        vehicles, _ = backend.vehicle_state()
        assert vehicle in vehicles.ids
        _run(backend, 200.0)
        vehicles, _ = backend.vehicle_state()
        assert vehicle not in vehicles.ids
    finally:
        backend.close()


@pytest.mark.parametrize("vehicles", [False, True], ids=["read-directly", "subscribed"])
def test_a_cleared_block_leaves_and_the_simulation_runs_on(vehicles: bool) -> None:
    """Clearing a breakdown removes its vehicle; with vehicle subscriptions on (camera devices, the
    count-bias camera witness), SUMO's next step failed on the removed vehicle's subscription."""
    backend = open_backend(
        resolve_scenario(str(DATA / "tiny" / "scenario.toml")), SumoOptions(end_s=60.0), vehicles=vehicles
    )
    try:
        vehicle = backend.add_stopped_vehicle("E_in_0", 100.0, 60.0)
        _run(backend, 2.0)
        assert vehicle in backend.vehicle_state()[0].ids
        backend.remove_vehicle(vehicle)
        _run(backend, 5.0)
        assert vehicle not in backend.vehicle_state()[0].ids
    finally:
        backend.close()
