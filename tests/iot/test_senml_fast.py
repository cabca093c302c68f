"""The SenML fast path against the full validator: it accepts the common shape, never anything the
full validator refuses, and gives the same bin; decode_bin's answer is always the full one's."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.iot.test_fuzz import _payloads
from trafficai.iot import senml
from trafficai.iot.devices import DeviceBin
from trafficai.iot.senml import (
    _CAMERA_PARTS,
    BIN_UNITS,
    CAMERA_RANGES,
    CAMERA_UNITS,
    VALUE_RANGES,
    decode_bin,
    encode_bin,
    fast_bin,
    full_decode_bin,
)

HAS_ORJSON = importlib.util.find_spec("orjson") is not None
_LOOP_NAMES = [n for n in BIN_UNITS if n != "interval"]
_DEVICES = ["e1.d0", "e2.a-2fb", "cam.cam_C"]
_ids = st.text("abcXYZ019_-", min_size=1, max_size=8)


def _value(name: str) -> st.SearchStrategy[float]:
    unit = BIN_UNITS.get(name) or CAMERA_UNITS[name.partition(".")[0] + "."]
    low, high = VALUE_RANGES[name] if name in VALUE_RANGES else CAMERA_RANGES[unit]
    return st.floats(low, high, allow_nan=False)


def _camera_name(prefix: str) -> st.SearchStrategy[str]:
    parts = _CAMERA_PARTS.get(prefix, 1)  # movement.<edge>.<exit>
    return st.lists(_ids, min_size=parts, max_size=parts).map(lambda p: prefix + ".".join(p))


@st.composite
def _bins(draw: st.DrawFn) -> DeviceBin:
    device = draw(st.sampled_from(_DEVICES))
    if device.startswith("cam."):
        names = draw(st.lists(st.sampled_from(sorted(CAMERA_UNITS)).flatmap(_camera_name)))
    else:
        names = draw(st.lists(st.sampled_from(_LOOP_NAMES), unique=True))
    values = {n: draw(_value(n)) for n in names}
    t_end = draw(st.floats(1e9, 2e9))
    interval = draw(st.floats(1.0, 86_400.0))
    return DeviceBin(device, draw(st.integers(1, 2**53)), t_end - interval, t_end, values)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**400), 10**400)
    | st.floats()
    | st.text(max_size=4)
    | st.sampled_from(["s", "count", "/", "m/s", "m", "seq", "interval", "count", "trafficai:e1.d0:"])
)


_EDITS = ["set", "add", "remove", "dup", "drop", "swap", "scalar", "reorder"]


def _mutate(records: list[dict[str, Any]], data: st.DataObject) -> list[Any]:
    """One to three edits of a pack's records: a field's value, a field added or removed, a record
    duplicated, dropped, reordered or replaced by a non-object."""
    out: list[Any] = [dict(r) for r in records]
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(out) - 1))
        edit = data.draw(st.sampled_from(_EDITS))
        record = out[i]
        if not isinstance(record, dict) or edit == "scalar":
            out[i] = data.draw(_scalars)
        elif edit in ("set", "add"):
            key = data.draw(st.sampled_from(["bn", "bt", "n", "u", "v", "t", "vs"]))
            record[key] = data.draw(_scalars)
        elif edit == "remove" and record:
            del record[data.draw(st.sampled_from(sorted(record)))]
        elif edit == "dup":
            out.append(dict(record))
        elif edit == "drop" and len(out) > 1:
            del out[i]
        elif edit == "swap":
            j = data.draw(st.integers(0, len(out) - 1))
            out[i], out[j] = out[j], out[i]
        elif edit == "reorder":
            out[i] = dict(reversed(list(record.items())))
    return out


def _json(records: list[Any], spaced: bool) -> bytes:
    return json.dumps(records, separators=(", ", ": ") if spaced else (",", ":")).encode()


@pytest.fixture(params=["orjson", "stdlib"])
def fast_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both fast-path parsers: orjson (the iot extra) and the standard library (the base install)."""
    if request.param == "orjson":
        if not HAS_ORJSON:
            pytest.skip("orjson is not installed (the iot extra)")
        import orjson

        monkeypatch.setattr(senml, "fast_loads", orjson.loads)
    else:
        monkeypatch.setattr(senml, "fast_loads", senml._plain_loads)
    yield request.param


_settings = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def test_the_fast_path_takes_every_encoded_bin(fast_parser: str) -> None:
    @_settings
    @given(_bins())
    def run(item: DeviceBin) -> None:
        payload = encode_bin(item)
        assert fast_bin(payload, item.device) == item  # the common shape never needs the full path
        assert full_decode_bin(payload, item.device) == item

    run()


def test_fast_and_full_agree_on_mutated_packs(fast_parser: str) -> None:
    accepted: list[bool] = []

    @_settings
    @given(_bins(), st.data(), st.booleans())
    def run(item: DeviceBin, data: st.DataObject, spaced: bool) -> None:
        records = json.loads(encode_bin(item))
        payload = _json(_mutate(records, data), spaced)
        for device in (item.device, "e1.d0"):
            full = full_decode_bin(payload, device)
            fast = fast_bin(payload, device)
            if fast is not None:  # the fast path only ever accepts, and what the full one accepts
                assert fast == full
            accepted.append(fast is not None)
            assert decode_bin(payload, device) == full

    run()
    assert any(accepted) and not all(accepted)  # both branches were exercised


def test_fast_and_full_agree_on_fuzzed_payloads(fast_parser: str) -> None:
    @_settings
    @given(_payloads())
    def run(payload: bytes) -> None:
        full = full_decode_bin(payload, "e1.d0")
        fast = fast_bin(payload, "e1.d0")
        assert fast is None or fast == full
        assert decode_bin(payload, "e1.d0") == full

    run()


def test_both_encoders_write_the_same_records() -> None:
    if not HAS_ORJSON:
        pytest.skip("orjson is not installed (the iot extra)")

    @_settings
    @given(_bins())
    def run(item: DeviceBin) -> None:
        assert json.loads(senml._orjson_encode_bin(item)) == json.loads(senml._text_encode_bin(item))

    run()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_encoders_refuse_non_finite_values(bad: float) -> None:
    item = DeviceBin("e1.d0", 1, 0.0, 30.0, {"count": bad})
    for encode in (senml._text_encode_bin, senml._orjson_encode_bin):
        if encode is senml._orjson_encode_bin and not HAS_ORJSON:
            continue
        with pytest.raises(ValueError, match="finite"):
            encode(item)
