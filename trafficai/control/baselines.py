"""Classical signal-control baselines. All of them only *ask* for green stages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from trafficai.control.controller import ControlContext, Controller
from trafficai.control.safety import SignalStatus
from trafficai.core.signals import clearance_times, is_green
from trafficai.core.snapshot import DETECTORS, LANE_COUNTS, Snapshot


def _argmax_or_keep(scores: NDArray[np.float64], current: int) -> int:
    """Best stage; ties keep the current stage so equal demand does not cause needless switching."""
    best = int(np.argmax(scores))
    if 0 <= current < len(scores) and scores[current] >= scores[best]:
        return current
    return best


def _best_per_signal(
    context: ControlContext, scores: NDArray[np.float64], status: Mapping[str, SignalStatus]
) -> dict[str, int]:
    out: dict[str, int] = {}
    for signal_id in context.signal_ids:
        first = context.stages.first[signal_id]
        n = len(context.greens[signal_id])
        out[signal_id] = _argmax_or_keep(scores[first : first + n], status[signal_id].current_green)
    return out


class GreedyController(Controller):
    """Serve the stage with the longest queue (halting vehicles on its approach lanes)."""

    name = "greedy"
    needs = frozenset({LANE_COUNTS})

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        scores = self.context.stages.lane_scores(snapshot.lanes.halting.astype(np.float64))
        return _best_per_signal(self.context, scores, status)


class MaxPressureController(Controller):
    """Varaiya's max-pressure: the stage with the largest sum of (upstream - downstream) queues."""

    name = "max-pressure"
    needs = frozenset({LANE_COUNTS})

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        vehicles = snapshot.lanes.vehicles.astype(np.float64)
        scores = self.context.stages.link_scores(vehicles, vehicles)
        return _best_per_signal(self.context, scores, status)


@dataclass
class SotlController(Controller):
    """Self-organising traffic lights (Gershenson): switch when the vehicles waiting at red, summed
    over decisions, exceed ``theta`` (after min green), unless a platoon of at most ``platoon``
    vehicles is still on the green approaches (0 disables that rule).

    Defaults tuned on the shipped scenarios (mean delay, s, grid4x4 / city): theta 5 -> 40 / 98;
    theta 2 -> 28 / 116; theta 40 -> 106 / -; the platoon rule with whole-lane counts hurt city
    (177 s with platoon 3)."""

    theta: float = 5.0
    platoon: int = 0
    name: str = "sotl"
    needs: frozenset[str] = frozenset({LANE_COUNTS})
    kappa: dict[str, float] = field(default_factory=dict)

    def reset(self, context: ControlContext) -> None:
        super().reset(context)
        self.kappa = dict.fromkeys(context.signal_ids, 0.0)

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        vehicles = snapshot.lanes.vehicles
        out: dict[str, int] = {}
        for signal_id in self.context.signal_ids:
            st = status[signal_id]
            moves = self.context.movements[signal_id]
            if not st.controlled or st.stage != "green":
                continue
            served = np.unique(moves.incoming[st.current_green])
            red = np.setdiff1d(moves.approach_lanes, served)
            self.kappa[signal_id] += float(vehicles[red].sum())
            on_green = float(vehicles[served].sum())
            platoon_clearing = 0 < on_green <= self.platoon
            if st.can_switch and self.kappa[signal_id] >= self.theta and not platoon_clearing:
                demand = [
                    float(vehicles[np.setdiff1d(np.unique(inc), served)].sum()) for inc in moves.incoming
                ]
                demand[st.current_green] = -1.0
                out[signal_id] = int(np.argmax(demand))
                self.kappa[signal_id] = 0.0
        return out


SATURATION_FLOW_VEH_S = 0.5  # 1,800 veh/h per lane


def webster_plan(
    critical_flows: list[float],
    lost_time_s: float,
    min_green_s: float,
    min_cycle_s: float = 40.0,
    max_cycle_s: float = 150.0,
) -> tuple[float, list[float]]:
    """Webster's optimal cycle C = (1.5 L + 5) / (1 - Y) and greens split by critical flow ratio."""
    ratios = [max(q, 0.0) / SATURATION_FLOW_VEH_S for q in critical_flows]
    y_total = min(sum(ratios), 0.9)  # past 0.9 the formula diverges; cap as practice does
    cycle = (1.5 * lost_time_s + 5.0) / (1.0 - y_total)
    cycle = min(max(cycle, min_cycle_s, lost_time_s + min_green_s * len(ratios)), max_cycle_s)
    effective = max(cycle - lost_time_s, min_green_s * len(ratios))
    total = sum(ratios)
    shares = [r / total if total > 0 else 1.0 / len(ratios) for r in ratios]
    greens = [max(min_green_s, effective * s) for s in shares]
    return cycle, greens


