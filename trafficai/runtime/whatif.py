"""What-if branches: fork K alternatives from one moment of a run and compare their KPIs.

    specs = [parse_branch("controller=max-pressure"), parse_branch("incident=close-lane:L")]
    state = SUMO's saved state at T (``--save-state.rng``: vehicles, signals, RNGs)
    results = run_branches(tasks, jobs=2)     # one process per branch, ``jobs`` at a time

Each branch loads the state in its own process (libsumo: one simulation per process), applies its
change at T and runs for the horizon; a branch that fails or whose process dies is reported with
one line while the others finish. KPIs are over the vehicles still travelling at T or later (trip
records with arrival after T, or unfinished): the same window for every branch and for the
uninterrupted run. Demand branches scale the vehicles departing from T on, on every edge where
trips start (``route demand``), the same way in a branch and in a full re-run.

This module is the state-file way (the fallback): ``runtime/whatif_fork.py`` forks the running
process instead, which is exact (SUMO's saved state does not carry lane-change and car-following
internals) and has no process start or state load; it is used wherever it can be (Linux, libsumo).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from trafficai.config import RunConfig
from trafficai.control.registry import controller_names, make_controller
from trafficai.core.events import Event
from trafficai.core.kpis import QueueTracker, TripRecords, run_kpis
from trafficai.core.scenario import Scenario
from trafficai.errors import ConfigError, TrafficAIError
from trafficai.runtime.commands import BlockLane, CloseEdge, CloseLane
from trafficai.runtime.resume import resumed
from trafficai.sim.state_files import SavedState

UNCHANGED = "unchanged"
NICE = 10
INCIDENT_KINDS = ("close-lane", "close-edge", "block-lane")


@dataclass(frozen=True, slots=True)
class BranchSpec:
    """One alternative: ``controller=NAME[:SIG,...]``, ``incident=KIND:TARGET``, ``demand=F`` or
    ``unchanged``."""

    text: str
    controller: str = ""
    signals: tuple[str, ...] = ()
    incident: tuple[str, str] | None = None  # (kind, target)
    demand: float | None = None


def parse_branch(text: str) -> BranchSpec:
    """A branch from its command-line text; ConfigError naming the branch when it is wrong."""
    raw = text.strip()
    if raw == UNCHANGED:
        return BranchSpec(raw)
    key, sep, value = raw.partition("=")
    if not sep or not value:
        raise ConfigError(f"branch {text!r}: expected controller=NAME, incident=KIND:TARGET or demand=FACTOR")
    if key == "controller":
        name, _, signals = value.partition(":")
        if name not in controller_names():
            raise ConfigError(
                f"branch {text!r}: unknown controller {name!r} (known: {', '.join(controller_names())})"
            )
        return BranchSpec(raw, controller=name, signals=tuple(s for s in signals.split(",") if s))
    if key == "incident":
        kind, _, target = value.partition(":")
        if kind not in INCIDENT_KINDS or not target:
            raise ConfigError(f"branch {text!r}: expected incident=close-lane|close-edge|block-lane:TARGET")
        return BranchSpec(raw, incident=(kind, target))
    if key == "demand":
        try:
            factor = float(value)
        except ValueError:
            factor = math.nan
        if not (0.0 <= factor <= 5.0):
            raise ConfigError(f"branch {text!r}: demand must be a factor between 0 and 5")
        return BranchSpec(raw, demand=factor)
    raise ConfigError(f"branch {text!r}: unknown key {key!r} (controller, incident, demand)")


def check_targets(specs: Sequence[BranchSpec], lane_ids: set[str], edge_ids: set[str]) -> None:
    """Refuse, before anything runs, a branch naming a lane or edge the network lacks."""
    for spec in specs:
        if spec.incident is None:
            continue
        kind, target = spec.incident
        known = edge_ids if kind == "close-edge" else lane_ids
        if target not in known:
            what = "edge" if kind == "close-edge" else "lane"
            raise ConfigError(f"branch {spec.text!r}: the network has no {what} {target!r}")


@dataclass(frozen=True, slots=True)
class BranchTask:
    spec: BranchSpec
    config: RunConfig  # the run's config (scenario, seed, controller of the live run)
    scenario: Scenario
    at_s: float
    horizon_s: float
    state: Path | None  # None: a full re-run from the scenario's begin, changed at ``at_s``
    base_controller: str
    save_state_to: Path | None = None  # a full re-run that also saves the state at ``at_s``


@dataclass
class BranchResult:
    branch: str
    kpis: dict[str, float] = field(default_factory=dict)
    error: str = ""
    wall_s: float = 0.0
    events: list[str] = field(default_factory=list)


def window_trips(trips: TripRecords, after_s: float) -> TripRecords:
    """The vehicles still travelling at ``after_s`` or later (arrived after it, or unfinished)."""
    keep = (trips.arrival > after_s) | (trips.arrival < 0)
    idx = np.flatnonzero(keep)
    return TripRecords(
        tuple(trips.ids[i] for i in idx),
        trips.depart[idx],
        trips.arrival[idx],
        trips.duration[idx],
        trips.time_loss[idx],
        trips.depart_delay[idx],
        trips.waiting_time[idx],
        trips.waiting_count[idx],
        trips.co2_mg[idx],
    )


def source_edges(successors: dict[str, tuple[str, ...]], lane_edges: dict[str, str]) -> tuple[str, ...]:
    """Edges no lane leads into: where trips start (every vehicle passes exactly one of them)."""
    entered = {lane_edges[t] for outs in successors.values() for t in outs if t in lane_edges}
    return tuple(sorted(set(lane_edges.values()) - entered))


def apply_branch(
    spec: BranchSpec, life: Any, operator: Any, horizon_s: float, sources: Sequence[str]
) -> None:
    """Apply the branch's change to a running lifecycle (raises TrafficAIError when refused)."""
    backend = life.backend
    if spec.controller:
        life.attach(make_controller(spec.controller), spec.signals or None)
    if spec.incident is not None:
        kind, target = spec.incident
        if kind == "close-lane":
            operator.close(backend, CloseLane(target, "whatif", spec.text))
        elif kind == "close-edge":
            operator.close(backend, CloseEdge(target, "whatif", spec.text))
        else:
            lanes = backend.geometry.lanes
            length = float(lanes.lengths[lanes.index()[target]])
            operator.block(backend, BlockLane(target, length / 2, horizon_s + 1.0, "whatif", spec.text))
    if spec.demand is not None:
        for edge in sources:
            backend.set_route_demand(edge, spec.demand)


