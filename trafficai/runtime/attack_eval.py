"""``trafficai iot attack``: what a compromised loop device costs, with and without defences.

The attacked controller is ``max-pressure-loops`` (max-pressure on the stop-line loops' occupancy,
``control/baselines.py``) unless told (``controller``: an RL policy trained with ``source =
"sensors"`` and the ``loop_occupancy`` feature reads the same loops): it decides on the loops'
word, so a lying loop moves it. The attacker
owns the loops of one approach (one device cabinet: every loop on the first incoming edge of the
first signal, unless told) and, from ``ATTACK_AT_SHARE`` of the run to its end, reports through
the ``spoofing`` fault (a plausible steady occupancy, count and speed, ``sensors/faults.py``):

- ``inflate``: a standing queue (occupancy ``INFLATE_OCCUPANCY``) — pulls green to the approach;
- ``hide``: a free-flowing, almost empty lane (occupancy ``HIDE_OCCUPANCY``) — starves it;
- ``scale``: the adaptive one, within every plausibility bound: the loops report the true traffic
  times ``1 + SCALE_FACTOR`` (the ``bias`` fault: counts and occupancy scaled, speeds true), so
  they read empty when the lane is empty and busy when it is busy, never a steady lie — a busier
  approach than it is, which pulls green to it whenever it has traffic.

Per seed and strategy, four runs with the same demand: healthy and attacked, each undefended and
defended. The defences: the health rules (IRIS plausibility, witnesses; ``[health]``) with
substitution of failed loops; cross-detector consistency (``sensors/consistency.py``: each loop
against its area detector); and the fallback: a signal any of whose loops is distrusted (health
not ok, or inconsistent) returns to its own fixed-time plan through the control loop and the
safety layer, for the rest of the run. Figures: mean delay per run kind, and the increases
``attacked / healthy - 1`` (undefended, defended; both against the undefended healthy run) as
fractions; the strongest strategy is the one with the largest undefended increase.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from trafficai.config import FaultSection, HealthSection, RunConfig, SimConfig
from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import resolve_scenario
from trafficai.runtime.eval_workers import nice_worker
from trafficai.sensors.consistency import WitnessStandIn
from trafficai.sensors.health import OK
from trafficai.sim.backend import SimBackend

if TYPE_CHECKING:
    from trafficai.runtime.lifecycle import RunLifecycle

CONTROLLER = "max-pressure-loops"
INFLATE_OCCUPANCY, HIDE_OCCUPANCY, SCALE_FACTOR = 0.95, 0.02, 2.0
# per strategy: the fault the compromised loops report through, and its parameter
STRATEGIES = {
    "inflate": ("spoofing", INFLATE_OCCUPANCY),
    "hide": ("spoofing", HIDE_OCCUPANCY),
    "scale": ("bias", SCALE_FACTOR),
}
ATTACK_AT_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class AttackSpec:
    scenario: str
    seed: int
    faults: tuple[FaultSection, ...] = ()
    defended: bool = False
    end_s: float | None = None
    strategy: str = ""  # "" for a healthy run
    controller: str = CONTROLLER


@dataclass(frozen=True, slots=True)
class AttackOutcome:
    spec: AttackSpec
    mean_delay_s: float
    fallback_signals: tuple[str, ...] = ()
    first_fallback_s: float = math.nan


def signals_of_loops(geometry: NetGeometry) -> tuple[str, ...]:
    """Per loop: the signal whose approach lane holds it ("" if none)."""
    by_lane = {lane: s.id for s in geometry.signals for lane in s.incoming_lanes}
    return tuple(by_lane.get(int(lane), "") for lane in geometry.e1.lanes)


def approach_loops(geometry: NetGeometry, signal: str | None = None) -> tuple[str, ...]:
    """The loops on the first incoming edge of ``signal`` (default: the first signal)."""
    info = geometry.signals[0] if signal is None else geometry.signal(signal)
    lanes = info.incoming_lanes
    if not lanes:
        return ()
    edge = geometry.lanes.edges[lanes[0]]
    return tuple(
        d
        for d, lane in zip(geometry.e1.ids, geometry.e1.lanes, strict=True)
        if lane >= 0 and geometry.lanes.edges[int(lane)] == edge
    )


def attack_faults(loops: Sequence[str], strategy: str, at_s: float) -> tuple[FaultSection, ...]:
    kind, param = STRATEGIES[strategy]
    return tuple(FaultSection(device=d, kind=kind, at=at_s, param=param) for d in loops)


def run_one(spec: AttackSpec) -> AttackOutcome:
    """One headless run of the loop-based controller; with ``defended``, the defences on."""
    from trafficai.control.registry import make_controller
    from trafficai.runtime.lifecycle import RunLifecycle

    scenario = resolve_scenario(spec.scenario)
    config = RunConfig(
        scenario=spec.scenario,
        end_s=spec.end_s,
        controller=spec.controller,
        sim=SimConfig(seed=spec.seed),
        faults=spec.faults,
        health=scenario.health or HealthSection(),
        bin_s=60.0,
    )
    life = RunLifecycle(config, scenario)
    life.record(None, spec.controller)
    try:
        backend = life.open(warnings=False).backend
        guard = _defend(life) if spec.defended else None
        life.attach(make_controller(spec.controller))
        fallen: list[str] = []
        first = math.nan
        while backend.step < backend.end_step:
            snap, _events = life.step()
            if snap is None or guard is None:
                continue
            new = _distrusted_signals(life, guard, fallen)
            if new:
                life.loop.assign(make_controller("fixed"), new)
                fallen += new
                first = snap.time_s if math.isnan(first) else first
        delay = life.final_kpis().get("mean_delay_s", math.nan)
        return AttackOutcome(spec, delay, tuple(fallen), first)
    finally:
        life.close_simulation()


def _defend(life: RunLifecycle) -> WitnessStandIn:
    """Put the witness stand-in between the (faulty) backend and the control loop."""
    guard = WitnessStandIn(life.loop.backend)
    life.loop.backend = cast(SimBackend, guard)
    return guard


def _distrusted_signals(life: RunLifecycle, guard: WitnessStandIn, fallen: Sequence[str]) -> list[str]:
    """Quarantine what the health rules flag; the signals (not yet fallen back) that must fall back
    on their own plan: those with a quarantined loop no witness can stand in for."""
    geometry = life.backend.geometry
    states = life.detector_health()
    flagged = np.array([states[d].state != OK if d in states else False for d in geometry.e1.ids], dtype=bool)
    guard.quarantine(flagged)
    owner = signals_of_loops(geometry)
    blind = guard.quarantined & (guard.check.witness < 0)
    return sorted({owner[i] for i in np.flatnonzero(blind) if owner[i] and owner[i] not in fallen})


@dataclass(frozen=True, slots=True)
class AttackResult:
    scenario: str
    controller: str
    seeds: tuple[int, ...]
    loops: tuple[str, ...]
    strongest: str
    mean_delay_s: dict[str, float]  # healthy, healthy_defended, <strategy>, <strategy>_defended
    increase_by_strategy: dict[str, dict[str, float]] = field(default_factory=dict)
    fallbacks: dict[str, int] = field(default_factory=dict)  # runs with a fallback, per run kind

    @property
    def undefended_delay_increase(self) -> float:
        return self.increase_by_strategy[self.strongest]["undefended"]

    @property
    def defended_delay_increase(self) -> float:
        return self.increase_by_strategy[self.strongest]["defended"]

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = _no_nan(
            {
                "scenario": self.scenario,
                "seeds": list(self.seeds),
                "controller": self.controller,
                "compromised_loops": list(self.loops),
                "strongest_strategy": self.strongest,
                "undefended_delay_increase": self.undefended_delay_increase,
                "defended_delay_increase": self.defended_delay_increase,
                "increase_by_strategy": self.increase_by_strategy,
                "mean_delay_s": self.mean_delay_s,
                "runs_with_fallback": self.fallbacks,
            }
        )
        return data


def evaluate(
    scenario_name: str,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    end_s: float | None = None,
    strategies: Sequence[str] = tuple(STRATEGIES),
    loops: Sequence[str] | None = None,
    workers: int = 2,
    controller: str = CONTROLLER,
) -> AttackResult:
    """``controller`` must decide on the loops (``max-pressure-loops``, or an RL policy observing
    ``loop_occupancy`` through ``source = "sensors"``): the attack acts on the loops' readings."""
    scenario = resolve_scenario(scenario_name)
    span = end_s if end_s is not None else scenario.duration_s
    chosen = tuple(loops) if loops else _default_loops(scenario_name)
    at = float(round(span * ATTACK_AT_SHARE))
    specs = [
        AttackSpec(scenario_name, s, (), d, end_s, controller=controller)
        for s in seeds
        for d in (False, True)
    ]
    for strategy in strategies:
        faults = attack_faults(chosen, strategy, at)
        specs += [
            AttackSpec(scenario_name, s, faults, d, end_s, strategy, controller)
            for s in seeds
            for d in (False, True)
        ]
    with ProcessPoolExecutor(max_workers=max(1, workers), initializer=nice_worker) as pool:
        outcomes = list(pool.map(run_one, specs))
    return summarise(scenario_name, tuple(seeds), chosen, outcomes, controller)


