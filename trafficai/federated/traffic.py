"""What shipping a site's raw detector data would cost, to set beside the model updates.

Every E1 loop and E2 area detector of the site yields one 30-second bin (count, occupancy, mean
speed) per interval; each is sized as the IoT layer encodes it for the wire (SenML JSON,
:func:`trafficai.iot.senml.encode_bin`), with the detector's own id and typical values.
"""

from __future__ import annotations

import math

from trafficai.federated.sites import SiteInfo
from trafficai.iot.devices import DeviceBin
from trafficai.iot.senml import encode_bin

BIN_S = 30.0
EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a realistic timestamp width


def bin_bytes(detector: str) -> int:
    values = {"count": 7.0, "occupancy": 0.1375, "speed": 11.42}
    return len(encode_bin(DeviceBin(detector, 120, EPOCH, EPOCH + BIN_S, values)))


def raw_bins_bytes(info: SiteInfo, seconds: float) -> int:
    """Bytes of every detector's 30-s bins over ``seconds`` of the site's traffic."""
    intervals = math.ceil(seconds / BIN_S)
    return intervals * sum(bin_bytes(d) for d in info.detectors)
