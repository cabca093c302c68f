"""Demand on the routes through an edge: the seeded draws (pure) and the effect in SUMO itself."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.support import fakes
from trafficai.core.kpis import TripRecords
from trafficai.core.scenario import resolve_scenario
from trafficai.errors import SimulationError
from trafficai.sim.backend import SimBackend
from trafficai.sim.factory import open_backend
from trafficai.sim.route_demand import CLONE_MARK, RouteDemandScaler
from trafficai.sim.sumo_command import SumoOptions

Action = tuple[int, Callable[[SimBackend], None]]


# -- the draws, without SUMO ---------------------------------------------------------------------------


def test_copies_follow_the_factor_and_only_for_routes_through_the_edge() -> None:
    scaler = RouteDemandScaler(seed=1)
    assert not scaler and scaler.copies(("a", "b")) == 1
    scaler.set("b", 0.0)
    assert scaler and scaler.copies(("a", "b", "c")) == 0 and scaler.copies(("a", "c")) == 1
    scaler.set("b", 2.0)
    assert scaler.copies(("b",)) == 2
    scaler.set("b", 0.3)
    kept = [scaler.copies(("a", "b")) for _ in range(4000)]
    assert set(kept) == {0, 1} and sum(kept) / len(kept) == pytest.approx(0.3, abs=0.03)
    scaler.set("b", 2.5)
    drawn = [scaler.copies(("b",)) for _ in range(4000)]
    assert set(drawn) == {2, 3} and sum(drawn) / len(drawn) == pytest.approx(2.5, abs=0.05)
    scaler.set("c", 0.5)  # through both scaled edges: the product of the factors
    both = [scaler.copies(("b", "c")) for _ in range(4000)]
    assert sum(both) / len(both) == pytest.approx(1.25, abs=0.05)
    scaler.clear("b")
    scaler.clear("c")
    assert not scaler and scaler.copies(("b", "c")) == 1


def test_the_same_seed_draws_the_same() -> None:
    def draws(seed: int) -> list[int]:
        scaler = RouteDemandScaler(seed)
        scaler.set("e", 1.5)
        return [scaler.copies(("e",)) for _ in range(200)]

    assert draws(5) == draws(5)
    assert draws(5) != draws(6)


def test_the_replay_backend_records_route_demand_and_refuses_bad_input() -> None:
    backend = fakes.backend([0] * 8, steps=10)
    backend.set_route_demand("l0", 0.5)
    backend.clear_route_demand("l0")
    assert backend.actions == [("route_demand", "l0", "0.5"), ("route_demand", "l0", "cleared")]
    with pytest.raises(SimulationError, match="unknown edge 'nowhere'"):
        backend.set_route_demand("nowhere", 1.0)
    with pytest.raises(SimulationError, match=r"must be in \[0, 5\], got -1"):
        backend.set_route_demand("l0", -1.0)


# -- in SUMO ----------------------------------------------------------------------------------------------


def _routes(name: str) -> dict[str, tuple[str, ...]]:
    root = ET.parse(DATA / name / f"{name}.rou.xml").getroot()
    return {v.get("id", ""): tuple(v.find("route").get("edges", "").split()) for v in root.iter("vehicle")}  # type: ignore[union-attr]


def _run(
    name: str,
    tmp_path: Path,
    actions: Sequence[Action] = (),
    *,
    seed: int = 1,
    vehicles: bool = False,
    check: Callable[[SimBackend], None] | None = None,
) -> TripRecords:
    """Run the scenario to its end with ``actions`` (step, action); the trips of the run."""
    tripinfo = tmp_path / f"trips-{len(list(tmp_path.iterdir()))}.xml"
    options = SumoOptions(seed=seed, tripinfo_path=tripinfo)
    backend = open_backend(resolve_scenario(str(DATA / name / "scenario.toml")), options, vehicles=vehicles)
    try:
        while backend.step < backend.end_step:
            for step, action in actions:
                if backend.step == step:
                    action(backend)
            backend.advance()
            if check is not None:
                check(backend)
        return backend.finish()
    finally:
        backend.close()


def _through(trips: TripRecords, routes: dict[str, tuple[str, ...]], edge: str, after_s: float) -> list[str]:
    """Vehicles that departed at ``after_s`` or later on a route through ``edge`` (copies included)."""
    return [
        v
        for v, depart in zip(trips.ids, trips.depart, strict=True)
        if depart >= after_s and edge in routes[v.split(CLONE_MARK)[0]]
    ]


@pytest.mark.sumo
def test_factor_zero_stops_every_vehicle_through_the_edge(tmp_path: Path) -> None:
    routes = _routes("tiny")
    base = _run("tiny", tmp_path)
    assert len(_through(base, routes, "N_in", 100.0)) >= 10

    def none_through_n_in(backend: SimBackend) -> None:
        if backend.step > 100 and backend.step % 10 == 0:  # SUMO itself: no such vehicle in the network
            vehicle = backend.api.vehicle  # type: ignore[attr-defined]
            late = [v for v in vehicle.getIDList() if vehicle.getDeparture(v) > 100.0]
            assert late and not [v for v in late if "N_in" in vehicle.getRoute(v)]

    zero = _run("tiny", tmp_path, [(100, lambda b: b.set_route_demand("N_in", 0.0))], check=none_through_n_in)
    assert _through(zero, routes, "N_in", 100.0) == []
    assert len(_through(zero, routes, "N_in", 0.0)) == len(_through(base, routes, "N_in", 0.0)) - len(
        _through(base, routes, "N_in", 100.0)
    )  # before the action: untouched
    # the other approaches keep their demand; removed vehicles are not trips (nor departures)
    for edge in ("E_in", "S_in", "W_in"):
        assert len(_through(zero, routes, edge, 0.0)) == len(_through(base, routes, edge, 0.0))


@pytest.mark.sumo
def test_factor_zero_on_an_inner_edge_with_vehicle_subscriptions(tmp_path: Path) -> None:
    """A route passing the edge anywhere counts; with vehicle tracking on, snapshots never show them."""
    routes = _routes("grid2x2")
    assert sum(1 for r in routes.values() if "A1B1" in r and r[0] != "A1B1") >= 5

    def not_in_snapshot(backend: SimBackend) -> None:
        snap = backend.snapshot(vehicles=True)
        assert not [v for v in snap.vehicles.ids if "A1B1" in routes[v.split(CLONE_MARK)[0]]]
        assert snap.counters.departed_total >= snap.counters.arrived_total + snap.counters.running

    trips = _run(
        "grid2x2",
        tmp_path,
        [(0, lambda b: b.set_route_demand("A1B1", 0.0))],
        vehicles=True,
        check=not_in_snapshot,
    )
    assert _through(trips, routes, "A1B1", 0.0) == []
    assert len(trips) >= 50


@pytest.mark.sumo
def test_factor_two_doubles_the_departures_through_the_edge(tmp_path: Path) -> None:
    routes = _routes("tiny")
    base = _through(_run("tiny", tmp_path, seed=3), routes, "N_in", 60.0)
    doubled = _through(
        _run("tiny", tmp_path, [(60, lambda b: b.set_route_demand("N_in", 2.0))], seed=3),
        routes,
        "N_in",
        60.0,
    )
    assert len(doubled) > 1.5 * len(base) and len(base) >= 10
    copies = [v for v in doubled if CLONE_MARK in v]
    assert copies and all(v.split(CLONE_MARK)[0] in doubled for v in copies)


@pytest.mark.sumo
def test_clear_restores_the_demand(tmp_path: Path) -> None:
    routes = _routes("tiny")
    base = _run("tiny", tmp_path)
    trips = _run(
        "tiny",
        tmp_path,
        [(0, lambda b: b.set_route_demand("N_in", 0.0)), (300, lambda b: b.clear_route_demand("N_in"))],
    )
    assert _through(trips, routes, "N_in", 0.0) == _through(trips, routes, "N_in", 300.0)  # none before
    after = _through(trips, routes, "N_in", 300.0)
    assert after and sorted(after) == sorted(_through(base, routes, "N_in", 300.0))


@pytest.mark.sumo
def test_the_same_seed_gives_the_same_vehicles(tmp_path: Path) -> None:
    def half(seed: int) -> tuple[str, ...]:
        actions: list[Action] = [
            (0, lambda b: b.set_route_demand("N_in", 0.5)),
            (0, lambda b: b.set_route_demand("E_in", 1.5)),
        ]
        return _run("tiny", tmp_path, actions, seed=seed).ids

    first = half(11)
    assert first == half(11)
    routes = _routes("tiny")
    assert any(CLONE_MARK in v for v in first) and len(first) != len(routes)


@pytest.mark.sumo
def test_unknown_edges_and_bad_factors_are_refused(tiny: str) -> None:
    backend = open_backend(resolve_scenario(tiny), SumoOptions(seed=1), vehicles=False)
    try:
        with pytest.raises(SimulationError, match="unknown edge 'nowhere'"):
            backend.set_route_demand("nowhere", 0.5)
        with pytest.raises(SimulationError, match=r"must be in \[0, 5\], got -0.5"):
            backend.set_route_demand("N_in", -0.5)
        with pytest.raises(SimulationError, match="must be in"):
            backend.set_route_demand("N_in", float("nan"))
        with pytest.raises(SimulationError, match="unknown edge"):
            backend.clear_route_demand("nowhere")
        backend.clear_route_demand("N_in")  # not scaled: nothing to do
        backend.advance()
    finally:
        backend.close()
