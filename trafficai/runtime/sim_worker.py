"""The live simulation in its own process: it owns SUMO, takes commands, publishes state.

``WorkerHandle`` starts :func:`worker_main` in a ``spawn`` process (libsumo allows one simulation
per process and holds the GIL while stepping; a SUMO fatal error must not take a window down).
Commands (``trafficai.core.commands``) arrive on a queue; messages leave on a pipe as
length-prefixed pickles (:class:`MessageStream`), which the client reads without ever blocking:

* frames (a snapshot with every vehicle, plus the signals' status) are flow-controlled: the
  client acknowledges the frames it has taken and the worker keeps at most two unacknowledged, so
  a slow client costs it nothing but skipped frames; it also spends at most ``frame_budget`` of its
  time on frames, so the simulation keeps most of its speed however fast the client renders;
* everything else (events, KPI samples, signal state changes, incidents, refusals) is always sent.

Vehicles are read only for frames (``SimBackend.vehicle_state``), so steps between frames and
jumps cost what a headless run costs. The run is recorded in the run store like a headless run
(config, KPI bins, events, final KPIs). Nothing here imports Qt.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import os
import pickle
import queue
import shutil
import signal as signal_module
import struct
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from trafficai.config import RunConfig, SafetyConfig, SimConfig
from trafficai.control.loop import ControlLoop
from trafficai.control.registry import controller_names, make_controller
from trafficai.core.commands import (
    OVERRIDE_ACTIONS,
    BlockLane,
    CameraView,
    ClearIncident,
    ClearOverride,
    Closed,
    CloseEdge,
    CloseLane,
    Command,
    DemandScale,
    Events,
    Failed,
    Finished,
    Frame,
    Incidents,
    IncidentView,
    Jump,
    KpiSample,
    Message,
    OpenLane,
    Override,
    Pause,
    Play,
    Progress,
    Ready,
    Refused,
    Restart,
    RestoreAll,
    RouteDemand,
    SetController,
    SetFrames,
    SetSpeed,
    Shutdown,
    SignalChanges,
    SignalView,
    Step,
    describe,
)
from trafficai.core.events import Event
from trafficai.core.kpis import network_sample, run_kpis, signal_samples
from trafficai.core.scenario import Scenario, resolve_scenario
from trafficai.core.signals import steps_for
from trafficai.core.snapshot import Snapshot
from trafficai.errors import StoreError, TrafficAIError
from trafficai.runtime.session import BinRecorder, resolved_config
from trafficai.sim.backend import SimBackend
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions
from trafficai.storage import RunStore

MAX_UNACKED_FRAMES = 2
COMMAND_POLL_S = 0.005  # how often a running worker looks for commands
IDLE_WAIT_S = 0.05  # how long a paused worker blocks waiting for one
PROGRESS_EVERY_S = 0.2
FLUSH_EVERY_S = 0.05  # events and signal changes are batched this long at most
WARNINGS_EVERY_S = 0.5
MAX_WARNINGS_PER_READ = 20
MAX_OVERRIDE_S = 24 * 3600.0
THROUGHPUT_WINDOW_S = 60.0
HEADER = struct.Struct("!QBQ")  # message length, kind, frame seq
KIND_MESSAGE, KIND_FRAME = 0, 1
PIPE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How to run the live simulation."""

    scenario: str
    controller: str | None = None  # None: the scenario's default
    seed: int = 42
    demand_scale: float = 1.0
    speed: float | None = 1.0  # real-time factor; None: as fast as possible
    playing: bool = True
    frames: bool = True
    record: bool = True  # write the run to the run store
    store_path: str | None = None  # None: the default store
    user: str = ""
    start_at_s: float | None = None  # jump here right after loading
    kpi_interval_s: float = 5.0
    bin_s: float = 60.0
    decision_interval_s: float = 5.0
    max_fps: float = 30.0
    frame_budget: float = 0.2  # at most this share of the worker's time goes into frames
    time_to_teleport: float = 300.0
    sumo_extra: tuple[str, ...] = ()
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    nice: int = 5  # the window's process wins the CPU when the two compete: it never stutters


class _Counter(Protocol):
    value: int


@dataclass
class _OverrideState:
    action: str
    until_s: float
    reason: str
    user: str


class _Rate:
    """Simulated seconds and steps per wall second over the last second or so."""

    def __init__(self) -> None:
        self.marks: deque[tuple[float, float, int]] = deque()

    def reset(self) -> None:
        self.marks.clear()

    def add(self, wall: float, sim_s: float, steps: int) -> None:
        if self.marks and wall - self.marks[-1][0] < 0.05:
            return
        self.marks.append((wall, sim_s, steps))
        while len(self.marks) > 2 and wall - self.marks[0][0] > 1.0:
            self.marks.popleft()

    def rates(self) -> tuple[float, float]:
        if len(self.marks) < 2:
            return 0.0, 0.0
        (w0, s0, n0), (w1, s1, n1) = self.marks[0], self.marks[-1]
        dt = w1 - w0
        return ((s1 - s0) / dt, (n1 - n0) / dt) if dt > 0 else (0.0, 0.0)


