"""Live values of a picked object, from the latest snapshot (pure numpy; no Qt).

Counts are ``int`` (shown as integers), measured values ``float``, the rest text. Values that do
not change while a simulation runs (a lane's length, a detector's position) are listed in
``STATIC`` and are not offered for plotting; each kind plots a changing value by default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.gui.map.picking import Pick
from trafficai.runtime.messages import CameraView, IncidentView, Inspected, SignalView, incident_severity
from trafficai.sensors.cameras import CameraSpec, in_view
from trafficai.sensors.health import DetectorHealth
from trafficai.sensors.intervals import IntervalStats

Value = float | int | str
NO_VEHICLES = "no vehicles"
STATIC = frozenset(
    {"length (m)", "speed limit (km/h)", "position (m)", "heading (deg)", "field of view (deg)"}
)
DEFAULT_PLOT = {
    "vehicle": "speed (km/h)",
    "lane": "vehicles",
    "signal": "queue (veh)",
    "e1": "occupancy (%)",
    "e2": "vehicles",
    "camera": "vehicles in view",
}
ROUTE_SHOWN = 6  # edges of a route listed; the rest as "… (n more)"


def camera_spec(camera: CameraView) -> CameraSpec:
    """The sensor spec of a camera the worker announced (its full pose)."""
    return CameraSpec(
        camera.id,
        camera.junction,
        camera.x,
        camera.y,
        height=camera.height,
        heading=camera.heading,
        tilt=camera.tilt,
        fov=camera.fov,
        image_width=camera.image_width,
        image_height=camera.image_height,
        frame_rate=camera.frame_rate,
        range_m=camera.range_m,
    )


def _f(value: float | np.floating | np.integer) -> float:
    return float(value)


def _i(value: float | np.floating | np.integer) -> int:
    return int(value)


def _vehicle(
    pick: Pick, snapshot: Snapshot, geometry: NetGeometry, inspected: Inspected | None
) -> dict[str, Value] | None:
    lanes = geometry.lanes
    veh = snapshot.vehicles
    try:
        i = veh.ids.index(pick.id)
    except ValueError:
        return None
    lane = int(veh.lane[i])
    vtype = int(veh.vtype[i])
    edge = lanes.edges[lane] if 0 <= lane < len(lanes) else ""
    out: dict[str, Value] = {
        "speed (km/h)": _f(veh.speed[i]) * 3.6,
        "waiting (s)": _f(veh.waiting[i]),
        "lane": lanes.ids[lane] if 0 <= lane < len(lanes) else "(junction)",
    }
    if geometry.edge_names.get(edge):
        out["street"] = geometry.edge_names[edge]
    out["type"] = snapshot.vehicle_types[vtype] if 0 <= vtype < len(snapshot.vehicle_types) else str(vtype)
    out.update(_route(pick.id, geometry, inspected))
    out["angle (deg)"] = _f(veh.angle[i])
    out["x (m)"] = _f(veh.xy[i, 0])
    out["y (m)"] = _f(veh.xy[i, 1])
    return out


def _route(vehicle_id: str, geometry: NetGeometry, inspected: Inspected | None) -> dict[str, Value]:
    """Route, destination and delay so far, from the worker's details of the inspected vehicle."""
    if inspected is None or inspected.kind != "vehicle" or inspected.object_id != vehicle_id:
        return {"route": "(asking the simulation…)"}
    out: dict[str, Value] = {}
    if not math.isnan(inspected.time_loss_s):
        out["delay so far (s)"] = inspected.time_loss_s
    route = inspected.route
    if not route:
        out["route"] = "(not known)"
        return out
    destination = route[-1]
    name = geometry.edge_names.get(destination)
    out["destination"] = f"{destination} ({name})" if name else destination
    shown = " → ".join(route[:ROUTE_SHOWN])
    out["route"] = shown + (f" → … ({len(route) - ROUTE_SHOWN} more)" if len(route) > ROUTE_SHOWN else "")
    if 0 <= inspected.route_index < len(route):
        out["on route"] = f"edge {inspected.route_index + 1} of {len(route)}"
    return out


def _incident_text(incident: IncidentView, geometry: NetGeometry) -> str:
    severity = incident_severity(incident, _lanes_on_edge(incident, geometry))
    return f"{incident.id}: {incident.kind} ({severity})"


def _lanes_on_edge(incident: IncidentView, geometry: NetGeometry) -> int:
    lanes = geometry.lanes
    index = lanes.index()
    edges = {lanes.edges[index[lane]] for lane in incident.lanes if lane in index} or {incident.target}
    return sum(1 for e in lanes.edges if e in edges)


