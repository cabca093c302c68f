"""The one safety layer: the only code that sets signal states.

Each signal is either *delegated* to one of its SUMO programs (the net's own plan, or an actuated
variant) or *controlled* through a :class:`SignalStateMachine`. Hand-overs happen only at green:
taking control waits until SUMO shows a green stage; handing back waits until clearance is done.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry, SignalInfo
from trafficai.core.signals import (
    Phase,
    SafetySettings,
    SignalProgram,
    SignalStateMachine,
    Stage,
    green_stages,
    is_green,
)
from trafficai.errors import SignalError
from trafficai.sim.backend import SignalActuator

ACTUATED_PROGRAM = "trafficai-actuated"
NEVER = 1 << 62
OVERRIDE_ACTIONS = ("hold", "force", "flash")
MAX_OVERRIDE_S = 24 * 3600.0


def override_label(action: str, green: int | None = None) -> str:
    """The override as the operator names it, stages numbered from 1 as shown: ``hold``,
    ``force next``, ``force stage 2``, ``flash``."""
    if action == "force":
        return "force next" if green is None else f"force stage {green + 1}"
    return action


@dataclass(frozen=True, slots=True)
class SignalStatus:
    """What a controller may know about a signal it drives."""

    signal_id: str
    controlled: bool
    current_green: int
    n_greens: int
    stage: str
    time_in_stage_s: float
    can_switch: bool


def actuated_variant(program: SignalProgram, settings: SafetySettings) -> SignalProgram:
    """SUMO gap-based actuation over the net's own phases; greens get min/max from the settings."""
    phases = []
    for p in program.phases:
        if is_green(p.state):
            low = p.min_dur if program.kind == "actuated" and p.min_dur > 0 else settings.min_green_s
            high = (
                p.max_dur
                if program.kind == "actuated" and p.max_dur > 0
                else max(low, 2.0 * p.duration, 30.0)
            )
            phases.append(Phase(p.state, max(p.duration, low), low, high))
        else:
            phases.append(Phase(p.state, p.duration, p.duration, p.duration))
    return SignalProgram(ACTUATED_PROGRAM, tuple(phases), "actuated")


@dataclass(slots=True)  # its fields are read for every signal at every active step
class _Signal:
    info: SignalInfo
    machine: SignalStateMachine | None = None
    program_id: str = ""  # SUMO program running while delegated
    want_control: bool = False
    hand_back_to: str | None = None  # program to return to once the current clearance ends
    applied: str = ""
    override_until_step: int | None = None
    resume_program: str | None = None  # delegated before an override: back to it on expiry
    last_tick: int = 0  # safety step the machine was last brought up to date
    wake_step: int = 0  # next safety step at which ticking can change something


