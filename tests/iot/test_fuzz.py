"""Fuzzing the ingest: generated payloads never crash it, and each is either a valid bin or a drop
with a reason code."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.iot.helpers import EPOCH, a_bin, device_map, new_run
from trafficai.iot.bench import fuzz_validation
from trafficai.iot.bus import FakeClock
from trafficai.iot.devices import DeviceBin
from trafficai.iot.fuzz import MUTATIONS, samples
from trafficai.iot.ingest import Ingest, IngestLimits
from trafficai.iot.senml import Drop, DropReason, decode_bin, encode_bin
from trafficai.iot.topics import device_topic

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=5),
    max_leaves=30,
)
_record = st.fixed_dictionaries(
    {},
    optional={
        "bn": st.sampled_from(["trafficai:e1.d0:", "trafficai:e1.d1:", "", "x"]) | st.text(max_size=10),
        "bt": st.floats(allow_nan=True, allow_infinity=True)
        | st.integers(min_value=-(10**30), max_value=10**30),
        "n": st.sampled_from(["seq", "interval", "count", "occupancy", "speed", "vehicles", "temp"]),
        "u": st.sampled_from(["s", "count", "/", "m/s", "km/h", "%"]),
        "v": st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=3),
        "t": st.floats(allow_nan=False) | st.just(0),
        "vs": st.text(max_size=3),
    },
)


def _payloads() -> st.SearchStrategy[bytes]:
    valid = encode_bin(a_bin())
    return st.one_of(
        st.binary(max_size=300),
        st.integers(min_value=0, max_value=len(valid)).map(lambda n: valid[:n]),  # truncated
        _json.map(lambda v: json.dumps(v, allow_nan=True).encode()),
        st.lists(_record, max_size=8).map(lambda r: json.dumps(r, allow_nan=True).encode()),
        st.integers(1, 400).map(lambda d: b"[" * d + b"]" * d),  # deep nesting
    )


def _check(payload: bytes, ingest: Ingest) -> None:
    result = decode_bin(payload, "e1.d0")
    assert isinstance(result, DeviceBin | Drop)
    if isinstance(result, Drop):
        assert isinstance(result.reason, DropReason)
    outcome = ingest.handle(device_topic("e1.d0", "bins"), payload)
    assert outcome is None or isinstance(outcome, DeviceBin | Drop)


def _fuzz(tmp_path: Path, examples: int) -> None:
    store, run_id = new_run(tmp_path / "runs.sqlite")
    ingest = Ingest(store, run_id, device_map(), FakeClock(EPOCH + 60.0))

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(_payloads())
    def run(payload: bytes) -> None:
        _check(payload, ingest)

    run()
    ingest.flush()
    handled = ingest.accepted + sum(ingest.counters.values())
    assert handled >= examples * 0.9  # every message ended up stored or counted


def test_fuzz_the_ingest(tmp_path: Path) -> None:
    _fuzz(tmp_path, 2_000)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # hypothesis draws 100,000 payloads: many minutes on a shared 2-core machine
def test_fuzz_the_ingest_with_100k_payloads(tmp_path: Path) -> None:
    _fuzz(tmp_path, 100_000)


def test_generated_bad_payloads_of_every_kind_are_dropped_and_valid_ones_stored(tmp_path: Path) -> None:
    store, run_id = new_run(tmp_path / "runs.sqlite")
    now = EPOCH + 60.0
    ingest = Ingest(store, run_id, device_map(), FakeClock(now), IngestLimits(rate_per_s=None))
    kinds: Counter[str] = Counter()
    for sample in samples(6_000, "e1.d0", now, seed=3):
        result = ingest.handle(device_topic("e1.d0", "bins"), sample.payload)
        kinds[sample.kind] += 1
        if sample.good:
            assert isinstance(result, DeviceBin), sample
        else:
            assert isinstance(result, Drop) and isinstance(result.reason, DropReason), sample
    ingest.flush()
    assert set(kinds) == {*MUTATIONS, "valid", "replay"}
    assert ingest.stored == kinds["valid"] and sum(ingest.counters.values()) == 6_000 - kinds["valid"]


def test_the_fuzz_benchmark_judges_every_payload(tmp_path: Path) -> None:
    result = fuzz_validation(tmp_path, 3_000, seed=1)
    assert result["fuzz_misjudged"] == 0
    assert sum(result["fuzz_drop_reasons"].values()) > 2_000
