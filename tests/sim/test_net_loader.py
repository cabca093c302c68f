"""Which program a signal is loaded with: the one SUMO runs, also when it is SUMO's "off" one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trafficai.core.signals import is_switched_off
from trafficai.sim.net_loader import active_program


@dataclass
class FakeLogic:
    programID: str  # SUMO's attribute names
    type: int
    phases: tuple[Any, ...] = ()

    def getPhases(self) -> tuple[Any, ...]:
        return self.phases


@dataclass
class FakePhase:
    state: str
    duration: float = 42.0
    minDur: float = 42.0
    maxDur: float = 42.0


@dataclass
class FakeTrafficLight:
    program: str
    logics: list[FakeLogic]
    state: str = "OOOO"

    def getProgram(self, tls: str) -> str:
        return self.program

    def getAllProgramLogics(self, tls: str) -> list[FakeLogic]:
        return self.logics

    def getRedYellowGreenState(self, tls: str) -> str:
        return self.state


@dataclass
class FakeApi:
    trafficlight: FakeTrafficLight


NET_PROGRAM = FakeLogic("0", 0, (FakePhase("GGrr"), FakePhase("yyrr", 3.0), FakePhase("rrGG")))


def test_the_running_program_is_loaded() -> None:
    api = FakeApi(FakeTrafficLight("0", [NET_PROGRAM]))
    program = active_program(api, "C")
    assert program.program_id == "0" and len(program.phases) == 3 and program.kind == "static"


def test_an_off_program_without_phases_is_the_state_sumo_shows() -> None:
    """``--tls.all-off``: the net's program stays loaded, maybe without phases; the off one runs."""
    for logics in (
        [FakeLogic("0", 0), FakeLogic("off", 13)],  # neither lists a phase
        [FakeLogic("0", 0)],  # the off program is not listed at all
        [NET_PROGRAM, FakeLogic("off", 13)],
    ):
        program = active_program(FakeApi(FakeTrafficLight("off", logics, state="oOoO")), "C")
        assert program.program_id == "off" and program.kind == "off", logics
        assert [p.state for p in program.phases] == ["oOoO"]
        assert is_switched_off(program)


def test_an_off_program_sumo_lists_is_loaded_as_listed() -> None:
    off = FakeLogic("off", 13, (FakePhase("oooO", 120.0, 120.0, 120.0),))
    program = active_program(FakeApi(FakeTrafficLight("off", [NET_PROGRAM, off])), "C")
    assert program.kind == "off" and program.phases[0].state == "oooO" and is_switched_off(program)
