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