def _default_loops(scenario_name: str) -> tuple[str, ...]:
    from trafficai.sim.factory import open_backend
    from trafficai.sim.sumo_command import SumoOptions

    backend = open_backend(resolve_scenario(scenario_name), SumoOptions(), vehicles=False)
    try:
        return approach_loops(backend.geometry)
    finally:
        backend.close()


def _kind(spec: AttackSpec) -> str:
    base = spec.strategy or "healthy"
    return f"{base}_defended" if spec.defended else base


def summarise(
    scenario: str,
    seeds: tuple[int, ...],
    loops: tuple[str, ...],
    outcomes: Sequence[AttackOutcome],
    controller: str = CONTROLLER,
) -> AttackResult:
    by_kind: dict[str, list[float]] = {}
    fallbacks: dict[str, int] = {}
    for o in outcomes:
        by_kind.setdefault(_kind(o.spec), []).append(o.mean_delay_s)
        fallbacks[_kind(o.spec)] = fallbacks.get(_kind(o.spec), 0) + bool(o.fallback_signals)
    mean = {k: statistics.fmean(v) for k, v in by_kind.items()}
    healthy = mean.get("healthy", math.nan)
    strategies = sorted({o.spec.strategy for o in outcomes if o.spec.strategy})
    increases = {
        s: {
            "undefended": mean[s] / healthy - 1.0,
            "defended": mean[f"{s}_defended"] / healthy - 1.0,
        }
        for s in strategies
    }
    strongest = max(strategies, key=lambda s: increases[s]["undefended"])
    false_alarm_cost = mean.get("healthy_defended", math.nan) / healthy - 1.0  # defences on, no attack
    increases["healthy"] = {"undefended": 0.0, "defended": false_alarm_cost}
    return AttackResult(scenario, controller, seeds, loops, strongest, mean, increases, fallbacks)


def _no_nan(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
