"""The MQTT topic tree (documented in docs/iot.md). Every topic trafficai uses is built here.

```
trafficai/v1/devices/<device>/bins        SenML bin, QoS 1            device -> control center
trafficai/v1/devices/<device>/heartbeat   SenML uptime, QoS 0         device -> control center
trafficai/v1/devices/<device>/status      "online"/"offline" JSON, retained, also the last will
trafficai/v1/acks/<device>                ack watermark JSON, retained control center -> device
trafficai/v1/signals/<signal>/command     signal commands             control center only
```

A device id never contains ``/``, ``+``, ``#`` (see ``devices.device_id``), so it is exactly one
topic level and the broker's ACL can name it with ``%u`` (the certificate's CN).
"""

from __future__ import annotations

from typing import Literal, get_args

ROOT = "trafficai/v1"
DeviceChannel = Literal["bins", "heartbeat", "status"]
DEVICE_CHANNELS: tuple[str, ...] = get_args(DeviceChannel)
# what the control center's ingest subscribes to
DEVICE_SUBSCRIPTION = f"{ROOT}/devices/+/+"


def device_topic(device: str, channel: DeviceChannel) -> str:
    return f"{ROOT}/devices/{device}/{channel}"


def ack_topic(device: str) -> str:
    return f"{ROOT}/acks/{device}"


def signal_command_topic(signal: str) -> str:
    return f"{ROOT}/signals/{signal}/command"


def parse_device_topic(topic: str) -> tuple[str, str] | None:
    """``(device, channel)`` of a device topic, None for anything else."""
    parts = topic.split("/")
    prefix = ROOT.split("/")
    if len(parts) != len(prefix) + 3 or parts[: len(prefix)] != prefix or parts[len(prefix)] != "devices":
        return None
    device, channel = parts[-2], parts[-1]
    if not device or channel not in DEVICE_CHANNELS:
        return None
    return device, channel


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT 3.1.1 filter matching (``+`` one level, ``#`` the rest; ``$`` topics not by wildcards)."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    want, have = topic_filter.split("/"), topic.split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(have) or (level != "+" and level != have[i]):
            return False
    return len(want) == len(have)
