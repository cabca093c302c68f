"""Plain, immutable values the run store hands out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

SCOPES = ("network", "signal", "detector")
SEVERITIES = ("info", "warning", "alarm")
FINAL_STATUSES = ("completed", "failed", "interrupted")
HEALTH_STATES = ("ok", "suspect", "failed")
RUNNING = "running"


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run as listed: identity, outcome and size.

    ``status`` is the effective status: a run still marked "running" whose writer process is gone
    is reported as "interrupted". Times are UTC ISO-8601 strings.
    """

    id: str
    scenario: str
    controller: str
    seed: int
    status: str
    started_at: str
    finished_at: str | None
    kpis: dict[str, float]
    config: dict[str, Any]
    n_bins: int


@dataclass(frozen=True, slots=True)
class RunRecord(RunSummary):
    """A run looked up by id, plus who wrote it (host and process id of the writer)."""

    host: str
    pid: int


class SeriesRow(NamedTuple):
    """One value of the long series table (a NamedTuple: runs have hundreds of thousands)."""

    scope: str
    object_id: str  # '' for the network scope
    metric: str
    t_begin: float
    t_end: float
    value: float  # NaN when missing


@dataclass(frozen=True, slots=True)
class EventRecord:
    """Something that happened during a run, at simulation time ``time_s``."""

    time_s: float
    severity: str
    kind: str
    message: str
    user: str
    wall_time: str  # UTC ISO-8601, when it was recorded


@dataclass(frozen=True, slots=True)
class ControllerRecord:
    """A controller took charge of ``signals`` (empty: every controllable one) at ``time_s``."""

    time_s: float
    controller: str
    signals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """A detector's health changed at ``time_s`` (``user``: who marked it; "system": judged)."""

    time_s: float
    detector: str
    state: str
    reason: str
    user: str
