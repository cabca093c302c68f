"""Simulated runs for the incident-detection evaluation: a scenario with extra mid-block loops,
one lane-blocking incident (or none, same seed), and every loop's 30 s bins recorded as arrays.

The detectors are replayed over these recordings afterwards (``incident_eval.py``), so one
simulation serves every detector, every threshold and every detector spacing (a spacing is a
subset of the loops). Ground truth comes from SUMO: the incident's lane, position and time, and
the length of the standing queue on the blocked lane (halting vehicles x ``JAM_SPACING_M``).
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trafficai.config import IncidentSection, RunConfig, SimConfig
from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import Scenario, resolve_scenario
from trafficai.core.snapshot import Snapshot
from trafficai.errors import ScenarioError
from trafficai.sensors.loop_pairs import F64, LoopBinner
from trafficai.sim.net_loader import lane_geometry, read_net

EXTRA_LOOP_PREFIX = "aidloop_"
JAM_SPACING_M = 7.5  # SUMO's default car: 5 m long + 2.5 m minimum gap
MIN_INCIDENT_LANE_M = 120.0
LOOP_END_MARGIN_M = 30.0  # no extra loop this close to a lane's end (its stop-line loop is there)


@dataclass(frozen=True, slots=True)
class RunTask:
    scenario_dir: str  # the derived scenario (with the extra loops)
    seed: int
    demand: float
    end_s: float
    incident: IncidentSection | None = None


@dataclass
class Recording:
    """One run's loop bins (rows: bins, columns: ``geometry.e1`` order) and its ground truth."""

    task: RunTask
    geometry: NetGeometry
    end_s: F64
    occupancy: F64
    speed: F64
    count: F64
    queue_m: F64  # per bin: longest standing queue seen on the incident lane (0 without one)
    events: list[str] = field(default_factory=list)


def derived_scenario(source: str, folder: Path, spacing_m: float) -> Path:
    """A copy of the scenario's manifest in ``folder`` (absolute paths) whose additional files
    add E1 loops every ``spacing_m`` along every lane long enough; returns the folder."""
    scenario = resolve_scenario(source)
    if scenario.sumocfg is not None or scenario.source.name != "scenario.toml":
        raise ScenarioError(f"{source}: incident evaluation needs a scenario.toml scenario, not a .sumocfg")
    folder.mkdir(parents=True, exist_ok=True)
    loops = folder / "incident-loops.add.xml"
    loops.write_text(_extra_loops_xml(scenario, spacing_m))
    data = tomllib.loads(scenario.source.read_text())
    section = data["scenario"]
    section["net"] = str(scenario.net)
    section["routes"] = [str(p) for p in scenario.routes]
    section["additional"] = [str(p) for p in scenario.additional] + [str(loops)]
    data.pop("incidents", None)
    (folder / "scenario.toml").write_text(_toml(data))
    return folder


def _extra_loops_xml(scenario: Scenario, spacing_m: float) -> str:
    lanes = lane_geometry(read_net(scenario.net))
    rows = []
    for lane, length in zip(lanes.ids, lanes.lengths, strict=True):
        k = 1
        while k * spacing_m < float(length) - LOOP_END_MARGIN_M:
            rows.append(
                f'    <inductionLoop id="{EXTRA_LOOP_PREFIX}{lane}_{k}" lane="{lane}" '
                f'pos="{k * spacing_m:.1f}" period="3600" file="NUL"/>'
            )
            k += 1
    return "<additional>\n" + "\n".join(rows) + "\n</additional>\n"


def _toml(data: dict[str, object]) -> str:
    """Enough TOML for a manifest: tables and arrays of tables of scalars and string lists."""

    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    out: list[str] = []
    for name, table in data.items():
        tables: list[Any] = table if isinstance(table, list) else [table]
        for t in tables:
            out.append(f"[[{name}]]" if isinstance(table, list) else f"[{name}]")
            out += [f"{k} = {value(v)}" for k, v in dict(t).items()]
            out.append("")
    return "\n".join(out)


def draw_incident(
    scenario: Scenario, seed: int, start_range: tuple[float, float], duration_s: float
) -> IncidentSection:
    """A lane-blocking incident at a random time and place (seeded): a lane of at least
    ``MIN_INCIDENT_LANE_M``, between 35 % and 85 % of its length."""
    lanes = lane_geometry(read_net(scenario.net))
    candidates = [i for i, length in enumerate(lanes.lengths) if length >= MIN_INCIDENT_LANE_M]
    rng = random.Random(seed)
    lane = candidates[rng.randrange(len(candidates))]
    position = round(float(lanes.lengths[lane]) * rng.uniform(0.35, 0.85), 1)
    at = round(rng.uniform(*start_range))
    return IncidentSection(
        kind="block-lane", target=lanes.ids[lane], at=at, duration=duration_s, position=position
    )


class _Recorder:
    """The observer that keeps every loop bin and the incident lane's standing queue."""

    def __init__(self, incident_lane: str | None) -> None:
        self.incident_lane = incident_lane
        self.binner: LoopBinner | None = None
        self.lane_index = -1
        self.rows: list[tuple[float, F64, F64, F64, float]] = []
        self.queue = 0.0

    def observe(self, snapshot: Snapshot) -> list[Event]:
        if self.binner is None:
            self.binner = LoopBinner(len(snapshot.detectors.e1_occupancy))
        if self.lane_index >= 0 and snapshot.lanes.halting.size:
            self.queue = max(self.queue, float(snapshot.lanes.halting[self.lane_index]) * JAM_SPACING_M)
        done = self.binner.sample(snapshot)
        if done is not None:
            self.rows.append((done.end_s, done.occupancy, done.speed, done.count, self.queue))
            self.queue = 0.0
        return []


def simulate(task: RunTask) -> Recording:
    """Run one task headless (no run store, the scenario's default controller) and record it."""
    from trafficai.control.registry import make_controller
    from trafficai.runtime.lifecycle import RunLifecycle
    from trafficai.runtime.session import ScriptedIncidents

    scenario = resolve_scenario(task.scenario_dir)
    config = RunConfig(
        scenario=task.scenario_dir,
        end_s=task.end_s,
        sim=SimConfig(seed=task.seed, demand_scale=task.demand),
        incidents=(task.incident,) if task.incident is not None else (),
    )
    recorder = _Recorder(task.incident.target if task.incident else None)
    life = RunLifecycle(config, scenario, observers=[recorder])
    life.record(None, scenario.default_controller)
    notes: list[str] = []
    try:
        backend = life.open(warnings=False).backend
        geometry = backend.geometry
        if task.incident is not None:
            recorder.lane_index = geometry.lanes.index()[task.incident.target]
        life.attach(make_controller(scenario.default_controller))
        incidents = ScriptedIncidents(config, backend)
        while backend.step < backend.end_step:
            incidents.advance()
            _, events = life.step()
            notes += [
                f"{e.kind}: {e.message}" for e in incidents.take_events() + events if e.severity != "info"
            ]
    finally:
        life.close_simulation()
    rows = recorder.rows
    n = len(geometry.e1)

    def stack(k: int) -> F64:
        return np.array([r[k] for r in rows], dtype=np.float64).reshape(len(rows), n)

    return Recording(
        task,
        geometry,
        np.array([r[0] for r in rows]),
        stack(1),
        stack(2),
        stack(3),
        np.array([r[4] for r in rows]),
        notes,
    )
