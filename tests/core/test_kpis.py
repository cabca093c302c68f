from __future__ import annotations

import numpy as np
import pytest

from trafficai.core.kpis import BinAccumulator, QueueStats, QueueTracker, TripRecords, run_kpis


def trips() -> TripRecords:
    # arrived, arrived, still running, never inserted
    return TripRecords(
        ("a", "b", "c", "d"),
        depart=np.array([0.0, 10.0, 50.0, -1.0]),
        arrival=np.array([100.0, 80.0, -1.0, -1.0]),
        duration=np.array([100.0, 70.0, 30.0, 0.0]),
        time_loss=np.array([20.0, 10.0, 5.0, 0.0]),
        depart_delay=np.array([0.0, 2.0, 1.0, 40.0]),
        waiting_time=np.array([5.0, 3.0, 1.0, 0.0]),
        waiting_count=np.array([1.0, 2.0, 0.0, 0.0]),
        co2_mg=np.array([1e6, 2e6, 5e5, 0.0]),
    )


def test_delay_counts_running_and_never_inserted_vehicles() -> None:
    k = run_kpis(trips(), QueueStats(3.0, 9.0), teleports=2)
    assert k["mean_delay_s"] == pytest.approx((20 + 12 + 6 + 40) / 4)
    assert k["mean_travel_time_s"] == pytest.approx(85.0)  # arrived only
    assert k["mean_waiting_s"] == pytest.approx(3.0)  # inserted vehicles
    assert k["mean_stops"] == pytest.approx(1.0)
    assert k["throughput_veh"] == 2 and k["arrived"] == 2 and k["departed"] == 3 and k["not_inserted"] == 1
    assert k["co2_kg"] == pytest.approx(3.5)
    assert (k["mean_queue_veh"], k["max_queue_veh"], k["teleports"]) == (3.0, 9.0, 2.0)


def test_empty_run_has_zero_kpis_not_nan() -> None:
    k = run_kpis(TripRecords.empty(), QueueStats(), 0)
    assert all(np.isfinite(v) for v in k.values())


def test_bins_average_levels_and_sum_counts() -> None:
    acc = BinAccumulator()
    acc.add({"d": {"count": 2.0, "occupancy": 0.2}})
    acc.add({"d": {"count": 3.0, "occupancy": 0.4}})
    assert acc.close() == {"d": {"count": 5.0, "occupancy": pytest.approx(0.3)}}
    assert acc.close() == {}


def test_queue_tracker() -> None:
    q = QueueTracker()
    for v in (1.0, 5.0, 3.0):
        q.add(v)
    assert q.stats() == QueueStats(3.0, 5.0)
