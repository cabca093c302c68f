"""The ingest's coverage check of camera bins: a camera may name only the approaches it counts and
the movements leaving them (``Device.covers`` / ``Device.moves``, from its source's
``sensors.camera_source.CameraCoverage``). A bin naming anything else (a tampered or misconfigured
camera, a movement through the junction it cannot see) is dropped whole with ``not_covered``."""

from __future__ import annotations

from collections.abc import Mapping

from trafficai.iot.devices import Device
from trafficai.iot.senml import Drop, DropReason

PER_APPROACH = ("approach.", "queue.", "speed.")


def coverage_drop(device: Device, values: Mapping[str, float]) -> Drop | None:
    """Why a camera's bin names something ``device`` does not cover; None when it does not."""
    for name in values:
        if name.startswith("movement."):
            if name[9:] not in device.moves:
                return Drop(DropReason.NOT_COVERED, f"{device.id} does not cover {name[:80]!r}")
        elif name.startswith(PER_APPROACH) and name.partition(".")[2] not in device.covers:
            return Drop(DropReason.NOT_COVERED, f"{device.id} does not cover {name[:80]!r}")
    return None