class SimWorker:
    """The simulation side. ``serve`` runs until a Shutdown command (or the inbox closes)."""

    def __init__(
        self, config: WorkerConfig, publish: Callable[[Message], None], acked: Callable[[], int]
    ) -> None:
        self.config = config
        self._publish = publish
        self._acked = acked
        self.generation = 0
        self.seq = 0
        self.steps_total = 0
        self.playing = config.playing
        self.speed = config.speed
        self.frames = config.frames
        self.stopping = False
        self.scenario: Scenario | None = None
        self.backend: SimBackend | None = None
        self.loop: ControlLoop | None = None
        self.recorder: BinRecorder | None = None
        self.store: RunStore | None = None
        self.run_id = ""
        self.workdir: Path | None = None
        self.finished = False
        self.failed = False
        # operator settings that survive a restart
        self.controller = config.controller or ""
        self.assignments: list[tuple[str, tuple[str, ...]]] = []
        self.demand = config.demand_scale
        # per simulation
        self.overrides: dict[str, _OverrideState] = {}
        self.incidents: dict[str, IncidentView] = {}
        self.incident_counter = 0
        self.jump_target: float | None = None
        self.steps_to_go = 0
        self.tracking = True
        self.last_states: list[str] = []
        self.pending_changes: list[tuple[int, float, str]] = []
        self.pending_events: list[Event] = []
        self.running_vehicles = 0
        self.last_kpi_arrived = 0
        self.last_kpi_time = 0.0
        self.arrivals: deque[tuple[float, int]] = deque()
        self.kpi_steps = 1
        self.frame_dirty = True
        self.frame_cost = 0.0
        self.last_frame_wall = 0.0
        self.last_frame_end = 0.0
        self.last_frame_step = -1
        self.anchor_wall = 0.0
        self.anchor_sim = 0.0
        self.rate = _Rate()
        self.last_progress = 0.0
        self.last_flush = 0.0
        self.last_warnings = 0.0
        self.warnings_offset = 0
        self.parent_pid = os.getppid()
        self.last_time_s = 0.0
        self.last_parent_check = 0.0

    # -- life cycle ---------------------------------------------------------------------------

    def serve(self, inbox: Any) -> None:
        self._start(first=True)
        next_poll = 0.0
        while not self.stopping:
            now = time.perf_counter()
            wait = self._idle_wait(now)
            if wait > 0 or now >= next_poll:
                self._commands(inbox, wait)
                next_poll = time.perf_counter() + COMMAND_POLL_S
                if self.stopping:
                    break
            if self._may_step(time.perf_counter()):
                self._advance_once()
            self._after_iteration()
        self._end_simulation("interrupted")
        self._flush(force=True)
        self._publish(Closed())

    def _start(self, first: bool = False) -> None:
        """Load the scenario and publish Ready; on failure publish Failed and wait for commands."""
        self.generation += 0 if first else 1
        self.finished = self.failed = False
        self.overrides.clear()
        self.incidents.clear()
        self.last_states = []
        self.jump_target = None
        self.steps_to_go = 0
        try:
            self.scenario = resolve_scenario(self.config.scenario)
            self.last_time_s = self.scenario.begin_s
            self._open(self.scenario)
        except TrafficAIError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:  # an unexpected bug must still reach the operator
            traceback.print_exc()
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        if first and self.config.start_at_s is not None:
            self.jump_target = self.config.start_at_s

    def _open(self, scenario: Scenario) -> None:
        cfg = self.config
        self.workdir = Path(tempfile.mkdtemp(prefix="trafficai-gui-"))
        warnings = self.workdir / "sumo-messages.log"
        self.warnings_offset = 0
        options = SumoOptions(
            seed=cfg.seed,
            time_to_teleport=cfg.time_to_teleport,
            demand_scale=self.demand,
            tripinfo_path=self.workdir / "tripinfo.xml",
            extra=("--error-log", str(warnings), *cfg.sumo_extra),
        )
        # no vehicle subscriptions: frames read vehicles directly (no cost on the steps between)
        backend = open_backend(scenario, options, vehicles=False)
        self.backend = backend
        self.tracking = self.frames
        loop = ControlLoop(backend, cfg.safety, cfg.decision_interval_s)
        self.loop = loop
        controller = self.controller or scenario.default_controller
        self.controller = controller
        try:
            loop.assign(make_controller(controller))
        except TrafficAIError as exc:
            self._event("warning", "controller", f"controller '{controller}' not applied: {exc}")
        for name, signals in self.assignments:
            try:
                loop.assign(make_controller(name), signals)
            except TrafficAIError as exc:
                self._event(
                    "warning", "controller", f"controller '{name}' not applied to {', '.join(signals)}: {exc}"
                )
        self._open_run(scenario, controller)
        self.kpi_steps = max(1, steps_for(cfg.kpi_interval_s, backend.step_length_s))
        self.last_kpi_arrived = 0
        self.last_kpi_time = backend.time_s
        self.arrivals.clear()
        self.running_vehicles = 0
        self._reanchor()
        self.rate.reset()
        geometry = backend.geometry
        greens = {s.id: loop.safety.greens(s.id) for s in geometry.signals}
        controllable = tuple(s.id for s in geometry.signals if loop.safety.controllable(s.id))
        cameras = tuple(CameraView(c.id, c.junction, c.x, c.y, c.heading, c.fov) for c in scenario.cameras)
        self._publish(
            Ready(
                generation=self.generation,
                scenario=scenario.name,
                source=str(scenario.source),
                description=scenario.description,
                geometry=geometry,
                cameras=cameras,
                greens=greens,
                controllable=controllable,
                controllers=controller_names(),
                controller=controller,
                run_id=self.run_id,
                begin_s=scenario.begin_s,
                end_s=backend.time_s + backend.end_step * backend.step_length_s,
                step_length_s=backend.step_length_s,
                demand_scale=self.demand,
            )
        )
        self._event("info", "run", f"simulation of {scenario.name} started (controller {controller})")
        for warning in list(getattr(backend, "load_warnings", []))[:MAX_WARNINGS_PER_READ]:
            self._event("warning", "sumo", str(warning))
        self._track_signals()
        self._publish_incidents()
        self.frame_dirty = True

    def _open_run(self, scenario: Scenario, controller: str) -> None:
        assert self.backend is not None
        cfg = self.config
        self.run_id = ""
        self.store = None
        if cfg.record:
            try:
                self.store = RunStore(Path(cfg.store_path) if cfg.store_path else None)
                run_config = RunConfig(
                    scenario=str(scenario.source),
                    controller=controller,
                    decision_interval_s=cfg.decision_interval_s,
                    bin_s=cfg.bin_s,
                    sim=SimConfig(
                        seed=cfg.seed, time_to_teleport=cfg.time_to_teleport, demand_scale=self.demand
                    ),
                    safety=cfg.safety,
                )
                config = resolved_config(run_config, scenario, controller)
                config["source"] = "gui"
                self.run_id = self.store.create_run(scenario.name, controller, cfg.seed, config)
            except (StoreError, TrafficAIError, ValueError) as exc:
                self.store = None
                self._event("warning", "store", f"this run is not recorded: {exc}")
        self.recorder = BinRecorder(self.backend, self.store, self.run_id, cfg.bin_s)

    def _end_simulation(self, status: str) -> dict[str, float]:
        """Close the backend and the run record (``status``: completed | interrupted | failed)."""
        backend, recorder = self.backend, self.recorder
        kpis: dict[str, float] = {}
        self.backend = None
        self.loop = None
        if backend is not None:
            try:
                final = backend.snapshot(vehicles=False)
                if recorder is not None:
                    recorder.sample(final)
                    recorder.maybe_close(final, force=True)
                trips = backend.finish()
                queue_stats = recorder.queue.stats() if recorder is not None else None
                if queue_stats is not None:
                    kpis = run_kpis(trips, queue_stats, final.counters.teleports_total)
            except Exception as exc:  # SUMO may be broken already; the record still gets closed
                self._event("warning", "run", f"final KPIs not available: {exc}")
                status = "failed" if status == "failed" else status
            finally:
                backend.close()
        self._drain_safety_events()
        self._flush(force=True)
        if self.store is not None and self.run_id:
            try:
                self.store.finish_run(self.run_id, kpis, status)
            except StoreError as exc:
                self._event("warning", "store", str(exc))
            self.store.close()
        self.store = None
        self.recorder = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        return kpis

    def _fail(self, message: str) -> None:
        self.failed = True
        self.playing = False
        if self.store is not None and self.run_id:
            with contextlib.suppress(StoreError):
                self.store.add_event(self.run_id, self._time(), "alarm", "run", message)
        self._end_simulation("failed")
        self._publish(Failed(message, self.config.scenario))

    def _finish(self) -> None:
        assert self.backend is not None
        time_s = self.backend.time_s
        self._event("info", "run", f"end of the scenario reached at t={time_s:g}s")
        kpis = self._end_simulation("completed")
        self.finished = True
        self.playing = False
        self.jump_target = None
        self._publish(Finished(self.generation, time_s, self.run_id, kpis))

    def _restart(self) -> None:
        self._end_simulation("interrupted")
        self._start()

    # -- the loop -----------------------------------------------------------------------------

    def _running(self) -> bool:
        return self.backend is not None and (
            self.playing or self.jump_target is not None or self.steps_to_go > 0
        )

    def _idle_wait(self, now: float) -> float:
        if not self._running():
            return IDLE_WAIT_S
        if self.jump_target is not None or self.steps_to_go > 0 or self.speed is None:
            return 0.0
        return min(self._pace_wait(now), IDLE_WAIT_S)

    def _pace_wait(self, now: float) -> float:
        assert self.backend is not None
        if self.speed is None:
            return 0.0
        target = (
            self.anchor_wall
            + (self.backend.time_s + self.backend.step_length_s - self.anchor_sim) / self.speed
        )
        wait = target - now
        if wait < -0.25:  # cannot keep up: run on from here instead of catching up in a burst
            self._reanchor()
            return 0.0
        return max(0.0, wait)

    def _reanchor(self) -> None:
        self.anchor_wall = time.perf_counter()
        self.anchor_sim = self.backend.time_s if self.backend is not None else 0.0

    def _may_step(self, now: float) -> bool:
        if not self._running():
            return False
        if self.jump_target is not None or self.steps_to_go > 0:
            return True
        return self._pace_wait(now) <= 0.0

    def _advance_once(self) -> None:
        backend, loop = self.backend, self.loop
        assert backend is not None and loop is not None
        try:
            kpi_due = backend.step % self.kpi_steps == 0
            snapshot = loop.step(want_snapshot=kpi_due, vehicles=False)
            self.steps_total += 1
            if kpi_due and snapshot is not None:
                self._kpi(snapshot)
            self._drain_safety_events()
            if self.tracking:
                self._track_signals()
            self._expire(backend.time_s)
        except TrafficAIError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:
            traceback.print_exc()
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        if self.steps_to_go > 0:
            self.steps_to_go -= 1
            if self.steps_to_go == 0:
                self.frame_dirty = True
        if self.jump_target is not None and backend.time_s >= self.jump_target - 1e-9:
            self._end_jump()
        if backend.step >= backend.end_step:
            self._finish()

    def _after_iteration(self) -> None:
        now = time.perf_counter()
        if self.backend is not None:
            self.rate.add(now, self.backend.time_s, self.steps_total)
        if self._frame_due(now):
            self._send_frame(now)
        if now - self.last_progress >= PROGRESS_EVERY_S:
            self._progress(now)
        if now - self.last_warnings >= WARNINGS_EVERY_S:
            self.last_warnings = now
            self._read_sumo_messages()
            if os.getppid() != self.parent_pid:  # the client died without a word: do not linger
                self.stopping = True
        if now - self.last_flush >= FLUSH_EVERY_S:
            self._flush()

    def _frame_due(self, now: float) -> bool:
        backend = self.backend
        if backend is None or not self.frames or not self.tracking or self.jump_target is not None:
            return False
        if self.seq - self._acked() >= MAX_UNACKED_FRAMES:
            return False  # the client has not taken the last ones: never queue more
        if self.frame_dirty:
            return True
        if backend.step == self.last_frame_step or now - self.last_frame_wall < 1.0 / self.config.max_fps:
            return False
        budget = min(max(self.config.frame_budget, 0.01), 1.0)
        return now - self.last_frame_end >= self.frame_cost * (1.0 - budget) / budget

    def _send_frame(self, now: float) -> None:
        backend, loop = self.backend, self.loop
        assert backend is not None and loop is not None
        try:
            snapshot = backend.snapshot(vehicles=False)
            vehicles, types = backend.vehicle_state()
            snapshot = replace(snapshot, vehicles=vehicles, vehicle_types=types)
            views = self._signal_views(backend.time_s)
        except TrafficAIError as exc:
            self._fail(str(exc))
            return
        self._flush(force=True)  # events and signal changes before the frame that shows them
        rtf, steps_per_s = self.rate.rates()
        self.seq += 1
        self._publish(
            Frame(self.generation, self.seq, snapshot, views, self.playing, self.speed, rtf, steps_per_s)
        )
        end = time.perf_counter()
        cost = end - now
        self.frame_cost = cost if self.frame_cost == 0.0 else 0.8 * self.frame_cost + 0.2 * cost
        self.last_frame_wall = now
        self.last_frame_end = end
        self.last_frame_step = backend.step
        self.frame_dirty = False

    def _progress(self, now: float) -> None:
        self.last_progress = now
        rtf, steps_per_s = self.rate.rates()
        backend = self.backend
        self._publish(
            Progress(
                generation=self.generation,
                step=backend.step if backend is not None else 0,
                time_s=self._time(),
                running=self.running_vehicles,
                playing=self.playing,
                speed=self.speed,
                rtf=rtf if self._running() else 0.0,
                steps_per_s=steps_per_s if self._running() else 0.0,
                steps_total=self.steps_total,
                wall_s=now,
                busy="jump" if self.jump_target is not None else "",
                frames=self.frames,
            )
        )

    def _time(self) -> float:
        if self.backend is not None:
            self.last_time_s = self.backend.time_s
        return self.last_time_s

    def _flush(self, force: bool = False) -> None:
        self.last_flush = time.perf_counter()
        if self.pending_changes:
            self._publish(SignalChanges(self.generation, tuple(self.pending_changes)))
            self.pending_changes = []
        if self.pending_events:
            events = tuple(self.pending_events)
            self.pending_events = []
            if self.store is not None and self.run_id:
                try:
                    for e in events:
                        self.store.add_event(self.run_id, e.time_s, e.severity, e.kind, e.message, e.user)
                except StoreError as exc:
                    self.store = None
                    events += (Event(self._time(), "warning", "store", f"recording stopped: {exc}"),)
            self._publish(Events(self.generation, events))

    # -- state read each step -------------------------------------------------------------------

    def _kpi(self, snapshot: Snapshot) -> None:
        assert self.backend is not None and self.recorder is not None
        try:
            self.recorder.sample(snapshot)
            self.recorder.maybe_close(snapshot)
        except StoreError as exc:
            self.recorder.store = None
            self.store = None
            self._event("warning", "store", f"recording stopped: {exc}")
        network = network_sample(snapshot)
        counters = snapshot.counters
        arrived = counters.arrived_total - self.last_kpi_arrived
        # throughput over the last minute (arrivals in one 5-s sample are too few to read)
        self.arrivals.append((snapshot.time_s, counters.arrived_total))
        while len(self.arrivals) > 2 and snapshot.time_s - self.arrivals[1][0] >= THROUGHPUT_WINDOW_S:
            self.arrivals.popleft()
        elapsed = snapshot.time_s - self.arrivals[0][0]
        window_arrived = counters.arrived_total - self.arrivals[0][1]
        network["arrived"] = float(arrived)
        network["throughput_veh_h"] = window_arrived * 3600.0 / elapsed if elapsed > 0 else 0.0
        self.last_kpi_arrived = counters.arrived_total
        self.last_kpi_time = snapshot.time_s
        self.running_vehicles = counters.running
        signals = signal_samples(snapshot, self.backend.geometry)
        self._publish(KpiSample(self.generation, snapshot.time_s, network, signals))

    def _track_signals(self) -> None:
        backend = self.backend
        if backend is None:
            return
        time_s = backend.time_s
        ids = [s.id for s in backend.geometry.signals]
        if len(self.last_states) != len(ids):
            self.last_states = [""] * len(ids)
        for i, signal_id in enumerate(ids):
            state = backend.signal_state(signal_id)
            if state != self.last_states[i]:
                self.last_states[i] = state
                self.pending_changes.append((i, time_s, state))

    def _signal_views(self, time_s: float) -> tuple[SignalView, ...]:
        assert self.backend is not None and self.loop is not None
        views = []
        for info in self.backend.geometry.signals:
            status = self.loop.safety.status(info.id)
            override = self.overrides.get(info.id)
            views.append(
                SignalView(
                    signal_id=info.id,
                    controller=self.loop.controller_of(info.id),
                    controlled=status.controlled,
                    current_green=status.current_green,
                    n_greens=status.n_greens,
                    stage=status.stage,
                    time_in_stage_s=status.time_in_stage_s,
                    override=override.action if override else "",
                    override_left_s=max(0.0, override.until_s - time_s) if override else 0.0,
                    override_reason=override.reason if override else "",
                    override_user=override.user if override else "",
                )
            )
        return tuple(views)

    def _drain_safety_events(self) -> None:
        loop = self.loop
        if loop is None or not loop.safety.events:
            return
        for event in loop.safety.events:
            if event.kind == "override":
                continue  # the worker logs overrides itself, with user and reason
            self.pending_events.append(event)
        loop.safety.events.clear()

    def _expire(self, time_s: float) -> None:
        for signal_id, override in list(self.overrides.items()):
            if time_s >= override.until_s - 1e-9:
                del self.overrides[signal_id]
                self._release(signal_id)
                self._event(
                    "info", "override", f"{override.action} on {signal_id} expired", signal_id, "system"
                )
                self.frame_dirty = True
        for incident in list(self.incidents.values()):
            if incident.until_s is not None and time_s >= incident.until_s:
                del self.incidents[incident.id]
                self._event(
                    "info",
                    "incident",
                    f"{incident.id}: stopped vehicle on {incident.target} left",
                    incident.target,
                )
                self._publish_incidents()

    def _release(self, signal_id: str) -> None:
        """End an override; a signal whose controller runs a SUMO program goes back to it."""
        loop = self.loop
        assert loop is not None
        loop.safety.clear_override(signal_id)
        program = "original"
        for assignment in loop.assignments:
            if signal_id in assignment.signals:
                if assignment.controller.program is None:
                    return  # the controller's requests apply again
                program = assignment.controller.program
        if loop.safety.is_controlled(signal_id):
            loop.safety.delegate([signal_id], program)

    def _read_sumo_messages(self) -> None:
        """SUMO's warnings and errors (its --error-log) become events, a limited number per read."""
        if self.workdir is None:
            return
        path = self.workdir / "sumo-messages.log"
        try:
            with path.open("rb") as fh:
                fh.seek(self.warnings_offset)
                data = fh.read(256 * 1024)
        except OSError:
            return
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            return
        self.warnings_offset += cut
        lines = [line.strip() for line in data[:cut].decode("utf-8", "replace").splitlines() if line.strip()]
        for line in lines[:MAX_WARNINGS_PER_READ]:
            severity = "alarm" if line.startswith("Error") else "warning"
            self._event(severity, "sumo", line.removeprefix("Warning: ").removeprefix("Error: "))
        if len(lines) > MAX_WARNINGS_PER_READ:
            self._event(
                "warning", "sumo", f"{len(lines) - MAX_WARNINGS_PER_READ} more SUMO messages not shown"
            )

    def _set_tracking(self, on: bool) -> None:
        """Follow signal states step by step (for frames and the phase timeline) or not (headless)."""
        self.tracking = on
        if on:
            self.last_states = []  # re-read every signal's state now

    def _end_jump(self) -> None:
        self.jump_target = None
        self._reanchor()
        self._set_tracking(self.frames)
        if self.tracking:
            self._track_signals()
        self.frame_dirty = True

    def _event(self, severity: str, kind: str, message: str, object_id: str = "", user: str = "") -> None:
        self.pending_events.append(Event(self._time(), severity, kind, message, object_id, user))

    def _publish_incidents(self) -> None:
        self._publish(Incidents(self.generation, tuple(self.incidents.values())))

    # -- commands -----------------------------------------------------------------------------

    def _commands(self, inbox: Any, wait: float) -> None:
        try:
            command = inbox.get(timeout=wait) if wait > 0 else inbox.get_nowait()
        except queue.Empty:
            return
        except (EOFError, OSError):  # the client is gone
            self.stopping = True
            return
        while True:
            self._apply(command)
            if self.stopping:
                return
            try:
                command = inbox.get_nowait()
            except queue.Empty:
                return
            except (EOFError, OSError):
                self.stopping = True
                return

    def _apply(self, command: Command) -> None:
        if isinstance(command, Shutdown):
            self.stopping = True
            return
        try:
            self._dispatch(command)
        except TrafficAIError as exc:
            self._refuse(command, str(exc))
        except Exception as exc:  # a bug in handling one command must not end the simulation
            traceback.print_exc()
            self._refuse(command, f"{type(exc).__name__}: {exc}")
        self._flush(force=True)

    def _refuse(self, command: Command, message: str) -> None:
        user = getattr(command, "user", "")
        self._event(
            "warning",
            "refused",
            f"{describe(command)} refused: {message}",
            getattr(command, "signal_id", ""),
            user,
        )
        self._publish(Refused(describe(command), message))

    def _need_sim(self) -> tuple[SimBackend, ControlLoop]:
        if self.backend is None or self.loop is None:
            state = "has ended" if self.finished else "is not running"
            raise TrafficAIError(f"the simulation {state}; restart it first")
        return self.backend, self.loop

    def _dispatch(self, command: Command) -> None:
        if isinstance(command, Play):
            self._need_sim()
            self.playing = True
            self._reanchor()
            self.rate.reset()
        elif isinstance(command, Pause):
            self.playing = False
            self.jump_target = None
            self.steps_to_go = 0
            self.frame_dirty = True
        elif isinstance(command, Step):
            self._need_sim()
            if command.count < 1:
                raise TrafficAIError("step count must be at least 1")
            self.playing = False
            self.steps_to_go += command.count
        elif isinstance(command, SetSpeed):
            if command.factor is not None and not (math.isfinite(command.factor) and command.factor > 0):
                raise TrafficAIError(f"speed must be a positive real-time factor, got {command.factor}")
            self.speed = command.factor
            self._reanchor()
        elif isinstance(command, Restart):
            self._restart()
        elif isinstance(command, Jump):
            self._jump(command)
        elif isinstance(command, SetController):
            self._set_controller(command)
        elif isinstance(command, DemandScale):
            backend, _ = self._need_sim()
            if not (math.isfinite(command.factor) and 0 < command.factor <= 20):
                raise TrafficAIError(f"demand scale must be in (0, 20], got {command.factor}")
            backend.set_demand_scale(command.factor)
            self.demand = command.factor
            self._event("info", "demand", f"demand scaled to {command.factor:g}x", user=command.user)
        elif isinstance(command, Override):
            self._override(command)
        elif isinstance(command, ClearOverride):
            _, loop = self._need_sim()
            if command.signal_id not in loop.safety.signal_ids:
                raise TrafficAIError(f"unknown signal {command.signal_id!r}")
            if self.overrides.pop(command.signal_id, None) is None:
                raise TrafficAIError(f"signal {command.signal_id} has no override to clear")
            self._release(command.signal_id)
            self._event(
                "info",
                "override",
                f"override on {command.signal_id} cleared",
                command.signal_id,
                command.user,
            )
            self.frame_dirty = True
        elif isinstance(
            command, CloseLane | CloseEdge | OpenLane | BlockLane | RouteDemand | ClearIncident | RestoreAll
        ):
            self._incident(command)
        elif isinstance(command, SetFrames):
            self.frames = command.enabled
            if self.jump_target is None:
                self._set_tracking(command.enabled)
            self.frame_dirty = command.enabled
        else:
            raise TrafficAIError(f"unknown command {describe(command)}")

    def _jump(self, command: Jump) -> None:
        if not math.isfinite(command.time_s):
            raise TrafficAIError(f"cannot jump to t={command.time_s}")
        if self.backend is None or command.time_s < self.backend.time_s:
            self._event(
                "info", "run", f"jump back to t={command.time_s:g}s: the scenario restarts", user=command.user
            )
            self._restart()
            if self.backend is None:
                return
        backend = self.backend
        end = backend.time_s + (backend.end_step - backend.step) * backend.step_length_s
        target = min(command.time_s, end)
        if target <= backend.time_s:
            self.frame_dirty = True
            return
        self.jump_target = target
        self._set_tracking(False)  # nothing read per step while jumping: headless speed

    def _set_controller(self, command: SetController) -> None:
        _, loop = self._need_sim()
        controller = make_controller(command.name)
        signals = tuple(command.signals)
        loop.assign(controller, signals or None)
        where = ", ".join(signals) if signals else "all signals"
        if signals:
            self.assignments = [(n, tuple(s for s in sig if s not in signals)) for n, sig in self.assignments]
            self.assignments = [(n, sig) for n, sig in self.assignments if sig] + [(command.name, signals)]
        else:
            self.controller = command.name
            self.assignments = []
        for signal_id in list(self.overrides):
            if not signals or signal_id in signals:
                self.overrides.pop(signal_id)
                loop.safety.clear_override(signal_id)
        self._event("info", "controller", f"controller {command.name} now runs {where}", user=command.user)
        self.frame_dirty = True

    def _override(self, command: Override) -> None:
        backend, loop = self._need_sim()
        signal_id = command.signal_id
        if signal_id not in loop.safety.signal_ids:
            raise TrafficAIError(f"unknown signal {signal_id!r}")
        if not command.reason.strip():
            raise TrafficAIError("an override needs a reason")
        if command.action not in OVERRIDE_ACTIONS:
            raise TrafficAIError(f"unknown override {command.action!r} (hold, force, flash)")
        if not (math.isfinite(command.duration_s) and 0 < command.duration_s <= MAX_OVERRIDE_S):
            raise TrafficAIError(
                f"override duration must be in (0, {MAX_OVERRIDE_S:g}] s, got {command.duration_s:g}"
            )
        greens = loop.safety.greens(signal_id)
        if command.green is not None:
            if command.action != "force":
                raise TrafficAIError("a green stage can only be given with 'force'")
            if not 0 <= command.green < len(greens):
                raise TrafficAIError(
                    f"signal {signal_id} has no green stage {command.green}"
                    f" (it has {len(greens)}: 0..{len(greens) - 1})"
                )
        loop.safety.override(signal_id, command.action, command.duration_s, command.green)
        until = backend.time_s + command.duration_s
        self.overrides[signal_id] = _OverrideState(
            command.action, until, command.reason.strip(), command.user
        )
        what = command.action if command.green is None else f"force to green stage {command.green}"
        severity = "warning" if command.action == "flash" else "info"
        self._event(
            severity,
            "override",
            f"{what} on {signal_id} for {command.duration_s:g} s: {command.reason.strip()}",
            signal_id,
            command.user,
        )
        self.frame_dirty = True

    def _incident(
        self,
        command: CloseLane | CloseEdge | OpenLane | BlockLane | RouteDemand | ClearIncident | RestoreAll,
    ) -> None:
        backend, _ = self._need_sim()
        lanes = backend.geometry.lanes
        time_s = backend.time_s
        if isinstance(command, CloseLane | CloseEdge):
            targets: tuple[str, ...]
            if isinstance(command, CloseLane):
                targets = (command.lane_id,)
                kind, target = "lane closed", command.lane_id
            else:
                targets = tuple(
                    lane for lane, edge in zip(lanes.ids, lanes.edges, strict=True) if edge == command.edge_id
                )
                if not targets:
                    raise TrafficAIError(f"unknown edge {command.edge_id!r}")
                kind, target = "edge closed", command.edge_id
            for lane in targets:
                backend.set_lane_closed(lane, True)
            incident = self._new_incident(kind, target, targets, time_s, command.user, command.reason)
            self._event("warning", "incident", f"{incident.id}: {kind} {target}", target, command.user)
        elif isinstance(command, BlockLane):
            if not (math.isfinite(command.duration_s) and command.duration_s > 0):
                raise TrafficAIError(f"block duration must be positive, got {command.duration_s:g}")
            vehicle = backend.add_stopped_vehicle(command.lane_id, command.position_m, command.duration_s)
            incident = self._new_incident(
                "lane blocked",
                command.lane_id,
                (command.lane_id,),
                time_s,
                command.user,
                command.reason,
                until_s=time_s + command.duration_s,
                position_m=command.position_m,
                vehicle=vehicle,
            )
            self._event(
                "warning",
                "incident",
                f"{incident.id}: lane {command.lane_id} blocked at {command.position_m:.0f} m"
                f" for {command.duration_s:g} s",
                command.lane_id,
                command.user,
            )
        elif isinstance(command, RouteDemand):
            self._route_demand(command)
        elif isinstance(command, OpenLane):
            if command.lane_id not in lanes.index():
                raise TrafficAIError(f"unknown lane {command.lane_id!r}")
            backend.set_lane_closed(command.lane_id, False)
            for incident in list(self.incidents.values()):
                if incident.closes_lanes and command.lane_id in incident.lanes:
                    rest = tuple(lane for lane in incident.lanes if lane != command.lane_id)
                    if rest:
                        self.incidents[incident.id] = IncidentView(
                            incident.id,
                            incident.kind,
                            incident.target,
                            rest,
                            incident.since_s,
                            user=incident.user,
                            reason=incident.reason,
                        )
                    else:
                        del self.incidents[incident.id]
            self._event("info", "incident", f"lane {command.lane_id} reopened", command.lane_id, command.user)
        elif isinstance(command, ClearIncident):
            found = self.incidents.get(command.incident_id)
            if found is None:
                raise TrafficAIError(f"no incident {command.incident_id!r}")
            self._clear(found, command.user)
        else:
            for incident in list(self.incidents.values()):
                self._clear(incident, command.user)
            if self.demand != self.config.demand_scale:
                backend.set_demand_scale(self.config.demand_scale)
                self.demand = self.config.demand_scale
                self._event("info", "demand", f"demand back to {self.demand:g}x", user=command.user)
        self._publish_incidents()
        self.frame_dirty = True

    def _route_demand(self, command: RouteDemand) -> None:
        """Scale the demand on the routes through an edge (one incident per edge: setting it again
        changes its factor)."""
        backend, _ = self._need_sim()
        edge, factor = command.edge_id, command.factor
        backend.set_route_demand(edge, factor)  # refuses an unknown edge or a factor out of range
        lanes = backend.geometry.lanes
        edge_lanes = tuple(lane for lane, e in zip(lanes.ids, lanes.edges, strict=True) if e == edge)
        reason = command.reason.strip()
        previous = next(
            (i for i in self.incidents.values() if i.demand_factor is not None and i.target == edge), None
        )
        if previous is not None:
            incident = replace(
                previous, since_s=backend.time_s, user=command.user, reason=reason, demand_factor=factor
            )
            self.incidents[incident.id] = incident
            was = f" (was {previous.demand_factor:g}x)"
        else:
            incident = self._new_incident(
                "route demand", edge, edge_lanes, backend.time_s, command.user, reason, demand_factor=factor
            )
            was = ""
        why = f": {reason}" if reason else ""
        self._event(
            "warning",
            "incident",
            f"{incident.id}: demand on routes through {edge} scaled to {factor:g}x{was}{why}",
            edge,
            command.user,
        )

    def _new_incident(
        self,
        kind: str,
        target: str,
        lanes: tuple[str, ...],
        since: float,
        user: str,
        reason: str,
        until_s: float | None = None,
        position_m: float = 0.0,
        vehicle: str = "",
        demand_factor: float | None = None,
    ) -> IncidentView:
        self.incident_counter += 1
        incident = IncidentView(
            f"INC-{self.incident_counter}",
            kind,
            target,
            lanes,
            since,
            until_s,
            position_m,
            user,
            reason,
            vehicle,
            demand_factor,
        )
        self.incidents[incident.id] = incident
        return incident

    def _clear(self, incident: IncidentView, user: str) -> None:
        backend, _ = self._need_sim()
        if incident.vehicle:
            with contextlib.suppress(TrafficAIError):  # it may have left already
                backend.remove_vehicle(incident.vehicle)
        elif incident.demand_factor is not None:
            backend.clear_route_demand(incident.target)
        else:
            still_closed = {
                lane
                for other in self.incidents.values()
                if other.id != incident.id and other.closes_lanes
                for lane in other.lanes
            }
            for lane in incident.lanes:
                if lane not in still_closed:
                    backend.set_lane_closed(lane, False)
        self.incidents.pop(incident.id, None)
        what = f"{incident.kind} {incident.target}"
        if incident.demand_factor is not None:
            what = f"route demand {incident.demand_factor:g}x through {incident.target}"
        self._event(
            "info",
            "incident",
            f"{incident.id}: {what} cleared",
            incident.target,
            user,
        )


