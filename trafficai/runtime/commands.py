"""What a client (the GUI) tells the simulation worker: small frozen dataclasses that pickle.

Each command type has exactly one handler in :mod:`trafficai.runtime.handlers`; adding a command is
that handler plus the type here (and in ``Command``). Nothing here imports Qt or SUMO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trafficai.sim.route_demand import MAX_ROUTE_DEMAND

__all__ = ["MAX_ROUTE_DEMAND"]  # the GUI bounds its inputs with it; the backend enforces it


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
class MarkDetector:
    """An operator marks ``detector`` failed (``in_service=False``: it reads "failed", reason
    "marked failed by <user>", until marked back) or back in service; logged and recorded."""

    detector: str
    in_service: bool
    user: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetFrames:
    """Publish frames (vehicle positions for a map) or not; off, the worker runs as fast as headless."""

    enabled: bool


INSPECT_KINDS = ("vehicle", "e1", "e2")


@dataclass(frozen=True, slots=True)
class Inspect:
    """Add details of this object to the frames (``SimFrame.inspected``): ``kind`` vehicle, e1 or e2;
    an empty ``kind`` stops."""

    kind: str = ""
    object_id: str = ""


@dataclass(frozen=True, slots=True)
class Resume:
    """After a failure: start again from the last state SUMO saved (``Failed.resume_from_s``)."""

    user: str = ""


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Finish the run record and exit the worker."""


@dataclass(frozen=True, slots=True)
class AcknowledgeAlarm:
    """An operator acknowledged an alarm (``key``: ``core.events.event_key`` of the event, or ``*``
    for several at once); recorded in the run as an event naming who (the store adds when)."""

    key: str
    user: str = ""
    summary: str = ""  # what was acknowledged, in words (the event's message)


@dataclass(frozen=True, slots=True)
class ForkWhatIf:
    """Fork what-if branches from now (``runtime/branch_runner.py``): each branch text as for
    ``trafficai whatif --branch``; the live run keeps running; results come as ``WhatIfResults``."""

    branches: tuple[str, ...]
    horizon_s: float = 900.0
    user: str = ""


@dataclass(frozen=True, slots=True)
class InjectFault:
    """Inject a device fault into the live run (``runtime/live_faults.py``): ``kind`` (one of
    ``config.FAULT_KINDS``) on detector ``device``, ``delay_s`` simulated seconds from now, for
    ``duration_s`` (None: until cleared), ``param`` its strength (None: the kind's default). Ground
    truth of the run as a ``--fault`` is: recorded in the run store, audited."""

    device: str
    kind: str
    delay_s: float = 0.0
    duration_s: float | None = None
    param: float | None = None
    user: str = ""


@dataclass(frozen=True, slots=True)
class ClearFault:
    """End injected fault number ``index`` (``InjectedFaults``) now; ``device`` names its device,
    so a stale list cannot end another fault."""

    index: int
    device: str
    user: str = ""


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
    | MarkDetector
    | SetFrames
    | Inspect
    | Shutdown
    | AcknowledgeAlarm
    | Resume
    | ForkWhatIf
    | InjectFault
    | ClearFault
)


def describe(command: Any) -> str:
    """Short name of a command for messages ("Override", "CloseLane")."""
    return type(command).__name__
