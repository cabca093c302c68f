"""Signal programs and the pure safety state machine that every controller acts through.

The state machine knows nothing of SUMO: it is given a network's own program, asked for a green
stage, and ticked once per simulation step. It alone decides the state string shown, inserting
yellow and all-red clearance taken from the program and enforcing minimum and maximum green.
Time is counted in integer steps, never compared as floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

from trafficai.errors import SignalError

GREEN_CHARS = frozenset("Gg")
YELLOW_CHARS = frozenset("yY")
OFF_CHARS = frozenset("oO")  # signal switched off: blinking (o) or dark (O), traffic yields as unsignalled
OFF_KIND = "off"  # SUMO's program of a switched-off signal (e.g. --tls.all-off)
DEFAULT_YELLOW_S = 3.0


@dataclass(frozen=True, slots=True)
class Phase:
    state: str
    duration: float
    min_dur: float = -1.0
    max_dur: float = -1.0


@dataclass(frozen=True, slots=True)
class SignalProgram:
    """A signal program as loaded from the network (or an additional file)."""

    program_id: str
    phases: tuple[Phase, ...]
    kind: str = "static"  # static | actuated | delay_based | NEMA | ...

    def __post_init__(self) -> None:
        if not self.phases:
            raise SignalError(f"program {self.program_id!r} has no phases")
        width = len(self.phases[0].state)
        if any(len(p.state) != width for p in self.phases):
            raise SignalError(f"program {self.program_id!r} has phases of different lengths")

    @property
    def n_links(self) -> int:
        return len(self.phases[0].state)


def is_switched_off(program: SignalProgram) -> bool:
    """The signal is dark or blinking: SUMO's "off" program, or states made only of o/O."""
    return program.kind == OFF_KIND or all(set(p.state) <= OFF_CHARS for p in program.phases)


def is_green(state: str) -> bool:
    """A green stage: some link may go, none is in yellow."""
    return any(c in GREEN_CHARS for c in state) and not any(c in YELLOW_CHARS for c in state)


def is_all_red(state: str) -> bool:
    return not any(c in GREEN_CHARS or c in YELLOW_CHARS for c in state) and "r" in state


def green_stages(program: SignalProgram) -> tuple[str, ...]:
    """Distinct green states of the program, in program order."""
    seen: list[str] = []
    for phase in program.phases:
        if is_green(phase.state) and phase.state not in seen:
            seen.append(phase.state)
    return tuple(seen)


def clearance_times(program: SignalProgram) -> tuple[float, float]:
    """Yellow and all-red durations (s) the program itself uses; conservative maxima."""
    yellows = [p.duration for p in program.phases if any(c in YELLOW_CHARS for c in p.state)]
    all_reds = [p.duration for p in program.phases if is_all_red(p.state)]
    return (max(yellows) if yellows else DEFAULT_YELLOW_S, max(all_reds) if all_reds else 0.0)


@lru_cache(maxsize=4096)  # pure, and called with the same few state pairs all run long
def yellow_state(current: str, target: str) -> str:
    """Links losing green show yellow; links green in both keep going; the rest stay red."""
    out = []
    for c, n in zip(current, target, strict=True):
        if c in GREEN_CHARS:
            out.append(c if n in GREEN_CHARS else "y")
        else:
            out.append(c if c == n and c not in YELLOW_CHARS else "r")
    return "".join(out)


@lru_cache(maxsize=4096)
def all_red_state(current: str, target: str) -> str:
    out = []
    for c, n in zip(current, target, strict=True):
        if c in GREEN_CHARS and n in GREEN_CHARS:
            out.append(c)
        else:
            out.append(c if c == n and c not in GREEN_CHARS and c not in YELLOW_CHARS else "r")
    return "".join(out)


@lru_cache(maxsize=4096)
def loses_green(current: str, target: str) -> bool:
    return any(c in GREEN_CHARS and n not in GREEN_CHARS for c, n in zip(current, target, strict=True))


def steps_for(seconds: float, step_length_s: float) -> int:
    """Whole steps covering ``seconds`` (rounded up, tolerant of float noise)."""
    return max(0, math.ceil(seconds / step_length_s - 1e-9))


class Stage(Enum):
    GREEN = "green"
    YELLOW = "yellow"
    ALL_RED = "all_red"
    FLASH = "flash"


@dataclass(frozen=True, slots=True)
class SafetySettings:
    min_green_s: float = 5.0
    max_green_s: float | None = 90.0
    yellow_s: float | None = None  # None: from the program
    all_red_s: float | None = None  # None: from the program