# -- the process -------------------------------------------------------------------------------------


class MessageStream:
    """Worker side of the message stream: a pipe of length-prefixed pickles.

    The simulation thread only pickles and enqueues; a writer thread does the (blocking) writes,
    each message in one ``os.write``. ``multiprocessing.Queue`` writes a large message's header
    and body separately and needs the GIL in between, which libsumo holds for a whole step: the
    client's read would block on a half-written frame for tens of milliseconds.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.fd = conn.fileno()
        _grow_pipe(self.fd)
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="messages", daemon=True)
        self._thread.start()
        self.broken = False

    def put(self, message: Message) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        seq = message.seq if isinstance(message, Frame) else 0
        self._queue.put(
            HEADER.pack(len(data), KIND_FRAME if isinstance(message, Frame) else KIND_MESSAGE, seq) + data
        )

    def _write(self) -> None:
        while True:
            buf = self._queue.get()
            if buf is None:
                return
            view = memoryview(buf)
            try:
                while view:
                    view = view[os.write(self.fd, view) :]
            except OSError:  # the client is gone; nobody to tell
                self.broken = True
                return

    def close(self, timeout_s: float = 3.0) -> None:
        """Deliver what is queued, then close."""
        self._queue.put(None)
        self._thread.join(timeout_s)
        self.conn.close()


class MessageReader:
    """Client side of the message stream: non-blocking reads, whole messages only."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.fd = conn.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = bytearray()
        self.eof = False

    def read(self, max_bytes: int = 64 << 20) -> list[tuple[int, int, bytes]]:
        """Complete messages available now: (kind, frame seq, pickle)."""
        total = 0
        while not self.eof and total < max_bytes:
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                break
            except OSError:
                self.eof = True
                break
            if not chunk:
                self.eof = True
                break
            self.buffer += chunk
            total += len(chunk)
        out: list[tuple[int, int, bytes]] = []
        start = 0
        while len(self.buffer) - start >= HEADER.size:
            size, kind, seq = HEADER.unpack_from(self.buffer, start)
            end = start + HEADER.size + size
            if end > len(self.buffer):
                break
            out.append((kind, seq, bytes(self.buffer[start + HEADER.size : end])))
            start = end
        del self.buffer[:start]
        return out

    def close(self) -> None:
        self.conn.close()


