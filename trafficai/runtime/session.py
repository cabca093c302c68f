"""A headless run: scenario + controller + safety layer + KPIs, recorded bin by bin in the run store."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trafficai.config import RunConfig
from trafficai.control.controller import Controller
from trafficai.control.registry import make_controller
from trafficai.core.events import Event
from trafficai.core.kpis import BinAccumulator, QueueTracker, network_sample, signal_samples
from trafficai.core.scenario import Scenario, resolve_scenario
from trafficai.core.signals import steps_for
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ControllerError, TrafficAIError
from trafficai.sensors.bins import DetectorBins
from trafficai.sensors.readings import Reading
from trafficai.sensors.substitution import substituted_ids
from trafficai.sim.backend import SimBackend
from trafficai.sim.sumo_command import SumoOptions
from trafficai.storage import RunStore

if TYPE_CHECKING:
    from trafficai.runtime.device_settings import DeviceNetworkSettings
    from trafficai.runtime.lifecycle import SnapshotObserver

Progress = Callable[[float, float], None]  # (simulated seconds done, total)


@dataclass
class RunResult:
    run_id: str
    scenario: str
    controller: str
    kpis: dict[str, float]
    events: list[Event] = field(default_factory=list)


def sumo_options(config: RunConfig, scenario: Scenario, tripinfo: Path | None) -> SumoOptions:
    end = scenario.begin_s + config.end_s if config.end_s is not None else None
    return SumoOptions(
        seed=config.sim.seed,
        end_s=end,
        step_length_s=config.sim.step_length,
        time_to_teleport=config.sim.time_to_teleport,
        demand_scale=config.sim.demand_scale,
        tripinfo_path=tripinfo,
    )


def resolved_config(config: RunConfig, scenario: Scenario, controller: str) -> dict[str, Any]:
    data = config.model_dump(mode="json")
    data["controller"] = controller
    data["resolved_scenario"] = {
        "name": scenario.name,
        "source": str(scenario.source),
        "begin_s": scenario.begin_s,
        "duration_s": scenario.duration_s,
        "step_length_s": scenario.step_length_s,
    }
    return data


@dataclass(frozen=True, slots=True)
class ClosedBin:
    """The detector readings of one closed bin (simulation seconds)."""

    t_begin: float
    t_end: float
    detectors: dict[str, Reading]


class BinRecorder:
    """Samples snapshots on the control cadence and writes one bin every ``bin_steps``."""

    def __init__(
        self,
        backend: SimBackend,
        store: RunStore | None,
        run_id: str,
        bin_s: float,
        area_detectors: bool = True,
    ) -> None:
        self.backend, self.store, self.run_id = backend, store, run_id
        # False: the lane-area (E2) detectors' bins are not stored (history runs keep loops and approaches)
        e2_ids = () if area_detectors else backend.geometry.e2.ids
        self.skipped_objects: frozenset[str] = frozenset(e2_ids)
        self.bin_steps = max(1, steps_for(bin_s, backend.step_length_s))
        self.network = BinAccumulator()
        self.signals = BinAccumulator()
        self.detectors = DetectorBins(backend.geometry)
        self.queue = QueueTracker()
        self.bin_start_s = backend.time_s
        self.bin_start_arrived = 0
        self.bin_start_departed = 0
        self._substituted: frozenset[str] = frozenset()

    def sample(self, snapshot: Snapshot) -> None:
        net = network_sample(snapshot)
        self.queue.add(net["queue_veh"])
        self.network.add({"": net})
        self.signals.add(signal_samples(snapshot, self.backend.geometry))
        self.detectors.sample(snapshot)
        self._substituted |= substituted_ids(self.backend)  # flagged in the bin (metric substituted)
        self._last = snapshot

    def maybe_close(self, snapshot: Snapshot | None, force: bool = False) -> ClosedBin | None:
        """Close the bin if it is due (or ``force``); the detectors' part of the bin it closed."""
        if (
            snapshot is None
            or not (force or snapshot.step % self.bin_steps == 0)
            or self.network.samples == 0
        ):
            return None
        t_begin = self.bin_start_s
        network = self.network.close().get("", {})
        counters = snapshot.counters
        network["arrived"] = float(counters.arrived_total - self.bin_start_arrived)
        network["departed"] = float(counters.departed_total - self.bin_start_departed)
        detectors = self.detectors.close(snapshot)
        if self.skipped_objects:
            detectors = {k: v for k, v in detectors.items() if k not in self.skipped_objects}
        # the store flags what controllers read from a substitute; devices publish their own readings
        stored = {**detectors, **{d: {**detectors.get(d, {}), "substituted": 1.0} for d in self._substituted}}
        self._substituted = frozenset()
        if self.store is not None:
            self.store.add_bin(
                self.run_id, self.bin_start_s, snapshot.time_s, network, self.signals.close(), stored
            )
        else:
            self.signals.close()
        self.bin_start_s = snapshot.time_s
        self.bin_start_arrived = counters.arrived_total
        self.bin_start_departed = counters.departed_total
        return ClosedBin(t_begin, snapshot.time_s, detectors)


