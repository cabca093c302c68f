"""The KPI sample a live run publishes on its cadence: the run store's network metrics plus arrivals
since the last sample and the throughput over the last minute."""

from __future__ import annotations

from collections import deque

from trafficai.core.kpis import network_sample
from trafficai.core.snapshot import Snapshot

THROUGHPUT_WINDOW_S = 60.0


class LiveKpis:
    def __init__(self) -> None:
        self.arrivals: deque[tuple[float, int]] = deque()
        self.last_arrived = 0
        self.running_vehicles = 0

    def reset(self) -> None:
        self.arrivals.clear()
        self.last_arrived = 0
        self.running_vehicles = 0

    def network(self, snapshot: Snapshot) -> dict[str, float]:
        """Network-wide values at ``snapshot`` (and remember it for the next sample)."""
        network = network_sample(snapshot)
        counters = snapshot.counters
        arrived = counters.arrived_total - self.last_arrived
        # throughput over the last minute (arrivals in one 5-s sample are too few to read)
        self.arrivals.append((snapshot.time_s, counters.arrived_total))
        while len(self.arrivals) > 2 and snapshot.time_s - self.arrivals[1][0] >= THROUGHPUT_WINDOW_S:
            self.arrivals.popleft()
        elapsed = snapshot.time_s - self.arrivals[0][0]
        window_arrived = counters.arrived_total - self.arrivals[0][1]
        network["arrived"] = float(arrived)
        network["throughput_veh_h"] = window_arrived * 3600.0 / elapsed if elapsed > 0 else 0.0
        self.last_arrived = counters.arrived_total
        self.running_vehicles = counters.running
        return network
