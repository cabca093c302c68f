"""``SimBackend.vehicle_state``: vehicles read directly (no subscriptions) equal the subscribed ones."""

from __future__ import annotations

import numpy as np
import pytest

from trafficai.core.scenario import resolve_scenario
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

pytestmark = pytest.mark.sumo


def test_direct_reads_equal_subscriptions(grid2x2: str) -> None:
    backend = open_backend(resolve_scenario(grid2x2), SumoOptions(seed=3), vehicles=True)
    try:
        checked = 0
        for _ in range(240):
            backend.advance()
            if backend.step % 40:
                continue
            subscribed, sub_types = backend.vehicle_state()
            backend._vehicles_on = False  # type: ignore[attr-defined]  # the direct path, same state
            try:
                direct, direct_types = backend.vehicle_state()
            finally:
                backend._vehicles_on = True  # type: ignore[attr-defined]
            order = {vid: i for i, vid in enumerate(direct.ids)}
            assert set(order) == set(subscribed.ids)
            idx = np.array([order[v] for v in subscribed.ids], dtype=np.int64)
            assert np.allclose(direct.xy[idx], subscribed.xy, atol=1e-3)
            assert np.allclose(direct.speed[idx], subscribed.speed, atol=1e-4)
            assert np.allclose(direct.angle[idx], subscribed.angle, atol=1e-3)
            assert np.array_equal(direct.lane[idx], subscribed.lane)
            assert np.allclose(direct.waiting[idx], subscribed.waiting)
            names = [direct_types[t] for t in direct.vtype[idx]]
            assert names == [sub_types[t] for t in subscribed.vtype]
            checked += len(idx)
        assert checked > 50
    finally:
        backend.close()


def test_direct_reads_without_subscriptions(grid2x2: str) -> None:
    backend = open_backend(resolve_scenario(grid2x2), SumoOptions(seed=3), vehicles=False)
    try:
        for _ in range(100):
            backend.advance()
        assert len(backend.snapshot(vehicles=True).vehicles) == 0  # no subscriptions: not in snapshots
        vehicles, types = backend.vehicle_state()
        assert len(vehicles) == backend.snapshot(vehicles=False).counters.running > 0
        assert types and all(0 <= t < len(types) for t in vehicles.vtype)
    finally:
        backend.close()
