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
from trafficai.core.snapshot import ALL_PARTS, Snapshot


@dataclass(frozen=True, slots=True)
class Movements:
    """For each green stage of a signal, the (incoming, outgoing) lane pairs it serves."""

    incoming: tuple[NDArray[np.int64], ...]  # per stage: lane indices (one per served link)
    outgoing: tuple[NDArray[np.int64], ...]
    approach_lanes: NDArray[np.int64]  # all incoming lanes of the signal
    outgoing_per_link: tuple[NDArray[np.int64], ...]  # aligned with ``incoming`` (-1: none)


@dataclass(frozen=True, slots=True)
class StageTable:
    """Every (green stage, served link) of the controlled signals as flat arrays, so a controller
    can score all stages of all signals with one ``bincount`` instead of a loop per signal."""

    stage: NDArray[np.int64]  # global stage index of each entry
    in_lane: NDArray[np.int64]
    out_lane: NDArray[np.int64]  # -1 when the link has no regular outgoing lane
    lane_stage: NDArray[np.int64]  # (stage, incoming lane) pairs, each once
    lane_in: NDArray[np.int64]
    first: dict[str, int]  # signal -> global index of its stage 0
    total: int

    def link_scores(
        self, upstream: NDArray[np.floating], downstream: NDArray[np.floating]
    ) -> NDArray[np.float64]:
        """Per stage: sum over its links of upstream[in] - downstream[out]."""
        out = np.where(self.out_lane >= 0, downstream[np.maximum(self.out_lane, 0)], 0.0)
        scores: NDArray[np.float64] = np.bincount(
            self.stage, weights=upstream[self.in_lane] - out, minlength=self.total
        ).astype(np.float64)
        return scores

    def lane_scores(self, values: NDArray[np.floating]) -> NDArray[np.float64]:
        """Per stage: sum of ``values`` over the distinct incoming lanes it serves."""
        scores: NDArray[np.float64] = np.bincount(
            self.lane_stage, weights=values[self.lane_in], minlength=self.total
        ).astype(np.float64)
        return scores


def stage_table(movements: Mapping[str, Movements], signal_ids: tuple[str, ...]) -> StageTable:
    stage: list[int] = []
    ins: list[int] = []
    outs: list[int] = []
    lane_stage: list[int] = []
    lane_in: list[int] = []
    first: dict[str, int] = {}
    total = 0
    for signal_id in signal_ids:
        moves = movements[signal_id]
        first[signal_id] = total
        for k, (inc, outg) in enumerate(zip(moves.incoming, moves.outgoing_per_link, strict=True)):
            stage += [total + k] * len(inc)
            ins += inc.tolist()
            outs += outg.tolist()
            unique = np.unique(inc).tolist()
            lane_stage += [total + k] * len(unique)
            lane_in += unique
        total += len(moves.incoming)
    def arr(values: list[int]) -> NDArray[np.int64]:
        return np.asarray(values, dtype=np.int64)

    return StageTable(arr(stage), arr(ins), arr(outs), arr(lane_stage), arr(lane_in), first, total)


@dataclass(frozen=True, slots=True)
class ControlContext:
    geometry: NetGeometry
    signal_ids: tuple[str, ...]
    greens: Mapping[str, tuple[str, ...]]
    movements: Mapping[str, Movements]
    step_length_s: float
    decision_interval_s: float
    min_green_s: float
    stages: StageTable


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
        incoming, outgoing, per_link = [], [], []
        for state in stages:
            links = [
                link
                for link in info.links
                if link.index < len(state) and state[link.index] in GREEN_CHARS and link.in_lane >= 0
            ]
            incoming.append(np.array([lk.in_lane for lk in links], dtype=np.int64))
            outgoing.append(np.array([lk.out_lane for lk in links if lk.out_lane >= 0], dtype=np.int64))
            per_link.append(np.array([lk.out_lane for lk in links], dtype=np.int64))
        movements[signal_id] = Movements(
            tuple(incoming), tuple(outgoing), np.array(info.incoming_lanes, dtype=np.int64), tuple(per_link)
        )
    return ControlContext(
        geometry,
        signal_ids,
        greens,
        movements,
        step_length_s,
        decision_interval_s,
        min_green_s,
        stage_table(movements, signal_ids),
    )


class Controller(ABC):
    """Base class. ``program`` set: the controller delegates to a SUMO program and never decides."""

    name: str = ""
    program: str | None = None  # "original" | "actuated" for delegating controllers
    decision_interval_s: float | None = None  # None: the run's decision interval
    needs: frozenset[str] = ALL_PARTS  # snapshot parts decide() reads (see core.snapshot)

    def reset(self, context: ControlContext) -> None:
        self.context = context

    @abstractmethod
    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        """Green stage wanted per signal (signals left out keep their current request)."""


class ProgramController(Controller):
    """Runs a SUMO program: the net's own (fixed) or SUMO's gap-based actuation."""

    needs = frozenset()

    def __init__(self, name: str, program: str) -> None:
        self.name = name
        self.program = program

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        return {}
