"""What the control center and the simulation worker say to each other.

Commands go from the GUI (or any client) to the worker that owns SUMO; messages come back. All are
small frozen dataclasses that pickle across a process boundary. Nothing here imports Qt or SUMO.

The worker publishes frames "latest wins" (a slow consumer misses frames, never the simulation);
every other message (events, KPI samples, signal changes, refusals) is always delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot

OVERRIDE_ACTIONS = ("hold", "force", "flash")
MAX_ROUTE_DEMAND = 5.0  # the largest factor for demand through an edge (RouteDemand)

# -- commands (client -> worker) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Play:
    """Run the simulation at the current speed."""


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop advancing; the simulation stays loaded."""


@dataclass(frozen=True, slots=True)
class Step:
    """Advance ``count`` steps (pauses first)."""

    count: int = 1


@dataclass(frozen=True, slots=True)
class SetSpeed:
    """Target real-time factor (simulated seconds per wall second); ``None``: as fast as possible."""

    factor: float | None


@dataclass(frozen=True, slots=True)
class Restart:
    """Start the scenario again from its beginning, keeping the controller and demand settings."""

    user: str = ""


@dataclass(frozen=True, slots=True)
class Jump:
    """Go to simulation time ``time_s`` (forward: as fast as possible; backward: restart, then forward)."""

    time_s: float
    user: str = ""


@dataclass(frozen=True, slots=True)
class SetController:
    """Give ``signals`` (empty: every controllable signal) to the controller called ``name``."""

    name: str
    signals: tuple[str, ...] = ()
    user: str = ""


@dataclass(frozen=True, slots=True)
class DemandScale:
    """Scale the demand still to be inserted (1.0: as the scenario defines it)."""

    factor: float
    user: str = ""


@dataclass(frozen=True, slots=True)
class Override:
    """Operator override through the safety layer: ``hold`` | ``force`` | ``flash``, expiring.

    ``force`` goes to the next green stage, or to stage ``green`` when given.
    """

    signal_id: str
    action: str
    duration_s: float
    reason: str
    user: str
    green: int | None = None


@dataclass(frozen=True, slots=True)
class ClearOverride:
    signal_id: str
    user: str = ""


@dataclass(frozen=True, slots=True)
class CloseLane:
    lane_id: str
    user: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CloseEdge:
    edge_id: str
    user: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OpenLane:
    """Reopen a lane (and end the incidents that closed it)."""

    lane_id: str
    user: str = ""


@dataclass(frozen=True, slots=True)
class BlockLane:
    """A stopped vehicle on ``lane_id`` at ``position_m`` for ``duration_s`` (a breakdown, a crash)."""

    lane_id: str
    position_m: float
    duration_s: float
    user: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RouteDemand:
    """Scale the demand on the routes through ``edge_id``: of every vehicle that departs from now on
    and whose route passes the edge, ``factor`` copies on average (0: none, 0.5: half, 2: double).

    Setting it again on the same edge replaces the factor; ``ClearIncident`` or ``RestoreAll`` end it.
    """

    edge_id: str
    factor: float
    user: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ClearIncident:
    incident_id: str
    user: str = ""


@dataclass(frozen=True, slots=True)
class RestoreAll:
    """End every incident and set the demand back to the run's own scale."""

    user: str = ""


@dataclass(frozen=True, slots=True)
class SetFrames:
    """Publish frames (vehicle positions for a map) or not; off, the worker runs as fast as headless."""

    enabled: bool


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Finish the run record and exit the worker."""


Command = (
    Play
    | Pause
    | Step
    | SetSpeed
    | Restart
    | Jump
    | SetController
    | DemandScale
    | Override
    | ClearOverride
    | CloseLane
    | CloseEdge
    | OpenLane
    | BlockLane
    | RouteDemand
    | ClearIncident
    | RestoreAll
    | SetFrames
    | Shutdown
)

# -- messages (worker -> client) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CameraView:
    """Where a scenario's camera stands and looks (degrees, SUMO convention: 0 = north, clockwise)."""

    id: str
    junction: str
    x: float
    y: float
    heading: float
    fov: float
    range_m: float = 60.0


