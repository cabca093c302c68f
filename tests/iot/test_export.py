"""Exports against golden files; field names are those of the standards' published examples
(SensorThings API deep insert: Thing/Locations/Datastreams/Observations; FIWARE TrafficFlowObserved)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from trafficai.iot.export import EXPORTERS
from trafficai.storage.devices import BinRow, DeviceRow

GOLDEN = Path(__file__).parent / "golden"
DEVICES = [DeviceRow("e1.d0", "e1", "d0", "l0_0", "J/l0", 10.0, 5.0, "trafficai-sim-1", "AB:CD")]
BINS = [
    BinRow("e1.d0", 1, 1_704_067_200.0, 1_704_067_230.0, {"count": 4.0, "occupancy": 0.1, "speed": 12.5}),
    BinRow("e1.d0", 2, 1_704_067_230.0, 1_704_067_260.0, {"count": 2.0, "occupancy": 0.05}),
]


@pytest.mark.parametrize(
    ("fmt", "name"), [("sensorthings", "sensorthings.json"), ("ngsi-ld", "ngsi-ld.json"), ("csv", "bins.csv")]
)
def test_export_matches_its_golden_file(fmt: str, name: str) -> None:
    text = EXPORTERS[fmt](DEVICES, BINS)
    path = GOLDEN / name
    if os.environ.get("TRAFFICAI_WRITE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_the_standards_field_names() -> None:
    thing = json.loads(EXPORTERS["sensorthings"](DEVICES, BINS))[0]
    assert {"name", "description", "Locations", "Datastreams"} <= set(thing)
    stream = thing["Datastreams"][0]
    assert {"unitOfMeasurement", "observationType", "ObservedProperty", "Sensor", "Observations"} <= set(
        stream
    )
    assert set(stream["Observations"][0]) == {"phenomenonTime", "resultTime", "result"}
    entity = json.loads(EXPORTERS["ngsi-ld"](DEVICES, BINS))[0]
    assert entity["type"] == "TrafficFlowObserved" and entity["id"].startswith(
        "urn:ngsi-ld:TrafficFlowObserved:"
    )
    assert entity["intensity"] == {"type": "Property", "value": 4.0}
    assert entity["averageVehicleSpeed"]["value"] == 45.0  # km/h in the data model


CAMERA = DeviceRow(
    "cam.cam_C", "camera", "cam_C", "", "C/N_app", 20.0, -8.0, "trafficai-perfect-camera-2", ""
)
CAMERA_BINS = [
    BinRow("cam.cam_C", 1, 1_704_067_200.0, 1_704_067_230.0, {
        "approach.N_app": 3.0, "class.car": 2.0, "class.truck": 1.0, "movement.N_app.C_E": 1.0,
        "movement.N_app.C_S": 2.0, "queue.N_app": 14.25, "speed.N_app": 5.5,
    }),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("sensorthings", "camera-sensorthings.json"),
        ("ngsi-ld", "camera-ngsi-ld.json"),
        ("csv", "camera-bins.csv"),
    ],
)
def test_camera_export_matches_its_golden_file(fmt: str, name: str) -> None:
    text = EXPORTERS[fmt]([*DEVICES, CAMERA], BINS + CAMERA_BINS)
    path = GOLDEN / name
    if os.environ.get("TRAFFICAI_WRITE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_a_camera_bin_in_the_data_models() -> None:
    entities = json.loads(EXPORTERS["ngsi-ld"]([CAMERA], CAMERA_BINS))
    assert all(e["type"] == "TrafficFlowObserved" for e in entities)
    by_name = {e["name"]["value"]: e for e in entities}
    assert set(by_name) == {
        "approach N_app", "class car", "class truck", "movement N_app -> C_E", "movement N_app -> C_S",
    }  # fmt: skip
    approach = by_name["approach N_app"]
    assert approach["intensity"]["value"] == 3.0 and approach["averageVehicleSpeed"]["value"] == 19.8
    assert approach["refRoadSegment"] == {"type": "Relationship", "object": "urn:ngsi-ld:RoadSegment:N_app"}
    assert by_name["class truck"]["vehicleType"]["value"] == "lorry"  # the Vehicle model's word
    assert sum(by_name[f"class {c}"]["intensity"]["value"] for c in ("car", "truck")) == 3.0
    thing = json.loads(EXPORTERS["sensorthings"]([CAMERA], CAMERA_BINS))[0]
    streams = {s["ObservedProperty"]["name"]: s for s in thing["Datastreams"]}
    assert len(streams) == 7 and streams["queue.N_app"]["unitOfMeasurement"]["symbol"] == "m"
    assert streams["speed.N_app"]["unitOfMeasurement"]["symbol"] == "m/s"
    assert "left by C_E" in streams["movement.N_app.C_E"]["description"]


def test_parquet_holds_every_value_of_detectors_and_cameras(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from trafficai.iot.export import write_parquet

    path = tmp_path / "bins.parquet"
    rows = write_parquet([*DEVICES, CAMERA], BINS + CAMERA_BINS, path)
    table = pq.read_table(path).to_pylist()
    assert rows == len(table) == 5 + 7
    camera = {r["metric"]: r["value"] for r in table if r["kind"] == "camera"}
    assert camera == dict(CAMERA_BINS[0].values)
    assert str(table[0]["t_end"]) == "2024-01-01 00:00:30+00:00"
