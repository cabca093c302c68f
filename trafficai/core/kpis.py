"""Key performance indicators as pure functions of trip records and snapshots.

Run KPIs follow RESCO's definition of delay: per vehicle ``timeLoss + departDelay``, counting
vehicles still running at the end and vehicles that were never inserted (their whole wait to
depart is delay). Time-series samples are computed from snapshots on the control cadence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot

F64 = NDArray[np.float64]

RUN_KPI_KEYS = (
    "mean_delay_s",
    "mean_waiting_s",
    "mean_travel_time_s",
    "throughput_veh",
    "mean_queue_veh",
    "max_queue_veh",
    "mean_stops",
    "co2_kg",
    "departed",
    "arrived",
    "not_inserted",
    "teleports",
)


@dataclass(frozen=True, slots=True)
class TripRecords:
    """One entry per vehicle the simulation loaded. ``arrival`` is -1 while unfinished,
    ``depart`` is -1 for vehicles never inserted."""

    ids: tuple[str, ...]
    depart: F64
    arrival: F64
    duration: F64
    time_loss: F64
    depart_delay: F64
    waiting_time: F64
    waiting_count: F64
    co2_mg: F64

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def empty() -> TripRecords:
        z = np.zeros(0)
        return TripRecords((), z, z, z, z, z, z, z, z)


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Network queue (halting vehicles) over the sampled steps."""

    mean: float = 0.0
    max: float = 0.0


def _mean(values: F64) -> float:
    return float(values.mean()) if values.size else 0.0


def run_kpis(trips: TripRecords, queue: QueueStats, teleports: int) -> dict[str, float]:
    """Final KPIs of a run from its trip records (see module docstring for definitions)."""
    inserted = trips.depart >= 0
    arrived = trips.arrival >= 0
    delay = trips.time_loss + trips.depart_delay
    return {
        "mean_delay_s": _mean(delay),
        "mean_waiting_s": _mean(trips.waiting_time[inserted]),
        "mean_travel_time_s": _mean(trips.duration[arrived]),
        "throughput_veh": float(arrived.sum()),
        "mean_queue_veh": queue.mean,
        "max_queue_veh": queue.max,
        "mean_stops": _mean(trips.waiting_count[inserted]),
        "co2_kg": float(trips.co2_mg.sum()) / 1e6,
        "departed": float(inserted.sum()),
        "arrived": float(arrived.sum()),
        "not_inserted": float((~inserted).sum()),
        "teleports": float(teleports),
    }


def network_sample(snapshot: Snapshot) -> dict[str, float]:
    """Network-wide values of one step, for the KPI time series."""
    lanes = snapshot.lanes
    vehicles = float(lanes.vehicles.sum())
    occupied = lanes.vehicles > 0
    mean_speed = (
        float((lanes.mean_speed[occupied] * lanes.vehicles[occupied]).sum() / vehicles) if vehicles else 0.0
    )
    return {
        "running": float(snapshot.counters.running),
        "queue_veh": float(lanes.halting.sum()),
        "mean_speed_mps": mean_speed,
        "mean_waiting_s": float(lanes.waiting.sum() / vehicles) if vehicles else 0.0,
        "co2_g_s": float(lanes.co2_mg_s.sum()) / 1000.0,
        "pending": float(snapshot.counters.pending),
    }


def signal_samples(snapshot: Snapshot, geometry: NetGeometry) -> dict[str, dict[str, float]]:
    """Per-intersection queue, approach vehicles and mean waiting of vehicles on its approaches."""
    lanes = snapshot.lanes
    out: dict[str, dict[str, float]] = {}
    for info in geometry.signals:
        idx = np.asarray(info.incoming_lanes, dtype=np.int64)
        vehicles = float(lanes.vehicles[idx].sum()) if idx.size else 0.0
        out[info.id] = {
            "queue_veh": float(lanes.halting[idx].sum()) if idx.size else 0.0,
            "vehicles": vehicles,
            "mean_waiting_s": float(lanes.waiting[idx].sum() / vehicles) if vehicles else 0.0,
        }
    return out


@dataclass(slots=True)
class BinAccumulator:
    """Averages samples (and sums ``sum_keys``) over a time bin; returns the bin when it closes."""

    sum_keys: frozenset[str] = frozenset({"count", "arrived", "departed"})
    samples: int = 0
    totals: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, values: dict[str, dict[str, float]], weight: int = 1) -> None:
        self.samples += weight
        for obj, metrics in values.items():
            acc = self.totals.setdefault(obj, {})
            for key, value in metrics.items():
                acc[key] = acc.get(key, 0.0) + value * (1 if key in self.sum_keys else weight)

    def close(self) -> dict[str, dict[str, float]]:
        n = max(self.samples, 1)
        out = {
            obj: {k: (v if k in self.sum_keys else v / n) for k, v in metrics.items()}
            for obj, metrics in self.totals.items()
        }
        self.samples = 0
        self.totals = {}
        return out


@dataclass(slots=True)
class QueueTracker:
    """Running mean and max of the network queue over sampled steps."""

    total: float = 0.0
    n: int = 0
    peak: float = 0.0

    def add(self, queue: float) -> None:
        self.total += queue
        self.n += 1
        self.peak = max(self.peak, queue)

    def stats(self) -> QueueStats:
        return QueueStats(self.total / self.n if self.n else 0.0, self.peak)
