"""Generated bad payloads for the ingest (``trafficai bench iot``'s validation figures and the fuzz
tests): each one a well-formed bin broken in one known way, so every one must be dropped.

Kinds: truncated JSON, wrong types, NaN/Infinity, huge numbers, out-of-range values, unknown units,
unknown names, deep nesting, wrong or missing base names, duplicate records, oversized, random
bytes, timestamps out of bounds, replays of a stored bin. ``valid`` payloads are mixed in as the
control: they must all be stored (a harness that refuses everything proves nothing).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from trafficai.iot.devices import DeviceBin
from trafficai.iot.senml import MAX_PAYLOAD_BYTES, encode_bin

Records = list[dict[str, Any]]
_NOT_NUMBERS: tuple[Any, ...] = ("3", True, False, None, [1.0], {"v": 1.0}, "")
_NOT_STRINGS: tuple[Any, ...] = (1, 1.5, True, None, [], {}, ["count"])


@dataclass(frozen=True, slots=True)
class Sample:
    kind: str
    payload: bytes
    good: bool  # the control: a valid bin the ingest must store


def _records(item: DeviceBin) -> Records:
    records: Records = json.loads(encode_bin(item))
    return records


def _dump(records: Any) -> bytes:
    return json.dumps(records, allow_nan=True).encode()


def _value_index(rng: random.Random, records: Records) -> int:
    return rng.randrange(2, len(records))  # a measurement record (0: seq, 1: interval)


def _truncated(rng: random.Random, records: Records) -> bytes:
    text = _dump(records)
    return text[: rng.randrange(len(text))]


def _wrong_type(rng: random.Random, records: Records) -> bytes:
    record = records[rng.randrange(len(records))]
    key = rng.choice(sorted(record))
    record[key] = rng.choice(_NOT_NUMBERS if key in ("bt", "v") else _NOT_STRINGS)
    return _dump(records)


def _not_finite(rng: random.Random, records: Records) -> bytes:
    record = records[rng.randrange(len(records))]
    key = "bt" if "bt" in record and rng.random() < 0.5 else "v"
    record[key] = 1.0
    literal = rng.choice(("NaN", "Infinity", "-Infinity", "1e999", "-1e999"))
    return _dump(records).replace(f'"{key}": 1.0'.encode(), f'"{key}": {literal}'.encode())


def _huge(rng: random.Random, records: Records) -> bytes:
    record = records[rng.choice((0, _value_index(rng, records)))]  # the seq or a measurement
    record["v"] = rng.choice((10 ** rng.randrange(20, 400), 1e300, -1e300, -(10**30)))
    return _dump(records)


def _out_of_range(rng: random.Random, records: Records) -> bytes:
    bad = {"count": -1.0, "occupancy": 1.5, "speed": 250.0}
    record = records[_value_index(rng, records)]
    record["v"] = bad[record["n"]] * rng.choice((1.0, 10.0, 1e6))
    return _dump(records)


def _unknown_unit(rng: random.Random, records: Records) -> bytes:
    records[rng.randrange(1, len(records))]["u"] = rng.choice(("km/h", "%", "mph", "", "veh", "S"))
    return _dump(records)


def _unknown_name(rng: random.Random, records: Records) -> bytes:
    records[_value_index(rng, records)]["n"] = rng.choice(("temp", "count2", "Speed", "", "class.car"))
    return _dump(records)


def _deep(rng: random.Random, records: Records) -> bytes:
    depth = rng.randrange(1, 1500)
    if rng.random() < 0.5:
        return b"[" * depth + b"]" * depth
    records[_value_index(rng, records)]["v"] = 0.0
    nested = b"[" * depth + b"1" + b"]" * depth
    return _dump(records).replace(b'"v": 0.0', b'"v": ' + nested, 1)


def _base_name(rng: random.Random, records: Records) -> bytes:
    choice = rng.randrange(3)
    if choice == 0:
        del records[0]["bn"]
    else:
        records[0]["bn"] = ("trafficai:e1.other:", "e1.f0", "trafficai:e1.f0", "")[rng.randrange(4)]
    return _dump(records)


def _duplicate(rng: random.Random, records: Records) -> bytes:
    records.insert(rng.randrange(1, len(records) + 1), dict(records[rng.randrange(1, len(records))]))
    return _dump(records)


def _oversized(rng: random.Random, records: Records) -> bytes:
    text = _dump(records)
    return text[:-1] + b" " * (MAX_PAYLOAD_BYTES - len(text) + rng.randrange(1, 4000)) + b"]"


def _random_bytes(rng: random.Random, _records: Records) -> bytes:
    return rng.randbytes(rng.randrange(0, 300))


def _stale(rng: random.Random, records: Records) -> bytes:
    records[0]["bt"] += rng.choice((-2 * 86_400.0, -1e9, 600.0, 1e9))  # too old or too far ahead
    return _dump(records)


Mutation = Callable[[random.Random, Records], bytes]
MUTATIONS: dict[str, Mutation] = {
    "truncated": _truncated,
    "wrong_type": _wrong_type,
    "not_finite": _not_finite,
    "huge_number": _huge,
    "out_of_range": _out_of_range,
    "unknown_unit": _unknown_unit,
    "unknown_name": _unknown_name,
    "deep_nesting": _deep,
    "base_name": _base_name,
    "duplicate_record": _duplicate,
    "oversized": _oversized,
    "random_bytes": _random_bytes,
    "timestamp": _stale,
}


def samples(n: int, device: str, now: float, seed: int = 0, valid_share: float = 0.1) -> Iterator[Sample]:
    """``n`` payloads for ``device``'s bins topic at time ``now``: bad ones of every kind in turn,
    valid ones (``valid_share``) and replays of those."""
    rng = random.Random(seed)
    kinds = sorted(MUTATIONS)
    stored: list[bytes] = []
    for i in range(n):
        values = {"count": float(rng.randrange(50)), "occupancy": rng.random(), "speed": rng.uniform(0, 40)}
        item = DeviceBin(device, i + 1, now - 30.0, now, values)  # a sequence number of its own
        if rng.random() < valid_share:
            stored.append(encode_bin(item))
            yield Sample("valid", stored[-1], True)
        elif stored and rng.random() < 0.05:
            yield Sample("replay", rng.choice(stored), False)
        else:
            kind = kinds[i % len(kinds)]
            yield Sample(kind, MUTATIONS[kind](rng, _records(item)), False)
