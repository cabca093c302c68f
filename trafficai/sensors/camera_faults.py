"""Injected camera faults: what a faulty camera device reports instead of what it sees.

:class:`FaultyCameraSource` wraps a run's :class:`~trafficai.sensors.camera_source.CameraReadingSource`
(``truth`` or ``vision``), so the faulty bins are made where the camera's readings are made and every
consumer of the camera devices (their publishers, the ingest and the store, camera health, the devices
panel) sees the same faulty data, as in the field.

=========== ================================================================================
kind        what the camera reports while the fault acts
=========== ================================================================================
frozen      the last bin it reported before the onset, again and again (a hung encoder
            repeating one frame); the first bin of a fault striking before any bin: that bin
blackout    nothing seen: every count 0, every queue 0 m, no speed (no vehicle in view), as
            a covered, dazzled or dead lens
=========== ================================================================================

Both are pure functions of the true bins and the fault's timing (no randomness: the same run and
faults give the same bins). A fault acts on a bin when it is active at the bin's end (the simulation
time of the last snapshot the source saw). Transport faults on a camera device (dropout, latency,
packet loss, clock skew, heartbeat loss) act on its messages (``iot.message_faults``), as for loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trafficai.config import CAMERA_FAULT_KINDS, FaultSection
from trafficai.core.snapshot import Snapshot
from trafficai.sensors.camera_source import CameraCoverage, CameraReadingSource
from trafficai.sensors.cameras import CameraSpec


def blacked_out(values: dict[str, float]) -> dict[str, float]:
    """A bin with nothing seen: approach and movement counts 0, queues 0 m; no class counted and no
    speed (a camera's tally names only the classes it counted and the approaches it saw moving)."""
    return {k: 0.0 for k in values if k.startswith(("approach.", "movement.", "queue."))}


def faulty_bin(kind: str, true: dict[str, float], onset: dict[str, float]) -> dict[str, float]:
    """What a camera with fault ``kind`` reports for a bin whose true values are ``true``."""
    if kind == "frozen":
        return dict(onset)
    if kind == "blackout":
        return blacked_out(true)
    return true


class FaultyCameraSource:
    """A camera source whose bins carry the injected camera faults (everything else is the source's)."""

    def __init__(self, source: CameraReadingSource, faults: Sequence[FaultSection], begin_s: float) -> None:
        self.source = source
        self.begin_s = begin_s
        self.name = source.name
        self.firmware = source.firmware
        self.cameras: tuple[CameraSpec, ...] = source.cameras
        self._ids = frozenset(c.id for c in self.cameras)
        self.faults: tuple[tuple[int, FaultSection], ...] = ()
        self._time_s = begin_s
        self._last: dict[str, dict[str, float]] = {}  # per camera: its last bin reported
        self._onset: dict[int, dict[str, float]] = {}  # per fault position: the frozen bin
        self.update(faults)

    @property
    def every_step(self) -> bool:
        return bool(getattr(self.source, "every_step", False))

    def update(self, faults: Sequence[FaultSection]) -> None:
        """The run's faults from now on (all kinds; positions kept, as ``sensors.faults.LoopFaults``)."""
        self.faults = tuple(
            (n, f) for n, f in enumerate(faults) if f.kind in CAMERA_FAULT_KINDS and f.device in self._ids
        )

    def coverage(self, camera: str) -> CameraCoverage:
        return self.source.coverage(camera)

    def sample(self, snapshot: Snapshot) -> None:
        self._time_s = float(snapshot.time_s)
        self.source.sample(snapshot)

    def close(self) -> dict[str, dict[str, float]]:
        bins = self.source.close()
        elapsed = self._time_s - self.begin_s
        for n, fault in self.faults:
            camera = fault.device
            if not fault.active(elapsed):
                self._onset.pop(n, None)
                continue
            true = bins.get(camera)
            if true is None:
                continue  # the camera is down (vision: offline): it reports nothing anyway
            onset = self._onset.setdefault(n, dict(self._last.get(camera, true)))
            bins[camera] = faulty_bin(fault.kind, true, onset)
        self._last.update({c: dict(v) for c, v in bins.items()})
        return bins

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)
