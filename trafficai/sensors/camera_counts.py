"""What a camera reports as a sensor: crossings, per-lane queues and zone occupancy per approach,
and whether it is online; per lane (SUMO lane id) the vehicles, halting vehicles and mean speed in
the zone before the stop line, which camera-fed controllers read (``sensors.observation``).
Produced by ``trafficai.vision`` (which owns detection and tracking), read by whoever publishes or
controls on sensors (the IoT devices, camera-fed controllers)."""

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
    # per SUMO lane id, inside the zone before the stop line (what camera-fed controllers read)
    lane_vehicles: dict[str, int] = field(default_factory=dict)
    lane_halting: dict[str, int] = field(default_factory=dict)  # tracks slower than 1 m/s
    lane_speed_mps: dict[str, float] = field(default_factory=dict)  # mean tracked speed (lanes with one)

    @staticmethod
    def offline(camera: str, time_s: float, reason: str) -> CameraCounts:
        return CameraCounts(camera, time_s, online=False, reason=reason)
