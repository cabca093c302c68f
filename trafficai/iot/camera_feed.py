"""Camera devices of a live run: one device per camera of a ``sensors.camera_source``
``CameraReadingSource`` (``truth``: perfect cameras; ``vision``: the perception pipeline), its bins
cut into per-device messages with their own sequence numbers, like the detectors' ``DeviceBinner``."""

from __future__ import annotations

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.iot.devices import Device, DeviceBin, DeviceBinner, camera_devices
from trafficai.sensors.camera_source import CameraReadingSource


class CameraFeed:
    """Hands sampled snapshots (with vehicles) to the source and cuts its bins when one closes."""

    def __init__(self, source: CameraReadingSource, geometry: NetGeometry) -> None:
        self.source = source
        self.devices: tuple[Device, ...] = camera_devices(source, geometry)
        self.binner = DeviceBinner(self.devices)

    def sample(self, snapshot: Snapshot) -> None:
        self.source.sample(snapshot)

    def cut(self, t_begin: float, t_end: float) -> list[DeviceBin]:
        """The cameras' bins of ``[t_begin, t_end]`` (epoch s): one per camera with any value (a
        camera covering an approach always has one, zero counts included)."""
        return self.binner.cut(self.source.close(), t_begin, t_end)
