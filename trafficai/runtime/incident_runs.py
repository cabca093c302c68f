"""Simulated runs for the incident-detection evaluation: a scenario with extra mid-block loops,
one lane-blocking incident (or none, same seed), and every loop's 30 s bins recorded as arrays.

The detectors are replayed over these recordings afterwards (``incident_eval.py``), so one
simulation serves every detector, every threshold and every detector spacing (a spacing is a
subset of the loops). Ground truth comes from SUMO: the incident's lane, position and time, and
the standing queue behind the block: every ``QUEUE_SAMPLE_S`` the halting vehicles on the blocked
lane upstream of the stopped vehicle are projected onto the lane, and the queue reaches back to the
rear of the last one still in a contiguous chain (gaps of at most ``QUEUE_GAP_M``). Vehicles
queued at the signal downstream of the block are not part of it.
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
from trafficai.sensors.camera_incidents import HEAD_COLUMNS, CameraReadings, lane_point, lane_positions
from trafficai.sensors.cameras import CameraSpec, in_view
from trafficai.sensors.loop_pairs import F64, LoopBinner
from trafficai.sim.backend import SimBackend
from trafficai.sim.net_loader import lane_geometry, read_net

EXTRA_LOOP_PREFIX = "aidloop_"
JAM_SPACING_M = 7.5  # SUMO's default car: 5 m long + 2.5 m minimum gap
QUEUE_GAP_M = 12.0  # front-to-front gap above which a halting vehicle is not in the queue
VEHICLE_M = 5.0  # a queue reaches back to the rear of its last vehicle
HALTING_M_S = 0.1  # SUMO's halting speed
QUEUE_SAMPLE_S = 5.0
MIN_INCIDENT_LANE_M = 120.0
CAMERA_MIN_DIST_M = 20.0  # camera incidents: this far from a lane's ends at least (not at a stop line)
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
    queue_m: F64  # per bin: longest queue behind the block seen in the bin (0 without one)
    queue_t: F64 = field(default_factory=lambda: np.zeros(0))  # sample times of queue_samples
    queue_samples: F64 = field(default_factory=lambda: np.zeros(0))  # queue behind the block (m)
    # the cameras' readings (``camera_incidents.HEAD_COLUMNS``) every QUEUE_SAMPLE_S, and the times
    camera_t: F64 = field(default_factory=lambda: np.zeros(0))
    camera_heads: F64 = field(default_factory=lambda: np.zeros((0, len(HEAD_COLUMNS))))
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


def draw_camera_incident(
    scenario: Scenario, seed: int, start_range: tuple[float, float], duration_s: float
) -> IncidentSection | None:
    """A lane-blocking incident at a random time, at a random place inside some camera's view
    (every 5 m of every lane that is in view, at least ``CAMERA_MIN_DIST_M`` from the lane's ends);
    None when no camera sees a lane."""
    lanes = lane_geometry(read_net(scenario.net))
    cameras = [CameraSpec.from_section(c) for c in scenario.cameras]
    places: list[tuple[int, float]] = []
    for i, (shape, length) in enumerate(zip(lanes.shapes, lanes.lengths, strict=True)):
        for pos in np.arange(CAMERA_MIN_DIST_M, float(length) - CAMERA_MIN_DIST_M, 5.0):
            point = lane_point(np.asarray(shape, dtype=np.float64), float(pos))[None, :]
            if any(bool(in_view(c, point)[0]) for c in cameras):
                places.append((i, round(float(pos), 1)))
    if not places:
        return None
    rng = random.Random(seed)
    lane, position = places[rng.randrange(len(places))]
    at = round(rng.uniform(*start_range))
    return IncidentSection(
        kind="block-lane", target=lanes.ids[lane], at=at, duration=duration_s, position=position
    )


def queue_behind(positions: F64, block_m: float) -> float:
    """Length (m) of the queue behind a stopped vehicle whose front is at ``block_m``: from its
    front back to the rear of the last halting vehicle in a contiguous chain (0: no queue)."""
    behind = np.sort(positions[positions < block_m - 1.0])[::-1]
    front, tail = block_m, None
    for pos in behind:
        if front - pos > QUEUE_GAP_M:
            break
        front = tail = float(pos)
    return 0.0 if tail is None else block_m - (tail - VEHICLE_M)


class _Recorder:
    """The observer that keeps every loop bin and the queue behind the block."""

    def __init__(self) -> None:
        self.binner: LoopBinner | None = None
        self.rows: list[tuple[float, F64, F64, F64, float]] = []
        self.queue = 0.0
        self.samples: list[tuple[float, float]] = []

    def observe(self, snapshot: Snapshot) -> list[Event]:
        if self.binner is None:
            self.binner = LoopBinner(len(snapshot.detectors.e1_occupancy))
        done = self.binner.sample(snapshot)
        if done is not None:
            self.rows.append((done.end_s, done.occupancy, done.speed, done.count, self.queue))
            self.queue = 0.0
        return []

    def measure_queue(self, time_s: float, backend: SimBackend, lane: int, block_m: float) -> None:
        vehicles, _ = backend.vehicle_state()
        on = (vehicles.lane == lane) & (vehicles.speed < HALTING_M_S)
        if not on.any():
            length = 0.0
        else:
            shape = backend.geometry.lanes.shapes[lane]
            length = queue_behind(lane_positions(shape, vehicles.xy[on].astype(np.float64)), block_m)
        self.samples.append((time_s, length))
        self.queue = max(self.queue, length)


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
    recorder = _Recorder()
    life = RunLifecycle(config, scenario, observers=[recorder])
    life.record(None, scenario.default_controller)
    notes: list[str] = []
    try:
        backend = life.open(warnings=False).backend
        geometry = backend.geometry
        inc = task.incident
        lane = geometry.lanes.index()[inc.target] if inc is not None else -1
        block_m = inc.position if inc is not None and inc.position is not None else 0.0
        window = (inc.at, inc.at + (inc.duration or 0.0)) if inc is not None else (0.0, -1.0)
        every = max(1, round(QUEUE_SAMPLE_S / backend.step_length_s))
        cameras = CameraReadings([CameraSpec.from_section(c) for c in scenario.cameras], geometry)
        heads: list[F64] = []
        camera_t: list[float] = []
        life.attach(make_controller(scenario.default_controller))
        incidents = ScriptedIncidents(config, backend)
        while backend.step < backend.end_step:
            incidents.advance()
            _, events = life.step()
            elapsed = backend.time_s - scenario.begin_s
            if lane >= 0 and backend.step % every == 0 and window[0] <= elapsed <= window[1]:
                recorder.measure_queue(elapsed, backend, lane, block_m)
            if cameras.cameras and backend.step % every == 0:
                camera_t.append(elapsed)
                heads.append(cameras.heads(elapsed, backend.vehicle_state()[0]))
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
        queue_t=np.array([t for t, _ in recorder.samples]),
        queue_samples=np.array([q for _, q in recorder.samples]),
        camera_t=np.array(camera_t),
        camera_heads=np.concatenate(heads) if heads else np.zeros((0, len(HEAD_COLUMNS))),
        events=notes,
    )