@dataclass(frozen=True, slots=True)
class SignalView:
    """One intersection as the operator sees it."""

    signal_id: str
    controller: str  # controller in charge ("fixed", "max-pressure", ...)
    controlled: bool  # driven through the safety state machine (else a SUMO program runs)
    current_green: int  # -1 while a SUMO program runs
    n_greens: int
    stage: str  # green | yellow | all_red | flash | held | program:<id>
    time_in_stage_s: float
    override: str = ""  # hold | force | flash while an operator override is active
    override_left_s: float = 0.0
    override_reason: str = ""
    override_user: str = ""


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: str
    kind: str  # lane closed | edge closed | lane blocked | route demand
    target: str  # lane or edge id
    lanes: tuple[str, ...]  # the lanes it affects (route demand: the edge's lanes, still open)
    since_s: float
    until_s: float | None = None  # lane blocked: when the stopped vehicle leaves
    position_m: float = 0.0
    user: str = ""
    reason: str = ""
    vehicle: str = ""
    demand_factor: float | None = None  # route demand: the factor on routes through ``target``

    @property
    def closes_lanes(self) -> bool:
        """Whether its lanes are closed to traffic (a lane or edge closure)."""
        return not self.vehicle and self.demand_factor is None


@dataclass(frozen=True, slots=True)
class Ready:
    """A simulation has (re)started; ``generation`` counts starts of this worker."""

    generation: int
    scenario: str
    source: str
    description: str
    geometry: NetGeometry
    cameras: tuple[CameraView, ...]
    greens: dict[str, tuple[str, ...]]
    controllable: tuple[str, ...]
    controllers: tuple[str, ...]
    controller: str
    run_id: str
    begin_s: float
    end_s: float
    step_length_s: float
    demand_scale: float


@dataclass(frozen=True, slots=True)
class Frame:
    """Everything a map needs for one step. Published "latest wins"."""

    generation: int
    seq: int
    snapshot: Snapshot
    signals: tuple[SignalView, ...]
    playing: bool
    speed: float | None
    rtf: float  # simulated seconds per wall second, measured
    steps_per_s: float


@dataclass(frozen=True, slots=True)
class Progress:
    """Periodic heartbeat (also while frames are off or during a jump)."""

    generation: int
    step: int
    time_s: float
    running: int  # vehicles on the network at the last KPI sample
    playing: bool
    speed: float | None
    rtf: float
    steps_per_s: float
    steps_total: int  # steps taken by this worker since it started (all generations)
    wall_s: float  # the worker's monotonic clock when this was sent
    busy: str = ""  # "jump" while jumping
    frames: bool = True


@dataclass(frozen=True, slots=True)
class KpiSample:
    """Network-wide and per-intersection values at ``time_s`` (the run store's metric names)."""

    generation: int
    time_s: float
    network: dict[str, float]
    signals: dict[str, dict[str, float]]


@dataclass(frozen=True, slots=True)
class SignalChanges:
    """Signal state changes, step by step: (signal index, time, new state string)."""

    generation: int
    changes: tuple[tuple[int, float, str], ...]


@dataclass(frozen=True, slots=True)
class Events:
    generation: int
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class Incidents:
    generation: int
    incidents: tuple[IncidentView, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    """A command was not applied; ``message`` says why in one line."""

    command: str
    message: str


@dataclass(frozen=True, slots=True)
class Failed:
    """The simulation could not start or stopped with an error; the worker waits for Restart."""

    message: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class Finished:
    """The scenario reached its end; final KPIs of the recorded run."""

    generation: int
    time_s: float
    run_id: str
    kpis: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Closed:
    """The worker finished its run record and exits."""


Message = (
    Ready
    | Frame
    | Progress
    | KpiSample
    | SignalChanges
    | Events
    | Incidents
    | Refused
    | Failed
    | Finished
    | Closed
)


def describe(command: Any) -> str:
    """Short name of a command for messages ("Override", "CloseLane")."""
    return type(command).__name__
