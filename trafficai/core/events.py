"""Events and alarms: operator actions, controller fallbacks, SUMO warnings, sensor faults."""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("info", "warning", "alarm")


@dataclass(frozen=True, slots=True)
class Event:
    time_s: float  # simulation time
    severity: str  # info | warning | alarm
    kind: str  # override | fallback | controller | sumo | sensor | incident | ...
    message: str
    object_id: str = ""
    user: str = ""
    camera: str = ""  # the camera to look through (an incident alarm's), '' for none


# A *critical* alarm is an event of severity "alarm": a controller dropped (fallback), the simulation
# stopped, a SUMO error, a failed detector, a worker crash. The control center raises a banner for
# each until an operator acknowledges it; warnings and info only go to the events list.
CRITICAL_SEVERITIES = frozenset({"alarm"})


def is_critical(event: Event) -> bool:
    return event.severity in CRITICAL_SEVERITIES


def event_key(event: Event) -> str:
    """A short stable name of one event, for acknowledgements: ``kind@time_s[/object]``."""
    where = f"/{event.object_id}" if event.object_id else ""
    return f"{event.kind}@{event.time_s:.1f}{where}"
