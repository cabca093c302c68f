"""The one run lifecycle: headless runs record through it, observers see every sampled snapshot
(with detectors read) and their events reach the result and the run store."""

from __future__ import annotations

import pytest

from trafficai.config import RunConfig, SafetyConfig
from trafficai.control.registry import make_controller
from trafficai.core.events import Event
from trafficai.core.scenario import resolve_scenario
from trafficai.core.snapshot import Snapshot
from trafficai.runtime.lifecycle import RunLifecycle
from trafficai.runtime.session import run_headless
from trafficai.runtime.worker_config import WorkerConfig
from trafficai.storage import RunStore

from .conftest import TINY

pytestmark = pytest.mark.sumo


class CountingObserver:
    """Raises one event per minute of simulated time."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.detectors: list[int] = []

    def observe(self, snapshot: Snapshot) -> list[Event]:
        self.times.append(snapshot.time_s)
        self.detectors.append(len(snapshot.detectors.e1_occupancy))
        if snapshot.time_s % 60 == 0:
            return [Event(snapshot.time_s, "info", "detector", f"minute {snapshot.time_s:g}", "e1")]
        return []


def test_a_headless_run_passes_snapshots_to_observers_and_records_their_events(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    observer = CountingObserver()
    with RunStore() as store:
        result = run_headless(RunConfig(scenario=TINY, end_s=120), store, observers=[observer])
        events = store.events(result.run_id)
        run = store.get_run(result.run_id)
    assert observer.times == [5.0 * i for i in range(24)]  # the decision cadence, from the start
    assert min(observer.detectors) > 0  # the detector part is read
    minutes = [e.message for e in result.events if e.kind == "detector"]
    assert minutes == ["minute 0", "minute 60"]
    assert [e.message for e in events if e.kind == "detector"] == minutes
    # bins close at t=0 (its one sample: as before the lifecycle), 60 and at the end
    assert run.status == "completed" and run.n_bins == 3 and result.kpis["arrived"] >= 0


def test_the_lifecycle_opens_before_or_after_recording_and_closes_the_record(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    scenario = resolve_scenario(TINY)
    config = RunConfig(scenario=TINY, end_s=30, bin_s=10, safety=SafetyConfig(min_green_s=6))
    store = RunStore()
    life = RunLifecycle(config, scenario, sample_interval_s=10.0, tolerate_store_errors=True)
    sim = life.open()  # the GUI opens first, then records
    assert life.record(store, "fixed", source="gui", owns_store=True) == []
    life.attach(make_controller("fixed"))
    sampled = []
    while sim.backend.step < sim.backend.end_step:
        snapshot, _ = life.step()
        if snapshot is not None:
            sampled.append(snapshot.time_s)
    assert sampled == [0.0, 10.0, 20.0]
    kpis = life.final_kpis()
    run_id = life.run_id
    assert life.close_record(kpis, "completed") == []
    life.close_simulation()
    assert sim.workdir is None  # the scratch folder is gone
    with RunStore() as again:
        run = again.get_run(run_id)
    assert run.status == "completed" and run.n_bins == 4 and run.config["source"] == "gui"  # t=0, 10, 20, end
    assert run.config["safety"]["min_green_s"] == 6


def test_worker_config_builds_its_run_config_from_todays_keywords() -> None:
    config = WorkerConfig.for_scenario(
        "grid4x4", controller=None, seed=7, demand_scale=1.5, speed=None, bin_s=30.0, warnings=False
    )
    assert config.scenario == "grid4x4" and config.run.controller == ""
    assert (config.run.sim.seed, config.run.sim.demand_scale, config.run.bin_s) == (7, 1.5, 30.0)
    assert config.speed is None and not config.warnings
    other = WorkerConfig.for_scenario("city", controller="max-pressure", start_at_s=60.0).with_scenario(
        "tiny"
    )
    assert (other.scenario, other.run.controller, other.start_at_s) == ("tiny", "", None)
    with pytest.raises(TypeError, match="bogus"):
        WorkerConfig.for_scenario("city", bogus=1)


def test_a_headless_run_judges_detector_health_and_records_its_controllers(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    from trafficai.storage import ControllerRecord

    scenario = resolve_scenario(TINY)
    life = RunLifecycle(RunConfig(scenario=TINY, end_s=60), scenario)
    assert life.detector_health() == {}
    with RunStore() as store:
        life.record(store, "greedy")
        sim = life.open()
        life.attach(make_controller("greedy"))
        geometry = sim.backend.geometry
        assert set(life.detector_health()) == {*geometry.e1.ids, *geometry.e2.ids}
        event = life.mark_detector(geometry.e1.ids[0], False, "ann")
        life.record_events([event])
        while sim.backend.step < sim.backend.end_step:
            _, sampled = life.step()
            life.record_events(sampled)
        life.close_record(life.final_kpis(), "completed")
        life.close_simulation()
        assert store.controllers([life.run_id])[life.run_id] == [ControllerRecord(0.0, "greedy")]
        (change,) = store.detector_health(life.run_id)
        assert (change.detector, change.state, change.user) == (geometry.e1.ids[0], "failed", "ann")


def test_bins_of_a_substituted_loop_are_flagged_in_the_store(isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    from trafficai.config import FaultSection, HealthSection
    from trafficai.runtime.device_settings import DeviceNetworkSettings

    fault = FaultSection(device="e1_N_in_0", kind="stuck-on", at=60.0)
    config = RunConfig(
        scenario=TINY, end_s=600, bin_s=60, faults=(fault,), health=HealthSection(substitute=True)
    )
    with RunStore() as store:
        result = run_headless(config, store, devices=DeviceNetworkSettings())  # devices publish unflagged
        rows = store.scoped_series(result.run_id, "detector")
        health = store.detector_health(result.run_id)
    flagged = sorted({r.t_end for r in rows if r.metric == "substituted" and r.object_id == "e1_N_in_0"})
    failed = min(h.time_s for h in health if h.detector == "e1_N_in_0" and h.state == "failed")
    assert flagged and flagged[0] >= failed  # from its failure on, never before
    assert {r.object_id for r in rows if r.metric == "substituted"} == {"e1_N_in_0"}
