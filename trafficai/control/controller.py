"""The controller interface. Controllers ask for green stages; the safety layer decides what shows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trafficai.control.safety import SignalStatus
from trafficai.core.geometry import NetGeometry
from trafficai.core.signals import GREEN_CHARS, green_stages
from trafficai.core.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Movements:
    """For each green stage of a signal, the (incoming, outgoing) lane pairs it serves."""

    incoming: tuple[NDArray[np.int64], ...]  # per stage: lane indices (one per served link)
    outgoing: tuple[NDArray[np.int64], ...]
    approach_lanes: NDArray[np.int64]  # all incoming lanes of the signal


@dataclass(frozen=True, slots=True)
class ControlContext:
    geometry: NetGeometry
    signal_ids: tuple[str, ...]
    greens: Mapping[str, tuple[str, ...]]
    movements: Mapping[str, Movements]
    step_length_s: float
    decision_interval_s: float
    min_green_s: float


def build_context(
    geometry: NetGeometry,
    signal_ids: tuple[str, ...],
    step_length_s: float,
    decision_interval_s: float,
    min_green_s: float,
) -> ControlContext:
    greens: dict[str, tuple[str, ...]] = {}
    movements: dict[str, Movements] = {}
    for signal_id in signal_ids:
        info = geometry.signal(signal_id)
        stages = green_stages(info.program)
        greens[signal_id] = stages
        incoming, outgoing = [], []
        for state in stages:
            links = [
                link for link in info.links if link.index < len(state) and state[link.index] in GREEN_CHARS
            ]
            incoming.append(np.array([lk.in_lane for lk in links if lk.in_lane >= 0], dtype=np.int64))
            outgoing.append(
                np.array(
                    [lk.out_lane for lk in links if lk.in_lane >= 0 and lk.out_lane >= 0], dtype=np.int64
                )
            )
        movements[signal_id] = Movements(
            tuple(incoming), tuple(outgoing), np.array(info.incoming_lanes, dtype=np.int64)
        )
    return ControlContext(
        geometry, signal_ids, greens, movements, step_length_s, decision_interval_s, min_green_s
    )


class Controller(ABC):
    """Base class. ``program`` set: the controller delegates to a SUMO program and never decides."""

    name: str = ""
    program: str | None = None  # "original" | "actuated" for delegating controllers
    decision_interval_s: float | None = None  # None: the run's decision interval

    def reset(self, context: ControlContext) -> None:
        self.context = context

    @abstractmethod
    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        """Green stage wanted per signal (signals left out keep their current request)."""


class ProgramController(Controller):
    """Runs a SUMO program: the net's own (fixed) or SUMO's gap-based actuation."""

    def __init__(self, name: str, program: str) -> None:
        self.name = name
        self.program = program

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        return {}
