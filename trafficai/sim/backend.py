"""The simulation backend Protocol: everything above ``sim/`` talks to SUMO through this."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from trafficai.core.detours import RouteRepairs
from trafficai.core.geometry import NetGeometry
from trafficai.core.kpis import TripRecords
from trafficai.core.scenario import Scenario
from trafficai.core.signals import SignalProgram
from trafficai.core.snapshot import ALL_PARTS, Snapshot, VehicleArrays
from trafficai.sim.sumo_getters import ValueReader
from trafficai.sim.sumo_messages import SumoMessage


class SignalActuator(Protocol):
    """The narrow interface the safety layer uses to set signals."""

    def set_signal_state(self, signal_id: str, state: str) -> None: ...

    def signal_state(self, signal_id: str) -> str: ...

    def run_program(self, signal_id: str, program_id: str, phase_index: int) -> None:
        """Hand the signal to one of its SUMO programs, starting at ``phase_index``."""
        ...

    def install_program(self, signal_id: str, program: SignalProgram) -> None:
        """Add a program (e.g. an actuated variant) SUMO can run by id."""
        ...


class SimBackend(SignalActuator, Protocol):
    scenario: Scenario
    geometry: NetGeometry
    step_length_s: float
    load_warnings: tuple[str, ...]  # SUMO's warnings while loading (none from a non-SUMO backend)

    @property
    def step(self) -> int: ...

    @property
    def time_s(self) -> float: ...

    @property
    def end_step(self) -> int: ...

    def advance(self) -> None:
        """One simulation step."""
        ...

    def snapshot(self, vehicles: bool = True, parts: frozenset[str] = ALL_PARTS) -> Snapshot:
        """State now; ``parts`` limits what optional aggregates are read (others are empty)."""
        ...

    def value_reader(self, kind: str, value: str) -> ValueReader | None:
        """A reader of one value of :data:`~trafficai.sim.sumo_getters.GETTERS` (``kind`` lane, e1,
        e2 or vehicle) for the given object ids, in the snapshot's units; None where the backend cannot read
        single values (replay): callers read whole snapshots instead."""
        ...

    def pending_vehicles(self) -> tuple[str, ...]:
        """Vehicles waiting to be inserted (their first edge is full); none on a replay."""
        ...

    def vehicle_route(self, vehicle_id: str) -> tuple[str, ...]:
        """The edges of a vehicle's route (also while it waits to be inserted)."""
        ...

    def new_messages(self) -> list[SumoMessage]:
        """SUMO's warnings and errors logged since the last call: whole lines, at most 256 KiB per
        call; empty without ``SumoOptions.message_log`` or on a non-SUMO backend. SUMO writes the
        log in blocks (~8 KiB), so messages come in batches; what is left can be read after
        :meth:`close`. The caller limits how many it shows."""
        ...

    def set_demand_scale(self, factor: float) -> None: ...

    def set_lanes_closed(self, lane_ids: tuple[str, ...], closed: bool) -> RouteRepairs:
        """Close (or reopen) lanes through SUMO's permissions. Closing repairs the routes it cuts:
        of every vehicle loaded now, and, while a lane is closed, of every vehicle loaded later
        (policy: :mod:`trafficai.core.detours`); returns what was repaired now. Reopening gives the
        lanes their own permissions back. Raises SimulationError for an unknown lane."""
        ...

    def route_repairs(self) -> RouteRepairs:
        """Route repairs since the simulation started (all closures together)."""
        ...

    def add_stopped_vehicle(self, lane_id: str, position_m: float, duration_s: float) -> str: ...

    def remove_vehicle(self, vehicle_id: str) -> None: ...

    def set_route_demand(self, edge_id: str, factor: float) -> None:
        """Scale the demand on the routes through ``edge_id`` from now on: each vehicle departing
        later whose route passes the edge is kept ``factor`` times on average (0 <= factor <= 5;
        below 1 some are removed as they depart, above 1 copies are added). Replaces an earlier
        factor on the edge; raises SimulationError for an unknown edge or a factor out of range."""
        ...

    def clear_route_demand(self, edge_id: str) -> None:
        """Stop scaling the routes through ``edge_id`` (vehicles already added stay)."""
        ...

    def vehicle_state(self) -> tuple[VehicleArrays, tuple[str, ...]]:
        """Every vehicle now and the vehicle type names (also when vehicle subscriptions are off)."""
        ...

    def save_state(self, path: Path) -> None:
        """SUMO's whole state now into ``path`` (with its RNGs when the run was started with
        state saving); raises SimulationError where the backend cannot (replay)."""
        ...

    def finish(self) -> TripRecords:
        """Close SUMO and return the per-vehicle trip records of the run (finished or not)."""
        ...

    def close(self) -> None: ...
