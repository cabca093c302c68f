"""Camera bins in SenML: encoded with their units, decoded only from camera devices, unknown names
and wrong units dropped with a reason code."""

from __future__ import annotations

import json

from trafficai.iot.devices import DeviceBin
from trafficai.iot.senml import Drop, DropReason, decode_bin, encode_bin

VALUES = {"class.passenger": 12.0, "approach.N_app": 7.0, "queue.N_app": 23.5}


def _pack(device: str = "cam.cam_C", **extra: float) -> bytes:
    return encode_bin(DeviceBin(device, 3, 1_704_067_200.0, 1_704_067_230.0, {**VALUES, **extra}))


def test_a_camera_bin_round_trips_with_its_units() -> None:
    records = json.loads(_pack())
    assert {r["n"]: r.get("u") for r in records[1:]} == {
        "interval": "s", "approach.N_app": "count", "class.passenger": "count", "queue.N_app": "m",
    }  # fmt: skip
    item = decode_bin(_pack(), "cam.cam_C")
    assert isinstance(item, DeviceBin) and item.seq == 3 and dict(item.values) == VALUES


def _tampered(name: str, unit: str, value: float, device: str = "cam.cam_C") -> bytes:
    records = json.loads(_pack(device) if device.startswith("cam.") else _pack())
    records[0]["bn"] = f"trafficai:{device}:"
    records.append({"n": name, "u": unit, "v": value})
    return json.dumps(records).encode()


def test_unknown_names_wrong_units_and_bad_values_are_dropped_with_a_reason() -> None:
    cases = [
        (_tampered("count", "count", 3.0), DropReason.UNKNOWN_NAME),  # a loop's value from a camera
        (_tampered("class.bad name", "count", 1.0), DropReason.UNKNOWN_NAME),
        (_tampered("speed.N_app", "m/s", 1.0), DropReason.UNKNOWN_NAME),
        (_tampered("queue.S_app", "count", 1.0), DropReason.BAD_UNIT),
        (_tampered("queue.S_app", "m", 20_000.0), DropReason.OUT_OF_RANGE),
        (_tampered("class.truck", "count", -1.0), DropReason.OUT_OF_RANGE),
        (_tampered("class.truck", "count", 1.0, device="e1.d0"), DropReason.UNKNOWN_NAME),  # not a camera
    ]
    for payload, reason in cases:
        device = json.loads(payload)[0]["bn"].split(":")[1]
        got = decode_bin(payload, device)
        assert isinstance(got, Drop) and got.reason == reason, (payload, got)
