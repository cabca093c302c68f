"""Vehicles waiting to enter the network, counted per signal they are headed for.

A vehicle SUMO cannot insert (its first edge is full) is invisible to every lane measure, yet its
waiting counts in the mean-delay KPI (``departDelay``). An agent rewarded from lane state alone can
therefore "improve" by starving an approach until the queue spills off the network: on RESCO's
ingolstadt7 a lane-delay reward learned to leave ~250 vehicles outside. Counting the backlog makes
that visible: each pending vehicle is attributed to the first watched edge on its route (the
approach edge of the signal it will reach first).

A route does not change while a vehicle waits, so each vehicle's route is read once (one call per
vehicle in its lifetime, only for vehicles that had to wait); an empty backlog costs one call.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from trafficai.errors import SimulationError
from trafficai.sim.backend import SimBackend


class BacklogReader:
    """``read()`` -> (n_targets,) vehicles waiting to be inserted, per target of ``edge_target``."""

    def __init__(self, backend: SimBackend, edge_target: Mapping[str, int], n_targets: int) -> None:
        self.backend = backend
        self._edge_target = dict(edge_target)
        self._n = n_targets
        self._target_of: dict[str, int] = {}  # pending vehicle -> target index (-1: none on its route)

    def _target(self, vehicle: str) -> int:
        for edge in self.backend.vehicle_route(vehicle):
            target = self._edge_target.get(edge)
            if target is not None:
                return target
        return -1

    def read(self) -> NDArray[np.int32]:
        counts = np.zeros(self._n, np.int32)
        try:
            pending = self.backend.pending_vehicles()  # none on a replay: no insertion queue to see
            if not pending:
                self._target_of.clear()
                return counts
            known = self._target_of
            now: dict[str, int] = {}
            for vehicle in pending:
                target = known.get(vehicle)
                if target is None:
                    target = self._target(vehicle)
                now[vehicle] = target
                if target >= 0:
                    counts[target] += 1
            self._target_of = now  # inserted vehicles drop out
        except Exception as exc:
            raise SimulationError(
                f"SUMO: reading the insertion backlog failed: {exc}",
                scenario=self.backend.scenario.name,
                time_s=self.backend.time_s,
            ) from exc
        return counts
