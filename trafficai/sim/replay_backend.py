"""A SUMO-free backend that replays recorded snapshots and records every command it gets.

Used by tests (controllers, safety layer, GUI) and for showing a recorded run without SUMO.
Recordings are pickled ``Recording`` objects (geometry + snapshots), written by :func:`record`.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trafficai.core.geometry import NetGeometry
from trafficai.core.kpis import TripRecords
from trafficai.core.scenario import Scenario
from trafficai.core.signals import SignalProgram
from trafficai.core.snapshot import ALL_PARTS, Snapshot, VehicleArrays
from trafficai.errors import ScenarioError, SimulationError
from trafficai.sim.route_demand import route_demand_problem
from trafficai.sim.sumo_messages import SumoMessage


@dataclass(frozen=True, slots=True)
class Recording:
    scenario: Scenario
    geometry: NetGeometry
    step_length_s: float
    snapshots: tuple[Snapshot, ...]


@dataclass
class ReplayBackend:
    """Implements the SimBackend Protocol over a recording; actions are appended to ``actions``."""

    recording: Recording
    actions: list[tuple[str, ...]] = field(default_factory=list)
    _step: int = 0
    _signal_states: dict[str, str] = field(default_factory=dict)
    closed: bool = False
    load_warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.recording.snapshots:
            raise SimulationError("the recording holds no snapshots")
        self.scenario = self.recording.scenario
        self.geometry = self.recording.geometry
        self.step_length_s = self.recording.step_length_s

    @property
    def step(self) -> int:
        return self._step

    @property
    def end_step(self) -> int:
        return len(self.recording.snapshots) - 1

    @property
    def time_s(self) -> float:
        return self.scenario.begin_s + self._step * self.step_length_s

    def advance(self) -> None:
        if self.closed:
            raise SimulationError("replay backend is closed")
        self._step = min(self._step + 1, self.end_step)

    def snapshot(self, vehicles: bool = True, parts: frozenset[str] = ALL_PARTS) -> Snapshot:
        snap = self.recording.snapshots[self._step]
        if self._signal_states:
            states = tuple(
                self._signal_states.get(s.id, snap.signals.state[i])
                for i, s in enumerate(self.geometry.signals)
            )
            from dataclasses import replace

            snap = replace(snap, signals=replace(snap.signals, state=states))
        return snap

    def signal_state(self, signal_id: str) -> str:
        if signal_id in self._signal_states:
            return self._signal_states[signal_id]
        index = self.geometry.signal_index()[signal_id]
        return self.recording.snapshots[self._step].signals.state[index]

    def set_signal_state(self, signal_id: str, state: str) -> None:
        self._signal_states[signal_id] = state
        self.actions.append(("state", signal_id, state))

    def run_program(self, signal_id: str, program_id: str, phase_index: int) -> None:
        self._signal_states.pop(signal_id, None)
        self.actions.append(("program", signal_id, program_id, str(phase_index)))

    def install_program(self, signal_id: str, program: SignalProgram) -> None:
        self.actions.append(("install", signal_id, program.program_id))

    def set_demand_scale(self, factor: float) -> None:
        self.actions.append(("scale", f"{factor:g}"))

    def set_lane_closed(self, lane_id: str, closed: bool) -> None:
        self.actions.append(("lane", lane_id, "closed" if closed else "open"))

    def add_stopped_vehicle(self, lane_id: str, position_m: float, duration_s: float) -> str:
        self.actions.append(("block", lane_id, f"{position_m:g}", f"{duration_s:g}"))
        return f"incident_{lane_id}_{self._step}"

    def remove_vehicle(self, vehicle_id: str) -> None:
        self.actions.append(("remove", vehicle_id))

    def set_route_demand(self, edge_id: str, factor: float) -> None:
        problem = route_demand_problem(edge_id, factor, self.geometry.lanes.edges)
        if problem is not None:
            raise SimulationError(problem, scenario=self.scenario.name, time_s=self.time_s)
        self.actions.append(("route_demand", edge_id, f"{factor:g}"))

    def clear_route_demand(self, edge_id: str) -> None:
        if edge_id not in self.geometry.lanes.edges:
            raise SimulationError(
                f"unknown edge {edge_id!r}", scenario=self.scenario.name, time_s=self.time_s
            )
        self.actions.append(("route_demand", edge_id, "cleared"))

    def vehicle_state(self) -> tuple[VehicleArrays, tuple[str, ...]]:
        snap = self.recording.snapshots[self._step]
        return snap.vehicles, snap.vehicle_types

    def finish(self) -> TripRecords:
        self.close()
        return TripRecords.empty()

    def new_messages(self) -> list[SumoMessage]:
        return []  # a recording has no SUMO behind it

    def close(self) -> None:
        self.closed = True


def record(
    scenario: Scenario, geometry: NetGeometry, step_length_s: float, snapshots: Sequence[Snapshot], path: Path
) -> None:
    with path.open("wb") as fh:
        pickle.dump(Recording(scenario, geometry, step_length_s, tuple(snapshots)), fh)


def load_recording(path: Path) -> Recording:
    try:
        with path.open("rb") as fh:
            recording = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        raise ScenarioError(f"{path}: cannot read recording: {exc}") from exc
    if not isinstance(recording, Recording):
        raise ScenarioError(f"{path}: not a trafficai recording")
    return recording
