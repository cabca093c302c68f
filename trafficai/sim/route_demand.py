"""Demand on the routes through an edge: how many copies of a departing vehicle to keep.

A "route" is operational here: the vehicles whose route passes a chosen edge. Each such vehicle
is kept ``factor`` times on average when it departs: ``floor(factor)`` copies, plus one more with
probability ``factor - floor(factor)`` (so 0 removes every one, 0.3 keeps 30 %, 2 doubles them,
2.5 makes two or three). A route through several scaled edges takes the product of their
factors. The draws come from a generator seeded with the run's seed: the same run with the same
operator actions gives the same vehicles. Pure Python, no SUMO: the backends apply the decisions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Sequence

MAX_ROUTE_DEMAND = 5.0  # the largest factor for demand through an edge
CLONE_MARK = ".rs"  # copies are named <vehicle id>.rs<k>, k = 1, 2, ...


def route_demand_problem(edge_id: str, factor: float, edges: Collection[str]) -> str | None:
    """Why ``factor`` cannot be applied to ``edge_id`` (one line), or None when it can."""
    if edge_id not in edges:
        return f"unknown edge {edge_id!r}"
    if not (math.isfinite(factor) and 0.0 <= factor <= MAX_ROUTE_DEMAND):
        return f"route demand factor must be in [0, {MAX_ROUTE_DEMAND:g}], got {factor:g}"
    return None


class RouteDemandScaler:
    """The factors per edge and the seeded draws that turn them into vehicle counts."""

    def __init__(self, seed: int) -> None:
        self.factors: dict[str, float] = {}
        self._rng = random.Random(seed)
        self._edges: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.factors)

    def set(self, edge_id: str, factor: float) -> None:
        self.factors[edge_id] = float(factor)
        self._edges = frozenset(self.factors)

    def clear(self, edge_id: str) -> None:
        self.factors.pop(edge_id, None)
        self._edges = frozenset(self.factors)

    def copies(self, route: Sequence[str]) -> int:
        """How many of a vehicle on ``route`` to keep: 1 when its route passes no scaled edge
        (no draw then), else a draw with the product of the factors as expectation."""
        if self._edges.isdisjoint(route):
            return 1
        factor = math.prod(self.factors[edge] for edge in self._edges.intersection(route))
        whole = math.floor(factor)
        if factor > whole and self._rng.random() < factor - whole:
            whole += 1
        return int(whole)
