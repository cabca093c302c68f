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
