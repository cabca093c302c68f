from __future__ import annotations

import json

import pytest

from tests.iot.helpers import EPOCH, a_bin
from trafficai.iot.devices import DeviceBin
from trafficai.iot.senml import (
    MAX_PAYLOAD_BYTES,
    Drop,
    DropReason,
    decode_ack,
    decode_bin,
    decode_heartbeat,
    decode_status,
    encode_ack,
    encode_bin,
    encode_heartbeat,
    encode_status,
)


def test_bin_round_trip() -> None:
    item = a_bin(seq=17)
    back = decode_bin(encode_bin(item), "e1.d0")
    assert back == item


def test_bin_is_senml_with_base_name_time_and_units() -> None:
    records = json.loads(encode_bin(a_bin()))
    assert records[0] == {"bn": "trafficai:e1.d0:", "bt": EPOCH + 30.0, "n": "seq", "v": 1}
    units = {r["n"]: r.get("u") for r in records}
    assert units == {"seq": None, "interval": "s", "count": "count", "occupancy": "/", "speed": "m/s"}


def test_heartbeat_status_and_ack_round_trip() -> None:
    assert decode_heartbeat(encode_heartbeat("e2.x", EPOCH, 12.0), "e2.x") == (EPOCH, 12.0)
    assert decode_status(encode_status("offline", "fw")) == ("offline", "fw")
    assert decode_ack(encode_ack(41)) == 41
    assert decode_ack(b'{"seq": true}') is None
    assert decode_ack(b"garbage") is None


def _records() -> list[dict[str, object]]:
    return json.loads(encode_bin(a_bin()))  # type: ignore[no-any-return]


def _mutated(change: str) -> bytes:
    r = _records()
    if change == "bn":
        r[0]["bn"] = "trafficai:e1.d1:"
    elif change == "unit":
        r[2]["u"] = "km/h"
    elif change == "name":
        r[2]["n"] = "temperature"
    elif change == "dup":
        r.append(dict(r[2]))
    elif change == "range":
        r[3]["v"] = 7.5
    elif change == "seq":
        r[0]["v"] = 1.5
    elif change == "type":
        r[2]["v"] = "4"
    elif change == "bool":
        r[2]["v"] = True
    elif change == "extra":
        r[2]["vs"] = "x"
    elif change == "nobt":
        del r[0]["bt"]
    elif change == "later_bn":
        r[1]["bn"] = "trafficai:e1.d0:"
    return json.dumps(r).encode()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("bn", DropReason.DEVICE_MISMATCH),
        ("unit", DropReason.BAD_UNIT),
        ("name", DropReason.UNKNOWN_NAME),
        ("dup", DropReason.DUPLICATE_RECORD),
        ("range", DropReason.OUT_OF_RANGE),
        ("seq", DropReason.BAD_SEQ),
        ("type", DropReason.BAD_FIELD),
        ("bool", DropReason.BAD_FIELD),
        ("extra", DropReason.BAD_FIELD),
        ("nobt", DropReason.MISSING_FIELD),
        ("later_bn", DropReason.BAD_FIELD),
    ],
)
def test_each_defect_has_its_reason(change: str, reason: DropReason) -> None:
    result = decode_bin(_mutated(change), "e1.d0")
    assert isinstance(result, Drop) and result.reason == reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"x" * (MAX_PAYLOAD_BYTES + 1), DropReason.OVERSIZED),
        (b'[{"bn": "trafficai:e1.d0:", "bt": 1', DropReason.NOT_JSON),
        (b"\xff\xfe", DropReason.NOT_JSON),
        (b"[" * 300_000 + b"]" * 300_000, DropReason.OVERSIZED),
        (b"[" * 2000 + b"]" * 2000, DropReason.NOT_JSON),  # deep nesting under the size limit
        (b'[{"bn": "trafficai:e1.d0:", "bt": NaN, "n": "seq", "v": 1}]', DropReason.NOT_FINITE),
        (b'[{"bn": "trafficai:e1.d0:", "bt": 1e999, "n": "seq", "v": 1}]', DropReason.NOT_FINITE),
        (
            b'[{"bn": "trafficai:e1.d0:", "bt": 1, "n": "seq", "v": ' + b"9" * 4000 + b"}]",
            DropReason.OUT_OF_RANGE,
        ),
        (b'{"bn": "trafficai:e1.d0:"}', DropReason.NOT_SENML),
        (b"[]", DropReason.NOT_SENML),
        (b"[1, 2]", DropReason.NOT_SENML),
        (b'[{"bn": "trafficai:e1.d0:", "bt": 1, "n": "seq", "v": 1}]', DropReason.MISSING_FIELD),
    ],
)
def test_garbage_is_dropped_with_a_reason(payload: bytes, reason: DropReason) -> None:
    result = decode_bin(payload, "e1.d0")
    assert isinstance(result, Drop) and result.reason == reason


def test_values_keep_float_precision() -> None:
    item = DeviceBin(
        "e2.a-2fb", 3, EPOCH, EPOCH + 30.0, {"vehicles": 3.25, "halting": 1.0, "occupancy": 0.333}
    )
    assert decode_bin(encode_bin(item), "e2.a-2fb") == item
