"""The live simulation: it owns SUMO, applies commands, publishes state (no Qt here).

:class:`SimWorker` runs inside the worker process (:mod:`trafficai.runtime.worker_process`):

* the run itself goes through :class:`~trafficai.runtime.lifecycle.RunLifecycle`, as a headless run
  does (recorded in the run store: config, KPI bins, events, final KPIs);
* commands go through one table (:mod:`trafficai.runtime.handlers`), one handler per command type;
* overrides and incidents are the operator's state (:mod:`trafficai.runtime.operator_state`);
* pacing and the frame budget are :mod:`trafficai.runtime.pacing`.

Frames (a snapshot with every vehicle, plus the signals' status) are flow-controlled and cost at
most the frame budget; everything else (events, KPI samples, signal state changes, incidents,
refusals) is always sent. Vehicles are read only for frames, so steps between frames and jumps
cost what a headless run costs.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from trafficai.control.loop import ControlLoop
from trafficai.core.events import Event
from trafficai.core.kpis import signal_samples
from trafficai.core.scenario import Scenario, resolve_scenario
from trafficai.core.snapshot import Snapshot
from trafficai.errors import TrafficAIError
from trafficai.runtime.audit_trail import AuditTrail
from trafficai.runtime.branch_runner import BranchRunner
from trafficai.runtime.command_intake import apply_command, take_commands
from trafficai.runtime.commands import Command
from trafficai.runtime.incident_schedule import IncidentSchedule
from trafficai.runtime.inspection import Inspection
from trafficai.runtime.lifecycle import RunLifecycle, SnapshotObserver
from trafficai.runtime.live_faults import LiveFaults
from trafficai.runtime.live_forecast import LiveForecaster
from trafficai.runtime.live_kpis import LiveKpis
from trafficai.runtime.messages import (
    Closed,
    DeviceStatus,
    Events,
    Failed,
    Finished,
    Incidents,
    KpiSample,
    Message,
    Progress,
    SignalChanges,
    SimFrame,
)
from trafficai.runtime.operator_state import OperatorState
from trafficai.runtime.pacing import FrameBudget, Pacer, Rate
from trafficai.runtime.resume import ResumePoints, clock
from trafficai.runtime.views import SignalTracker, signal_views
from trafficai.runtime.worker_config import WorkerConfig
from trafficai.runtime.worker_start import open_live_simulation
from trafficai.sim.backend import SimBackend
from trafficai.sim.state_files import SavedState

logger = logging.getLogger(__name__)

COMMAND_POLL_S = 0.005  # how often a running worker looks for commands
IDLE_WAIT_S = 0.05  # how long a paused worker blocks waiting for one
PROGRESS_EVERY_S = 0.2
FLUSH_EVERY_S = 0.05  # events and signal changes are batched this long at most
MESSAGES_EVERY_S = 0.5  # SUMO's mid-run messages are read this often
MAX_SUMO_MESSAGES = 20  # at most this many SUMO messages become events per read
DEVICES_EVERY_S = 1.0  # the device network's status is sent this often at most, when it changed


class SimWorker:
    """The simulation side. ``serve`` runs until a Shutdown command (or the inbox closes)."""

    def __init__(
        self,
        config: WorkerConfig,
        publish: Callable[[Message], None],
        acked: Callable[[], int],
        *,
        log_path: str = "",
        observers: tuple[SnapshotObserver, ...] = (),
    ) -> None:
        self.config = config
        self.publish = publish
        self._acked = acked
        self.log_path = log_path
        self.observers = observers
        self.generation = 0
        self.seq = 0
        self.steps_total = 0
        self.playing = config.playing
        self.frames = config.frames
        self.stopping = False
        self.finished = False
        self.failed = False
        self.pacer = Pacer(config.speed)
        self.rate = Rate()
        self.budget = FrameBudget(config.max_fps, config.frame_budget)
        self.life: RunLifecycle | None = None
        self.backend: SimBackend | None = None
        self.loop: ControlLoop | None = None
        # operator settings that survive a restart
        self.controller = config.run.controller
        self.assignments: list[tuple[str, tuple[str, ...]]] = []
        self.demand = config.run.sim.demand_scale
        # per simulation
        self.operator = OperatorState(self.event)
        self.jump_target: float | None = None
        self.steps_to_go = 0
        self.tracking = True
        self.signals = SignalTracker()
        self.pending_events: list[Event] = []
        self.kpis = LiveKpis()
        self.last_progress = 0.0
        self.last_flush = 0.0
        self.last_messages = 0.0
        self.parent_pid = os.getppid()
        self.last_time_s = 0.0
        self.inspection = Inspection()
        self.tracked_since_s = -float("inf")  # see SimFrame.tracked_since_s
        self.resume_points = ResumePoints(config.save_state_every_s)
        self.resumable: SavedState | None = None  # after a failure: the last state SUMO saved
        self.schedule: IncidentSchedule | None = None
        self.origin_s = 0.0  # the scenario's own begin (a resumed simulation begins later)
        self.audit = AuditTrail()  # operator actions and refusals, hash-chained (access/audit.py)
        self.last_devices = 0.0
        self.devices_sent: DeviceStatus | None = None
        self.branches = BranchRunner()  # what-if branches forked from the live run (ForkWhatIf)
        self.forecaster: LiveForecaster | None = None  # a trained forecast model of the scenario
        self.live_faults: LiveFaults | None = None  # faults injected from the GUI (per simulation)

    @property
    def speed(self) -> float | None:
        return self.pacer.speed

    # -- life cycle ---------------------------------------------------------------------------

    def serve(self, inbox: Any) -> None:
        self.start(first=True)
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
        self.end_simulation("interrupted")
        self.resume_points.close()
        self.flush()
        self.publish(Closed())

    def start(self, first: bool = False, resume: SavedState | None = None) -> None:
        """Load the scenario (``resume``: from a saved state) and publish Ready; on failure publish
        Failed and wait for commands."""
        self.generation += 0 if first else 1
        self.finished = self.failed = False
        self.operator.reset()
        self.signals.forget()
        self.jump_target = None
        self.steps_to_go = 0
        try:
            scenario = resolve_scenario(self.config.scenario)
            self.last_time_s = scenario.begin_s
            self._open(scenario, resume)
        except TrafficAIError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:  # an unexpected bug must still reach the operator
            logger.exception("the simulation of %s could not start", self.config.scenario)
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        if first and self.config.start_at_s is not None:
            self.jump_target = self.config.start_at_s

    def restart(self) -> None:
        self.end_simulation("interrupted")
        self.start()

    def resume(self, user: str = "") -> None:
        """Go on from the last state SUMO saved before the failure (a new run record)."""
        state = self.resumable
        if state is None:
            raise TrafficAIError("there is no saved state to resume from; restart instead")
        lost = ", ".join(f"{i.id} {i.kind} {i.target}" for i in self.operator.incidents.values())
        self.end_simulation("interrupted")
        self.start(resume=state)
        if self.backend is not None:
            note = f"; not restored: {lost}" if lost else ""
            self.event(
                "info", "run", f"resumed from the state saved at {clock(state.time_s)}{note}", user=user
            )

    def _open(self, scenario: Scenario, resume: SavedState | None = None) -> None:
        open_live_simulation(self, scenario, resume)

    def end_simulation(self, status: str) -> dict[str, float]:
        """Close the backend and the run record (``status``: completed | interrupted | failed)."""
        life = self.life
        kpis: dict[str, float] = {}
        self.backend = None
        self.loop = None
        self.live_faults = None
        if life is None:
            return kpis
        if life.sim is not None:
            try:
                kpis = life.final_kpis()
            except Exception as exc:  # SUMO may be broken already; the record still gets closed
                logger.warning("final KPIs not available", exc_info=True)
                self.event("warning", "run", f"final KPIs not available: {exc}")
            finally:
                life.close_simulation()
        self.pending_events += life.safety_events(skip_kinds=frozenset({"override"}))
        self.flush()
        self.pending_events += life.close_record(kpis, status)
        self.life = None
        return kpis

    def _fail(self, message: str) -> None:
        logger.error("simulation failed: %s", message)
        self.failed = True
        self.playing = False
        if self.life is not None:
            self.life.fail(message)
        self.end_simulation("failed")
        state = self.resume_points.latest(self.generation)
        # the state SUMO saves at the scenario's begin is no more than a restart
        self.resumable = state if state is not None and state.time_s > self.origin_s else None
        resume_s = self.resumable.time_s if self.resumable is not None else None
        self.publish(Failed(message, self.config.scenario, self.log_path, resume_s))

    def _finish(self) -> None:
        assert self.backend is not None
        time_s = self.backend.time_s
        self.event("info", "run", f"end of the scenario reached at t={time_s:g}s")
        run_id = self.life.run_id if self.life is not None else ""
        kpis = self.end_simulation("completed")
        self.finished = True
        self.playing = False
        self.jump_target = None
        self.publish(Finished(self.generation, time_s, run_id, kpis))

    def need_sim(self) -> tuple[SimBackend, ControlLoop]:
        if self.backend is None or self.loop is None:
            state = "has ended" if self.finished else "is not running"
            raise TrafficAIError(f"the simulation {state}; restart it first")
        return self.backend, self.loop

    # -- the loop -----------------------------------------------------------------------------

    def running(self) -> bool:
        return self.backend is not None and (
            self.playing or self.jump_target is not None or self.steps_to_go > 0
        )

    def _idle_wait(self, now: float) -> float:
        if not self.running():
            return IDLE_WAIT_S
        if self.jump_target is not None or self.steps_to_go > 0 or self.speed is None:
            return 0.0
        return min(self._pace_wait(now), IDLE_WAIT_S)

    def _pace_wait(self, now: float) -> float:
        assert self.backend is not None
        return self.pacer.wait(now, self.backend.time_s, self.backend.step_length_s)

    def reanchor(self) -> None:
        self.pacer.reanchor(self.backend.time_s if self.backend is not None else 0.0)

    def _may_step(self, now: float) -> bool:
        if not self.running():
            return False
        if self.jump_target is not None or self.steps_to_go > 0:
            return True
        return self._pace_wait(now) <= 0.0

    def _advance_once(self) -> None:
        backend, loop, life = self.backend, self.loop, self.life
        assert backend is not None and loop is not None and life is not None
        try:
            if self.schedule is not None and self.schedule.advance(backend):
                self.publish_incidents()
            snapshot, events = life.step()
            self.steps_total += 1
            if snapshot is not None:
                self.pending_events += events
                self._publish_kpis(snapshot, backend)
            self.pending_events += life.safety_events(skip_kinds=frozenset({"override"}))
            if self.tracking:
                self._track_signals()
            self._expire(loop, backend.time_s)
        except TrafficAIError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:
            logger.exception("the simulation step failed")
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        if self.steps_to_go > 0:
            self.steps_to_go -= 1
            if self.steps_to_go == 0:
                self.budget.dirty = True
        if self.jump_target is not None and backend.time_s >= self.jump_target - 1e-9:
            self._end_jump()
        if backend.step >= backend.end_step:
            self._finish()

    def _expire(self, loop: ControlLoop, time_s: float) -> None:
        if self.operator.report_expired(loop):
            self.budget.dirty = True
        if self.operator.expire_incidents(time_s):
            self.publish_incidents()
        if self.operator.incidents and self.backend is not None:
            self.operator.report_repairs(self.backend)

    def _after_iteration(self) -> None:
        now = time.perf_counter()
        if self.backend is not None:
            self.rate.add(now, self.backend.time_s, self.steps_total)
        if self._frame_due(now):
            self._send_frame(now)
        if self.branches.busy and (whatif := self.branches.take()) is not None:
            self.publish(whatif)
        if now - self.last_progress >= PROGRESS_EVERY_S:
            self._progress(now)
        if now - self.last_messages >= MESSAGES_EVERY_S:
            self.last_messages = now
            self._read_sumo_messages()
            if os.getppid() != self.parent_pid:  # the client died without a word: do not linger
                logger.warning("the client process is gone: stopping")
                self.stopping = True
        if now - self.last_flush >= FLUSH_EVERY_S:
            self.flush()
        if now - self.last_devices >= DEVICES_EVERY_S:
            self.last_devices = now
            self.publish_devices()

    def publish_devices(self) -> None:
        """The device network's status, when it changed since the last one sent."""
        devices = self.life.devices if self.life is not None else None
        if devices is None:
            return
        status = devices.view(self.generation)
        sent = self.devices_sent
        if sent is not None and replace(sent, time_s=status.time_s) == status:
            return
        self.devices_sent = status
        self.publish(status)

    # -- what is published --------------------------------------------------------------------

    def _frame_due(self, now: float) -> bool:
        backend = self.backend
        if backend is None or not self.frames or not self.tracking or self.jump_target is not None:
            return False
        return self.budget.due(now, backend.step, self.seq - self._acked())

    def _send_frame(self, now: float) -> None:
        backend, loop = self.backend, self.loop
        assert backend is not None and loop is not None
        try:
            snapshot = backend.snapshot(vehicles=False)
            vehicles, types = backend.vehicle_state()
            snapshot = replace(snapshot, vehicles=vehicles, vehicle_types=types)
            views = signal_views(backend, loop, self.operator)
            health = self.life.detector_health() if self.life is not None else {}
            substituted = self.life.substituted_loops() if self.life is not None else frozenset()
        except TrafficAIError as exc:
            self._fail(str(exc))
            return
        self.flush()  # events and signal changes before the frame that shows them
        rtf, steps_per_s = self.rate.rates()
        self.seq += 1
        self.publish(
            SimFrame(
                self.generation,
                self.seq,
                snapshot,
                views,
                self.playing,
                self.speed,
                rtf,
                steps_per_s,
                inspected=self.inspection.details(backend),
                tracked_since_s=self.tracked_since_s,
                detector_health=health,
                substituted=substituted,
            )
        )
        self.budget.sent(now, time.perf_counter(), backend.step)

    def _progress(self, now: float) -> None:
        self.last_progress = now
        rtf, steps_per_s = self.rate.rates()
        backend = self.backend
        self.publish(
            Progress(
                generation=self.generation,
                step=backend.step if backend is not None else 0,
                time_s=self.time_s(),
                running=self.kpis.running_vehicles,
                playing=self.playing,
                speed=self.speed,
                rtf=rtf if self.running() else 0.0,
                steps_per_s=steps_per_s if self.running() else 0.0,
                steps_total=self.steps_total,
                wall_s=now,
                busy="jump" if self.jump_target is not None else "",
                frames=self.frames,
            )
        )

    def time_s(self) -> float:
        if self.backend is not None:
            self.last_time_s = self.backend.time_s
        return self.last_time_s

    def flush(self) -> None:
        """Publish the signal changes and events gathered so far (events recorded in the run)."""
        self.last_flush = time.perf_counter()
        if self.signals.changes:
            self.publish(SignalChanges(self.generation, self.signals.take()))
        if self.pending_events:
            events = self.pending_events
            self.pending_events = []
            if self.life is not None:
                events = self.life.record_events(events)
            self.publish(Events(self.generation, tuple(events)))

    def _publish_kpis(self, snapshot: Snapshot, backend: SimBackend) -> None:
        network = self.kpis.network(snapshot)
        signals = signal_samples(snapshot, backend.geometry)
        self.publish(KpiSample(self.generation, snapshot.time_s, network, signals))
        update = self.forecaster.take_update() if self.forecaster is not None else None
        if update is not None:
            self.publish(update)

    def _track_signals(self) -> None:
        if self.backend is not None:
            self.signals.track(self.backend)

    def _read_sumo_messages(self) -> None:
        """SUMO's warnings and errors mid-run become events, a limited number per read."""
        if self.backend is None:
            return
        messages = self.backend.new_messages()
        for message in messages[:MAX_SUMO_MESSAGES]:
            self.event(message.severity, "sumo", message.text)
        if len(messages) > MAX_SUMO_MESSAGES:
            self.event("warning", "sumo", f"{len(messages) - MAX_SUMO_MESSAGES} more SUMO messages not shown")

    def set_tracking(self, on: bool) -> None:
        """Follow signal states step by step (for frames and the phase timeline) or not (headless)."""
        self.tracking = on
        if on:
            self.signals.forget()  # re-read every signal's state now
            self.tracked_since_s = self.time_s()

    def _end_jump(self) -> None:
        self.jump_target = None
        self.reanchor()
        self.set_tracking(self.frames)
        if self.tracking:
            self._track_signals()
        self.budget.dirty = True

    def event(self, severity: str, kind: str, message: str, object_id: str = "", user: str = "") -> None:
        self.pending_events.append(Event(self.time_s(), severity, kind, message, object_id, user))

    def publish_incidents(self) -> None:
        self.publish(Incidents(self.generation, tuple(self.operator.incidents.values())))

    # -- commands -----------------------------------------------------------------------------

    def _commands(self, inbox: Any, wait: float) -> None:
        take_commands(self, inbox, wait)

    def apply(self, command: Command) -> None:
        """Run the command's handler; a refusal (or a bug in one handler) is reported, never fatal."""
        apply_command(self, command)
