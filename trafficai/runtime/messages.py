"""What the simulation worker tells its client (the GUI): small frozen dataclasses that pickle.

Frames (:class:`SimFrame`, one simulation step with every vehicle) are published "latest wins": a
slow consumer misses frames, never the simulation. Every other message (events, KPI samples,
signal changes, refusals) is always delivered. Nothing here imports Qt or SUMO.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.core.timing import SignalTiming
from trafficai.sensors.health import DetectorHealth
from trafficai.sensors.intervals import IntervalStats


@dataclass(frozen=True, slots=True)
class CameraView:
    """Where a scenario's camera stands and looks (degrees, SUMO convention: 0 = north, clockwise):
    the manifest's cameras and the approach cameras placed over its main junctions, full pose."""

    id: str
    junction: str
    x: float
    y: float
    heading: float
    fov: float
    range_m: float = 60.0
    height: float = 8.0  # m above the ground
    tilt: float = 20.0  # deg below the horizon
    image_width: int = 1280
    image_height: int = 720
    frame_rate: float = 25.0


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
    override: str = ""  # while an operator override is active: hold | force next | force stage N | flash
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


SEVERITIES = ("minor", "moderate", "major")


def incident_severity(incident: IncidentView, lanes_on_edge: int) -> str:
    """How much capacity an incident takes, from its kind and the lanes it affects:

    * major: no lane of the edge is left (an edge closure; a lane closed or blocked on a one-lane edge,
      or on every lane of its edge);
    * moderate: a lane closed or blocked while others of the edge stay open;
    * minor: route demand scaling (no lane is taken; the demand changes).
    """
    if incident.demand_factor is not None:
        return "minor"
    if incident.kind == "edge closed" or len(set(incident.lanes)) >= max(lanes_on_edge, 1):
        return "major"
    return "moderate"


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
    timings: dict[str, SignalTiming] = field(default_factory=dict)  # signal id -> the net file's program


@dataclass(frozen=True, slots=True)
class Inspected:
    """What the worker adds to each frame about the object the operator inspects (``Inspect``):
    a vehicle's route, a detector's last 30 s and 5 min."""

    kind: str  # vehicle | e1 | e2
    object_id: str
    route: tuple[str, ...] = ()  # vehicle: the edges of its route, as SUMO has it now (reroutes too)
    route_index: int = -1  # vehicle: the edge of ``route`` it is on (-1: unknown)
    time_loss_s: float = float("nan")  # vehicle: delay so far, SUMO's timeLoss
    intervals: tuple[IntervalStats, ...] = ()  # detector: one per window, shortest first


@dataclass(frozen=True, slots=True)
class SimFrame:
    """Everything a map needs for one step. Published "latest wins"."""

    generation: int
    seq: int
    snapshot: Snapshot
    signals: tuple[SignalView, ...]
    playing: bool
    speed: float | None
    rtf: float  # simulated seconds per wall second, measured
    steps_per_s: float
    inspected: Inspected | None = None
    # signal states (and frames) have been followed step by step since this time: before it lies a
    # jump or a time with frames off, which the phase timeline draws as a gap
    tracked_since_s: float = -float("inf")
    # detector id -> health, judged by the worker at simulation rate (the GUI only shows it)
    detector_health: dict[str, DetectorHealth] = field(default_factory=dict)
    # loops whose readings the controllers get substituted now ([health] substitute; failed loops)
    substituted: frozenset[str] = frozenset()


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
    log_path: str = ""  # the worker's log file, where the details (a traceback) are
    resume_from_s: float | None = None  # time of the last saved state: ``Resume`` goes on from it


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


@dataclass(frozen=True, slots=True)
class DeviceView:
    """One connected device as the devices panel shows it (times are simulation seconds)."""

    id: str
    kind: str  # e1 | e2 | camera
    source: str  # the detector (or camera) it is
    state: str  # online | offline | silent (online, but nothing heard for three bins) | unknown
    last_seen_s: float | None
    stored: int  # bins in the run store
    gaps: int  # sequence numbers missing below the highest stored
    drops: tuple[tuple[str, int], ...]  # (reason, count) so far
    latest: tuple[tuple[str, float], ...]  # the last stored bin's values
    # its count (E1), vehicles (E2) or crossings (camera) over the last bins, oldest first
    history: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """The device network now: sent at a modest rate (about once a second) while it changes."""

    generation: int
    time_s: float
    transport: str  # in-process | mqtt
    broker: str  # host:port of the broker ('' on the in-process bus)
    connected: bool  # the control center's link to the broker (always True in-process)
    devices: tuple[DeviceView, ...]
    stored: int
    dropped: int


@dataclass(frozen=True, slots=True)
class WhatIfResults:
    """The what-if branches forked at ``at_s``: per branch its text, KPIs and error (empty: ran)."""

    at_s: float
    horizon_s: float
    rows: tuple[tuple[str, dict[str, float], str], ...]
    wall_s: float


@dataclass(frozen=True, slots=True)
class ForecastUpdate:
    """Forecasts after the 30 s detector bin ending at ``time_s`` (runtime/live_forecast.py):
    per variable ("flow" veh/h, "speed" m/s) and horizon in minutes, (point, low, high) per object
    of ``objects`` (80 % interval); ``network_flow``: the sum over approaches (low/high summed too:
    a conservative band); ``quality_mae``: rolling MAE of the +15 min flow forecasts made earlier
    against what then happened (None until the first comes due)."""

    time_s: float
    objects: tuple[str, ...]
    values: dict[str, dict[int, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]]]
    network_flow: dict[int, tuple[float, float, float]]
    quality_mae: float | None = None
    quality_samples: int = 0


@dataclass(frozen=True, slots=True)
class FaultView:
    """One injected fault of the live run (simulation seconds): number ``index`` of the run's
    faults, from ``at_s`` to ``until_s`` (None: until cleared); ``user``: who injected it from the
    GUI ('' for the run's own ``--fault`` / ``[[faults]]``)."""

    index: int
    device: str
    kind: str
    at_s: float
    until_s: float | None
    param: float | None
    user: str = ""

    def state(self, time_s: float) -> str:
        """pending | active | ended at simulation time ``time_s``."""
        if time_s < self.at_s:
            return "pending"
        return "active" if self.until_s is None or time_s < self.until_s else "ended"


@dataclass(frozen=True, slots=True)
class InjectedFaults:
    """The live run's injected faults, sent at the start and after each injection or clearing."""

    generation: int
    faults: tuple[FaultView, ...]


Message = (
    Ready
    | SimFrame
    | Progress
    | KpiSample
    | SignalChanges
    | Events
    | Incidents
    | Refused
    | Failed
    | Finished
    | Closed
    | DeviceStatus
    | WhatIfResults
    | ForecastUpdate
    | InjectedFaults
)
