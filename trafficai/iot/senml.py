"""SenML JSON (RFC 8428) payloads of device bins and heartbeats: pure encode and strict decode.

A bin is one SenML pack: the first record carries the base name ``trafficai:<device>:`` and the
base time (epoch seconds of the bin's end) with the sequence number, the others one value each::

    [{"bn": "trafficai:e1.det_1:", "bt": 1704067230.0, "n": "seq", "v": 17},
     {"n": "interval", "u": "s", "v": 30.0},
     {"n": "count", "u": "count", "v": 9.0},
     {"n": "occupancy", "u": "/", "v": 0.12},
     {"n": "speed", "u": "m/s", "v": 11.4}]

A camera's bin (device ``cam.<id>``) carries, besides seq and interval, crossings per class
(``class.<class>``, count), per approach edge (``approach.<edge>``, count) and per turning movement
(``movement.<edge>.<exit>``, count), the longest queue per approach (``queue.<edge>``, m) and the
mean speed per approach (``speed.<edge>``, m/s); each name part after the prefix is
``[A-Za-z0-9_-]``, at most 60 characters (``sensors.camera_source``). Whether the camera covers the
approaches and movements it names is the ingest's check (``iot.camera_names``).

Decoding never raises: anything that is not exactly such a pack gives a :class:`Drop` with a reason
code (the ingest counts them). Checks that need state (device known, sequence, time bounds, rate)
are the ingest's.

``decode_bin`` tries a fast path first: the pack parsed with orjson (when installed, the ``iot``
extra; else the standard library) and checked record by record against the shape ``encode_bin``
writes (first record exactly bn, bt, n="seq", v; then records of exactly n, u, v with float values).
It applies every check of the full validator and only ever *accepts*: anything it does not
recognise, good or bad, goes to the full validator, which decides and names the reason. So the
reason codes are the full validator's, and ``tests/iot/test_senml_fast.py`` checks with hypothesis
that the fast path never accepts what the full one would not, with the same bin. A new family of
value names (``name prefix -> unit`` in ``CAMERA_UNITS``, its range in ``CAMERA_RANGES``) is known
to both paths at once through ``_unit_and_range``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from trafficai.iot.devices import DeviceBin, is_camera

try:  # the iot extra: C-speed JSON parsing (the fast path falls back to the standard library)
    import orjson
except ImportError:  # pragma: no cover - the base install
    orjson = None  # type: ignore[assignment]

MAX_PAYLOAD_BYTES = 4096  # a bin is ~250 bytes; the broker's message_size_limit is larger
MAX_RECORDS = 64  # a camera over a 4-approach junction: 5 classes, 4 x 3 per approach, 12 movements
BASE_NAME_PREFIX = "trafficai:"
# SenML unit of each value a bin may carry (RFC 8428 section 12.1 registry: count, ratio "/", m/s, s)
BIN_UNITS: Mapping[str, str] = {
    "count": "count",
    "occupancy": "/",
    "speed": "m/s",
    "vehicles": "count",
    "halting": "count",
    "interval": "s",
}
HEARTBEAT_UNITS: Mapping[str, str] = {"uptime": "s"}
# plausible ranges, inclusive (occupancy is a fraction of time, speed below 720 km/h)
VALUE_RANGES: Mapping[str, tuple[float, float]] = {
    "count": (0.0, 1e6),
    "occupancy": (0.0, 1.0),
    "speed": (0.0, 200.0),
    "vehicles": (0.0, 1e5),
    "halting": (0.0, 1e5),
    "interval": (0.001, 86400.0),
    "uptime": (0.0, 1e10),
}
# camera bins: name prefix -> unit; and the range of each unit
CAMERA_UNITS: Mapping[str, str] = {
    "class.": "count", "approach.": "count", "movement.": "count", "queue.": "m", "speed.": "m/s",
}  # fmt: skip
CAMERA_RANGES: Mapping[str, tuple[float, float]] = {
    "count": (0.0, 1e5), "m": (0.0, 10_000.0), "m/s": (0.0, 200.0),
}  # fmt: skip
_CAMERA_PARTS: Mapping[str, int] = {"movement.": 2}  # name parts after the prefix (default 1)
_NAME_PART = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
MAX_SEQ = 2**53  # integers JSON numbers hold exactly
_RECORD_FIELDS = frozenset(("bn", "bt", "n", "u", "v", "t"))


class DropReason(StrEnum):
    """Why an inbound message was dropped (shown in the devices panel and the events list)."""

    OVERSIZED = "oversized"
    NOT_JSON = "not_json"
    NOT_FINITE = "not_finite"
    NOT_SENML = "not_senml"
    BAD_FIELD = "bad_field"
    MISSING_FIELD = "missing_field"
    DEVICE_MISMATCH = "device_mismatch"
    UNKNOWN_NAME = "unknown_name"
    DUPLICATE_RECORD = "duplicate_record"
    BAD_UNIT = "bad_unit"
    OUT_OF_RANGE = "out_of_range"
    BAD_SEQ = "bad_seq"
    UNKNOWN_TOPIC = "unknown_topic"
    UNKNOWN_DEVICE = "unknown_device"
    NOT_COVERED = "not_covered"  # a camera naming an approach or movement it does not cover
    BAD_TIMESTAMP = "bad_timestamp"
    DUPLICATE = "duplicate"  # sequence number already stored: a replay or a resend
    SEQ_IMPLAUSIBLE = "seq_implausible"  # too far ahead of what the device sent so far
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Drop:
    reason: DropReason
    detail: str


class _Reject(Exception):
    def __init__(self, reason: DropReason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def base_name(device: str) -> str:
    return f"{BASE_NAME_PREFIX}{device}:"


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _dumps(records: list[dict[str, Any]]) -> bytes:
    return _ENCODER.encode(records).encode()


@lru_cache(maxsize=4096)
def _bin_head(device: str) -> str:
    return '[{"bn":' + _ENCODER.encode(base_name(device)) + ',"bt":'


# each value record's text up to its number, per name (the names and units are ours: no escaping)
_VALUE_HEADS = {name: f',{{"n":"{name}","u":"{unit}","v":' for name, unit in BIN_UNITS.items()}


def camera_unit(name: str) -> str | None:
    """The unit of a camera bin's value ``name`` (None: not a camera value name)."""
    prefix, dot, rest = name.partition(".")
    unit = CAMERA_UNITS.get(prefix + dot)
    if unit is None:
        return None
    parts = rest.split(".")
    if len(parts) != _CAMERA_PARTS.get(prefix + dot, 1):
        return None
    if any(not 0 < len(p) <= 60 or not set(p) <= _NAME_PART for p in parts):
        return None
    return unit