def _grow_pipe(fd: int) -> None:
    """Room for two frames in the pipe (Linux), so writing one never waits for the reader."""
    try:
        import fcntl
    except ImportError:  # not on this platform: writes may then wait for the reader
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)


def worker_main(config: WorkerConfig, commands: Any, conn: Connection, acked: _Counter) -> None:
    """Entry point of the worker process."""
    signal_module.signal(signal_module.SIGINT, signal_module.SIG_IGN)  # the client decides when we stop
    with contextlib.suppress(OSError):
        os.dup2(2, 1)  # SUMO prints progress on stdout; keep the client's stdout clean (JSON output)
    if config.nice > 0 and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(config.nice)
    stream = MessageStream(conn)
    worker = SimWorker(config, stream.put, lambda: int(acked.value))
    try:
        worker.serve(commands)
    except BaseException as exc:
        traceback.print_exc()
        stream.put(Failed(f"the simulation worker stopped: {type(exc).__name__}: {exc}", config.scenario))
        raise
    finally:
        sys.stderr.flush()
        stream.close()


class WorkerHandle:
    """The client side of a worker process (no Qt): start, send, poll, supervise."""

    def __init__(self, config: WorkerConfig) -> None:
        ctx = mp.get_context("spawn")
        self.config = config
        self.commands: Any = ctx.Queue()
        reader, writer = ctx.Pipe(duplex=False)
        self._writer: Connection | None = writer
        self.reader = MessageReader(reader)
        self.acked: Any = ctx.RawValue("q", 0)
        self.process = ctx.Process(
            target=worker_main,
            args=(config, self.commands, writer, self.acked),
            name=f"trafficai-sim-{Path(config.scenario).name}",
            daemon=True,
        )
        self.closed = False
        self.frames_skipped = 0

    def start(self) -> None:
        self.process.start()
        if self._writer is not None:
            self._writer.close()  # the worker has its own copy; ours would hide the end of the stream
            self._writer = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def send(self, command: Command) -> None:
        if not self.closed:
            self.commands.put(command)

    def ack(self, seq: int) -> None:
        """Tell the worker the client has taken every frame up to ``seq``."""
        if seq > self.acked.value:
            self.acked.value = seq

    def poll(self) -> list[Message]:
        """Messages waiting now, in order; of several frames only the newest (the others are acknowledged
        unread: "latest wins")."""
        raw = self.reader.read()
        last_frame = max((i for i, (kind, _, _) in enumerate(raw) if kind == KIND_FRAME), default=-1)
        out: list[Message] = []
        for i, (kind, seq, data) in enumerate(raw):
            if kind == KIND_FRAME and i != last_frame:
                self.frames_skipped += 1
                self.ack(seq)
                continue
            message = pickle.loads(data)
            if isinstance(message, Closed):
                self.closed = True
            out.append(message)
        return out

    def alive(self) -> bool:
        return self.process.is_alive()

    def exit_description(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            try:
                name = signal_module.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"killed by {name}"
        return f"exit code {code}"

    def shutdown(self, timeout_s: float = 3.0) -> None:
        """Ask the worker to finish its run and exit; kill it if it does not within the timeout."""
        if self.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                self.commands.put(Shutdown())
            deadline = time.perf_counter() + timeout_s
            while self.process.is_alive() and time.perf_counter() < deadline:
                self.reader.read()  # drain, so the worker's writer can finish
                time.sleep(0.01)
            if self.process.is_alive():
                self.process.kill()
            self.process.join(1.0)
        self.closed = True
        self._release()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2.0)

    def _release(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.commands.cancel_join_thread()
            self.commands.close()
        with contextlib.suppress(OSError):
            self.reader.close()