def _lane(
    pick: Pick, snapshot: Snapshot, geometry: NetGeometry, incidents: Sequence[IncidentView]
) -> dict[str, Value]:
    lanes = geometry.lanes
    i = pick.index
    la = snapshot.lanes
    edge = lanes.edges[i]
    out: dict[str, Value] = {"edge": edge}
    if geometry.edge_names.get(edge):
        out["street"] = geometry.edge_names[edge]
    out["length (m)"] = _f(lanes.lengths[i])
    out["speed limit (km/h)"] = _f(lanes.max_speeds[i]) * 3.6
    empty = False
    if la.vehicles.size:
        empty = int(la.vehicles[i]) == 0
        out["vehicles"] = _i(la.vehicles[i])
        out["halting"] = _i(la.halting[i])
        out["density (veh/km)"] = _f(la.vehicles[i]) / max(_f(lanes.lengths[i]), 1.0) * 1000.0
    if la.mean_speed.size:
        # SUMO reports an empty lane's mean speed as its speed limit: say what it is instead
        out["mean speed (km/h)"] = NO_VEHICLES if empty else _f(la.mean_speed[i]) * 3.6
        out["occupancy (%)"] = _f(la.occupancy[i]) * 100.0
    if la.waiting.size:
        out["waiting (s)"] = _f(la.waiting[i])
        out["CO2 (g/s)"] = _f(la.co2_mg_s[i]) / 1000.0
    here = [inc for inc in incidents if pick.id in inc.lanes]
    out["incident"] = "; ".join(_incident_text(inc, geometry) for inc in here) if here else "none"
    return out


def _signal(
    pick: Pick, snapshot: Snapshot, geometry: NetGeometry, signals: Sequence[SignalView]
) -> dict[str, Value]:
    i = pick.index
    info = geometry.signals[i]
    out: dict[str, Value] = {
        "state": snapshot.signals.state[i],
        "time in phase (s)": _f(snapshot.signals.time_in_phase[i]),
    }
    idx = np.asarray(info.incoming_lanes, dtype=np.int64)
    if idx.size and snapshot.lanes.halting.size:
        out["queue (veh)"] = _i(snapshot.lanes.halting[idx].sum())
        out["approach vehicles"] = _i(snapshot.lanes.vehicles[idx].sum())
    if idx.size and snapshot.lanes.waiting.size:
        n = max(_f(snapshot.lanes.vehicles[idx].sum()), 1.0)
        out["mean waiting (s/veh)"] = _f(snapshot.lanes.waiting[idx].sum()) / n
    view = next((v for v in signals if v.signal_id == pick.id), None)
    if view is not None:
        out["controller"] = view.controller
        out["stage"] = view.stage
        out["green stage"] = (
            f"{view.current_green + 1} of {view.n_greens}" if view.current_green >= 0 else "-"
        )
        out["override"] = f"{view.override} ({view.override_left_s:.0f} s left)" if view.override else "none"
    return out


def _interval_values(stats: IntervalStats) -> dict[str, Value]:
    w = "30 s" if stats.window_s <= 30.0 else f"{stats.window_s / 60.0:g} min"
    out: dict[str, Value] = {}
    if stats.volume is not None:
        out[f"volume {w} (veh)"] = stats.volume
        flow = stats.flow_veh_h
        if flow is not None:
            out[f"flow {w} (veh/h)"] = flow
    if not math.isnan(stats.vehicles):
        out[f"mean vehicles {w}"] = stats.vehicles
    out[f"occupancy {w} (%)"] = stats.occupancy * 100.0
    out[f"speed {w} (km/h)"] = stats.speed_m_s * 3.6 if not math.isnan(stats.speed_m_s) else NO_VEHICLES
    return out


def _health_text(health: Any) -> str:
    """A sensors.health.DetectorHealth (state, reason, since_s) as one line."""
    state = str(getattr(health, "state", "ok"))
    reason = str(getattr(health, "reason", ""))
    since = float(getattr(health, "since_s", 0.0))
    return state if state == "ok" and not reason else f"{state}: {reason} (since t={since:g} s)"