@dataclass(slots=True)
class SignalStateMachine:
    """Safe stage sequencing for one signal. ``tick`` once per step; ``state`` is what SUMO shows."""

    program: SignalProgram
    step_length_s: float
    settings: SafetySettings = field(default_factory=SafetySettings)
    initial_green: int = 0
    greens: tuple[str, ...] = ()
    yellow_steps: int = 0
    all_red_steps: int = 0
    min_green_steps: int = 0
    max_green_steps: int | None = None
    stage: Stage = Stage.GREEN
    current_green: int = 0
    target_green: int | None = None
    pending: int | None = None
    steps_in_stage: int = 0
    held: bool = False
    flash_wanted: bool = False
    state: str = ""

    def __post_init__(self) -> None:
        self.greens = green_stages(self.program)
        if not self.greens:
            raise SignalError(f"program {self.program.program_id!r} has no green stage")
        yellow_s, all_red_s = clearance_times(self.program)
        if self.settings.yellow_s is not None:
            yellow_s = self.settings.yellow_s
        if self.settings.all_red_s is not None:
            all_red_s = self.settings.all_red_s
        self.yellow_steps = max(1, steps_for(yellow_s, self.step_length_s))
        self.all_red_steps = steps_for(all_red_s, self.step_length_s)
        self.min_green_steps = steps_for(self.settings.min_green_s, self.step_length_s)
        max_g = self.settings.max_green_s
        self.max_green_steps = (
            None if max_g is None else max(self.min_green_steps, steps_for(max_g, self.step_length_s))
        )
        self.current_green = self._check(self.initial_green)
        self.state = self.greens[self.current_green]

    @property
    def n_greens(self) -> int:
        return len(self.greens)

    @property
    def can_switch(self) -> bool:
        """Min green has passed, so a request would start clearance on the next tick."""
        return self.stage is Stage.GREEN and self.steps_in_stage >= self.min_green_steps and not self.held

    @property
    def in_clearance(self) -> bool:
        """Yellow or all-red: links are being cleared between two greens (or into/out of flash)."""
        return self.stage is Stage.YELLOW or self.stage is Stage.ALL_RED

    def clearance_left_steps(self) -> int:
        """Steps of clearance still to show before the next green, at least 1 while in clearance
        (0 outside it); a clearance into flashing operation counts its yellow only."""
        steps = self.steps_in_stage
        if self.stage is Stage.YELLOW:
            all_red = self.all_red_steps if self.target_green is not None else 0
            return max(1, self.yellow_steps - steps + all_red)
        if self.stage is Stage.ALL_RED:
            return max(1, max(1, self.all_red_steps) - steps)
        return 0

    def _check(self, green: int) -> int:
        if not 0 <= green < len(self.greens):
            raise SignalError(
                f"green stage {green} does not exist "
                f"(program {self.program.program_id!r} has {len(self.greens)})"
            )
        return green

    def request(self, green: int) -> None:
        """Ask for a green stage; honoured as soon as min green allows. Ignored while held."""
        self._check(green)
        if self.held:
            return
        self.pending = None if (green == self.current_green and self.stage is Stage.GREEN) else green

    def hold(self, on: bool) -> None:
        """Operator hold: keep the current green (max green suspended) until released."""
        self.held = on
        if on:
            self.pending = None

    def force_next(self) -> None:
        """Operator force-off: end this green (after min green) and go to the next stage in order."""
        self.held = False
        self.pending = (self.current_green + 1) % len(self.greens)

    def flash(self, on: bool) -> None:
        """Flashing operation (SUMO 'o': blinking, yield). Entered through yellow, left through all-red."""
        self.flash_wanted = on

    def quiet_ticks(self) -> int | None:
        """How many coming ticks can only count time (None: until a request comes).

        Lets the safety layer skip ticking idle signals; :meth:`skip` then catches up.
        """
        steps = self.steps_in_stage
        if self.stage is Stage.GREEN:
            if self.flash_wanted:
                return 0
            if self.held:
                return None
            if self.pending is not None:
                return max(0, self.min_green_steps - steps)
            if self.max_green_steps is not None and len(self.greens) > 1:
                return max(0, self.max_green_steps - steps)
            return None
        if self.stage is Stage.YELLOW:
            return max(0, self.yellow_steps - steps)
        if self.stage is Stage.ALL_RED:
            return max(0, max(1, self.all_red_steps) - steps)
        return None if self.flash_wanted else 0

    def skip(self, ticks: int) -> None:
        """Count ``ticks`` quiet steps at once (only valid within :meth:`quiet_ticks`)."""
        self.steps_in_stage += ticks

    def tick(self) -> str:
        """Advance one step and return the state to show during it."""
        self.steps_in_stage += 1
        if self.stage is Stage.FLASH:
            if not self.flash_wanted:
                self.stage = Stage.ALL_RED
                self.steps_in_stage = 1
                self.target_green = self.current_green
                self.state = "r" * len(self.state)
            return self.state
        if self.flash_wanted and self.stage is Stage.GREEN:
            self.stage = Stage.YELLOW
            self.steps_in_stage = 1
            self.target_green = None
            self.state = yellow_state(self.state, "r" * len(self.state))
            return self.state
        if self.stage is Stage.GREEN:
            if (
                self.pending is None
                and not self.held
                and self.max_green_steps is not None
                and self.steps_in_stage > self.max_green_steps
                and len(self.greens) > 1
            ):
                self.pending = (self.current_green + 1) % len(self.greens)
            if self.pending is not None and self.steps_in_stage > self.min_green_steps and not self.held:
                self._begin_transition(self.pending)
        elif self.stage is Stage.YELLOW:
            if self.steps_in_stage > self.yellow_steps:
                self._after_yellow()
        elif self.stage is Stage.ALL_RED and self.steps_in_stage > max(1, self.all_red_steps):
            self._enter_green()
        return self.state

    def _begin_transition(self, target: int) -> None:
        self.pending = None
        self.target_green = target
        current, nxt = self.greens[self.current_green], self.greens[target]
        if loses_green(current, nxt):
            self.stage = Stage.YELLOW
            self.steps_in_stage = 1
            self.state = yellow_state(current, nxt)
        else:
            self._enter_green()

    def _after_yellow(self) -> None:
        if self.target_green is None:  # clearance into flashing operation
            self.stage = Stage.FLASH
            self.steps_in_stage = 1
            self.state = "o" * len(self.state)
            return
        if self.all_red_steps > 0:
            self.stage = Stage.ALL_RED
            self.steps_in_stage = 1
            self.state = all_red_state(self.greens[self.current_green], self.greens[self.target_green])
        else:
            self._enter_green()

    def _enter_green(self) -> None:
        assert self.target_green is not None
        self.current_green = self.target_green
        self.target_green = None
        self.stage = Stage.GREEN
        self.steps_in_stage = 1
        self.state = self.greens[self.current_green]