def _value_head(name: str) -> str:
    head = _VALUE_HEADS.get(name)
    if head is not None:
        return head
    unit = camera_unit(name)
    if unit is None:
        raise ValueError(f"no SenML unit for {name!r}")
    return f',{{"n":"{name}","u":"{unit}","v":'


def _json_number(value: float) -> str:
    number = float(value)
    if number != number or number in (math.inf, -math.inf):
        raise ValueError(f"SenML values are finite, got {number}")
    return repr(number)


def _text_encode_bin(item: DeviceBin) -> bytes:
    """``encode_bin`` without orjson: the JSON ``json`` would write, built by hand."""
    parts = [
        _bin_head(item.device),
        _json_number(item.t_end),
        ',"n":"seq","v":',
        str(int(item.seq)),
        '},{"n":"interval","u":"s","v":',
        _json_number(item.t_end - item.t_begin),
        "}",
    ]
    values = item.values
    for name in sorted(values):
        parts += (_value_head(name), _json_number(values[name]), "}")
    parts.append("]")
    return "".join(parts).encode()


@lru_cache(maxsize=4096)
def _unit_of(name: str) -> str | None:
    return BIN_UNITS.get(name) or camera_unit(name)


def _finite(value: float) -> float:
    number = float(value)
    if not math.isfinite(number):  # orjson would write NaN as null
        raise ValueError(f"SenML values are finite, got {number}")
    return number


def _orjson_encode_bin(item: DeviceBin) -> bytes:
    """``encode_bin`` with orjson: the same records (orjson writes 1e+16 as 1e16: the same number)."""
    values = item.values
    records: list[dict[str, str | float | int]] = [
        {"bn": base_name(item.device), "bt": _finite(item.t_end), "n": "seq", "v": int(item.seq)},
        {"n": "interval", "u": "s", "v": _finite(item.t_end - item.t_begin)},
    ]
    for name in sorted(values):
        unit = _unit_of(name)
        if unit is None:
            raise ValueError(f"no SenML unit for {name!r}")
        records.append({"n": name, "u": unit, "v": _finite(values[name])})
    return orjson.dumps(records)


def encode_bin(item: DeviceBin) -> bytes:
    """The SenML pack of a bin: most of a publisher's and the in-process bus's time, so orjson
    writes it where installed, else it is built by hand."""
    return _orjson_encode_bin(item) if orjson is not None else _text_encode_bin(item)


def encode_heartbeat(device: str, time_s: float, uptime_s: float) -> bytes:
    return _dumps(
        [{"bn": base_name(device), "bt": float(time_s), "n": "uptime", "u": "s", "v": float(uptime_s)}]
    )


