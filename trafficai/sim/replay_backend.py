"""A SUMO-free backend that replays recorded snapshots and records every command it gets.

Used by tests (controllers, safety layer, route demand) to run the control stack without SUMO.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trafficai.core.detours import RouteRepairs
from trafficai.core.geometry import NetGeometry
from trafficai.core.kpis import TripRecords
from trafficai.core.scenario import Scenario
from trafficai.core.signals import SignalProgram
from trafficai.core.snapshot import ALL_PARTS, Snapshot, VehicleArrays
from trafficai.errors import SimulationError
from trafficai.sim.route_demand import route_demand_problem
from trafficai.sim.sumo_getters import ValueReader
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
    load_warnings: tuple[str, ...] = ()  # nothing was loaded by SUMO

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

    def value_reader(self, kind: str, value: str) -> ValueReader | None:
        return None  # recorded snapshots only: readers take whole snapshots

    def pending_vehicles(self) -> tuple[str, ...]:
        return ()  # a recording holds no insertion queue

    def vehicle_route(self, vehicle_id: str) -> tuple[str, ...]:
        return ()  # nor routes

    def new_messages(self) -> list[SumoMessage]:
        return []

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

    def set_lanes_closed(self, lane_ids: tuple[str, ...], closed: bool) -> RouteRepairs:
        for lane_id in lane_ids:
            self.actions.append(("lane", lane_id, "closed" if closed else "open"))
        return RouteRepairs()

    def route_repairs(self) -> RouteRepairs:
        return RouteRepairs()

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

    def save_state(self, path: Path) -> None:
        raise SimulationError("a replayed run has no SUMO state to save")

    def finish(self) -> TripRecords:
        self.close()
        return TripRecords.empty()

    def close(self) -> None:
        self.closed = True
