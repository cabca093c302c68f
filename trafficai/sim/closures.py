"""Closed lanes in a running SUMO, and the routes they cut (policy: ``core/detours.py``).

A lane is closed through SUMO's permissions (``lane.setDisallowed(lane, ["all"])``): vehicles
already on it drive on (SUMO checks permissions only when a vehicle enters a lane), others change
lanes before it or go round it. Reopening restores the lane's own permissions (a bus lane stays a
bus lane).

SUMO's router works on edges, so closing the one lane that carries a turn leaves routes through
that turn "valid" to it and the vehicles get stuck ("no valid route"). The routes are therefore
checked here, turn by turn, over the lane connections SUMO reports (``lane.getLinks``) minus the
closed lanes: at each closure for every vehicle SUMO has loaded (running, waiting to depart, or
loaded ahead of its departure), and while any lane is closed for each vehicle SUMO loads. A vehicle
whose route is cut gets a detour, or its trip ends before the closure (``core/detours``).
"""

from __future__ import annotations

import contextlib
from collections import ChainMap
from collections.abc import Callable, Iterable
from typing import Any

from trafficai.core.detours import RouteRepairs, first_broken_step, repaired_route
from trafficai.core.geometry import LaneGeometry

IGNORING = "ignoring"  # SUMO's vehicle class that every lane admits (used for stopped incident vehicles)
_NOT_ON_ROUTE = -1073741824  # SUMO's route index of a vehicle that has not departed (INVALID_INT_VALUE)


class LaneClosures:
    """The lanes trafficai closed in one simulation, and the route repairs they caused."""

    def __init__(self, api: Any, lanes: LaneGeometry) -> None:
        self.api = api
        self._lane_edge = dict(zip(lanes.ids, lanes.edges, strict=True))
        self._edge_lanes: dict[str, list[str]] = {}
        for lane, edge in self._lane_edge.items():
            self._edge_lanes.setdefault(edge, []).append(lane)
        self._free_flow = {
            edge: float(length) / max(float(speed), 0.1)
            for edge, length, speed in zip(lanes.edges, lanes.lengths, lanes.max_speeds, strict=True)
        }
        self.original: dict[str, tuple[str, ...]] = {}  # closed lane -> its own allowed classes
        self._allowed: dict[str, frozenset[str]] = {}  # every lane's own classes, read once
        self._links: dict[str, tuple[str, ...]] = {}  # lane -> the lanes it connects to
        self._graphs: dict[str, dict[str, frozenset[str]]] = {}  # vehicle class -> successors
        self.totals = RouteRepairs()

    @property
    def active(self) -> bool:
        return bool(self.original)

    def is_closed(self, lane_id: str) -> bool:
        return lane_id in self.original

    # -- closing and reopening ----------------------------------------------------------------

    def close(self, lane_ids: Iterable[str]) -> RouteRepairs:
        """Close ``lane_ids`` (known, non-internal lanes) and repair every loaded vehicle's route."""
        fresh = [lane for lane in lane_ids if lane not in self.original]
        if not fresh:
            return RouteRepairs()
        self._read_network()
        for lane in fresh:
            self.original[lane] = tuple(self.api.lane.getAllowed(lane))
            self.api.lane.setDisallowed(lane, ["all"])
        self._graphs.clear()
        return self.repair(self.api.vehicle.getLoadedIDList())

    def reopen(self, lane_ids: Iterable[str]) -> None:
        """Give ``lane_ids`` back their own permissions (detours already taken stay)."""
        for lane in lane_ids:
            allowed = self.original.pop(lane, None)
            if allowed is None:
                continue
            if allowed:
                self.api.lane.setAllowed(lane, list(allowed))
            else:  # SUMO reports "everything" as an empty list in some versions
                self.api.lane.setDisallowed(lane, [])
            self._graphs.clear()

    # -- the turn graph -----------------------------------------------------------------------

    def _read_network(self) -> None:
        """Permissions and connections of every lane, once, before the first closure changes them."""
        if self._links:
            return
        lane_api = self.api.lane
        for lane in self._lane_edge:
            self._allowed[lane] = frozenset(lane_api.getAllowed(lane))
            self._links[lane] = tuple(str(link[0]) for link in lane_api.getLinks(lane))

    def _admits(self, lane: str, vclass: str) -> bool:
        allowed = self._allowed.get(lane)
        return allowed is None or not allowed or vclass in allowed

    def _edge_successors(self, edge: str, vclass: str, closures: bool) -> frozenset[str]:
        def usable(lane: str) -> bool:
            return self._admits(lane, vclass) and not (closures and lane in self.original)

        out: set[str] = set()
        for lane in self._edge_lanes.get(edge, ()):
            if not usable(lane):
                continue
            for target in self._links.get(lane, ()):
                edge_to = self._lane_edge.get(target)
                if edge_to is not None and (self._admits(target, vclass) and target not in self.original):
                    out.add(edge_to)
        return frozenset(out)

    def _graph(self, vclass: str) -> dict[str, frozenset[str]]:
        graph = self._graphs.get(vclass)
        if graph is None:
            graph = self._graphs[vclass] = {
                edge: self._edge_successors(edge, vclass, closures=True) for edge in self._edge_lanes
            }
        return graph

    # -- repairing routes ---------------------------------------------------------------------

    def repair(self, vehicle_ids: Iterable[str]) -> RouteRepairs:
        """Check the routes of ``vehicle_ids`` against the closed lanes; detour or shorten the cut
        ones. Only routes through an edge with a closed lane are looked at closely."""
        if not self.original:
            return RouteRepairs()
        touched = frozenset(self._lane_edge[lane] for lane in self.original)
        costs: dict[str, float] = {}
        repairs = RouteRepairs()
        vehicle = self.api.vehicle
        for vid in vehicle_ids:
            try:
                route = tuple(vehicle.getRoute(vid))
                if len(route) < 2 or touched.isdisjoint(route):
                    continue
                repairs += self._repair_one(vid, route, touched, costs)
            except Exception:  # gone already (SUMO drops a vehicle that cannot depart): nothing to do
                continue
        self.totals += repairs
        return repairs

    def _repair_one(
        self, vid: str, route: tuple[str, ...], touched: frozenset[str], costs: dict[str, float]
    ) -> RouteRepairs:
        vehicle = self.api.vehicle
        vclass = str(vehicle.getVehicleClass(vid))
        if vclass == IGNORING:
            return RouteRepairs()
        index = int(vehicle.getRouteIndex(vid))
        departed = index != _NOT_ON_ROUTE and index >= 0
        start = index if departed else 0
        # inside a junction a vehicle is bound for the next edge already
        committed = 1 if departed and str(vehicle.getLaneID(vid)).startswith(":") else 0
        committed = min(committed, len(route) - 1 - start)
        graph: Any = self._graph(vclass)
        if not departed:  # it waits to depart: its first edge counts as open (it departs when it opens)
            graph = ChainMap({route[0]: self._edge_successors(route[0], vclass, closures=False)}, graph)
        broken = first_broken_step(route, start + committed, graph, touched)
        if broken is None:
            return RouteRepairs()
        new, reaches = repaired_route(route, start, broken, graph, self._cost(costs), committed)
        try:
            vehicle.setRoute(vid, list(new))
        except Exception:  # SUMO refused it (e.g. a stop off the new route): SUMO's own handling
            return RouteRepairs(unrepaired=1)
        return RouteRepairs(rerouted=1) if reaches else RouteRepairs(shortened=1)

    def _cost(self, costs: dict[str, float]) -> Callable[[str], float]:
        """Current travel time of an edge (SUMO's estimate), read once per repair round."""
        travel_time = self.api.edge.getTraveltime

        def cost(edge: str) -> float:
            value = costs.get(edge)
            if value is None:
                value = self._free_flow.get(edge, 1.0)
                with contextlib.suppress(Exception):
                    value = float(travel_time(edge))
                costs[edge] = value
            return value

        return cost


