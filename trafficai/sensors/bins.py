"""Detector bins (30 s by default): count, occupancy and mean speed per detector and per approach.

Counts come from the loops' cumulative counters (the difference between the bin's first sample and
its close), so they are exact however rarely snapshots are sampled. Occupancy, speed and the E2
values are means over the bin's samples; a speed is averaged over the samples that had one (a loop
no vehicle crossed gives none), and a bin without any leaves the speed out.
"""

from __future__ import annotations

import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.sensors.readings import (
    I64,
    Reading,
    approach_counts,
    approach_readings,
    approaches,
    detector_readings,
)


class MeanPerKey:
    """Means of the values seen per object and key (each key over the samples that had it)."""

    def __init__(self) -> None:
        self._sums: dict[str, dict[str, float]] = {}
        self._counts: dict[str, dict[str, int]] = {}

    def add(self, values: dict[str, Reading]) -> None:
        for obj, metrics in values.items():
            sums = self._sums.setdefault(obj, {})
            counts = self._counts.setdefault(obj, {})
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + value
                counts[key] = counts.get(key, 0) + 1

    def close(self) -> dict[str, Reading]:
        out = {
            obj: {key: total / self._counts[obj][key] for key, total in sums.items()}
            for obj, sums in self._sums.items()
        }
        self._sums, self._counts = {}, {}
        return out


class DetectorBins:
    """Accumulates detector readings of sampled snapshots; ``close`` returns one bin.

    Objects are the detector ids and the approach ids (``"<signal>/<edge>"``, see
    ``readings.Approach``); the run store keeps both under its ``detector`` scope.
    """

    def __init__(self, geometry: NetGeometry) -> None:
        self.geometry = geometry
        self.approaches = approaches(geometry)
        self._means = MeanPerKey()
        self._count_start: I64 | None = None

    def sample(self, snapshot: Snapshot) -> None:
        if self._count_start is None and snapshot.detectors.e1_count.size:
            self._count_start = snapshot.detectors.e1_count.astype(np.int64)
        self._means.add(detector_readings(snapshot, self.geometry))
        self._means.add(approach_readings(snapshot, self.approaches))

    def close(self, snapshot: Snapshot) -> dict[str, Reading]:
        """The bin ending at ``snapshot``; the next bin counts from here."""
        out = self._means.close()
        counts = snapshot.detectors.e1_count.astype(np.int64)
        start = self._count_start
        if start is not None and len(counts) == len(start) == len(self.geometry.e1):
            delta = counts - start
            for i, det_id in enumerate(self.geometry.e1.ids):
                out.setdefault(det_id, {})["count"] = float(delta[i])
            for approach_id, count in approach_counts(delta, self.approaches).items():
                out.setdefault(approach_id, {})["count"] = count
        self._count_start = counts if counts.size else None
        return out
