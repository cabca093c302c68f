"""Camera bins in SenML: encoded with their units, decoded only from camera devices, unknown names
and wrong units dropped with a reason code; at the ingest, an approach or movement the camera does
not cover drops the bin with ``not_covered``."""

from __future__ import annotations

import json
from pathlib import Path

from trafficai.iot.devices import Device, DeviceBin, by_id
from trafficai.iot.ingest import Ingest, IngestLimits
from trafficai.iot.senml import Drop, DropReason, decode_bin, encode_bin
from trafficai.iot.topics import device_topic

from .helpers import EPOCH, new_run

VALUES = {
    "class.car": 12.0, "approach.N_app": 7.0, "movement.N_app.E_out": 5.0, "movement.N_app.S_out": 2.0,
    "queue.N_app": 23.5, "speed.N_app": 6.25,
}  # fmt: skip


def _pack(device: str = "cam.cam_C", **extra: float) -> bytes:
    return encode_bin(DeviceBin(device, 3, 1_704_067_200.0, 1_704_067_230.0, {**VALUES, **extra}))


def test_a_camera_bin_round_trips_with_its_units() -> None:
    records = json.loads(_pack())
    assert {r["n"]: r.get("u") for r in records[1:]} == {
        "interval": "s", "approach.N_app": "count", "class.car": "count", "movement.N_app.E_out": "count",
        "movement.N_app.S_out": "count", "queue.N_app": "m", "speed.N_app": "m/s",
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
        (_tampered("lane.N_app", "count", 1.0), DropReason.UNKNOWN_NAME),
        (_tampered("movement.N_app", "count", 1.0), DropReason.UNKNOWN_NAME),  # no exit
        (_tampered("movement.N_app.E_out.x", "count", 1.0), DropReason.UNKNOWN_NAME),
        (_tampered("movement.N_app.", "count", 1.0), DropReason.UNKNOWN_NAME),
        (_tampered("queue.S_app", "count", 1.0), DropReason.BAD_UNIT),
        (_tampered("speed.S_app", "km/h", 1.0), DropReason.BAD_UNIT),
        (_tampered("queue.S_app", "m", 20_000.0), DropReason.OUT_OF_RANGE),
        (_tampered("speed.S_app", "m/s", 250.0), DropReason.OUT_OF_RANGE),
        (_tampered("class.truck", "count", -1.0), DropReason.OUT_OF_RANGE),
        (_tampered("class.truck", "count", 1.0, device="e1.d0"), DropReason.UNKNOWN_NAME),  # not a camera
    ]
    for payload, reason in cases:
        device = json.loads(payload)[0]["bn"].split(":")[1]
        got = decode_bin(payload, device)
        assert isinstance(got, Drop) and got.reason == reason, (payload, got)


CAMERA = Device(
    "cam.cam_C", "camera", "cam_C", "", "C/N_app", 0.0, 0.0, "test",
    frozenset({"N_app"}), frozenset({"N_app.E_out", "N_app.S_out"}),
)  # fmt: skip


def test_names_outside_the_cameras_coverage_are_dropped_at_ingest(tmp_path: Path) -> None:
    store, run_id = new_run(tmp_path / "runs.sqlite")
    ingest = Ingest(store, run_id, by_id([CAMERA]), lambda: EPOCH + 60.0, IngestLimits(rate_per_s=None))
    topic = device_topic(CAMERA.id, "bins")

    def bin_of(seq: int, **extra: float) -> bytes:
        return encode_bin(DeviceBin(CAMERA.id, seq, EPOCH, EPOCH + 30.0, {**VALUES, **extra}))

    assert isinstance(ingest.handle(topic, bin_of(1)), DeviceBin)
    uncovered = {
        2: {"movement.N_app.W_out": 1.0},  # an exit it does not cover
        3: {"movement.W_app.E_out": 1.0},  # an approach it does not see
        4: {"approach.W_app": 1.0},
        5: {"queue.W_app": 3.0},
        6: {"speed.W_app": 3.0},
    }
    for seq, extra in uncovered.items():
        got = ingest.handle(topic, bin_of(seq, **extra))
        assert isinstance(got, Drop) and got.reason == DropReason.NOT_COVERED, (extra, got)
    ingest.flush()
    assert [b.seq for b in store.bins(run_id)] == [1]
    assert ingest.drop_totals[(CAMERA.id, "not_covered")] == 5
    assert ingest.counters[DropReason.NOT_COVERED] == 5
    store.close()
