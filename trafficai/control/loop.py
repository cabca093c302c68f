"""The control loop: controllers decide on their cadence, the safety layer acts, SUMO steps.

A controller that raises, or does not answer within the deadline, is dropped and its signals fall
back to the net's own plan (an alarm event says so); the run goes on.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from trafficai.config import SafetyConfig
from trafficai.control.controller import Controller, build_context
from trafficai.control.safety import SafetyLayer, SignalStatus
from trafficai.core.signals import SafetySettings, is_switched_off, steps_for
from trafficai.core.snapshot import ALL_PARTS, Snapshot
from trafficai.errors import ControllerError
from trafficai.sensors.observation import LaneObserver
from trafficai.sim.backend import SimBackend


class DecisionThread:
    """Runs controller decisions on one long-lived daemon thread, with a deadline.

    A daemon thread, not an executor: a stalled controller must never keep the process alive.
    Long-lived, not one per call: starting a thread per decision costs about a millisecond.
    A call that misses its deadline abandons the thread; the next call starts a fresh one.
    """

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[Callable[[], Any]] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def _serve(
        self, requests: queue.SimpleQueue[Callable[[], Any]], results: queue.SimpleQueue[tuple[bool, Any]]
    ) -> None:
        while True:
            fn = requests.get()
            try:
                results.put((True, fn()))
            except BaseException as exc:  # reported to the caller, whatever it was
                results.put((False, exc))

    def call(self, fn: Callable[[], Any], deadline_s: float) -> Any:
        if self._thread is None:
            self._requests, self._results = queue.SimpleQueue(), queue.SimpleQueue()
            self._thread = threading.Thread(
                target=self._serve,
                args=(self._requests, self._results),
                daemon=True,
                name="controller-decide",
            )
            self._thread.start()
        self._requests.put(fn)
        try:
            ok, value = self._results.get(timeout=deadline_s)
        except queue.Empty:
            self._thread = None  # abandoned with the stalled call
            raise ControllerError(f"no answer within {deadline_s:g} s") from None
        if not ok:
            raise value
        return value


@dataclass(frozen=True, slots=True)
class Handover:
    """``controller`` took charge of ``signals`` (empty: every controllable one) at ``time_s``."""

    time_s: float
    controller: str
    signals: tuple[str, ...] = ()


@dataclass
class Assignment:
    controller: Controller
    signals: tuple[str, ...]
    interval_steps: int


def safety_settings(config: SafetyConfig) -> SafetySettings:
    return SafetySettings(config.min_green_s, config.max_green_s, config.yellow_s, config.all_red_s)


class ControlLoop:
    def __init__(
        self,
        backend: SimBackend,
        safety_config: SafetyConfig | None = None,
        decision_interval_s: float = 5.0,
        *,
        use_deadline: bool = True,
    ) -> None:
        self.backend = backend
        self.config = safety_config or SafetyConfig()
        self.decision_interval_s = decision_interval_s
        self.use_deadline = use_deadline
        self.safety = SafetyLayer(
            backend.geometry,
            backend,
            backend.step_length_s,
            safety_settings(self.config),
            read_state=backend.signal_state,
            begin_s=backend.scenario.begin_s,
        )
        self.assignments: list[Assignment] = []
        # every change of controller, in order, for the run record; the owner takes them away
        self.handovers: list[Handover] = []
        # what controllers observe: None is the simulator's own state; a sensor source (loops,
        # cameras) replaces the lane arrays of the snapshots controllers get, nothing else
        self.observer: LaneObserver | None = None
        self._decisions = DecisionThread()

    def controller_of(self, signal_id: str) -> str:
        for a in self.assignments:
            if signal_id in a.signals:
                return a.controller.name
        return "fixed"

    def assign(self, controller: Controller, signals: Sequence[str] | None = None) -> None:
        """Give ``signals`` (default: every controllable one) to ``controller``."""
        all_ids = self.safety.signal_ids
        wanted = tuple(signals) if signals else tuple(s for s in all_ids if self.safety.controllable(s))
        unknown = [s for s in wanted if s not in all_ids]
        if unknown:
            raise ControllerError(f"unknown signal(s): {', '.join(unknown)}")
        if not wanted:
            self._check_nothing_to_control(controller, signals)
            return  # every signal switched off and the net's own program asked for: it runs as is
        for a in self.assignments:
            a.signals = tuple(s for s in a.signals if s not in wanted)
        self.assignments = [a for a in self.assignments if a.signals]
        interval_s = controller.decision_interval_s or self.decision_interval_s
        interval = max(1, steps_for(interval_s, self.backend.step_length_s))
        controller.reset(
            build_context(
                self.backend.geometry, wanted, self.backend.step_length_s, interval_s, self.config.min_green_s
            )
        )
        if controller.program is not None:
            self.safety.delegate(wanted, controller.program)
        else:
            self.safety.take_control(wanted)
        self.assignments.append(Assignment(controller, wanted, interval))
        self.handovers.append(Handover(self.backend.time_s, controller.name, tuple(signals or ())))

    def _check_nothing_to_control(self, controller: Controller, signals: Sequence[str] | None) -> None:
        """No signal can be controlled. Where every signal is switched off (``--tls.all-off``) the
        net's own program, SUMO's "off" one, is what runs: ``fixed`` is that, anything else is
        refused. A net without signals has nothing to run a controller on at all."""
        infos = self.backend.geometry.signals
        switched_off = bool(infos) and all(is_switched_off(s.program) for s in infos)
        if switched_off and controller.program == "original" and not signals:
            return
        if switched_off:
            raise ControllerError(
                f"every signal is switched off (SUMO runs its \"off\" program, e.g. tls.all-off): nothing "
                f"for controller '{controller.name}' to control; only the net's own program runs "
                "(--controller fixed)"
            )
        raise ControllerError("the network has no controllable signals (none with two or more green stages)")

    def _due(self, step: int) -> list[Assignment]:
        return [a for a in self.assignments if a.controller.program is None and step % a.interval_steps == 0]

    def step(
        self, want_snapshot: bool = False, vehicles: bool = False, parts: frozenset[str] = ALL_PARTS
    ) -> Snapshot | None:
        """Decide (when due), apply through the safety layer, advance SUMO one step.

        Returns the snapshot taken before stepping, if one was taken: for a decision (with the parts
        the due controllers need) or because ``want_snapshot`` asked (with ``parts``).
        """
        due = self._due(self.backend.step)
        observer = self.observer
        every_step = observer is not None and observer.needs_vehicles
        snapshot = None
        if due or want_snapshot or every_step:
            wanted: frozenset[str] = parts if want_snapshot else frozenset()
            for assignment in due:
                wanted |= assignment.controller.needs
            if observer is not None and due:
                wanted |= observer.needs
            snapshot = self.backend.snapshot(vehicles=vehicles or every_step, parts=wanted)
        if snapshot is not None:
            if observer is not None:
                observer.observe(snapshot)
            seen = observer.sensed(snapshot) if observer is not None and due else snapshot
            for assignment in due:
                self._decide(assignment, seen)
        self.safety.before_step()
        self.backend.advance()
        return snapshot if due or want_snapshot else None

    def advance(self, steps: int) -> None:
        """``steps`` times :meth:`step` without asking for snapshots. With no controller assigned
        (an RL agent drives through safety requests) that is only the safety layer's step and
        SUMO's, so the per-step check for due controllers is left out."""
        if self.assignments:
            for _ in range(steps):
                self.step()
            return
        before_step, advance = self.safety.before_step, self.backend.advance
        for _ in range(steps):
            before_step()
            advance()

    def _decide(self, assignment: Assignment, snapshot: Snapshot) -> None:
        status: dict[str, SignalStatus] = {s: self.safety.status(s) for s in assignment.signals}
        controller = assignment.controller
        try:
            if self.use_deadline:
                wanted = self._decisions.call(
                    lambda: controller.decide(snapshot, status), self.config.controller_deadline_s
                )
            else:
                wanted = controller.decide(snapshot, status)
            for signal_id, green in (wanted or {}).items():
                if signal_id in assignment.signals:
                    self.safety.request(signal_id, int(green))
        except Exception as exc:
            self.assignments.remove(assignment)
            self.safety.fall_back(assignment.signals, f"controller '{controller.name}' failed: {exc}")
            everywhere = not self.assignments and all(
                s in assignment.signals for s in self.safety.signal_ids if self.safety.controllable(s)
            )
            # the net's own plan ("fixed", as controller_of names it) is in charge of them now
            signals = () if everywhere else assignment.signals
            self.handovers.append(Handover(self.backend.time_s, "fixed", signals))
