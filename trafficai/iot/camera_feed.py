"""Camera devices of a live run: a perfect camera (``sensors.camera_truth``) per manifest camera,
cut into per-device bins with their own sequence numbers, like the detectors' ``DeviceBinner``."""

from __future__ import annotations

from collections.abc import Sequence

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.iot.devices import Device, DeviceBin, DeviceBinner, camera_devices
from trafficai.sensors.camera_truth import PerfectCameraBins
from trafficai.sensors.cameras import CameraSpec


class CameraFeed:
    """Samples snapshots (with vehicles) for the cameras and cuts their bins when one closes."""

    def __init__(self, cameras: Sequence[CameraSpec], geometry: NetGeometry) -> None:
        self.devices: tuple[Device, ...] = camera_devices(cameras, geometry)
        self.bins = PerfectCameraBins(cameras, geometry)
        self.binner = DeviceBinner(self.devices)

    def sample(self, snapshot: Snapshot) -> None:
        self.bins.sample(snapshot)

    def cut(self, t_begin: float, t_end: float) -> list[DeviceBin]:
        """The cameras' bins of ``[t_begin, t_end]`` (epoch s): one per camera that sees an approach
        (its per-approach values are there even when zero) or saw a vehicle."""
        return self.binner.cut(self.bins.close(), t_begin, t_end)
