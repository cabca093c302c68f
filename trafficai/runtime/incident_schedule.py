"""Scripted incidents (``--incident``, a manifest's ``[[incidents]]``): the same operator actions as
the control center's, applied at their time through :class:`~trafficai.runtime.operator_state.OperatorState`
(which validates them; a refusal is a warning event and the run goes on).

    schedule = IncidentSchedule(config.incidents, operator)
    schedule.check(backend)        # every target exists: else a ConfigError naming the incident
    schedule.advance(backend)      # before each step: start what is due, end what has lasted
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trafficai.config import IncidentSection
from trafficai.errors import ConfigError, TrafficAIError
from trafficai.runtime.commands import BlockLane, CloseEdge, CloseLane
from trafficai.runtime.operator_state import OperatorState
from trafficai.sim.backend import SimBackend

SCHEDULE_USER = "schedule"
_EPS = 1e-9


@dataclass
class _Running:
    incident_id: str
    until_s: float
    spec: IncidentSection


class IncidentSchedule:
    def __init__(
        self, incidents: Sequence[IncidentSection], operator: OperatorState, origin_s: float | None = None
    ) -> None:
        self.pending = sorted(incidents, key=lambda i: i.at)
        self.operator = operator
        self.origin_s = origin_s  # times count from here (None: the backend scenario's begin)
        self.running: list[_Running] = []

    def __bool__(self) -> bool:
        return bool(self.pending or self.running)

    def check(self, backend: SimBackend) -> None:
        """Refuse, before the run starts, an incident on a lane or edge the network lacks."""
        lanes = backend.geometry.lanes
        lane_ids, edge_ids = set(lanes.ids), set(lanes.edges)
        for spec in self.pending:
            known = edge_ids if spec.kind == "close-edge" else lane_ids
            if spec.target not in known:
                what = "edge" if spec.kind == "close-edge" else "lane"
                raise ConfigError(
                    f"incident {spec.describe()}: {backend.scenario.name} has no {what} {spec.target!r}"
                )

    def advance(self, backend: SimBackend) -> bool:
        """Start the incidents due at the backend's time, end the closures whose duration is over;
        whether anything changed."""
        origin = self.origin_s if self.origin_s is not None else backend.scenario.begin_s
        elapsed = backend.time_s - origin
        changed = False
        for running in [r for r in self.running if elapsed >= r.until_s - _EPS]:
            self.running.remove(running)
            if running.incident_id in self.operator.incidents:
                self._attempt(running.spec, "end", backend, running.incident_id)
                changed = True
        while self.pending and elapsed >= self.pending[0].at - _EPS:
            spec = self.pending.pop(0)
            self._attempt(spec, "start", backend)
            changed = True
        return changed

    def _attempt(self, spec: IncidentSection, what: str, backend: SimBackend, incident_id: str = "") -> None:
        try:
            if what == "end":
                self.operator.clear_incident(backend, incident_id, SCHEDULE_USER)
            else:
                self._start(spec, backend)
        except TrafficAIError as exc:
            self.operator.emit(
                "warning", "refused", f"scheduled incident {spec.describe()} refused: {exc}", spec.target
            )

    def _start(self, spec: IncidentSection, backend: SimBackend) -> None:
        reason = spec.reason or "scheduled"
        if spec.kind == "block-lane":
            lanes = backend.geometry.lanes
            length = float(lanes.lengths[lanes.index()[spec.target]])
            position = spec.position if spec.position is not None else length / 2
            remaining = (backend.end_step - backend.step) * backend.step_length_s + 1.0
            duration = spec.duration if spec.duration is not None else remaining
            self.operator.block(
                backend, BlockLane(spec.target, min(position, length), duration, SCHEDULE_USER, reason)
            )
            return
        command = (
            CloseLane(spec.target, SCHEDULE_USER, reason)
            if spec.kind == "close-lane"
            else CloseEdge(spec.target, SCHEDULE_USER, reason)
        )
        incident = self.operator.close(backend, command)
        if spec.duration is not None:
            self.running.append(_Running(incident.id, spec.at + spec.duration, spec))
