"""The SUMO backend against SUMO itself: subscriptions, time, odd configurations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA
from trafficai.core.scenario import resolve_scenario
from trafficai.errors import ScenarioError, SimulationError
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

pytestmark = pytest.mark.sumo


def test_snapshot_equals_direct_getters(grid2x2: str) -> None:
    backend = open_backend(resolve_scenario(grid2x2), SumoOptions(seed=3), vehicles=True)
    api = backend.api  # type: ignore[attr-defined]
    try:
        checked = 0
        for _ in range(240):
            backend.advance()
            snap = backend.snapshot()
            if backend.step % 40:
                continue
            veh = snap.vehicles
            assert set(veh.ids) == set(api.vehicle.getIDList())
            for i, vid in enumerate(veh.ids):
                assert np.allclose(veh.xy[i], api.vehicle.getPosition(vid), atol=1e-3)
                assert veh.speed[i] == pytest.approx(api.vehicle.getSpeed(vid), abs=1e-4)
                assert veh.angle[i] == pytest.approx(api.vehicle.getAngle(vid), abs=1e-3)
                lane = api.vehicle.getLaneID(vid)
                expected = -1 if lane.startswith(":") else backend.geometry.lanes.ids.index(lane)
                assert veh.lane[i] == expected
                assert veh.waiting[i] == pytest.approx(api.vehicle.getWaitingTime(vid))
                assert snap.vehicle_types[veh.vtype[i]] == api.vehicle.getTypeID(vid)
                checked += 1
            for i, lane in enumerate(backend.geometry.lanes.ids):  # derived from the vehicle arrays
                assert snap.lanes.halting[i] == api.lane.getLastStepHaltingNumber(lane)
                assert snap.lanes.vehicles[i] == api.lane.getLastStepVehicleNumber(lane)
                assert snap.lanes.mean_speed[i] == pytest.approx(
                    api.lane.getLastStepMeanSpeed(lane), abs=1e-3
                )
                assert snap.lanes.waiting[i] == pytest.approx(api.lane.getWaitingTime(lane), abs=1e-3)
                assert snap.lanes.occupancy[i] <= api.lane.getLastStepOccupancy(lane) + 1e-6
            for i, info in enumerate(backend.geometry.signals):
                assert snap.signals.state[i] == api.trafficlight.getRedYellowGreenState(info.id)
            for i, det in enumerate(backend.geometry.e2.ids):
                assert snap.detectors.e2_vehicles[i] == api.lanearea.getLastStepVehicleNumber(det)
            assert snap.counters.running == len(veh.ids)
            lean = backend.snapshot(vehicles=False)  # the getter path agrees with the derived one
            assert np.array_equal(lean.lanes.halting, snap.lanes.halting)
            assert np.allclose(lean.lanes.occupancy, snap.lanes.occupancy, atol=0.05)
        assert checked > 20
    finally:
        backend.close()


def test_e1_counts_are_cumulative_and_match_vehicles_passing(tiny: str) -> None:
    backend = open_backend(resolve_scenario(tiny), SumoOptions(seed=1), vehicles=False)
    api = backend.api  # type: ignore[attr-defined]
    seen: list[set[str]] = [set() for _ in backend.geometry.e1.ids]
    try:
        for _ in range(300):
            backend.advance()
            for i, det in enumerate(backend.geometry.e1.ids):
                seen[i].update(api.inductionloop.getLastStepVehicleIDs(det))
            if backend.step % 5 == 0:
                counts = backend.snapshot(vehicles=False).detectors.e1_count
                # vehicles still over the loop are counted by SUMO once they have left it
                assert all(len(s) - 1 <= c <= len(s) for s, c in zip(seen, counts, strict=True))
        assert sum(len(s) for s in seen) > 10
    finally:
        backend.close()


@pytest.mark.parametrize("step_length", [0.1, 0.2, 1.0])
def test_any_step_length_counts_integer_steps(tiny: str, step_length: float) -> None:
    scenario = resolve_scenario(tiny)
    backend = open_backend(scenario, SumoOptions(step_length_s=step_length, end_s=30.0), vehicles=False)
    try:
        assert backend.end_step == round(30.0 / step_length)
        while backend.step < backend.end_step:
            backend.advance()
        assert backend.time_s == pytest.approx(30.0, abs=1e-9)
        assert backend.api.simulation.getTime() == pytest.approx(30.0)  # type: ignore[attr-defined]
    finally:
        backend.close()


def test_begin_time_other_than_zero() -> None:
    scenario = resolve_scenario(str(DATA / "odd" / "begin.sumocfg"))
    assert scenario.begin_s == 3600 and scenario.duration_s == 600
    backend = open_backend(scenario, SumoOptions(), vehicles=False)
    try:
        assert backend.time_s == 3600
        for _ in range(120):
            backend.advance()
        assert backend.time_s == 3720
        assert backend.snapshot(vehicles=False).counters.departed_total > 0
    finally:
        backend.close()


def test_gzipped_net_and_program_from_additional_file() -> None:
    gz = open_backend(resolve_scenario(str(DATA / "odd" / "gz.sumocfg")), SumoOptions(), vehicles=False)
    try:
        assert len(gz.geometry.lanes) > 0 and len(gz.geometry.signals) == 1
    finally:
        gz.close()
    add = open_backend(resolve_scenario(str(DATA / "odd" / "addprog.sumocfg")), SumoOptions(), vehicles=False)
    try:
        assert add.geometry.signals[0].program.program_id == "custom"
    finally:
        add.close()


def test_same_seed_same_run(tiny: str) -> None:
    def trips(seed: int) -> np.ndarray:
        backend = open_backend(
            resolve_scenario(tiny),
            SumoOptions(seed=seed, tripinfo_path=Path(tmp) / f"t{seed}.xml"),
            vehicles=False,
        )
        while backend.step < backend.end_step:
            backend.advance()
        return backend.finish().time_loss

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        a, b = trips(5), trips(5)
    assert np.array_equal(a, b) and a.size > 50


def test_broken_net_is_one_clear_error() -> None:
    path = DATA / "odd" / "broken" / "broken.sumocfg"
    with pytest.raises((ScenarioError, SimulationError)) as info:
        open_backend(resolve_scenario(str(path)), SumoOptions(), vehicles=False)
    assert "broken" in str(info.value)
    assert "\n" not in str(info.value).strip()


def test_traci_backend_gives_the_same_run_as_libsumo(tiny: str) -> None:
    """The TraCI backend (for sumo-gui or a remote SUMO) sees exactly what libsumo sees."""
    scenario = resolve_scenario(tiny)
    states = []
    for kind in ("libsumo", "traci"):
        backend = open_backend(scenario, SumoOptions(seed=4, end_s=150.0), kind=kind, vehicles=True)  # type: ignore[arg-type]
        try:
            while backend.step < backend.end_step:
                backend.advance()
            snap = backend.snapshot()
            states.append(
                (snap.vehicles.ids, snap.vehicles.xy.copy(), snap.lanes.halting.copy(), snap.signals.state)
            )
        finally:
            backend.close()
    (ids_a, xy_a, halt_a, sig_a), (ids_b, xy_b, halt_b, sig_b) = states
    assert ids_a == ids_b and len(ids_a) > 0
    assert np.allclose(xy_a, xy_b) and np.array_equal(halt_a, halt_b) and sig_a == sig_b


def test_time_in_phase_is_exact_even_when_snapshots_are_rare(tiny: str) -> None:
    backend = open_backend(resolve_scenario(tiny), SumoOptions(seed=1, end_s=200.0), vehicles=False)
    try:
        changed_at, last = 0, backend.signal_state(backend.geometry.signals[0].id)
        while backend.step < backend.end_step:
            backend.advance()
            state = backend.signal_state(backend.geometry.signals[0].id)
            if state != last:
                changed_at, last = backend.step, state
            if backend.step % 37 == 0:  # sparse, irregular snapshots
                snap = backend.snapshot(vehicles=False)
                # a state first seen after step `changed_at` began during that step (the initial one at 0)
                began = changed_at - 1 if changed_at else 0
                assert snap.signals.time_in_phase[0] == pytest.approx(backend.step - began)
    finally:
        backend.close()
