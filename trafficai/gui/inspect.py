"""Live values of a picked object, from the latest snapshot (pure numpy; no Qt)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.gui.map.picking import Pick
from trafficai.runtime.messages import CameraView, IncidentView, SignalView
from trafficai.sensors.cameras import CameraSpec, in_view

Value = float | str


def camera_spec(camera: CameraView) -> CameraSpec:
    """The sensor spec of a camera the worker announced; the pose fields its message lacks (height,
    tilt, image size, frame rate) take the manifest's defaults."""
    return CameraSpec(
        camera.id,
        camera.junction,
        camera.x,
        camera.y,
        heading=camera.heading,
        fov=camera.fov,
        range_m=camera.range_m,
    )


def _f(value: float | np.floating | np.integer) -> float:
    return float(value)


def _vehicle(pick: Pick, snapshot: Snapshot, geometry: NetGeometry) -> dict[str, Value] | None:
    lanes = geometry.lanes
    veh = snapshot.vehicles
    try:
        i = veh.ids.index(pick.id)
    except ValueError:
        return None
    lane = int(veh.lane[i])
    vtype = int(veh.vtype[i])
    return {
        "speed (km/h)": _f(veh.speed[i]) * 3.6,
        "waiting (s)": _f(veh.waiting[i]),
        "angle (deg)": _f(veh.angle[i]),
        "x (m)": _f(veh.xy[i, 0]),
        "y (m)": _f(veh.xy[i, 1]),
        "lane": lanes.ids[lane] if 0 <= lane < len(lanes) else "(junction)",
        "type": snapshot.vehicle_types[vtype] if 0 <= vtype < len(snapshot.vehicle_types) else str(vtype),
    }


def _lane(
    pick: Pick, snapshot: Snapshot, geometry: NetGeometry, incidents: Sequence[IncidentView]
) -> dict[str, Value]:
    lanes = geometry.lanes
    i = pick.index
    la = snapshot.lanes
    out: dict[str, Value] = {"edge": lanes.edges[i], "length (m)": _f(lanes.lengths[i])}
    out["speed limit (km/h)"] = _f(lanes.max_speeds[i]) * 3.6
    if la.vehicles.size:
        out["vehicles"] = _f(la.vehicles[i])
        out["halting"] = _f(la.halting[i])
        out["density (veh/km)"] = _f(la.vehicles[i]) / max(_f(lanes.lengths[i]), 1.0) * 1000.0
    if la.mean_speed.size:
        out["mean speed (km/h)"] = _f(la.mean_speed[i]) * 3.6
        out["occupancy (%)"] = _f(la.occupancy[i]) * 100.0
    if la.waiting.size:
        out["waiting (s)"] = _f(la.waiting[i])
        out["CO2 (g/s)"] = _f(la.co2_mg_s[i]) / 1000.0
    closed = [inc.id for inc in incidents if pick.id in inc.lanes]
    out["incident"] = ", ".join(closed) if closed else "none"
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
        out["queue (veh)"] = _f(snapshot.lanes.halting[idx].sum())
        out["approach vehicles"] = _f(snapshot.lanes.vehicles[idx].sum())
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


def _detector(pick: Pick, snapshot: Snapshot, geometry: NetGeometry) -> dict[str, Value]:
    lanes = geometry.lanes
    det = snapshot.detectors
    detectors = geometry.e1 if pick.kind == "e1" else geometry.e2
    i = pick.index
    lane = int(detectors.lanes[i])
    out: dict[str, Value] = {
        "lane": lanes.ids[lane] if 0 <= lane < len(lanes) else "?",
        "position (m)": _f(detectors.positions[i]),
    }
    if pick.kind == "e1" and det.e1_count.size:
        out["count (since start)"] = _f(det.e1_count[i])
        out["occupancy (%)"] = _f(det.e1_occupancy[i]) * 100.0
        speed = _f(det.e1_speed[i])
        out["speed (km/h)"] = speed * 3.6 if speed >= 0 else float("nan")
    elif pick.kind == "e2" and det.e2_vehicles.size:
        out["length (m)"] = _f(detectors.lengths[i])
        out["vehicles"] = _f(det.e2_vehicles[i])
        out["halting"] = _f(det.e2_halting[i])
        out["occupancy (%)"] = _f(det.e2_occupancy[i]) * 100.0
        speed = _f(det.e2_speed[i])
        out["speed (km/h)"] = speed * 3.6 if speed >= 0 else float("nan")
    return out


def _camera(pick: Pick, snapshot: Snapshot, cameras: Sequence[CameraView]) -> dict[str, Value] | None:
    camera = next((c for c in cameras if c.id == pick.id), None)
    if camera is None:
        return None
    seen = in_view(camera_spec(camera), np.asarray(snapshot.vehicles.xy, dtype=np.float64))
    speeds = snapshot.vehicles.speed[seen] if seen.size else np.zeros(0)
    return {
        "junction": camera.junction,
        "vehicles in view": _f(seen.sum()),
        "mean speed in view (km/h)": _f(speeds.mean()) * 3.6 if speeds.size else float("nan"),
        "heading (deg)": camera.heading,
        "field of view (deg)": camera.fov,
    }


def inspect_values(
    pick: Pick,
    snapshot: Snapshot,
    geometry: NetGeometry,
    signals: Sequence[SignalView] = (),
    cameras: Sequence[CameraView] = (),
    incidents: Sequence[IncidentView] = (),
) -> dict[str, Value] | None:
    """Name -> value for the picked object now; None when it is gone (a vehicle that arrived)."""
    if pick.kind == "vehicle":
        return _vehicle(pick, snapshot, geometry)
    if pick.kind == "lane":
        return _lane(pick, snapshot, geometry, incidents)
    if pick.kind == "signal":
        return _signal(pick, snapshot, geometry, signals)
    if pick.kind == "junction":
        return {"x (m)": pick.x, "y (m)": pick.y, "signalised": "no"}
    if pick.kind in ("e1", "e2"):
        return _detector(pick, snapshot, geometry)
    if pick.kind == "camera":
        return _camera(pick, snapshot, cameras)
    return None


def numeric(values: Mapping[str, Value]) -> list[str]:
    """Keys whose values can be plotted."""
    return [k for k, v in values.items() if isinstance(v, float)]