class ScriptedIncidents:
    """A headless run's scripted incidents (``RunConfig.incidents``) and the events they raise."""

    def __init__(self, config: RunConfig, backend: SimBackend) -> None:
        from trafficai.runtime.incident_schedule import IncidentSchedule
        from trafficai.runtime.operator_state import OperatorState

        self.backend = backend
        self.events: list[Event] = []
        self.operator = OperatorState(self._emit)
        self.schedule = IncidentSchedule(config.incidents, self.operator)
        self.schedule.check(backend)

    def _emit(self, severity: str, kind: str, message: str, object_id: str = "", user: str = "") -> None:
        self.events.append(Event(self.backend.time_s, severity, kind, message, object_id, user))

    def advance(self) -> None:
        """Before a step: start and end what is due, report route repairs once a minute."""
        if self.schedule:
            self.schedule.advance(self.backend)
        if self.operator.incidents:
            self.operator.expire_incidents(self.backend.time_s)
            self.operator.report_repairs(self.backend)

    def finish(self) -> None:
        if self.operator.incident_counter:
            self.operator.report_repairs(self.backend, force=True)

    def take_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events


def run_headless(
    config: RunConfig,
    store: RunStore | None = None,
    progress: Progress | None = None,
    observers: Sequence[SnapshotObserver] = (),
    devices: DeviceNetworkSettings | None = None,
    *,
    annotations: Mapping[str, Any] | None = None,
    area_detectors: bool = True,
    sample_interval_s: float | None = None,
    controller: Controller | None = None,
) -> RunResult:
    """Run a scenario to its end (or ``config.end_s``) and record it. Raises TrafficAIError subclasses.
    ``devices``: the detectors publish their bins as connected devices (None: no devices);
    ``annotations``: extra top-level keys of the recorded config (history days keep their plan
    there); ``area_detectors`` False: E2 bins are not stored; ``sample_interval_s``: how often
    detectors are read into bins (None: the decision interval); ``controller``: an already built
    controller (e.g. a policy held in memory) instead of ``config.controller``'s."""
    from trafficai.runtime.lifecycle import RunLifecycle  # it builds on BinRecorder, defined here

    scenario = resolve_scenario(config.scenario)
    if controller is None:
        controller_name = config.controller or scenario.default_controller
        controller = make_controller(controller_name)
    else:
        controller_name = controller.name
    life = RunLifecycle(
        config,
        scenario,
        observers=observers,
        devices=devices,
        area_detectors=area_detectors,
        sample_interval_s=sample_interval_s,
    )
    life.record(store, controller_name, annotations=annotations)
    events: list[Event] = []
    try:
        backend = life.open().backend
        try:
            life.attach(controller, config.signals)
        except ControllerError as exc:
            raise ControllerError(f"{scenario.source}: {exc}") from exc
        incidents = ScriptedIncidents(config, backend)
        total_s = backend.end_step * backend.step_length_s
        while backend.step < backend.end_step:
            incidents.advance()
            _, sampled = life.step()
            events += life.record_events(sampled + life.safety_events() + incidents.take_events())
            if progress is not None and backend.step % 60 == 0:
                progress(backend.step * backend.step_length_s, total_s)
        incidents.finish()
        events += life.record_events(incidents.take_events())
        kpis = life.final_kpis()
        events += life.record_events(life.safety_events())
        events += life.close_record(kpis, "completed")
        return RunResult(life.run_id, scenario.name, controller_name, kpis, events)
    except TrafficAIError as exc:
        life.fail(str(exc))
        life.close_record({}, "failed")
        raise
    except KeyboardInterrupt:
        life.close_record({}, "interrupted")
        raise
    finally:
        life.close_simulation()
