"""Field devices: every E1 loop and E2 lane-area detector of a network is one connected device.

A device has a stable id derived from its detector id (``e1.<id>``/``e2.<id>``, characters outside
``[A-Za-z0-9_.]`` escaped as ``-xx``, so the id is one MQTT topic level, a valid SenML name and a
certificate CN), the lane and signal approach it measures and where it stands. Its bins come from the
sensors layer (``sensors.bins.DetectorBins``), the single source of sensor data: ``DeviceBinner``
only cuts a closed bin into per-device messages and numbers them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from trafficai.core.geometry import DetectorInfo, NetGeometry
from trafficai.sensors.camera_source import CameraReadingSource
from trafficai.sensors.camera_truth import main_approach
from trafficai.sensors.readings import Reading, approaches

FIRMWARE = "trafficai-sim-1"
DEVICE_KINDS = ("e1", "e2", "camera")
CONTROL_CENTER = "control-center"  # the control center's MQTT identity (certificate CN)
READER = "reader"  # a read-only identity (mosquitto_sub, other systems)
_ID_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.")


def escape_id(raw: str) -> str:
    """``raw`` with every character outside ``[A-Za-z0-9_.]`` as ``-xx`` (UTF-8 hex): injective."""
    return "".join(c if c in _ID_SAFE else "".join(f"-{b:02x}" for b in c.encode()) for c in raw)


def device_id(kind: str, detector: str) -> str:
    return f"{kind}.{escape_id(detector)}"


@dataclass(frozen=True, slots=True)
class Device:
    """One field device as the inventory records it."""

    id: str
    kind: str  # e1 | e2 | camera
    source: str  # the detector (or camera) id in the scenario
    lane: str  # the lane it measures ('' for a camera)
    approach: str  # "<signal>/<edge>" it belongs to, '' if none
    x: float
    y: float
    firmware: str = FIRMWARE
    # a camera: the approaches and movements (``edge``, ``edge.exit``, SenML name parts) it covers
    covers: frozenset[str] = frozenset()
    moves: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class DeviceBin:
    """One device's bin: sequence number (from 1, per device and run), interval and values."""

    device: str
    seq: int
    t_begin: float  # epoch seconds
    t_end: float
    values: Mapping[str, float]


def _approach_of_lanes(geometry: NetGeometry) -> dict[int, str]:
    out: dict[int, str] = {}
    for approach in approaches(geometry):
        for lane in approach.lanes:
            out.setdefault(lane, approach.id)
    return out


def _devices_of(
    kind: str, info: DetectorInfo, geometry: NetGeometry, lane_approach: dict[int, str]
) -> list[Device]:
    out = []
    for i, det in enumerate(info.ids):
        lane = int(info.lanes[i])
        lane_id = geometry.lanes.ids[lane] if 0 <= lane < len(geometry.lanes) else ""
        x, y = (float(v) for v in info.xy[i])
        out.append(Device(device_id(kind, det), kind, det, lane_id, lane_approach.get(lane, ""), x, y))
    return out


def inventory(geometry: NetGeometry) -> tuple[Device, ...]:
    """Every detector of the network as a device, E1 then E2, in the network's order."""
    lane_approach = _approach_of_lanes(geometry)
    devices = _devices_of("e1", geometry.e1, geometry, lane_approach)
    devices += _devices_of("e2", geometry.e2, geometry, lane_approach)
    seen: set[str] = set()
    for device in devices:
        if device.id in seen:  # cannot happen with SUMO's unique ids; a hand-made geometry could
            raise ValueError(f"two detectors map to device id {device.id}")
        seen.add(device.id)
    return tuple(devices)


def camera_devices(source: CameraReadingSource, geometry: NetGeometry) -> tuple[Device, ...]:
    """Every camera of ``source`` as a device ``cam.<camera id>`` where it stands, with the approach
    (``<junction>/<edge>``) it sees most of, the source's firmware and what it covers."""
    out = []
    for camera in source.cameras:
        edge = main_approach(geometry, camera)
        approach = f"{camera.junction}/{edge}" if edge else ""
        covers, moves = source.coverage(camera.id).names()
        cam_id = camera_device_id(camera.id)
        where = (camera.x, camera.y)
        out.append(Device(cam_id, "camera", camera.id, "", approach, *where, source.firmware, covers, moves))
    return tuple(out)


def camera_device_id(camera: str) -> str:
    return device_id("cam", camera)


def is_camera(device: str) -> bool:
    """Whether a device id is a camera's (its bins carry camera values)."""
    return device.startswith("cam.")


@dataclass
class DeviceBinner:
    """Cuts closed sensor bins into per-device bins with per-device sequence numbers.

    ``next_seq`` starts at 1 for every device; restore it (``resume``) when a publisher restarts, so
    sequence numbers are never reused within a run.
    """

    devices: tuple[Device, ...]
    next_seq: dict[str, int] = field(default_factory=dict)

    def resume(self, last_seq: Mapping[str, int]) -> None:
        for device, seq in last_seq.items():
            self.next_seq[device] = max(self.next_seq.get(device, 1), seq + 1)

    def cut(self, closed: Mapping[str, Reading], t_begin: float, t_end: float) -> list[DeviceBin]:
        """The bins of one closed ``DetectorBins`` interval (keys are detector ids); a device with
        no values in it publishes nothing for the interval and keeps its sequence number."""
        out = []
        for device in self.devices:
            values = closed.get(device.source)
            if not values:
                continue
            seq = self.next_seq.get(device.id, 1)
            self.next_seq[device.id] = seq + 1
            out.append(DeviceBin(device.id, seq, t_begin, t_end, dict(values)))
        return out


def by_id(devices: Iterable[Device]) -> dict[str, Device]:
    return {d.id: d for d in devices}