@dataclass
class SafetyLayer:
    """Owns every signal of the network. ``before_step`` must run once before each SUMO step."""

    geometry: NetGeometry
    actuator: SignalActuator
    step_length_s: float
    settings: SafetySettings = field(default_factory=SafetySettings)
    read_state: Callable[[str], str] | None = None
    begin_s: float = 0.0
    events: list[Event] = field(default_factory=list)
    step: int = 0

    def __post_init__(self) -> None:
        self._signals = {
            info.id: _Signal(info, program_id=info.program.program_id) for info in self.geometry.signals
        }
        self._actuated_installed: set[str] = set()
        self._next_wake = 0  # no signal needs a tick before this step

    # -- queries ------------------------------------------------------------------------------

    @property
    def signal_ids(self) -> tuple[str, ...]:
        return tuple(self._signals)

    def controllable(self, signal_id: str) -> bool:
        return len(green_stages(self._get(signal_id).info.program)) > 1

    def greens(self, signal_id: str) -> tuple[str, ...]:
        return green_stages(self._get(signal_id).info.program)

    def is_controlled(self, signal_id: str) -> bool:
        return self._get(signal_id).machine is not None

    def _sync(self, sig: _Signal, wake: bool = False) -> None:
        """Bring an idle machine's clock up to now; ``wake`` makes the next step tick it."""
        if sig.machine is not None and sig.last_tick < self.step:
            sig.machine.skip(self.step - sig.last_tick)
            sig.last_tick = self.step
        if wake:
            sig.wake_step = 0
            self._next_wake = 0

    def status(self, signal_id: str) -> SignalStatus:
        sig = self._get(signal_id)
        self._sync(sig)
        m = sig.machine
        if m is None:
            return SignalStatus(
                signal_id, False, -1, len(self.greens(signal_id)), f"program:{sig.program_id}", 0.0, False
            )
        return SignalStatus(
            signal_id,
            True,
            m.current_green,
            m.n_greens,
            "held" if m.held else m.stage.value,
            m.steps_in_stage * self.step_length_s,
            m.can_switch,
        )

    def phase_rows(self, signal_ids: Sequence[str]) -> tuple[list[int], list[bool], list[float]]:
        """Per signal, as :meth:`status` reports them: current green (-1 when not controlled),
        can_switch and seconds in stage while in (unheld) green, else 0. For per-decision
        observations, which need only these and not a status object per signal."""
        current: list[int] = []
        can_switch: list[bool] = []
        green_s: list[float] = []
        green, step_length = Stage.GREEN, self.step_length_s
        for signal_id in signal_ids:
            sig = self._get(signal_id)
            self._sync(sig)
            m = sig.machine
            if m is None:
                current.append(-1)
                can_switch.append(False)
                green_s.append(0.0)
                continue
            current.append(m.current_green)
            can_switch.append(m.can_switch)
            # as status(): a held green reports stage "held", so it counts as no green time
            green_s.append(m.steps_in_stage * step_length if m.stage is green and not m.held else 0.0)
        return current, can_switch, green_s

    def _get(self, signal_id: str) -> _Signal:
        try:
            return self._signals[signal_id]
        except KeyError:
            raise SignalError(f"unknown signal {signal_id!r}") from None

    def _event(self, severity: str, kind: str, message: str, signal_id: str = "") -> None:
        self.events.append(
            Event(self.begin_s + self.step * self.step_length_s, severity, kind, message, signal_id)
        )

    # -- mode changes -------------------------------------------------------------------------

    def take_control(self, signal_ids: Iterable[str]) -> None:
        for signal_id in signal_ids:
            sig = self._get(signal_id)
            if not self.controllable(signal_id):
                raise SignalError(
                    f"signal {signal_id!r} has fewer than two green stages and cannot be controlled"
                )
            sig.hand_back_to = None
            sig.resume_program = None  # a controller takes it: no program to return to
            if sig.machine is None:
                sig.want_control = True
                self._next_wake = 0

    def delegate(self, signal_ids: Iterable[str], program: str = "original") -> None:
        """Hand signals to a SUMO program: ``original`` (the net's plan) or ``actuated``."""
        for signal_id in signal_ids:
            sig = self._get(signal_id)
            sig.want_control = False
            program_id = sig.info.program.program_id
            if program == "actuated":
                program_id = self._ensure_actuated(sig)
            elif program != "original":
                raise SignalError(f"unknown program {program!r} (original, actuated)")
            if sig.machine is None:
                if sig.program_id != program_id:
                    self.actuator.run_program(signal_id, program_id, self._phase_index(sig, program_id, None))
                    sig.program_id = program_id
            else:
                self._sync(sig, wake=True)
                sig.hand_back_to = program_id

    def _ensure_actuated(self, sig: _Signal) -> str:
        if sig.info.id not in self._actuated_installed:
            self.actuator.install_program(sig.info.id, actuated_variant(sig.info.program, self.settings))
            self._actuated_installed.add(sig.info.id)
        return ACTUATED_PROGRAM

    def _phase_index(self, sig: _Signal, program_id: str, green_state: str | None) -> int:
        if green_state is None:
            return 0
        for i, phase in enumerate(sig.info.program.phases):
            if phase.state == green_state:
                return i
        return 0

    # -- requests -----------------------------------------------------------------------------

    def request(self, signal_id: str, green: int) -> None:
        sig = self._get(signal_id)
        if sig.machine is None or sig.override_until_step is not None:
            return  # delegated or under an operator override: controller requests do not apply
        if sig.hand_back_to is not None:
            self._sync(sig, wake=True)  # a pending hand-back happens at the first woken step at green
            sig.machine.request(green)
            return
        self._sync(sig)
        machine = sig.machine
        try:
            machine.request(green)
        finally:
            # wake exactly when the machine can next change state (as ticking every step would
            # find), not at once: a decision then skips the signals whose min green still runs
            quiet = machine.quiet_ticks()
            sig.wake_step = self.step + 1 + quiet if quiet is not None else NEVER
            if sig.wake_step < self._next_wake:
                self._next_wake = sig.wake_step

    def override(self, signal_id: str, action: str, duration_s: float, green: int | None = None) -> None:
        """Operator override: ``hold`` | ``force`` (next stage or ``green``) | ``flash``; expires
        after ``duration_s``. The one place an override is validated: nothing changes on a refusal.

        The clearance rule: an override is refused while the signal is in yellow or all-red
        clearance (its own or its plan's), with the time left; it is accepted once the signal
        shows green. A flashing signal takes only another flash (which extends it) until the
        flash is cleared."""
        sig = self._get(signal_id)
        self._check_override(signal_id, action, duration_s, green)
        self._check_not_clearing(sig, action)
        if sig.machine is None:
            # delegated (not merely waiting to be taken over by a controller): resume it afterwards
            resume = (
                None
                if sig.want_control
                else ("actuated" if sig.program_id == ACTUATED_PROGRAM else "original")
            )
            self.take_control([signal_id])
            self._try_take_control(sig)
            if sig.machine is None:
                sig.want_control = False
                raise SignalError(
                    f"signal {signal_id} is in clearance (its plan shows no green now): "
                    "an override is accepted once it shows green"
                )
            sig.resume_program = resume
        machine = sig.machine
        self._sync(sig, wake=True)
        if action == "hold":
            machine.hold(True)
        elif action == "force":
            machine.hold(False)
            if green is None:
                machine.force_next()
            else:
                machine.request(green)
        else:  # flash (checked above)
            machine.flash(True)
        sig.override_until_step = self.step + max(1, round(duration_s / self.step_length_s))
        self._next_wake = 0
        label = override_label(action, green)
        self._event("info", "override", f"{label} on {signal_id} for {duration_s:g} s", signal_id)

    def _check_not_clearing(self, sig: _Signal, action: str) -> None:
        """Refuse an override during clearance (see :meth:`override`), naming the time left."""
        machine = sig.machine
        if machine is None:
            return  # a delegated signal is checked when it is taken over (it must show green)
        self._sync(sig)
        signal_id = sig.info.id
        if machine.in_clearance:
            left_s = machine.clearance_left_steps() * self.step_length_s
            stage = "yellow" if machine.stage is Stage.YELLOW else "all-red"
            raise SignalError(
                f"signal {signal_id} is in clearance ({stage}, {left_s:g} s left): "
                "an override is accepted once it shows green"
            )
        if (machine.stage is Stage.FLASH or machine.flash_wanted) and action != "flash":
            raise SignalError(f"signal {signal_id} is flashing: clear the flash override first")

    def _check_override(self, signal_id: str, action: str, duration_s: float, green: int | None) -> None:
        if action not in OVERRIDE_ACTIONS:
            raise SignalError(f"unknown override {action!r} (hold, force, flash)")
        if not (math.isfinite(duration_s) and 0 < duration_s <= MAX_OVERRIDE_S):
            raise SignalError(f"override duration must be in (0, {MAX_OVERRIDE_S:g}] s, got {duration_s:g}")
        if green is None:
            return
        if action != "force":
            raise SignalError("a green stage can only be given with 'force'")
        n = len(self.greens(signal_id))
        if not 0 <= green < n:
            raise SignalError(
                f"signal {signal_id} has no green stage {green}: green stage {green} does not exist"
                f" (it has {n}: 0..{n - 1})"
            )

    def override_left_s(self, signal_id: str) -> float | None:
        """Seconds until the signal's override expires; None when it has none (never set,
        cleared, or expired)."""
        until = self._get(signal_id).override_until_step
        return None if until is None else max(0, until - self.step) * self.step_length_s

    def clear_override(self, signal_id: str) -> None:
        sig = self._get(signal_id)
        self._sync(sig, wake=True)
        if sig.machine is not None:
            sig.machine.hold(False)
            sig.machine.flash(False)
        sig.override_until_step = None
        if sig.resume_program is not None:  # the override took it from its program: give it back
            resume, sig.resume_program = sig.resume_program, None
            self.delegate([signal_id], resume)

    # -- the step -----------------------------------------------------------------------------

    def before_step(self) -> None:
        """Advance every controlled signal one step and send changed states to SUMO."""
        self.step += 1
        step = self.step
        if step < self._next_wake:
            return  # nothing can change before then: every signal is idle
        next_wake = NEVER
        # one pass: a signal's handling touches only that signal, so its next wake is final here
        for sig in self._signals.values():
            if sig.override_until_step is not None and step >= sig.override_until_step:
                self.clear_override(sig.info.id)
                self._event("info", "override", f"override on {sig.info.id} expired", sig.info.id)
            if sig.want_control:
                self._try_take_control(sig)
            machine = sig.machine
            if machine is not None and step >= sig.wake_step:
                idle = step - sig.last_tick - 1
                if idle:
                    machine.skip(idle)
                if sig.hand_back_to is not None and machine.stage is Stage.GREEN and not machine.held:
                    self._hand_back(sig, sig.hand_back_to)  # at green: the program resumes right here
                    machine = None
                else:
                    state = machine.tick()
                    sig.last_tick = step
                    quiet = machine.quiet_ticks()
                    if sig.hand_back_to is not None and machine.stage is Stage.GREEN and not machine.held:
                        quiet = 0  # back at green after clearance: the program resumes next step
                    sig.wake_step = step + 1 + quiet if quiet is not None else NEVER
                    if state != sig.applied:
                        self.actuator.set_signal_state(sig.info.id, state)
                        sig.applied = state
            if sig.want_control:
                next_wake = 0
            elif machine is not None and sig.wake_step < next_wake:
                next_wake = sig.wake_step
            if sig.override_until_step is not None and sig.override_until_step < next_wake:
                next_wake = sig.override_until_step
        self._next_wake = next_wake

    def _try_take_control(self, sig: _Signal) -> None:
        state = (
            self.read_state(sig.info.id) if self.read_state is not None else sig.info.program.phases[0].state
        )
        greens = green_stages(sig.info.program)
        if state not in greens:
            return  # SUMO is in clearance (or an unknown state): wait for its next green
        sig.machine = SignalStateMachine(
            sig.info.program, self.step_length_s, self.settings, greens.index(state)
        )
        sig.want_control = False
        sig.last_tick, sig.wake_step = self.step - 1, 0  # up to date before this step
        # pin SUMO to this state now: until set, SUMO's own program would keep advancing
        self.actuator.set_signal_state(sig.info.id, state)
        sig.applied = state

    def _hand_back(self, sig: _Signal, program_id: str) -> None:
        assert sig.machine is not None
        green_state = sig.machine.state
        self.actuator.run_program(sig.info.id, program_id, self._phase_index(sig, program_id, green_state))
        sig.program_id = program_id
        sig.machine = None
        sig.hand_back_to = None
        sig.applied = ""

    def fall_back(self, signal_ids: Iterable[str], reason: str) -> None:
        """A controller failed: its signals return to the net's own plan, logged as an alarm."""
        ids = list(signal_ids)
        self.delegate(ids, "original")
        self._event("alarm", "fallback", f"{reason}; {len(ids)} signal(s) back on the net's own plan")
