"""The operator's state in a live run: signal overrides and incidents.

Overrides are validated, timed and expired by the safety layer
(:meth:`~trafficai.control.safety.SafetyLayer.override`), the one owner of signal states; this
keeps only what the operator sees beside them (who, why) and reports an expiry once the safety
layer has ended one. Incidents (closed lanes and edges, stopped vehicles, demand on routes) are
applied to the backend, which refuses what it cannot do, and kept here for display.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, replace
from typing import Protocol

from trafficai.control.loop import ControlLoop
from trafficai.control.safety import override_label
from trafficai.core.detours import RouteRepairs
from trafficai.errors import TrafficAIError
from trafficai.runtime.commands import BlockLane, CloseEdge, CloseLane, Override, RouteDemand
from trafficai.runtime.messages import IncidentView
from trafficai.sim.backend import SimBackend

MIN_BLOCK_LANE_M = 2.0  # a stopped vehicle needs some lane to stand on (junction stubs can be 0.2 m)


class Emit(Protocol):
    def __call__(
        self, severity: str, kind: str, message: str, object_id: str = "", user: str = ""
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class OverrideNote:
    """Who set an override and why (the safety layer holds the override itself)."""

    action: str
    reason: str
    user: str
    green: int | None = None  # force to this stage (index from 0; shown from 1)

    @property
    def label(self) -> str:
        """What the operator sees: hold, force next, force stage 2, flash."""
        return override_label(self.action, self.green)


class OperatorState:
    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.overrides: dict[str, OverrideNote] = {}
        self.incidents: dict[str, IncidentView] = {}
        self.incident_counter = 0  # incident ids stay unique across restarts
        self._repairs_seen = RouteRepairs()
        self._repairs_at = -math.inf

    def reset(self) -> None:
        """A new simulation: nothing overridden, no incidents."""
        self.overrides.clear()
        self.incidents.clear()
        self._repairs_seen = RouteRepairs()
        self._repairs_at = -math.inf

    # -- overrides ----------------------------------------------------------------------------

    def override(self, loop: ControlLoop, command: Override) -> None:
        reason = command.reason.strip()
        if not reason:
            raise TrafficAIError("an override needs a reason")
        signal_id = command.signal_id
        loop.safety.override(signal_id, command.action, command.duration_s, command.green)
        note = OverrideNote(command.action, reason, command.user, command.green)
        self.overrides[signal_id] = note
        what = note.label
        severity = "warning" if command.action == "flash" else "info"
        self.emit(
            severity,
            "override",
            f"{what} on {signal_id} for {command.duration_s:g} s: {reason}",
            signal_id,
            command.user,
        )

    def clear_override(self, loop: ControlLoop, signal_id: str, user: str) -> None:
        if signal_id not in loop.safety.signal_ids:
            raise TrafficAIError(f"unknown signal {signal_id!r}")
        note = self.overrides.pop(signal_id, None)
        if note is None:
            raise TrafficAIError(f"signal {signal_id} has no override to clear")
        loop.safety.clear_override(signal_id)
        self.emit("info", "override", f"{note.label} override on {signal_id} cleared", signal_id, user)

    def drop_overrides(self, loop: ControlLoop, signals: tuple[str, ...]) -> None:
        """A controller takes ``signals`` (empty: all): their overrides end without an event."""
        for signal_id in list(self.overrides):
            if not signals or signal_id in signals:
                self.overrides.pop(signal_id)
                loop.safety.clear_override(signal_id)

    def report_expired(self, loop: ControlLoop) -> bool:
        """Report the overrides the safety layer has ended since the last call; whether any."""
        expired = [s for s in self.overrides if loop.safety.override_left_s(s) is None]
        for signal_id in expired:
            note = self.overrides.pop(signal_id)
            self.emit("info", "override", f"{note.label} on {signal_id} expired", signal_id, "system")
        return bool(expired)

    # -- incidents ----------------------------------------------------------------------------

    def close(self, backend: SimBackend, command: CloseLane | CloseEdge) -> IncidentView:
        """Close a lane or every lane of an edge; the routes it cuts are repaired by the backend
        (detour, or the trip ends before the closure: ``core/detours.py``)."""
        lanes = backend.geometry.lanes
        targets: tuple[str, ...]
        if isinstance(command, CloseLane):
            if command.lane_id not in lanes.index():
                raise TrafficAIError(f"unknown lane {command.lane_id!r}")
            targets = (command.lane_id,)
            kind, target = "lane closed", command.lane_id
        else:
            targets = tuple(
                lane for lane, edge in zip(lanes.ids, lanes.edges, strict=True) if edge == command.edge_id
            )
            if not targets:
                raise TrafficAIError(f"unknown edge {command.edge_id!r}")
            kind, target = "edge closed", command.edge_id
        closed = self.closed_lanes()
        if all(lane in closed for lane in targets):
            by = next(i.id for i in self.incidents.values() if i.closes_lanes and targets[0] in i.lanes)
            raise TrafficAIError(f"{target} is closed already ({by})")
        repairs = backend.set_lanes_closed(tuple(lane for lane in targets if lane not in closed), True)
        self._repairs_seen += repairs  # reported here, not again in the next summary
        incident = self._new(kind, target, targets, backend.time_s, command.user, command.reason)
        why = f" ({command.reason.strip()})" if command.reason.strip() else ""
        self.emit(
            "warning",
            "incident",
            f"{incident.id}: {kind} {target}{why}; {repairs.describe()}",
            target,
            command.user,
        )
        return incident

    def closed_lanes(self) -> set[str]:
        return {lane for i in self.incidents.values() if i.closes_lanes for lane in i.lanes}

    def report_repairs(self, backend: SimBackend, every_s: float = 60.0, force: bool = False) -> bool:
        """One event per ``every_s`` simulated seconds (at most) for the routes repaired since the
        last one: vehicles SUMO loaded while lanes were closed; whether one was emitted."""
        time_s = backend.time_s
        if not force and time_s - self._repairs_at < every_s:
            return False
        totals = backend.route_repairs()
        new = totals - self._repairs_seen
        self._repairs_at = time_s
        if not new:
            return False
        self._repairs_seen = totals
        self.emit("info", "incident", f"route repairs since the last report: {new.describe()}")
        return True

    def block(self, backend: SimBackend, command: BlockLane) -> IncidentView:
        if not (math.isfinite(command.duration_s) and command.duration_s > 0):
            raise TrafficAIError(f"block duration must be positive, got {command.duration_s:g}")
        index = backend.geometry.lanes.index().get(command.lane_id)
        if index is None:
            raise TrafficAIError(f"unknown lane {command.lane_id!r}")
        length = float(backend.geometry.lanes.lengths[index])
        if length < MIN_BLOCK_LANE_M:
            raise TrafficAIError(f"lane {command.lane_id} is {length:.1f} m long: too short to block")
        if not (math.isfinite(command.position_m) and 0 <= command.position_m <= length):
            raise TrafficAIError(
                f"position {command.position_m:g} m is not on lane {command.lane_id} (0-{length:.0f} m)"
            )
        time_s = backend.time_s
        vehicle = backend.add_stopped_vehicle(command.lane_id, command.position_m, command.duration_s)
        incident = self._new(
            "lane blocked",
            command.lane_id,
            (command.lane_id,),
            time_s,
            command.user,
            command.reason,
            until_s=time_s + command.duration_s,
            position_m=command.position_m,
            vehicle=vehicle,
        )
        self.emit(
            "warning",
            "incident",
            f"{incident.id}: lane {command.lane_id} blocked at {command.position_m:.0f} m"
            f" for {command.duration_s:g} s",
            command.lane_id,
            command.user,
        )
        return incident

    def route_demand(self, backend: SimBackend, command: RouteDemand) -> None:
        """Scale the demand on the routes through an edge (one incident per edge: setting it again
        changes its factor)."""
        edge, factor = command.edge_id, command.factor
        backend.set_route_demand(edge, factor)  # refuses an unknown edge or a factor out of range
        lanes = backend.geometry.lanes
        edge_lanes = tuple(lane for lane, e in zip(lanes.ids, lanes.edges, strict=True) if e == edge)
        reason = command.reason.strip()
        previous = next(
            (i for i in self.incidents.values() if i.demand_factor is not None and i.target == edge), None
        )
        if previous is not None:
            incident = replace(
                previous, since_s=backend.time_s, user=command.user, reason=reason, demand_factor=factor
            )
            self.incidents[incident.id] = incident
            was = f" (was {previous.demand_factor:g}x)"
        else:
            incident = self._new(
                "route demand", edge, edge_lanes, backend.time_s, command.user, reason, demand_factor=factor
            )
            was = ""
        why = f": {reason}" if reason else ""
        self.emit(
            "warning",
            "incident",
            f"{incident.id}: demand on routes through {edge} scaled to {factor:g}x{was}{why}",
            edge,
            command.user,
        )

    def open_lane(self, backend: SimBackend, lane_id: str, user: str) -> None:
        if lane_id not in backend.geometry.lanes.index():
            raise TrafficAIError(f"unknown lane {lane_id!r}")
        backend.set_lanes_closed((lane_id,), False)
        for incident in list(self.incidents.values()):
            if incident.closes_lanes and lane_id in incident.lanes:
                rest = tuple(lane for lane in incident.lanes if lane != lane_id)
                if rest:
                    self.incidents[incident.id] = IncidentView(
                        incident.id,
                        incident.kind,
                        incident.target,
                        rest,
                        incident.since_s,
                        user=incident.user,
                        reason=incident.reason,
                    )
                else:
                    del self.incidents[incident.id]
        self.emit("info", "incident", f"lane {lane_id} reopened", lane_id, user)

    def clear_incident(self, backend: SimBackend, incident_id: str, user: str) -> None:
        found = self.incidents.get(incident_id)
        if found is None:
            raise TrafficAIError(f"no incident {incident_id!r}")
        self._clear(backend, found, user)

    def clear_all(self, backend: SimBackend, user: str) -> None:
        for incident in list(self.incidents.values()):
            self._clear(backend, incident, user)

    def expire_incidents(self, time_s: float) -> bool:
        """End the blocks whose stopped vehicle has left by ``time_s``; whether any ended."""
        ended = [i for i in self.incidents.values() if i.until_s is not None and time_s >= i.until_s]
        for incident in ended:
            del self.incidents[incident.id]
            self.emit(
                "info",
                "incident",
                f"{incident.id}: stopped vehicle on {incident.target} left",
                incident.target,
            )
        return bool(ended)

    def _new(
        self,
        kind: str,
        target: str,
        lanes: tuple[str, ...],
        since: float,
        user: str,
        reason: str,
        until_s: float | None = None,
        position_m: float = 0.0,
        vehicle: str = "",
        demand_factor: float | None = None,
    ) -> IncidentView:
        self.incident_counter += 1
        incident = IncidentView(
            f"INC-{self.incident_counter}",
            kind,
            target,
            lanes,
            since,
            until_s,
            position_m,
            user,
            reason,
            vehicle,
            demand_factor,
        )
        self.incidents[incident.id] = incident
        return incident

    def _clear(self, backend: SimBackend, incident: IncidentView, user: str) -> None:
        if incident.vehicle:
            with contextlib.suppress(TrafficAIError):  # it may have left already
                backend.remove_vehicle(incident.vehicle)
        elif incident.demand_factor is not None:
            backend.clear_route_demand(incident.target)
        else:
            still_closed = {
                lane
                for other in self.incidents.values()
                if other.id != incident.id and other.closes_lanes
                for lane in other.lanes
            }
            backend.set_lanes_closed(
                tuple(lane for lane in incident.lanes if lane not in still_closed), False
            )
        self.incidents.pop(incident.id, None)
        what = f"{incident.kind} {incident.target}"
        if incident.demand_factor is not None:
            what = f"route demand {incident.demand_factor:g}x through {incident.target}"
        self.emit("info", "incident", f"{incident.id}: {what} cleared", incident.target, user)
