"""Open exports of a run's device data: OGC SensorThings API entities (Thing, Location, Datastream,
Sensor, ObservedProperty, Observation, in the API's deep-insert form), NGSI-LD
``TrafficFlowObserved`` entities (FIWARE smart-data model) and CSV.

Locations are the network's own x/y (metres, SUMO coordinates), not WGS84: a scenario knows no
geo-reference. Speeds are m/s in SenML and SensorThings, km/h in NGSI-LD (the data model's unit).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from trafficai.storage.devices import BinRow, DeviceRow

NGSI_CONTEXT = [
    "https://smartdatamodels.org/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
]
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
UNITS: dict[str, dict[str, str]] = {
    "count": {
        "name": "vehicles",
        "symbol": "{veh}",
        "definition": "http://unitsofmeasure.org/ucum.html#para-29",
    },
    "vehicles": {
        "name": "vehicles",
        "symbol": "{veh}",
        "definition": "http://unitsofmeasure.org/ucum.html#para-29",
    },
    "halting": {
        "name": "vehicles",
        "symbol": "{veh}",
        "definition": "http://unitsofmeasure.org/ucum.html#para-29",
    },
    "occupancy": {
        "name": "ratio",
        "symbol": "1",
        "definition": "http://unitsofmeasure.org/ucum.html#para-29",
    },
    "speed": {
        "name": "metre per second",
        "symbol": "m/s",
        "definition": "http://unitsofmeasure.org/ucum.html#para-30",
    },
}


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def _point(device: DeviceRow) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [device.x, device.y]}


def sensorthings(devices: Sequence[DeviceRow], bins: Sequence[BinRow]) -> str:
    """One Thing per device with its Location and one Datastream (with Observations) per measure."""
    things = []
    for device in devices:
        own = [b for b in bins if b.device_id == device.device_id]
        metrics = sorted({m for b in own for m in b.values})
        datastreams = []
        for metric in metrics:
            observations = [
                {
                    "phenomenonTime": f"{iso(b.t_begin)}/{iso(b.t_end)}",
                    "resultTime": iso(b.t_end),
                    "result": b.values[metric],
                }
                for b in own
                if metric in b.values
            ]
            datastreams.append(
                {
                    "name": f"{device.device_id} {metric}",
                    "description": f"{metric} per bin of {device.kind} detector {device.source}",
                    "observationType": OM_MEASUREMENT,
                    "unitOfMeasurement": UNITS.get(metric, {"name": metric, "symbol": "", "definition": ""}),
                    "ObservedProperty": {
                        "name": metric,
                        "definition": f"https://trafficai.invalid/def/{metric}",
                        "description": metric,
                    },
                    "Sensor": {
                        "name": device.device_id,
                        "description": f"{device.kind} detector",
                        "encodingType": "text/plain",
                        "metadata": device.firmware,
                    },
                    "Observations": observations,
                }
            )
        things.append(
            {
                "name": device.device_id,
                "description": f"{device.kind} detector {device.source}",
                "properties": {
                    "kind": device.kind,
                    "lane": device.lane,
                    "approach": device.approach,
                    "fingerprint": device.fingerprint,
                },
                "Locations": [
                    {
                        "name": device.device_id,
                        "description": "network coordinates (m)",
                        "encodingType": "application/geo+json",
                        "location": _point(device),
                    }
                ],
                "Datastreams": datastreams,
            }
        )
    return json.dumps(things, indent=1)


def ngsi_ld(devices: Sequence[DeviceRow], bins: Sequence[BinRow]) -> str:
    """One ``TrafficFlowObserved`` entity per device bin."""
    where = {d.device_id: d for d in devices}
    entities = []
    for b in bins:
        device = where.get(b.device_id)
        entity: dict[str, Any] = {
            "id": f"urn:ngsi-ld:TrafficFlowObserved:{b.device_id}:{b.seq}",
            "type": "TrafficFlowObserved",
            "dateObserved": {"type": "Property", "value": f"{iso(b.t_begin)}/{iso(b.t_end)}"},
            "dateObservedFrom": {
                "type": "Property",
                "value": {"@type": "DateTime", "@value": iso(b.t_begin)},
            },
            "dateObservedTo": {"type": "Property", "value": {"@type": "DateTime", "@value": iso(b.t_end)}},
        }
        if "count" in b.values:
            entity["intensity"] = {"type": "Property", "value": b.values["count"]}
        if "occupancy" in b.values:
            entity["occupancy"] = {"type": "Property", "value": b.values["occupancy"]}
        if "speed" in b.values:
            entity["averageVehicleSpeed"] = {"type": "Property", "value": round(b.values["speed"] * 3.6, 3)}
        if device is not None:
            entity["location"] = {"type": "GeoProperty", "value": _point(device)}
            entity["description"] = {
                "type": "Property",
                "value": f"{device.kind} detector {device.source} on {device.lane}",
            }
        entity["@context"] = NGSI_CONTEXT
        entities.append(entity)
    return json.dumps(entities, indent=1)


def csv_text(devices: Sequence[DeviceRow], bins: Sequence[BinRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["device_id", "seq", "t_begin", "t_end", "metric", "value"])
    for b in bins:
        for metric in sorted(b.values):
            writer.writerow([b.device_id, b.seq, iso(b.t_begin), iso(b.t_end), metric, b.values[metric]])
    del devices
    return buffer.getvalue()


EXPORTERS: dict[str, Callable[[Sequence[DeviceRow], Sequence[BinRow]], str]] = {
    "sensorthings": sensorthings,
    "ngsi-ld": ngsi_ld,
    "csv": csv_text,
}
