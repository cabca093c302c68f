"""A "perfect camera": what a camera would report if its vision were flawless, from the simulator's
own vehicles inside the camera's ground footprint (``cameras.in_view``).

It feeds the camera devices of a live run by default, because running the vision pipeline
(rendering, detection, tracking) for every camera in every bin is far too heavy for a headless run;
the devices carry firmware ``trafficai-perfect-camera-1`` so nobody mistakes these bins for
measured ones. Per camera and bin it reports vehicles seen per class (distinct vehicles), per
approach (distinct vehicles seen on the approach's lanes) and the longest queue per approach in
metres (stop line to the farthest halted vehicle in view, the largest over the bin's samples).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.sensors.cameras import CameraSpec, in_view

HALTED_M_S = 0.1  # SUMO's halting threshold


def safe_name(raw: str) -> str:
    """``raw`` as one SenML name part: characters outside ``[A-Za-z0-9_]`` as ``-xx``."""
    ok = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
    return "".join(c if c in ok else "".join(f"-{b:02x}" for b in c.encode()) for c in raw)


def camera_approaches(geometry: NetGeometry, camera: CameraSpec) -> dict[int, str]:
    """Lane index -> approach edge of every incoming lane of the camera's junction it can see."""
    out: dict[int, str] = {}
    for signal in geometry.signals:
        if signal.id != camera.junction:
            continue
        for lane in signal.incoming_lanes:
            shape = geometry.lanes.shapes[lane]
            if bool(in_view(camera, shape).any()):
                out[int(lane)] = geometry.lanes.edges[lane]
    return out


def main_approach(geometry: NetGeometry, camera: CameraSpec) -> str:
    """The edge whose lanes the camera sees most of (the approach it watches), '' if none."""
    seen: dict[str, int] = {}
    for lane, edge in camera_approaches(geometry, camera).items():
        seen[edge] = seen.get(edge, 0) + int(in_view(camera, geometry.lanes.shapes[lane]).sum())
    return max(sorted(seen), key=lambda e: seen[e]) if seen else ""


@dataclass
class _CameraBin:
    classes: dict[str, set[str]] = field(default_factory=dict)
    approach: dict[str, set[str]] = field(default_factory=dict)
    queue_m: dict[str, float] = field(default_factory=dict)


class PerfectCameraBins:
    """Accumulates the perfect cameras' view over snapshots (with vehicles) and closes bins."""

    def __init__(self, cameras: Sequence[CameraSpec], geometry: NetGeometry) -> None:
        self.cameras = tuple(cameras)
        self.lanes = {c.id: camera_approaches(geometry, c) for c in self.cameras}
        self.stop_xy = {
            lane: geometry.lanes.shapes[lane][-1] for lanes in self.lanes.values() for lane in lanes
        }
        self._bins = {c.id: self._empty(c.id) for c in self.cameras}

    def _empty(self, camera: str) -> _CameraBin:
        edges = sorted(set(self.lanes[camera].values()))
        return _CameraBin({}, {e: set() for e in edges}, dict.fromkeys(edges, 0.0))

    def sample(self, snapshot: Snapshot) -> None:
        vehicles = snapshot.vehicles
        if len(vehicles) == 0:
            return
        types = snapshot.vehicle_types
        for camera in self.cameras:
            acc, lanes = self._bins[camera.id], self.lanes[camera.id]
            for i in np.flatnonzero(in_view(camera, vehicles.xy)):
                vid, t = vehicles.ids[i], int(vehicles.vtype[i])
                kind = types[t] if 0 <= t < len(types) else "unknown"
                acc.classes.setdefault(kind, set()).add(vid)
                edge = lanes.get(int(vehicles.lane[i]))
                if edge is None:
                    continue
                acc.approach[edge].add(vid)
                if float(vehicles.speed[i]) < HALTED_M_S:
                    stop = self.stop_xy[int(vehicles.lane[i])]
                    back = float(np.hypot(*(vehicles.xy[i] - stop)))
                    acc.queue_m[edge] = max(acc.queue_m[edge], back)

    def close(self) -> dict[str, dict[str, float]]:
        """Per camera id, the bin's values (SenML names ``class.*``, ``approach.*``, ``queue.*``)."""
        out: dict[str, dict[str, float]] = {}
        for camera in self.cameras:
            acc = self._bins[camera.id]
            values = {f"class.{safe_name(k)}": float(len(v)) for k, v in acc.classes.items()}
            values.update({f"approach.{safe_name(e)}": float(len(v)) for e, v in acc.approach.items()})
            values.update({f"queue.{safe_name(e)}": round(q, 2) for e, q in acc.queue_m.items()})
            out[camera.id] = values
            self._bins[camera.id] = self._empty(camera.id)
        return out