def _no_constants(name: str) -> float:
    raise _Reject(DropReason.NOT_FINITE, f"JSON constant {name} is not a number SenML allows")


def _number(record: Mapping[str, Any], key: str) -> float:
    value = record[key]
    if type(value) is float and math.isfinite(value):  # the common case first (1e999 parses as inf)
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Reject(DropReason.BAD_FIELD, f"field {key!r} must be a number")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        raise _Reject(DropReason.OUT_OF_RANGE, f"field {key!r} is too large") from None
    if not math.isfinite(number):
        raise _Reject(DropReason.NOT_FINITE, f"field {key!r} is not finite")
    return number


_DECODER = json.JSONDecoder(parse_constant=_no_constants)  # built once: it is most of a small decode


def _records(payload: bytes) -> list[Mapping[str, Any]]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise _Reject(DropReason.OVERSIZED, f"{len(payload)} bytes (limit {MAX_PAYLOAD_BYTES})")
    try:
        data = _DECODER.decode(payload.decode())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise _Reject(DropReason.NOT_JSON, f"not JSON: {type(exc).__name__}") from None
    if not isinstance(data, list) or not data or len(data) > MAX_RECORDS:
        raise _Reject(DropReason.NOT_SENML, f"a SenML pack is a list of 1 to {MAX_RECORDS} records")
    if not all(isinstance(r, dict) for r in data):
        raise _Reject(DropReason.NOT_SENML, "every SenML record is a JSON object")
    return data


def _unit_and_range(name: str, units: Mapping[str, str], camera: bool) -> tuple[str, tuple[float, float]]:
    if name in units and (not camera or name == "interval"):
        return units[name], VALUE_RANGES[name]
    unit = camera_unit(name) if camera else None
    if unit is None:
        raise _Reject(DropReason.UNKNOWN_NAME, f"unknown measurement {name[:40]!r}")
    return unit, CAMERA_RANGES[unit]


def _parse(
    payload: bytes, device: str, units: Mapping[str, str], camera: bool = False
) -> tuple[float, dict[str, float]]:
    """The base time and ``name -> value`` of a pack from ``device`` naming only ``units``' names
    (``camera``: a camera's value names instead, and interval)."""
    records = _records(payload)
    first = records[0]
    if "bn" not in first or "bt" not in first:
        raise _Reject(DropReason.MISSING_FIELD, "the first record needs bn and bt")
    if first["bn"] != base_name(device):
        raise _Reject(DropReason.DEVICE_MISMATCH, f"base name is not {base_name(device)!r}")
    base_time = _number(first, "bt")
    values: dict[str, float] = {}
    for index, record in enumerate(records):
        if not record.keys() <= _RECORD_FIELDS or (index and ("bn" in record or "bt" in record)):
            raise _Reject(DropReason.BAD_FIELD, f"record {index}: unexpected fields")
        if "t" in record and _number(record, "t") != 0.0:
            raise _Reject(DropReason.BAD_FIELD, f"record {index}: relative times are not used")
        name = record.get("n")
        if not isinstance(name, str) or "v" not in record:
            raise _Reject(DropReason.MISSING_FIELD, f"record {index}: needs a name and a numeric value")
        value = _number(record, "v")
        if name in values:
            raise _Reject(DropReason.DUPLICATE_RECORD, f"record {name!r} appears twice")
        if name == "seq":
            if "u" in record or value != int(value) or not 1 <= value <= MAX_SEQ:
                raise _Reject(DropReason.BAD_SEQ, "seq must be a whole number from 1, without unit")
        else:
            unit, (low, high) = _unit_and_range(name, units, camera)
            if record.get("u") != unit:
                raise _Reject(DropReason.BAD_UNIT, f"{name} must be in {unit!r}")
            if not low <= value <= high:
                raise _Reject(DropReason.OUT_OF_RANGE, f"{name} {value:g} outside [{low:g}, {high:g}]")
        values[name] = value
    return base_time, values


@lru_cache(maxsize=4096)
def _value_spec(name: str, camera: bool) -> tuple[str, float, float] | None:
    """``(unit, low, high)`` of a value a (camera) bin may carry besides seq; None: not one."""
    try:
        unit, (low, high) = _unit_and_range(name, BIN_UNITS, camera)
    except _Reject:
        return None
    return unit, low, high


# a loop detector's value names, looked up without the cache's call (the common case)
_LOOP_SPECS = {name: spec for name in BIN_UNITS if (spec := _value_spec(name, False)) is not None}
_PLAIN_DECODER = json.JSONDecoder()  # NaN parses to nan here: the fast path's range checks refuse it


def _plain_loads(payload: bytes) -> Any:
    return _PLAIN_DECODER.decode(payload.decode())


