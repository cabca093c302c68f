"""What a camera reports as a sensor: crossings, per-lane queues and zone occupancy per approach,
and whether it is online. Produced by ``trafficai.vision`` (which owns detection and tracking),
read by whoever publishes or controls on sensors (the IoT devices, camera-fed controllers)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CameraCounts:
    camera: str
    time_s: float
    online: bool = True
    reason: str = ""  # why it is offline
    crossings: dict[str, int] = field(default_factory=dict)  # approach edge -> vehicles this frame
    queue_m: dict[str, tuple[float, ...]] = field(default_factory=dict)  # approach -> per lane, m
    occupancy: dict[str, int] = field(default_factory=dict)  # approach -> vehicles in its zone

    @staticmethod
    def offline(camera: str, time_s: float, reason: str) -> CameraCounts:
        return CameraCounts(camera, time_s, online=False, reason=reason)