@dataclass
class WebsterController(Controller):
    """Fixed-time control re-optimised every cycle from flows measured at the stop-line loops.

    Starts from the net's own green durations; each new cycle uses the mean flows measured so far
    by the E1 loops (a signal whose approaches have no loops keeps the net's own splits)."""

    name: str = "webster"
    decision_interval_s: float | None = 1.0
    needs: frozenset[str] = frozenset({DETECTORS})
    plans: dict[str, list[float]] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    elapsed: dict[str, float] = field(default_factory=dict)

    def reset(self, context: ControlContext) -> None:
        super().reset(context)
        geometry = context.geometry
        self._loop_of_lane = {int(lane): i for i, lane in enumerate(geometry.e1.lanes) if lane >= 0}
        self._start_counts: np.ndarray | None = None
        self._start_time = 0.0
        for signal_id in context.signal_ids:
            program = geometry.signal(signal_id).program
            durations: dict[str, float] = {}
            for phase in program.phases:
                if is_green(phase.state):
                    durations[phase.state] = durations.get(phase.state, 0.0) + phase.duration
            self.plans[signal_id] = [
                max(durations[s], context.min_green_s) for s in context.greens[signal_id]
            ]
            self.position[signal_id] = 0
            self.elapsed[signal_id] = 0.0

    def _replan(self, signal_id: str, snapshot: Snapshot) -> None:
        if self._start_counts is None or snapshot.time_s - self._start_time < 120.0:
            return  # too little data: keep the current plan
        duration = snapshot.time_s - self._start_time
        counts = snapshot.detectors.e1_count.astype(np.float64) - self._start_counts
        moves = self.context.movements[signal_id]
        flows = []
        for lanes in moves.incoming:
            per_lane = [
                counts[self._loop_of_lane[int(lane)]] / duration
                for lane in np.unique(lanes)
                if int(lane) in self._loop_of_lane
            ]
            flows.append(max(per_lane) if per_lane else 0.0)
        if not any(flows):
            return
        yellow, all_red = clearance_times(self.context.geometry.signal(signal_id).program)
        lost = len(flows) * (yellow + all_red)
        _cycle, greens = webster_plan(flows, lost, self.context.min_green_s)
        self.plans[signal_id] = greens

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        if self._start_counts is None:
            self._start_counts = snapshot.detectors.e1_count.astype(np.float64)
            self._start_time = snapshot.time_s
        interval = self.decision_interval_s or self.context.decision_interval_s
        out: dict[str, int] = {}
        for signal_id in self.context.signal_ids:
            st = status[signal_id]
            if not st.controlled:
                continue
            plan = self.plans[signal_id]
            if st.stage == "green" and st.current_green == self.position[signal_id]:
                self.elapsed[signal_id] += interval
            if self.elapsed[signal_id] >= plan[self.position[signal_id]]:
                nxt = (self.position[signal_id] + 1) % len(plan)
                if nxt == 0:
                    self._replan(signal_id, snapshot)
                self.position[signal_id] = nxt
                self.elapsed[signal_id] = 0.0
            out[signal_id] = self.position[signal_id]
        return out


@dataclass
class LoopPressureController(Controller):
    """Max-pressure on the detectors' word instead of SUMO's lane counts: a lane's pressure is its
    stop-line loop's occupancy, smoothed over ``tau_s`` (a standing queue holds a loop near 1, a
    discharging one near 0.5, an empty lane at 0). A lane without a loop weighs 0. Being the loops'
    word, a compromised loop moves it: the controller the spoofing evaluation attacks."""

    tau_s: float = 10.0
    name: str = "max-pressure-loops"
    needs: frozenset[str] = frozenset({DETECTORS})
    smoothed: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def reset(self, context: ControlContext) -> None:
        super().reset(context)
        lanes = context.geometry.e1.lanes
        self._loops = np.flatnonzero(lanes >= 0)
        self._lanes = lanes[self._loops].astype(np.int64)
        self._n_lanes = len(context.geometry.lanes.ids)
        self.smoothed = np.zeros(len(lanes))

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        occupancy = snapshot.detectors.e1_occupancy.astype(np.float64)
        if occupancy.size != self.smoothed.size:
            return {}
        keep = float(np.exp(-self.context.decision_interval_s / self.tau_s))
        self.smoothed = self.smoothed * keep + occupancy * (1.0 - keep)
        lane_value = np.zeros(self._n_lanes)
        lane_value[self._lanes] = self.smoothed[self._loops]
        scores = self.context.stages.link_scores(lane_value, lane_value)
        return _best_per_signal(self.context, scores, status)
