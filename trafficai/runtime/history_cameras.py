"""Camera counts in simulated history (``trafficai history --cameras truth``).

Each day's run gets camera devices as the IoT camera devices have them: the scenario's
``[[cameras]]`` (auto-placed over the approaches of its signalised junctions when it has none),
their bins made by the same ``truth`` source (``sensors.camera_truth.TruthCameraSource``: class,
approach and movement counts, queues, speeds per 30 s bin), cut into per-device bins with their
sequence numbers by the same ``iot.camera_feed.CameraFeed``, and stored in the run store's device
tables (``iot_devices``, ``iot_bins``) under the day's run, as ``trafficai run --cameras truth``
stores them. What differs: no transport (no SenML over a bus, no ingest, no heartbeats: nothing
is lost in a simulated history) and the bins' times are simulation seconds of the day (a live run
stamps device time, epoch seconds), so they line up with the day's detector bins.

The source samples every sampled snapshot (history reads its detectors every second), with the
vehicles: that subscription is what costs (docs/benchmarks.md, "History").
"""

from __future__ import annotations

from trafficai.core.events import Event
from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import Scenario
from trafficai.core.snapshot import Snapshot
from trafficai.iot.camera_feed import CameraFeed
from trafficai.iot.devices import DeviceBin
from trafficai.iot.ingest import device_row
from trafficai.runtime.camera_sources import placed_cameras
from trafficai.sensors.camera_truth import TruthCameraSource
from trafficai.storage.devices import BinRow, DeviceStore

HISTORY_CAMERAS = ("off", "truth")


class HistoryCameras:
    """A snapshot observer (``wants_vehicles``): the day's perfect camera devices and their bins,
    kept until :meth:`store` writes them under the day's run."""

    wants_vehicles = True

    def __init__(self, bin_s: float) -> None:
        self.bin_s = bin_s
        self.feed: CameraFeed | None = None
        self.bins: list[DeviceBin] = []
        self._bin_steps = 1
        self._bin_start_s: float | None = None

    def bind(self, geometry: NetGeometry, scenario: Scenario) -> None:
        placement = "manifest" if scenario.cameras else "auto"
        cameras = placed_cameras(scenario, geometry, placement)
        self.feed = CameraFeed(TruthCameraSource(cameras, geometry), geometry)
        self._bin_steps = max(1, round(self.bin_s / scenario.step_length_s))

    def observe(self, snapshot: Snapshot) -> list[Event]:
        """Sample ``snapshot``; at a bin boundary (the run's detector bins close on the same steps)
        cut the cameras' bin."""
        feed = self.feed
        if feed is None:
            return []
        feed.sample(snapshot)
        if self._bin_start_s is None:
            self._bin_start_s = snapshot.time_s
        elif snapshot.step % self._bin_steps == 0 and snapshot.time_s > self._bin_start_s:
            self.bins += feed.cut(self._bin_start_s, snapshot.time_s)
            self._bin_start_s = snapshot.time_s
        return []

    def finish(self, end_s: float) -> None:
        """Cut the last bin at the run's end (as the live camera devices do: the final snapshot
        carries no vehicles, so it is not sampled)."""
        if self.feed is not None and self._bin_start_s is not None and end_s > self._bin_start_s:
            self.bins += self.feed.cut(self._bin_start_s, end_s)
            self._bin_start_s = end_s

    def store(self, store: DeviceStore, run_id: str) -> int:
        """Register the camera devices of run ``run_id`` and store their bins; the bins stored."""
        if self.feed is None:
            return 0
        store.register(run_id, [device_row(d) for d in self.feed.devices])
        rows = [BinRow(b.device, b.seq, b.t_begin, b.t_end, b.values) for b in self.bins]
        return sum(store.add_bins(run_id, rows))
