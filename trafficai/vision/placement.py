"""Cameras for a scenario: the manifest's own, plus cameras placed over the approaches of signalised
junctions, a pure function of the network geometry (so a ``.sumocfg`` nobody wrote a camera for
still gets cameras, always the same ones).

An approach camera stands on a pole at the kerb just past the stop line, on the far side of the
approach's traffic, and looks back up the approach: the stop line sits in the lower part of the
image and the queue runs up the image towards the horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trafficai.core.geometry import NetGeometry, SignalInfo
from trafficai.core.scenario import Scenario
from trafficai.sensors.cameras import CameraSpec

LANE_WIDTH_M = 3.2  # SUMO's default lane width (the geometry carries shapes, not widths)


@dataclass(frozen=True, slots=True)
class ApproachPose:
    """How an approach camera is placed relative to the approach's stop line."""

    height: float = 10.0
    past_stop_m: float = 20.0  # pole position beyond the stop line (inside the junction corner)
    kerb_offset_m: float = 2.5  # beyond the approach's outer (right) lane edge
    aim_upstream_m: float = 8.0  # the image centre looks at this point up the approach
    fov: float = 62.0
    image_width: int = 640
    image_height: int = 384
    frame_rate: float = 10.0
    range_m: float = 75.0


@dataclass(frozen=True, slots=True)
class Approach:
    """The incoming lanes of one edge at a signalised junction."""

    signal: str
    edge: str
    lanes: tuple[int, ...]  # geometry lane indices, rightmost first
    stop_xy: tuple[float, float]  # middle of the approach's stop line
    direction: tuple[float, float]  # unit travel direction at the stop line


def approaches(geometry: NetGeometry, signal: SignalInfo) -> tuple[Approach, ...]:
    """The approaches of one signalised junction, sorted by edge id."""
    by_edge: dict[str, list[int]] = {}
    for lane in signal.incoming_lanes:
        by_edge.setdefault(geometry.lanes.edges[lane], []).append(lane)
    found = []
    for edge in sorted(by_edge):
        lanes = tuple(sorted(by_edge[edge], key=lambda i: geometry.lanes.ids[i]))
        ends = np.array([geometry.lanes.shapes[i][-1] for i in lanes])
        shape = geometry.lanes.shapes[lanes[0]]
        step = shape[-1] - shape[-2]
        norm = float(np.hypot(*step)) or 1.0
        stop = ends.mean(axis=0)
        found.append(
            Approach(
                signal.id, edge, lanes, (float(stop[0]), float(stop[1])), (step[0] / norm, step[1] / norm)
            )
        )
    return tuple(found)


def approach_camera(approach: Approach, pose: ApproachPose = ApproachPose()) -> CameraSpec:
    dx, dy = approach.direction
    right = (dy, -dx)  # right of the travel direction (SUMO drives on the right)
    half_width = len(approach.lanes) * LANE_WIDTH_M / 2
    side = half_width + pose.kerb_offset_m
    sx, sy = approach.stop_xy
    x = sx + dx * pose.past_stop_m + right[0] * side
    y = sy + dy * pose.past_stop_m + right[1] * side
    aim_x, aim_y = sx - dx * pose.aim_upstream_m, sy - dy * pose.aim_upstream_m
    heading = math.degrees(math.atan2(aim_x - x, aim_y - y)) % 360.0
    distance = math.hypot(aim_x - x, aim_y - y)
    tilt = math.degrees(math.atan2(pose.height, distance))
    return CameraSpec(
        id=f"auto_{approach.signal}_{approach.edge}",
        junction=approach.signal,
        x=round(float(x), 2),
        y=round(float(y), 2),
        height=pose.height,
        heading=round(heading, 2),
        tilt=round(tilt, 2),
        fov=pose.fov,
        image_width=pose.image_width,
        image_height=pose.image_height,
        frame_rate=pose.frame_rate,
        range_m=pose.range_m,
    )


def auto_cameras(
    geometry: NetGeometry, junctions: tuple[str, ...] | None = None, pose: ApproachPose = ApproachPose()
) -> tuple[CameraSpec, ...]:
    """One camera per approach of each signalised junction (of ``junctions`` when given)."""
    cameras: list[CameraSpec] = []
    for signal in sorted(geometry.signals, key=lambda s: s.id):
        if junctions is not None and signal.id not in junctions:
            continue
        cameras.extend(approach_camera(a, pose) for a in approaches(geometry, signal))
    return tuple(cameras)


def scenario_cameras(
    scenario: Scenario, geometry: NetGeometry, *, max_auto_junctions: int = 3
) -> tuple[CameraSpec, ...]:
    """The manifest's cameras and approach cameras of its main intersections (the junctions its
    cameras watch; for a scenario without cameras, the ``max_auto_junctions`` signalised junctions
    with the most approach lanes)."""
    manifest = tuple(CameraSpec.from_section(c) for c in scenario.cameras)
    main = tuple(dict.fromkeys(c.junction for c in manifest if c.junction))
    if not main:
        ranked = sorted(geometry.signals, key=lambda s: (-len(s.incoming_lanes), s.id))
        main = tuple(s.id for s in ranked[:max_auto_junctions])
    return manifest + auto_cameras(geometry, main)


def approach_of_camera(geometry: NetGeometry, camera: CameraSpec) -> tuple[Approach, ...]:
    """The approaches of the camera's junction (all of them: a junction camera sees several)."""
    for signal in geometry.signals:
        if signal.id == camera.junction:
            return approaches(geometry, signal)
    return ()
