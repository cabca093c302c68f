"""Open exports of a run's device data: OGC SensorThings API entities (Thing, Location, Datastream,
Sensor, ObservedProperty, Observation, in the API's deep-insert form), NGSI-LD
``TrafficFlowObserved`` entities (FIWARE smart-data model) and CSV.

Locations are the network's own x/y (metres, SUMO coordinates), not WGS84: a scenario knows no
geo-reference. Speeds are m/s in SenML and SensorThings, km/h in NGSI-LD (the data model's unit).

Camera devices (``cam.*``): in SensorThings one Datastream per camera quantity (``class.car``,
``approach.<edge>``, ``movement.<edge>.<exit>``, ``queue.<edge>``, ``speed.<edge>``). In NGSI-LD a
camera bin is several ``TrafficFlowObserved`` entities, as the data model allows: one per approach
(``intensity``, ``averageVehicleSpeed``, ``refRoadSegment`` the approach edge; the queue as the
extra property ``queueLength`` in metres, which the model lacks), one per vehicle class
(``vehicleType``: car, van, lorry, bus, motorcycle, with ``intensity``) and one per turning movement
(``intensity``, ``refRoadSegment`` the approach, the exit in ``name``/``description``: the model has
no movement attribute).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
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


_VEHICLES = UNITS["count"]
CAMERA_UNITS: dict[str, dict[str, str]] = {
    "class": _VEHICLES,
    "approach": _VEHICLES,
    "movement": _VEHICLES,
    "queue": {"name": "metre", "symbol": "m", "definition": "http://unitsofmeasure.org/ucum.html#para-28"},
    "speed": UNITS["speed"],
}
CAMERA_MEANING = {
    "class": "vehicles of class {0} that crossed a stop line the camera covers",
    "approach": "vehicles that crossed the stop line of approach {0}",
    "movement": "vehicles of approach {0} that left by {1}",
    "queue": "longest queue on approach {0} (m)",
    "speed": "mean speed on approach {0} (m/s)",
}
# FIWARE vehicleType (Vehicle data model) of each camera class
VEHICLE_TYPES = {"car": "car", "van": "van", "truck": "lorry", "bus": "bus", "motorcycle": "motorcycle"}


def _unit(metric: str) -> dict[str, str]:
    if metric in UNITS:
        return UNITS[metric]
    return CAMERA_UNITS.get(metric.partition(".")[0], {"name": metric, "symbol": "", "definition": ""})


def _meaning(device: DeviceRow, metric: str) -> str:
    prefix, _, rest = metric.partition(".")
    if device.kind != "camera" or prefix not in CAMERA_MEANING:
        return f"{metric} per bin of {device.kind} detector {device.source}"
    return f"{CAMERA_MEANING[prefix].format(*rest.split('.'))}, per bin of camera {device.source}"


def _kind_text(device: DeviceRow) -> str:
    return "camera" if device.kind == "camera" else f"{device.kind} detector"


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
                    "description": _meaning(device, metric),
                    "observationType": OM_MEASUREMENT,
                    "unitOfMeasurement": _unit(metric),
                    "ObservedProperty": {
                        "name": metric,
                        "definition": f"https://trafficai.invalid/def/{metric}",
                        "description": metric,
                    },
                    "Sensor": {
                        "name": device.device_id,
                        "description": _kind_text(device),
                        "encodingType": "text/plain",
                        "metadata": device.firmware,
                    },
                    "Observations": observations,
                }
            )
        things.append(
            {
                "name": device.device_id,
                "description": f"{_kind_text(device)} {device.source}",
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


def _dates(b: BinRow) -> dict[str, Any]:
    return {
        "dateObserved": {"type": "Property", "value": f"{iso(b.t_begin)}/{iso(b.t_end)}"},
        "dateObservedFrom": {"type": "Property", "value": {"@type": "DateTime", "@value": iso(b.t_begin)}},
        "dateObservedTo": {"type": "Property", "value": {"@type": "DateTime", "@value": iso(b.t_end)}},
    }


def _prop(value: object) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def _segment(edge: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": f"urn:ngsi-ld:RoadSegment:{edge}"}


def _detector_entity(b: BinRow, device: DeviceRow | None) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:TrafficFlowObserved:{b.device_id}:{b.seq}",
        "type": "TrafficFlowObserved",
        **_dates(b),
    }
    if "count" in b.values:
        entity["intensity"] = _prop(b.values["count"])
    if "occupancy" in b.values:
        entity["occupancy"] = _prop(b.values["occupancy"])
    if "speed" in b.values:
        entity["averageVehicleSpeed"] = _prop(round(b.values["speed"] * 3.6, 3))
    if device is not None:
        entity["location"] = {"type": "GeoProperty", "value": _point(device)}
        entity["description"] = _prop(f"{device.kind} detector {device.source} on {device.lane}")
    entity["@context"] = NGSI_CONTEXT
    return entity


def _camera_entities(b: BinRow, device: DeviceRow | None) -> list[dict[str, Any]]:
    """A camera bin as TrafficFlowObserved entities: per approach, per vehicle class, per movement."""
    source = device.source if device is not None else b.device_id
    out = []
    for metric in sorted(b.values):
        prefix, _, rest = metric.partition(".")
        if prefix not in ("approach", "class", "movement"):
            continue
        entity: dict[str, Any] = {
            "id": f"urn:ngsi-ld:TrafficFlowObserved:{b.device_id}:{metric}:{b.seq}",
            "type": "TrafficFlowObserved",
            **_dates(b),
            "intensity": _prop(b.values[metric]),
        }
        if prefix == "approach":
            entity["refRoadSegment"] = _segment(rest)
            entity["name"] = _prop(f"approach {rest}")
            if f"speed.{rest}" in b.values:
                entity["averageVehicleSpeed"] = _prop(round(b.values[f"speed.{rest}"] * 3.6, 3))
            if f"queue.{rest}" in b.values:
                queue = b.values[f"queue.{rest}"]
                entity["queueLength"] = {"type": "Property", "value": queue, "unitCode": "MTR"}
        elif prefix == "class":
            entity["vehicleType"] = _prop(VEHICLE_TYPES.get(rest, rest))
            entity["name"] = _prop(f"class {rest}")
        else:
            approach, _, exit_edge = rest.partition(".")
            entity["refRoadSegment"] = _segment(approach)
            entity["name"] = _prop(f"movement {approach} -> {exit_edge}")
        if device is not None:
            entity["location"] = {"type": "GeoProperty", "value": _point(device)}
        entity["description"] = _prop(f"camera {source}: {metric}")
        entity["@context"] = NGSI_CONTEXT
        out.append(entity)
    return out


def ngsi_ld(devices: Sequence[DeviceRow], bins: Sequence[BinRow]) -> str:
    """One ``TrafficFlowObserved`` entity per detector bin; several per camera bin (see above)."""
    where = {d.device_id: d for d in devices}
    entities: list[dict[str, Any]] = []
    for b in bins:
        device = where.get(b.device_id)
        if device is not None and device.kind == "camera":
            entities += _camera_entities(b, device)
        else:
            entities.append(_detector_entity(b, device))
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


def bin_table(devices: Sequence[DeviceRow], bins: Sequence[BinRow]) -> dict[str, list[Any]]:
    """The bins in long form (one row per value), with each device's kind: Parquet's columns."""
    kinds = {d.device_id: d.kind for d in devices}
    table: dict[str, list[Any]] = {k: [] for k in ("device_id", "kind", "seq", "t_begin", "t_end")}
    table.update(metric=[], value=[])
    for b in bins:
        for metric in sorted(b.values):
            for key, value in zip(
                table, (b.device_id, kinds.get(b.device_id, ""), b.seq, b.t_begin, b.t_end, metric,
                        b.values[metric]), strict=True,
            ):  # fmt: skip
                table[key].append(value)
    return table


def write_parquet(devices: Sequence[DeviceRow], bins: Sequence[BinRow], path: Path) -> int:
    """The bins as a Parquet file (times as UTC timestamps); the number of rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = bin_table(devices, bins)
    stamp = pa.timestamp("ms", tz="UTC")
    arrays = {
        "device_id": pa.array(table["device_id"], pa.string()),
        "kind": pa.array(table["kind"], pa.string()),
        "seq": pa.array(table["seq"], pa.int64()),
        "t_begin": pa.array([round(t * 1000) for t in table["t_begin"]], pa.int64()).cast(stamp),
        "t_end": pa.array([round(t * 1000) for t in table["t_end"]], pa.int64()).cast(stamp),
        "metric": pa.array(table["metric"], pa.string()),
        "value": pa.array(table["value"], pa.float64()),
    }
    pq.write_table(pa.table(arrays), path)
    return len(table["seq"])


EXPORTERS: dict[str, Callable[[Sequence[DeviceRow], Sequence[BinRow]], str]] = {
    "sensorthings": sensorthings,
    "ngsi-ld": ngsi_ld,
    "csv": csv_text,
}