# the fast path's parser; anything it raises sends the payload to the full validator
fast_loads: Callable[[bytes], Any] = orjson.loads if orjson is not None else _plain_loads


def _fast_values(records: list[Any], camera: bool) -> dict[str, float] | None:
    values: dict[str, float] = {}
    for record in records:
        if type(record) is not dict or len(record) != 3:
            return None
        name = record.get("n")
        if not isinstance(name, str) or name in values:
            return None
        spec = _value_spec(name, True) if camera else _LOOP_SPECS.get(name)
        if spec is None or record.get("u") != spec[0]:
            return None
        value = record.get("v")
        if type(value) is not float or not spec[1] <= value <= spec[2]:  # NaN and inf fail here
            return None
        values[name] = value
    return values


def fast_bin(payload: bytes, device: str) -> DeviceBin | None:
    """The bin of a well-formed pack in ``encode_bin``'s shape, with every check of the full
    validator applied; None for anything else (the full validator then decides)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        data = fast_loads(payload)
    except (ValueError, RecursionError):  # orjson.JSONDecodeError and UnicodeDecodeError included
        return None
    if type(data) is not list or not 2 <= len(data) <= MAX_RECORDS:
        return None
    first = data[0]
    if type(first) is not dict or len(first) != 4 or first.get("n") != "seq":
        return None
    if first.get("bn") != base_name(device):
        return None
    bt, seq = first.get("bt"), first.get("v")
    if type(bt) is not float or not math.isfinite(bt) or type(seq) is not int or not 1 <= seq <= MAX_SEQ:
        return None
    values = _fast_values(data[1:], is_camera(device))
    interval = values.pop("interval", None) if values is not None else None
    if values is None or interval is None:
        return None
    return DeviceBin(device, seq, bt - interval, bt, values)


def decode_bin(payload: bytes, device: str) -> DeviceBin | Drop:
    """The bin in ``payload`` published under ``device``'s topic, or why it is dropped."""
    fast = fast_bin(payload, device)
    return fast if fast is not None else full_decode_bin(payload, device)


def full_decode_bin(payload: bytes, device: str) -> DeviceBin | Drop:
    """``decode_bin`` by the full validator alone (every payload the fast path does not accept)."""
    try:
        base_time, values = _parse(payload, device, BIN_UNITS, is_camera(device))
        if "seq" not in values or "interval" not in values:
            raise _Reject(DropReason.MISSING_FIELD, "a bin needs seq and interval")
        seq, interval = int(values.pop("seq")), values.pop("interval")
        return DeviceBin(device, seq, base_time - interval, base_time, values)
    except _Reject as exc:
        return Drop(exc.reason, exc.detail)
    except (OverflowError, TypeError, ValueError) as exc:  # defence in depth: never crash the ingest
        return Drop(DropReason.BAD_FIELD, f"{type(exc).__name__}")


def decode_heartbeat(payload: bytes, device: str) -> tuple[float, float] | Drop:
    """``(time, uptime)`` of a heartbeat, or why it is dropped."""
    try:
        base_time, values = _parse(payload, device, HEARTBEAT_UNITS)
        if set(values) != {"uptime"}:
            raise _Reject(DropReason.MISSING_FIELD, "a heartbeat carries uptime only")
        return base_time, values["uptime"]
    except _Reject as exc:
        return Drop(exc.reason, exc.detail)
    except (OverflowError, TypeError, ValueError) as exc:
        return Drop(DropReason.BAD_FIELD, f"{type(exc).__name__}")


def encode_status(state: str, firmware: str) -> bytes:
    return json.dumps({"state": state, "firmware": firmware}, separators=(",", ":")).encode()


def decode_status(payload: bytes) -> tuple[str, str] | Drop:
    """``(state, firmware)`` of a retained status message (state online|offline)."""
    if len(payload) > 512:
        return Drop(DropReason.OVERSIZED, f"{len(payload)} bytes")
    try:
        data = json.loads(payload, parse_constant=_no_constants)
    except (_Reject, UnicodeDecodeError, ValueError, RecursionError):
        return Drop(DropReason.NOT_JSON, "status is not JSON")
    if not isinstance(data, dict) or data.get("state") not in ("online", "offline"):
        return Drop(DropReason.BAD_FIELD, "status needs state online|offline")
    firmware = data.get("firmware", "")
    return str(data["state"]), firmware[:64] if isinstance(firmware, str) else ""


def encode_ack(seq: int) -> bytes:
    return json.dumps({"seq": int(seq)}).encode()


def decode_ack(payload: bytes) -> int | None:
    try:
        data = json.loads(payload)
        seq = data["seq"] if isinstance(data, dict) else None
    except (UnicodeDecodeError, ValueError, RecursionError, KeyError):
        return None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else None
