"""Detours around closed lanes and edges: pure functions over an edge graph (no SUMO here).

The graph is *turn-aware*: ``successors[e]`` are the edges a vehicle can reach from edge ``e``
through connections whose both ends are open lanes it may use. Closing the one lane of an edge
that carries a turn removes that turn while the edge stays open, which an edge-level router (SUMO's
own) does not see; that is why trafficai repairs routes itself (``sim/closures.py``).

Repair policy, for a vehicle whose remaining route takes a step that is no longer possible:

* it gets the quickest route from where it is to its destination over the open graph (*rerouted*);
* when none exists, its route ends on the last edge it can still reach along its old route
  (*shortened*: it leaves the network at the end of that edge, before the closure).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

Successors = Mapping[str, Collection[str]]


@dataclass(frozen=True, slots=True)
class RouteRepairs:
    """Vehicles whose route a closure cut: given a detour, or ended before the closure, or left as
    they were (SUMO refused the new route; they wait at the closure until SUMO teleports them)."""

    rerouted: int = 0
    shortened: int = 0
    unrepaired: int = 0

    def __add__(self, other: RouteRepairs) -> RouteRepairs:
        return RouteRepairs(
            self.rerouted + other.rerouted,
            self.shortened + other.shortened,
            self.unrepaired + other.unrepaired,
        )

    def __sub__(self, other: RouteRepairs) -> RouteRepairs:
        return RouteRepairs(
            self.rerouted - other.rerouted,
            self.shortened - other.shortened,
            self.unrepaired - other.unrepaired,
        )

    def __bool__(self) -> bool:
        return bool(self.rerouted or self.shortened or self.unrepaired)

    def describe(self) -> str:
        parts = [f"{self.rerouted} vehicle(s) rerouted"]
        if self.shortened:
            parts.append(f"{self.shortened} end their trip before the closure (no way around it)")
        if self.unrepaired:
            parts.append(f"{self.unrepaired} could not be rerouted (SUMO will teleport them past it)")
        return ", ".join(parts)


def first_broken_step(
    route: Sequence[str], start: int, successors: Successors, touched: Collection[str]
) -> int | None:
    """Index ``k >= start`` of the first step ``route[k] -> route[k + 1]`` that ``successors`` no
    longer allows, looking only at steps that touch an edge in ``touched`` (the edges with closed
    lanes: no other step can have been cut); None when the rest of the route is intact."""
    for k in range(max(start, 0), len(route) - 1):
        here, there = route[k], route[k + 1]
        if (here in touched or there in touched) and there not in successors.get(here, ()):
            return k
    return None


def quickest_path(
    successors: Successors, cost: Callable[[str], float], origin: str, destination: str
) -> tuple[str, ...] | None:
    """Edges from ``origin`` to ``destination`` (both included) minimising the summed ``cost`` of
    the edges entered after ``origin``; None when ``destination`` cannot be reached."""
    if origin == destination:
        return (origin,)
    best: dict[str, float] = {origin: 0.0}
    previous: dict[str, str] = {}
    queue: list[tuple[float, str]] = [(0.0, origin)]
    while queue:
        spent, edge = heapq.heappop(queue)
        if edge == destination:
            path = [edge]
            while path[-1] != origin:
                path.append(previous[path[-1]])
            return tuple(reversed(path))
        if spent > best.get(edge, float("inf")):
            continue
        for nxt in sorted(successors.get(edge, ())):  # sorted: the same ties give the same path
            total = spent + max(cost(nxt), 0.0)
            if total < best.get(nxt, float("inf")):
                best[nxt] = total
                previous[nxt] = edge
                heapq.heappush(queue, (total, nxt))
    return None


def repaired_route(
    route: Sequence[str],
    start: int,
    broken: int,
    successors: Successors,
    cost: Callable[[str], float],
    committed: int = 0,
) -> tuple[tuple[str, ...], bool]:
    """The new route from ``route[start]`` (the vehicle's current edge: every route SUMO accepts
    starts there) given that step ``broken`` is cut: a detour to the destination (``True``) or the
    old route up to ``route[broken]`` (``False``: the vehicle ends its trip there).

    ``committed`` edges after the current one are kept (a vehicle inside a junction is bound for
    the next edge already); the detour is the quickest one from the last of them."""
    fixed = tuple(route[start : start + committed + 1])
    path = quickest_path(successors, cost, fixed[-1], route[-1])
    if path is not None:
        return fixed[:-1] + path, True
    return tuple(route[start : max(broken, start + committed) + 1]), False
