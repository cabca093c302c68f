"""A "perfect camera": what a camera would report if its vision were flawless, from the simulator's
own vehicles (the ``truth`` :class:`~trafficai.sensors.camera_source.CameraReadingSource`).

It is the default source of camera devices, because running the vision pipeline for every camera
of a network is heavy for a headless run; its devices carry firmware ``trafficai-perfect-camera-2``
so nobody mistakes these bins for measured ones. A camera covers the approaches of its junction
whose whole stop line it sees (every lane's stop-line end in view, ``cameras.in_view``; the vision
pipeline's count lines follow the same rule). A vehicle on a covered approach lane next seen on one
of the exits the junction's links lead to from that approach has *crossed*: it counts once in its
class (``sensors.vehicle_classes``, the renderer's classes), its approach and its movement
``approach -> exit``. Queues: stop line to the farthest halted vehicle in view on the approach, the
longest over the bin's samples; speed: the mean over the samples of the vehicles in view on the
approach.

A vehicle that skips its exit edge between two samples (an exit shorter than the distance driven
between samples) is not counted at all, so the sums still hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.sensors.camera_source import (
    CameraCoverage,
    CameraTally,
    close_all,
    coverage_of,
    junction_exits,
    safe_name,
)
from trafficai.sensors.cameras import CameraSpec, in_view
from trafficai.sensors.vehicle_classes import vehicle_class

HALTED_M_S = 0.1  # SUMO's halting threshold
TRUTH_FIRMWARE = "trafficai-perfect-camera-2"

__all__ = ["HALTED_M_S", "TRUTH_FIRMWARE", "TruthCameraSource", "camera_approaches", "safe_name"]


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


def covered_lanes(geometry: NetGeometry, camera: CameraSpec) -> dict[int, str]:
    """Lane index -> approach edge of the approaches whose every lane's stop-line end is in view."""
    by_edge: dict[str, list[int]] = {}
    for signal in geometry.signals:
        if signal.id == camera.junction:
            for lane in signal.incoming_lanes:
                by_edge.setdefault(geometry.lanes.edges[lane], []).append(int(lane))
    out: dict[int, str] = {}
    for edge, lanes in by_edge.items():
        ends = np.array([geometry.lanes.shapes[lane][-1] for lane in lanes])
        if bool(in_view(camera, ends).all()):
            out.update(dict.fromkeys(lanes, edge))
    return out


class _Camera:
    def __init__(self, spec: CameraSpec, geometry: NetGeometry) -> None:
        self.spec = spec
        self.lanes = covered_lanes(geometry, spec)  # covered lane -> approach edge
        self.exits = {a: frozenset(e) for a, e in junction_exits(geometry, spec.junction).items()}
        self.lane_index = np.array(sorted(self.lanes), np.int64)
        # covered[lane] for every lane index, and False at the end for -1 (inside a junction)
        self.covered = np.zeros(len(geometry.lanes.ids) + 1, bool)
        self.covered[self.lane_index] = True
        self.coverage = coverage_of(geometry, spec.junction, self.lanes.values())
        self.tally = CameraTally(self.coverage)
        self.pending: dict[str, str] = {}  # vehicle id -> the covered approach it was seen on


class TruthCameraSource:
    """Perfect cameras over snapshots with vehicles (``Snapshot.vehicles``)."""

    name = "truth"
    firmware = TRUTH_FIRMWARE

    def __init__(self, cameras: Sequence[CameraSpec], geometry: NetGeometry) -> None:
        self.cameras = tuple(cameras)
        self.edges = geometry.lanes.edges
        self._cams = {c.id: _Camera(c, geometry) for c in self.cameras}
        self.stop_xy = {
            lane: geometry.lanes.shapes[lane][-1] for cam in self._cams.values() for lane in cam.lanes
        }

    def coverage(self, camera: str) -> CameraCoverage:
        return self._cams[camera].coverage

    def sample(self, snapshot: Snapshot) -> None:
        vehicles = snapshot.vehicles
        index = {vid: i for i, vid in enumerate(vehicles.ids)}
        types = snapshot.vehicle_types
        for cam in self._cams.values():
            self._sample_camera(cam, snapshot, index, types)

    def _sample_camera(
        self, cam: _Camera, snapshot: Snapshot, index: dict[str, int], types: tuple[str, ...]
    ) -> None:
        vehicles = snapshot.vehicles
        lane_of = vehicles.lane
        for vid in [v for v in cam.pending if v not in index]:  # left the network
            del cam.pending[vid]
        for vid, approach in list(cam.pending.items()):
            lane = int(lane_of[index[vid]])
            edge = self.edges[lane] if lane >= 0 else None
            if edge is None or edge == approach:
                continue  # inside the junction, or still on the approach
            del cam.pending[vid]
            if edge in cam.exits.get(approach, ()):
                t = int(vehicles.vtype[index[vid]])
                kind = types[t] if 0 <= t < len(types) else ""
                cam.tally.crossing(approach, edge, vehicle_class(vid, kind))
        if not len(vehicles):
            return
        on_covered = np.flatnonzero(cam.covered[lane_of])
        if not len(on_covered):
            return
        for i in on_covered.tolist():
            cam.pending[vehicles.ids[i]] = cam.lanes[int(lane_of[i])]
        speeds: dict[str, list[float]] = {}
        seen_now = on_covered[in_view(cam.spec, vehicles.xy[on_covered])]
        for i in seen_now.tolist():
            lane = int(lane_of[i])
            approach = cam.lanes[lane]
            speed = float(vehicles.speed[i])
            speeds.setdefault(approach, []).append(speed)
            if speed < HALTED_M_S:
                cam.tally.queue(approach, float(np.hypot(*(vehicles.xy[i] - self.stop_xy[lane]))))
        for approach, seen in speeds.items():
            cam.tally.speeds(approach, sum(seen), len(seen))

    def close(self) -> dict[str, dict[str, float]]:
        return close_all({c: cam.tally for c, cam in self._cams.items()})