def run_branch(task: BranchTask) -> BranchResult:
    """One branch in this process: from the state (or from the begin, changed at T) to T+horizon."""
    from trafficai.runtime.lifecycle import RunLifecycle
    from trafficai.runtime.operator_state import OperatorState
    from trafficai.sim.net_loader import lane_successors
    from trafficai.sim.sumo_command import StateSaving

    started = time.perf_counter()
    notes: list[str] = []
    scenario, config = task.scenario, task.config
    begin = scenario.begin_s
    if task.state is not None:
        scenario, config = resumed(scenario, config, SavedState(task.state, task.at_s))
    end_s = task.at_s + task.horizon_s - scenario.begin_s
    config = config.model_copy(update={"end_s": end_s, "incidents": ()})
    life = RunLifecycle(config, scenario)
    life.record(None, task.base_controller)
    operator = OperatorState(lambda severity, kind, message, *_: notes.append(f"{kind}: {message}"))
    saving = StateSaving(task.save_state_to, task.at_s - begin, 1) if task.save_state_to else None
    try:
        backend = life.open(warnings=False, load_state=task.state, state_saving=saving).backend
        life.attach(make_controller(task.base_controller), config.signals or None)
        sources: tuple[str, ...] = ()
        if task.spec.demand is not None:  # reading the connections costs a second on a large net
            lanes = backend.geometry.lanes
            sources = source_edges(
                lane_successors(scenario.net), dict(zip(lanes.ids, lanes.edges, strict=True))
            )
        recorder = life.recorder
        assert recorder is not None
        applied = task.state is not None
        if applied:
            apply_branch(task.spec, life, operator, task.horizon_s, sources)
        while backend.step < backend.end_step:
            if not applied and backend.time_s >= task.at_s - 1e-9:
                apply_branch(task.spec, life, operator, task.horizon_s, sources)
                recorder.queue = QueueTracker()  # queue KPIs over the horizon only, as in a branch
                applied = True
            life.step()
        final = backend.snapshot(vehicles=False)
        trips = backend.finish()
        kpis = run_kpis(
            window_trips(trips, task.at_s), recorder.queue.stats(), final.counters.teleports_total
        )
    except TrafficAIError as exc:
        return BranchResult(task.spec.text, error=str(exc), wall_s=time.perf_counter() - started)
    finally:
        life.close_simulation()
    return BranchResult(task.spec.text, kpis, wall_s=round(time.perf_counter() - started, 2), events=notes)


def _child(target: Callable[[BranchTask], BranchResult], task: BranchTask, conn: Connection) -> None:
    os.nice(max(0, NICE - os.nice(0)))  # nice 10, not 10 more than a parent already at 10
    try:
        conn.send(target(task))
    except Exception as exc:  # a branch must come back as a line, whatever broke in it
        conn.send(BranchResult(task.spec.text, error=f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def run_branches(
    tasks: Sequence[BranchTask], jobs: int = 2, target: Callable[[BranchTask], BranchResult] = run_branch
) -> list[BranchResult]:
    """Every task in its own process, ``jobs`` at a time; a process that dies without a result
    is reported as that branch's error (the others go on)."""
    ctx = get_context("spawn")
    results: dict[int, BranchResult] = {}
    pending = list(enumerate(tasks))
    running: list[tuple[int, Any, Connection]] = []
    while pending or running:
        while pending and len(running) < max(1, jobs):
            i, task = pending.pop(0)
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(target, task, child), daemon=True)
            proc.start()
            child.close()
            running.append((i, proc, parent))
        for entry in list(running):
            i, proc, conn = entry
            result: BranchResult | None = None
            if conn.poll(0.02):
                try:
                    result = conn.recv()
                except EOFError:  # the process died: its pipe closed without a result
                    result = None
            elif proc.is_alive():
                continue
            proc.join()
            if result is None:
                result = BranchResult(
                    tasks[i].spec.text, error=f"branch worker crashed (exit code {proc.exitcode})"
                )
            results[i] = result
            running.remove(entry)
    return [results[i] for i in range(len(tasks))]


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-a of two rankings of the same items (1: same order)."""
    n, s = len(a), 0
    for i in range(n):
        for j in range(i + 1, n):
            s += int(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j]))
    pairs = n * (n - 1) / 2
    return s / pairs if pairs else 1.0


def branch_events(results: Sequence[BranchResult], at_s: float) -> list[Event]:
    return [
        Event(at_s, "warning" if r.error else "info", "whatif", f"branch {r.branch}: {r.error or 'done'}")
        for r in results
    ]


def with_state(task: BranchTask, state: Path) -> BranchTask:
    return replace(task, state=state, save_state_to=None)
