"""Per-signal rewards as pure functions of a snapshot (and the previous measure, passed in).

Every reward is computed for all controlled signals at once from SUMO's lane state on the
signal's approach lanes (and exit lanes for pressure):

``diff-waiting-time``  drop of the summed waiting time of the vehicles on the approaches since the
                       last decision, / 100 (sumo-rl's default, from SUMO's per-lane waiting time)
``queue``              minus the halting vehicles on the approaches
``pressure``           minus |vehicles on the approaches - vehicles on the exits|
``delay``              minus the approaches' rate of delay: sum over lanes of
                       vehicles x (1 - mean speed / speed limit), the rate at which the vehicles
                       there accumulate time loss (the quantity the mean-delay KPI sums)
``total-delay``        ``delay`` plus the vehicles waiting to enter the network towards the signal
                       (each accumulates departDelay, which the KPI counts too, at 1 s/s); without
                       it an agent can hide delay by letting a queue spill off the network

The episode loop owns the previous measure and passes it back in; nothing is hidden here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from trafficai.control.rl.config import RewardConfig, RewardKind
from trafficai.control.rl.observations import SignalTopology
from trafficai.core.snapshot import Snapshot

F64 = NDArray[np.float64]


def measure(
    kind: RewardKind, topology: SignalTopology, snapshot: Snapshot, backlog: NDArray[np.integer] | None = None
) -> F64:
    """(N,) the quantity the reward is built from (larger = worse).

    ``backlog``: (N,) vehicles waiting to be inserted towards each signal (``total-delay`` only).
    """
    t, lanes = topology, snapshot.lanes
    valid = t.lane_valid.astype(np.float64)
    if kind == "diff-waiting-time":
        return (lanes.waiting[t.lane_idx] * valid).sum(axis=1) / 100.0  # type: ignore[no-any-return]
    if kind == "queue":
        return (lanes.halting[t.lane_idx] * valid).sum(axis=1)  # type: ignore[no-any-return]
    if kind == "pressure":
        inflow = (lanes.vehicles[t.lane_idx] * valid).sum(axis=1)
        outflow = (lanes.vehicles[t.out_idx] * t.out_valid.astype(np.float64)).sum(axis=1)
        return np.abs(inflow - outflow)  # type: ignore[no-any-return]
    vehicles = lanes.vehicles[t.lane_idx].astype(np.float64)
    slowdown = np.clip(1.0 - lanes.mean_speed[t.lane_idx] / t.lane_vmax, 0.0, 1.0)
    delay: F64 = (vehicles * slowdown * valid).sum(axis=1)
    if kind == "total-delay" and backlog is not None:
        delay = delay + backlog
    return delay


def compute(
    config: RewardConfig,
    topology: SignalTopology,
    snapshot: Snapshot,
    previous: F64 | None,
    backlog: NDArray[np.integer] | None = None,
) -> tuple[F64, F64]:
    """(rewards, measure): pass ``measure`` back as ``previous`` at the next decision.

    ``previous`` is None at the first decision of an episode (diff-waiting-time then rewards 0).
    """
    now = measure(config.kind, topology, snapshot, backlog)
    if config.kind == "diff-waiting-time":
        reward = np.zeros_like(now) if previous is None else previous - now
    else:
        reward = -now
    return reward * config.scale, now