def _detector(
    pick: Pick,
    snapshot: Snapshot,
    geometry: NetGeometry,
    inspected: Inspected | None,
    health: Mapping[str, DetectorHealth],
) -> dict[str, Value]:
    lanes = geometry.lanes
    det = snapshot.detectors
    detectors = geometry.e1 if pick.kind == "e1" else geometry.e2
    i = pick.index
    lane = int(detectors.lanes[i])
    out: dict[str, Value] = {
        "lane": lanes.ids[lane] if 0 <= lane < len(lanes) else "?",
        "position (m)": _f(detectors.positions[i]),
    }
    if pick.id in health:
        out["health"] = _health_text(health[pick.id])
    if pick.kind == "e1" and det.e1_count.size:
        out["count (since start)"] = _i(det.e1_count[i])
        out["occupancy (%)"] = _f(det.e1_occupancy[i]) * 100.0
        speed = _f(det.e1_speed[i])
        out["speed (km/h)"] = speed * 3.6 if speed >= 0 else NO_VEHICLES
    elif pick.kind == "e2" and det.e2_vehicles.size:
        out["length (m)"] = _f(detectors.lengths[i])
        out["vehicles"] = _i(det.e2_vehicles[i])
        out["halting"] = _i(det.e2_halting[i])
        out["occupancy (%)"] = _f(det.e2_occupancy[i]) * 100.0
        speed = _f(det.e2_speed[i])
        out["speed (km/h)"] = speed * 3.6 if speed >= 0 else NO_VEHICLES
    if inspected is not None and inspected.object_id == pick.id and inspected.kind == pick.kind:
        if not inspected.intervals:
            out["intervals"] = "(first 30 s interval not closed yet)"
        for stats in inspected.intervals:
            out.update(_interval_values(stats))
    return out


def _camera(pick: Pick, snapshot: Snapshot, cameras: Sequence[CameraView]) -> dict[str, Value] | None:
    camera = next((c for c in cameras if c.id == pick.id), None)
    if camera is None:
        return None
    seen = in_view(camera_spec(camera), np.asarray(snapshot.vehicles.xy, dtype=np.float64))
    speeds = snapshot.vehicles.speed[seen] if seen.size else np.zeros(0)
    return {
        "junction": camera.junction,
        "vehicles in view": _i(seen.sum()),
        "mean speed in view (km/h)": _f(speeds.mean()) * 3.6 if speeds.size else NO_VEHICLES,
        "heading (deg)": camera.heading,
        "field of view (deg)": camera.fov,
    }


def _incident(
    pick: Pick, geometry: NetGeometry, incidents: Sequence[IncidentView]
) -> dict[str, Value] | None:
    incident = next((inc for inc in incidents if inc.id == pick.id), None)
    if incident is None:
        return None
    out: dict[str, Value] = {
        "type": incident.kind,
        "severity": incident_severity(incident, _lanes_on_edge(incident, geometry)),
        "target": incident.target,
        "lanes": ", ".join(incident.lanes),
        "since": f"t={incident.since_s:g} s",
    }
    if incident.until_s is not None:
        out["until"] = f"t={incident.until_s:g} s"
    if incident.vehicle:
        out["stopped vehicle"] = incident.vehicle
    out["by"] = incident.user or "-"
    out["reason"] = incident.reason or "-"
    return out


def inspect_values(
    pick: Pick,
    snapshot: Snapshot,
    geometry: NetGeometry,
    signals: Sequence[SignalView] = (),
    cameras: Sequence[CameraView] = (),
    incidents: Sequence[IncidentView] = (),
    inspected: Inspected | None = None,
    health: Mapping[str, DetectorHealth] | None = None,
) -> dict[str, Value] | None:
    """Name -> value for the picked object now; None when it is gone (a vehicle that arrived).

    ``inspected``: the worker's details of the object (route, detector intervals); ``health``: the
    detectors' health by id (``SimFrame.detector_health``)."""
    if pick.kind == "vehicle":
        return _vehicle(pick, snapshot, geometry, inspected)
    if pick.kind == "lane":
        return _lane(pick, snapshot, geometry, incidents)
    if pick.kind == "signal":
        return _signal(pick, snapshot, geometry, signals)
    if pick.kind == "junction":
        return {"x (m)": pick.x, "y (m)": pick.y, "signalised": "no"}
    if pick.kind in ("e1", "e2"):
        return _detector(pick, snapshot, geometry, inspected, health or {})
    if pick.kind == "camera":
        return _camera(pick, snapshot, cameras)
    if pick.kind == "incident":
        return _incident(pick, geometry, incidents)
    return None


def numeric(values: Mapping[str, Value]) -> list[str]:
    """Keys whose values can be plotted: numbers that change (``STATIC`` left out)."""
    return [k for k, v in values.items() if isinstance(v, float | int) and k not in STATIC]


def default_plot(kind: str, keys: Sequence[str]) -> str:
    """The value plotted when an object is picked: a changing one (``DEFAULT_PLOT``), else the first."""
    preferred = DEFAULT_PLOT.get(kind, "")
    if preferred in keys:
        return preferred
    return keys[0] if keys else ""


def axis_label(key: str) -> tuple[str, str]:
    """The plot's y label and unit from a value's name: "speed (km/h)" -> ("speed", "km/h")."""
    if key.endswith(")") and " (" in key:
        name, _, unit = key[:-1].rpartition(" (")
        return name, unit
    return key, ""


def format_value(value: Value) -> str:
    """Integers as integers, measured values with two decimals, NaN as a dash."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,d}"
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.2f}"
    return value