INCIDENT_TYPE = "trafficai_incident"


def add_stopped_vehicle(
    api: Any, lane_id: str, position_m: float, duration_s: float, lane_length: float, step: int
) -> str:
    """A vehicle standing on ``lane_id`` at ``position_m`` for ``duration_s`` (a breakdown); then it
    drives to the end of the lane and leaves. Its class is SUMO's ``ignoring``, admitted on every
    lane (a closed lane, a bus lane, a sidewalk), so a block never fails on permissions."""
    edge, _, index = lane_id.rpartition("_")
    vehicle = f"incident_{lane_id}_{step}"
    if INCIDENT_TYPE not in api.vehicletype.getIDList():
        api.vehicletype.copy("DEFAULT_VEHTYPE", INCIDENT_TYPE)
        api.vehicletype.setVehicleClass(INCIDENT_TYPE, IGNORING)
    route = f"incident_route_{edge}"
    if route not in api.route.getIDList():
        api.route.add(route, [edge])
    # rounded once: a departure position written with fewer digits than the stop's could land
    # just past it, and SUMO refuses a stop behind the vehicle
    pos = round(float(min(max(position_m, 1.0), max(lane_length - 1.0, 1.0))), 1)
    api.vehicle.add(
        vehicle, route, typeID=INCIDENT_TYPE, departLane=index, departPos=f"{pos:.1f}", departSpeed="0"
    )
    api.vehicle.setStop(vehicle, edge, pos=pos, laneIndex=int(index), duration=duration_s)
    return vehicle
