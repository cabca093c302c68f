"""The signal timing of a network's own program, as an operator reads it: cycle, splits, offset and
the phase sequence (pure data; the net file is read in ``sim/net_loader.py``).

*Split* of a green phase: its green time plus the change interval after it (the yellow and all-red
phases up to the next green), in seconds and as a share of the cycle, as timing sheets give it.
"""

from __future__ import annotations

from dataclasses import dataclass

from trafficai.core.signals import YELLOW_CHARS, is_all_red, is_green


def phase_kind(state: str) -> str:
    """green | yellow | all red | red (some links red, none green or yellow: e.g. only 'o')."""
    if is_green(state):
        return "green"
    if any(c in YELLOW_CHARS for c in state):
        return "yellow"
    if is_all_red(state):
        return "all red"
    return "other"


@dataclass(frozen=True, slots=True)
class PhaseTiming:
    state: str
    duration_s: float
    min_s: float = -1.0  # actuated programs: the bounds SUMO may stretch the phase between
    max_s: float = -1.0
    name: str = ""

    @property
    def kind(self) -> str:
        return phase_kind(self.state)


@dataclass(frozen=True, slots=True)
class Split:
    phase: int  # index of the green phase in the program
    green_s: float
    split_s: float  # green plus the change interval after it
    share: float  # split_s / cycle


@dataclass(frozen=True, slots=True)
class SignalTiming:
    """One tlLogic of the net file (the program a signal starts with)."""

    signal_id: str
    program_id: str
    kind: str  # static | actuated | delay_based | NEMA ...
    offset_s: float
    phases: tuple[PhaseTiming, ...]

    @property
    def cycle_s(self) -> float:
        return sum(p.duration_s for p in self.phases)

    def splits(self) -> tuple[Split, ...]:
        """One split per green phase, in program order (the change interval wraps around)."""
        n = len(self.phases)
        cycle = self.cycle_s
        out: list[Split] = []
        for i, phase in enumerate(self.phases):
            if phase.kind != "green":
                continue
            split = phase.duration_s
            k = (i + 1) % n
            while k != i and self.phases[k].kind in ("yellow", "all red"):
                split += self.phases[k].duration_s
                k = (k + 1) % n
            out.append(Split(i, phase.duration_s, split, split / cycle if cycle > 0 else 0.0))
        return tuple(out)
