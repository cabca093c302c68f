"""Per-interval detector data for the operator: the last 30 s bin and the last 5 minutes (ten bins)
of every detector, kept in memory while a simulation runs (the run store keeps the full history).

Built on :class:`~trafficai.sensors.bins.DetectorBins`, so counts are differences of the loops'
cumulative counters (exact however rarely snapshots are sampled, jumps included). Over a window,
volume is the sum of the bins' counts, occupancy the mean of the bins' occupancies (bins are equally
long) and speed the mean over the bins that had one.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.sensors.bins import DetectorBins
from trafficai.sensors.readings import Reading

BIN_S = 30.0
WINDOWS_S = (30.0, 300.0)


@dataclass(frozen=True, slots=True)
class IntervalStats:
    """One detector over one window of closed bins ending at ``end_s``."""

    window_s: float  # asked for (30 s, 5 min)
    covered_s: float  # the bins there were (less than the window early in a run)
    end_s: float
    volume: int | None  # vehicles counted (loops only; a lane-area detector counts none)
    occupancy: float  # fraction 0..1
    speed_m_s: float  # NaN when no vehicle gave a speed in the window
    vehicles: float = math.nan  # lane-area detectors: mean vehicles on the detector

    @property
    def flow_veh_h(self) -> float | None:
        if self.volume is None or self.covered_s <= 0:
            return None
        return self.volume * 3600.0 / self.covered_s


class RecentDetectorBins:
    """A snapshot observer (``observe``) that closes a bin every ``bin_s`` of simulated time."""

    def __init__(self, geometry: NetGeometry, bin_s: float = BIN_S, keep: int = 10) -> None:
        self.geometry = geometry
        self.bin_s = bin_s
        self._bins = DetectorBins(geometry)
        self._start_s: float | None = None
        self._closed: deque[tuple[float, float, dict[str, Reading]]] = deque(maxlen=keep)

    def observe(self, snapshot: Snapshot) -> list[Event]:
        if not snapshot.detectors.e1_occupancy.size and not snapshot.detectors.e2_vehicles.size:
            return []
        if self._start_s is None:
            self._start_s = snapshot.time_s
        self._bins.sample(snapshot)
        if snapshot.time_s - self._start_s >= self.bin_s - 1e-9:
            self._closed.append((self._start_s, snapshot.time_s, self._bins.close(snapshot)))
            self._start_s = snapshot.time_s
        return []

    def stats(self, detector_id: str, window_s: float) -> IntervalStats | None:
        """The detector over the closed bins of the last ``window_s``; None before the first bin."""
        if not self._closed:
            return None
        end = self._closed[-1][1]
        chosen = [
            (t0, t1, r.get(detector_id, {})) for t0, t1, r in self._closed if t0 >= end - window_s - 1e-9
        ]
        covered = sum(t1 - t0 for t0, t1, _ in chosen)
        readings = [r for _, _, r in chosen]
        counts = [r["count"] for r in readings if "count" in r]
        speeds = [r["speed"] for r in readings if "speed" in r]
        occupancy = [r["occupancy"] for r in readings if "occupancy" in r]
        vehicles = [r["vehicles"] for r in readings if "vehicles" in r]
        return IntervalStats(
            window_s=window_s,
            covered_s=covered,
            end_s=end,
            volume=round(sum(counts)) if counts else None,
            occupancy=sum(occupancy) / len(occupancy) if occupancy else math.nan,
            speed_m_s=sum(speeds) / len(speeds) if speeds else math.nan,
            vehicles=sum(vehicles) / len(vehicles) if vehicles else math.nan,
        )
