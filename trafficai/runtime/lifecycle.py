"""One run's life cycle, for headless runs and the GUI worker alike.

    life = RunLifecycle(config, scenario, observers=[...])
    life.record(store, controller)        # a run in the run store (or none), before or after open
    life.open()                           # SUMO + control loop (trafficai.control.run)
    life.attach(controller)               # controllers on their signals
    snapshot, events = life.step()        # one step; sampled at the cadence, bins + observers
    life.record_events(events)            # into the run store
    kpis = life.final_kpis()              # last bin, tripinfo KPIs; SUMO closed
    life.close_record(kpis, "completed")  # completed | interrupted | failed
    life.close_simulation()               # always, in a ``finally``

Detector health (:class:`~trafficai.sensors.health.DetectorHealthMonitor`) is judged here, on every
sample at simulation rate, for headless and GUI runs alike: its changes are events and rows of the
run's ``detector_health`` table; every controller that takes charge (``ControlLoop.handovers``) is a
row of its ``controllers`` table.

``devices`` (:mod:`trafficai.runtime.devices`): once a recorded run is open, every detector is a
connected device; each bin the recorder closes is published by the devices and stored by the
ingest in the run (``iot_bins``), the last one before the run record is closed.

Opening the simulation and its control loop is shared with RL episodes, which live below
``runtime`` and so use :func:`trafficai.control.run.open_simulation` directly; recording (the run
store, KPI bins, tripinfo KPIs, observers' events) is this module's part.

``tolerate_store_errors`` (the GUI): a failing run store stops the recording with a warning event
and the run goes on; otherwise (headless) a StoreError ends the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from trafficai.config import HealthSection, RunConfig
from trafficai.control.controller import Controller
from trafficai.control.loop import ControlLoop
from trafficai.control.run import SimulationRun, open_simulation
from trafficai.core.events import Event
from trafficai.core.kpis import run_kpis
from trafficai.core.scenario import Scenario
from trafficai.core.signals import steps_for
from trafficai.core.snapshot import ALL_PARTS, Snapshot
from trafficai.errors import ConfigError, StoreError, TrafficAIError
from trafficai.iot.message_faults import MessageFaults
from trafficai.runtime.device_settings import DeviceNetworkSettings
from trafficai.runtime.devices import LiveDevices
from trafficai.runtime.observe import make_observer
from trafficai.runtime.session import BinRecorder, ClosedBin, resolved_config, sumo_options
from trafficai.sensors.camera_faults import FaultyCameraSource
from trafficai.sensors.camera_source import CameraReadingSource
from trafficai.sensors.cameras import CameraSpec
from trafficai.sensors.faults import check_devices, fault_plan
from trafficai.sensors.health import FAILED, DetectorHealth, DetectorHealthMonitor
from trafficai.sensors.substitution import Substitution
from trafficai.sim.backend import SimBackend
from trafficai.sim.sumo_command import StateSaving
from trafficai.storage import RunStore


class SnapshotObserver(Protocol):
    """Sees every sampled snapshot (with its detector part read); returns the events it raises."""

    def observe(self, snapshot: Snapshot) -> list[Event]: ...


# An observer may also have ``bind(geometry, scenario)``: called by ``open()`` once SUMO is running
# (``runtime/incident_watch.IncidentWatch`` builds its loop pairs there), and ``wants_vehicles =
# True``: its snapshots carry the vehicles (``runtime/history_cameras.HistoryCameras``).


class RunLifecycle:
    def __init__(
        self,
        config: RunConfig,
        scenario: Scenario,
        *,
        observers: Sequence[SnapshotObserver] = (),
        sample_interval_s: float | None = None,  # None: the decision interval
        tolerate_store_errors: bool = False,
        devices: DeviceNetworkSettings | None = None,  # None: the detectors are not devices
        area_detectors: bool = True,  # False: E2 bins are not stored
        live_faults: bool = False,  # faults may be injected while it runs (runtime/live_faults.py)
    ) -> None:
        self.area_detectors = area_detectors
        self.live_faults = live_faults
        self.config = config
        self.scenario = scenario
        self.observers = tuple(observers)
        self._observers_vehicles = any(getattr(o, "wants_vehicles", False) for o in self.observers)
        # the count-bias test's camera witness counts the vehicles of every step (sensors/health.py)
        self._health_vehicles = bool(scenario.cameras) and health_limits(config, scenario).bias_camera
        self.sample_interval_s = sample_interval_s or config.decision_interval_s
        self.tolerant = tolerate_store_errors
        self.store: RunStore | None = None
        self.run_id = ""
        self.sim: SimulationRun | None = None
        self.recorder: BinRecorder | None = None
        self.health: DetectorHealthMonitor | None = None  # from open(): judged at every sample
        self._owns_store = False
        self._recorded = False  # record() was called (the recorder waits for it and for open())
        self._sample_steps = 1
        self._device_settings = devices
        self.devices: LiveDevices | None = None
        self._device_events: list[Event] = []  # raised while starting, returned by the next sample
        self._substituted: frozenset[str] = frozenset()  # loops read from a substitute (last sample)
        self._placed: tuple[CameraSpec, ...] = ()  # the camera devices' cameras (from open())

    # -- opening ------------------------------------------------------------------------------

    def record(
        self,
        store: RunStore | None,
        controller: str,
        *,
        source: str = "",
        owns_store: bool = False,
        annotations: Mapping[str, Any] | None = None,
    ) -> list[Event]:
        """Create the run in ``store`` (None: not recorded). Tolerant: a failure leaves the run
        unrecorded and comes back as a warning event."""
        self.store, self._owns_store, self._recorded = store, owns_store, True
        if store is not None:
            try:
                config: dict[str, Any] = resolved_config(self.config, self.scenario, controller)
                if source:
                    config["source"] = source
                config.update(annotations or {})
                self.run_id = store.create_run(self.scenario.name, controller, self.config.sim.seed, config)
            except (StoreError, TrafficAIError, ValueError) as exc:
                if not self.tolerant:
                    raise
                self._drop_store()
                return [self._event("warning", "store", f"this run is not recorded: {exc}")]
        self._start_recorder()
        return self._record_history() + self._take_device_events()

    def open(
        self,
        *,
        warnings: bool = True,
        max_depart_delay_s: float | None = None,
        sumo_extra: tuple[str, ...] = (),
        message_log: bool = False,
        scratch_prefix: str = "trafficai-run-",
        state_saving: StateSaving | None = None,
        load_state: Path | None = None,
    ) -> SimulationRun:
        """Start SUMO (options from the RunConfig, trip records in a scratch folder) and the loop;
        ``state_saving``: SUMO saves its state periodically; ``load_state``: start from a saved state
        (the scenario's begin is that state's time)."""
        sim = self.config.sim
        options = replace(
            sumo_options(self.config, self.scenario, None),
            warnings=warnings,
            max_depart_delay_s=max_depart_delay_s,
            extra=tuple(sumo_extra),
            save_state=state_saving,
            load_state=load_state,
        )
        backend_kind: Literal["libsumo", "traci"] = sim.backend
        self.sim = open_simulation(
            self.scenario,
            options,
            self.config.safety,
            self.config.decision_interval_s,
            kind=backend_kind,
            gui=sim.sumo_gui,
            tripinfo=True,
            message_log=message_log,
            scratch_prefix=scratch_prefix,
            faults=self.config.faults,
            fault_seed=sim.seed,
            substitute=health_limits(self.config, self.scenario).substitute,
            vehicles=self._wants_vehicles(),
            live_faults=self.live_faults,
            fault_cameras=None,  # camera faults: checked below, once the cameras are placed
        )
        try:
            self._check_camera_faults()
            backend = self.sim.backend
            self.sim.loop.observer = make_observer(
                self.config.observe, backend.geometry, backend.step_length_s, sim.seed
            )
        except BaseException:
            self.sim.close()
            raise
        self._sample_steps = max(1, steps_for(self.sample_interval_s, self.sim.backend.step_length_s))
        limits = health_limits(self.config, self.scenario)
        self.health = DetectorHealthMonitor(
            self.sim.backend.geometry,
            limits=limits,
            cameras=[CameraSpec.from_section(c) for c in self.scenario.cameras],
            faults=self.config.faults,
            begin_s=self.scenario.begin_s,
        )
        self._health_vehicles = self.health.wants_vehicles  # no camera covers a loop: no vehicles
        for observer in self.observers:  # observers that need the net (incident detection) get it now
            bind = getattr(observer, "bind", None)
            if bind is not None:
                bind(self.sim.backend.geometry, self.scenario)
        self._start_recorder()
        return self.sim

    def attach(self, controller: Controller, signals: Sequence[str] | None = None) -> None:
        """Give ``signals`` (default: every controllable one) to ``controller``."""
        self.loop.assign(controller, signals or None)

    def _start_recorder(self) -> None:
        if self.sim is not None and self._recorded and self.recorder is None:
            self.recorder = BinRecorder(
                self.sim.backend, self.store, self.run_id, self.config.bin_s, self.area_detectors
            )
            self._start_devices()

    def _start_devices(self) -> None:
        settings, store = self._device_settings, self.store
        if settings is None or store is None or not self.run_id or self.sim is None:
            return
        backend = self.sim.backend
        try:
            cameras = self._camera_source(settings) if settings.with_cameras else None
            self.devices = LiveDevices(
                backend.geometry, store.path, self.run_id, settings, backend.time_s, cameras=cameras,
                faults=MessageFaults(self.config.faults, self.config.sim.seed, self.scenario.begin_s),
                bin_s=self.config.bin_s, camera_health=health_limits(self.config, self.scenario).cameras,
            )  # fmt: skip
        except TrafficAIError as exc:
            if not self.tolerant:
                raise
            self._device_events.append(self._event("warning", "iot", f"devices not started: {exc}"))
            return
        self._device_events += self.devices.take_events()

    def _check_camera_faults(self) -> None:
        """Place the camera devices (when the run has them) and check every fault's device against
        the loops and those cameras: one ConfigError line naming an unknown one."""
        backend = self.backend
        settings = self._device_settings
        if self._wants_cameras() and settings is not None:
            from trafficai.runtime.camera_sources import placed_cameras

            self._placed = placed_cameras(self.scenario, backend.geometry, settings.camera_placement)
        ids = frozenset(c.id for c in self._placed)
        manifest = {c.id for c in self.scenario.cameras}
        for fault in self.config.faults:
            if fault.device in manifest and fault.device not in ids:
                raise ConfigError(
                    f"fault {fault.describe()}: camera {fault.device} is not a device in this run "
                    "(camera devices need --cameras truth|vision on a recorded run)"
                )
        check_devices(self.config.faults, backend.geometry, self.scenario.name, ids)
        plan = fault_plan(backend)
        if plan is not None:
            plan.cameras = ids

    def camera_ids(self) -> frozenset[str]:
        """The ids of the run's camera devices (placed at open(); none without cameras)."""
        return frozenset(c.id for c in self._placed)

    def _wants_vehicles(self) -> bool:
        """Whether SUMO subscribes every vehicle: camera devices, camera observation, or an
        observer that asks for them."""
        return (
            self._wants_cameras()
            or self.config.observe.source == "cameras"
            or self._observers_vehicles
            or self._health_vehicles
        )

    def _wants_cameras(self) -> bool:
        settings = self._device_settings
        if settings is None or not settings.with_cameras:
            return False
        return settings.camera_placement == "auto" or bool(self.scenario.cameras)

    def _camera_source(self, settings: DeviceNetworkSettings) -> CameraReadingSource:
        from trafficai.runtime.camera_sources import make_camera_source, placed_cameras

        backend = self.backend
        cameras = self._placed or placed_cameras(self.scenario, backend.geometry, settings.camera_placement)
        observe, seed = self.config.observe, self.config.sim.seed
        source = make_camera_source(
            settings.cameras, cameras, backend.geometry, observe, backend.step_length_s, seed
        )
        # camera faults act where the camera's readings are made: every consumer sees them
        return FaultyCameraSource(source, self.config.faults, self.scenario.begin_s)

    def _take_device_events(self) -> list[Event]:
        events, self._device_events = self._device_events, []
        return events

    def _feed_devices(self, closed: ClosedBin | None, time_s: float) -> list[Event]:
        devices = self.devices
        if devices is None:
            return self._take_device_events()
        events = self._take_device_events()
        try:
            if closed is not None:
                events += devices.observe_bin(closed.t_begin, closed.t_end, closed.detectors)
            events += devices.observe(time_s)
        except TrafficAIError as exc:
            if not self.tolerant:
                raise
            events += self._close_devices()
            events.append(self._event("warning", "iot", f"devices stopped: {exc}"))
        return events

    def _close_devices(self) -> list[Event]:
        devices, self.devices = self.devices, None
        return devices.close() if devices is not None else []

    @property
    def backend(self) -> SimBackend:
        if self.sim is None:
            raise TrafficAIError("the simulation is not running")
        return self.sim.backend

    @property
    def loop(self) -> ControlLoop:
        if self.sim is None:
            raise TrafficAIError("the simulation is not running")
        return self.sim.loop

    # -- running ------------------------------------------------------------------------------

    def step(self) -> tuple[Snapshot | None, list[Event]]:
        """One step through the control loop; at the sampling cadence the snapshot taken before the
        step (bins, observers) and the events the sample raised."""
        due = self.backend.step % self._sample_steps == 0
        devices = self.devices
        cameras = (devices is not None and devices.wants_vehicles) or self._observers_vehicles
        every = cameras and devices is not None and devices.wants_every_step  # vision camera devices
        every = every or self._health_vehicles  # cameras count crossings for the count-bias test
        cameras = cameras or self._health_vehicles
        parts = ALL_PARTS if due else frozenset()
        taken = self.loop.step(want_snapshot=due or every, vehicles=cameras and (due or every), parts=parts)
        if taken is None:
            return None, []
        if not due:
            if devices is not None and devices.wants_every_step:
                devices.observe_snapshot(taken)
            if self.health is not None and self._health_vehicles:
                self.health.watch_vehicles(taken)
            return None, []
        return taken, self.sample(taken)

    def sample(self, snapshot: Snapshot) -> list[Event]:
        """Bin ``snapshot`` and show it to the observers; the events they raise."""
        events: list[Event] = []
        recorder = self.recorder
        closed = None
        if recorder is not None:
            try:
                recorder.sample(snapshot)
                closed = recorder.maybe_close(snapshot)
            except StoreError as exc:
                if not self.tolerant:
                    raise
                self._drop_store()
                events.append(self._event("warning", "store", f"recording stopped: {exc}"))
        if self.devices is not None:
            self.devices.observe_snapshot(snapshot)
        events += self._feed_devices(closed, snapshot.time_s)
        if self.health is not None:
            if self.devices is not None:
                self.health.set_camera_health(self.devices.camera_states())
            events.extend(self.health.observe(raw_readings(self.backend, snapshot)))
            substitute_failed_loops(self.backend, self.health)
            events.extend(self._substitution_events(snapshot.time_s))
        for observer in self.observers:
            events.extend(observer.observe(snapshot))
        return events

    def detector_health(self) -> dict[str, DetectorHealth]:
        """Every detector's health now, and every camera device's (empty before open())."""
        states = self.health.states() if self.health is not None else {}
        if self.devices is not None:
            states.update(self.devices.camera_states())
        return states

    def substituted_loops(self) -> frozenset[str]:
        """The loops whose readings the controllers get substituted now (none without ``[health]
        substitute``)."""
        substitution = getattr(self.sim.backend, "substitution", None) if self.sim is not None else None
        if not isinstance(substitution, Substitution) or not substitution.failed.any():
            return frozenset()
        ids = self.sim.backend.geometry.e1.ids if self.sim is not None else ()
        return frozenset(d for d, failed in zip(ids, substitution.failed, strict=False) if failed)

    def _substitution_events(self, time_s: float) -> list[Event]:
        """A warning when the controllers start reading a substitute for a loop, info when it ends."""
        now = self.substituted_loops()
        before, self._substituted = self._substituted, now
        if now == before:
            return []
        started = [(d, "warning", "controllers read a substitute") for d in sorted(now - before)]
        ended = [(d, "info", "controllers read it again") for d in sorted(before - now)]
        return [
            Event(time_s, severity, "substitution", f"detector {d}: {what}", d, "system")
            for d, severity, what in started + ended
        ]

    def mark_detector(self, detector: str, in_service: bool, user: str = "", reason: str = "") -> Event:
        """An operator marks a detector failed or back in service; the event that logs it (the
        change is recorded with the next :meth:`record_events`)."""
        if self.health is None:
            raise TrafficAIError("the simulation is not running")
        return self.health.mark(detector, in_service, self.time_s(), user, reason)

    def safety_events(self, skip_kinds: frozenset[str] = frozenset()) -> list[Event]:
        """What the safety layer logged since the last call (fallbacks, overrides, ...)."""
        if self.sim is None or not self.sim.loop.safety.events:
            return []
        pending = self.sim.loop.safety.events
        events = [e for e in pending if e.kind not in skip_kinds]
        pending.clear()
        return events

    def record_events(self, events: Sequence[Event]) -> list[Event]:
        """Write ``events`` to the run; returns them, plus a warning if recording stopped here."""
        out = list(events)
        if self.store is None or not self.run_id:
            self._record_history()  # not recorded: the pending changes are dropped
            return out
        try:
            for e in events:
                self.store.add_event(self.run_id, e.time_s, e.severity, e.kind, e.message, e.user)
        except StoreError as exc:
            if not self.tolerant:
                raise
            self._drop_store()
            out.append(self._event("warning", "store", f"recording stopped: {exc}"))
        return out + self._record_history()

    def _record_history(self) -> list[Event]:
        """Write the controller hand-overs and detector health changes since the last call."""
        handovers = self.sim.loop.handovers if self.sim is not None else []
        changes = self.health.changes if self.health is not None else []
        cameras = self.devices.take_camera_changes() if self.devices is not None else []
        store, run_id = self.store, self.run_id
        try:
            if store is not None and run_id:
                for h in handovers:
                    store.add_controller(run_id, h.time_s, h.controller, h.signals)
                for c in [*changes, *cameras]:
                    health = c.health
                    store.add_detector_health(
                        run_id, health.since_s, c.detector, health.state, health.reason, c.user
                    )
        except StoreError as exc:
            if not self.tolerant:
                raise
            self._drop_store()
            return [self._event("warning", "store", f"recording stopped: {exc}")]
        finally:
            handovers.clear()
            changes.clear()
        return []

    # -- ending -------------------------------------------------------------------------------

    def final_kpis(self) -> dict[str, float]:
        """Close the last bin, end SUMO and compute the run's KPIs from its trip records."""
        backend = self.backend
        final = backend.snapshot(vehicles=False)
        recorder = self.recorder
        if recorder is None:
            raise TrafficAIError("the run was opened without record(): no KPIs to compute")
        recorder.sample(final)
        closed = recorder.maybe_close(final, force=True)
        self._device_events += self._feed_devices(closed, final.time_s)
        teleports = final.counters.teleports_total
        trips = backend.finish()
        return run_kpis(trips, recorder.queue.stats(), teleports)

    def close_record(self, kpis: dict[str, float], status: str) -> list[Event]:
        """Finish the run record (``completed`` | ``interrupted`` | ``failed``); close an owned store.
        The devices stop first (their last bins acknowledged, their events recorded)."""
        events = self._record_history()
        ending = self._take_device_events() + self._close_devices()
        if ending:
            events += self.record_events(ending)
        store = self.store
        if store is not None and self.run_id:
            try:
                store.finish_run(self.run_id, kpis, status)
            except StoreError as exc:
                if not self.tolerant:
                    raise
                events.append(self._event("warning", "store", str(exc)))
        if store is not None and self._owns_store:
            store.close()
        self.store = None
        self.recorder = None
        return events

    def fail(self, message: str) -> None:
        """Record a failure as an alarm event of the run (then ``close_record(..., "failed")``)."""
        if self.store is not None and self.run_id:
            try:
                self.store.add_event(self.run_id, self.time_s(), "alarm", "run", message)
            except StoreError:
                if not self.tolerant:
                    raise

    def close_simulation(self) -> None:
        """Close SUMO and its scratch folder (safe to call twice)."""
        if self.devices is not None:
            self.devices.close()
            self.devices = None
        if self.sim is not None:
            self.sim.close()

    def time_s(self) -> float:
        return self.sim.backend.time_s if self.sim is not None else self.scenario.begin_s

    def _drop_store(self) -> None:
        if self.devices is not None:
            self.devices.close()
            self.devices = None
        if self.store is not None and self._owns_store:
            self.store.close()
        self.store = None
        if self.recorder is not None:
            self.recorder.store = None

    def _event(self, severity: str, kind: str, message: str) -> Event:
        return Event(self.time_s(), severity, kind, message)


# -- detector health thresholds and substitution (issue 12) ----------------------------------------


def health_limits(config: RunConfig, scenario: Scenario) -> HealthSection:
    """The run's ``[health]`` thresholds: the run config's, else the scenario manifest's, else defaults."""
    return config.health or scenario.health or HealthSection()


def substitute_failed_loops(backend: SimBackend, health: DetectorHealthMonitor) -> None:
    """Tell a substituting backend which loops are failed now (the next snapshots substitute them)."""
    substitution = getattr(backend, "substitution", None)
    if isinstance(substitution, Substitution):
        states = health.states()
        failed = [states[d].state == FAILED for d in backend.geometry.e1.ids]
        substitution.set_failed(np.array(failed, dtype=bool))


def raw_readings(backend: SimBackend, snapshot: Snapshot) -> Snapshot:
    """The snapshot with the loops' own readings, not their substitutes (health judges those)."""
    substitution = getattr(backend, "substitution", None)
    return substitution.unsubstituted(snapshot) if isinstance(substitution, Substitution) else snapshot
