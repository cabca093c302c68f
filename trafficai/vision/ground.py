"""The static part of a camera's view: road surface and lane markings from the network geometry.

The road is drawn once per camera in a top-down raster of the ground it sees (10 cm per pixel), and
every image pixel below the horizon looks up its ground point in that raster (``cv2.remap`` with
maps computed once from the camera's projection). Perspective is then exact without clipping any
polygon against the camera's near plane.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.sensors.cameras import CameraSpec, image_to_ground
from trafficai.vision.placement import LANE_WIDTH_M

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
RASTER_M_PER_PX = 0.1
FAR_FACTOR = 1.8  # ground drawn out to this many times the camera's range (beyond: plain verge)
JUNCTION_REACH_M = 30.0


@dataclass(frozen=True, slots=True)
class GroundView:
    """Per-pixel material weights (0..1) of one camera's image and the distance to each pixel."""

    road: F32  # (h, w) asphalt
    marking: F32  # (h, w) white paint
    sky: NDArray[np.bool_]  # (h, w) at or above the horizon
    depth: F32  # (h, w) metres from the camera to the ground point (sky: a large value)
    texture: F32  # (h, w) fixed asphalt/verge grain, about +-1


def _to_raster(points: F64, origin: tuple[float, float], shape: tuple[int, int]) -> NDArray[np.int32]:
    x0, y1 = origin
    px = (points[:, 0] - x0) / RASTER_M_PER_PX
    py = (y1 - points[:, 1]) / RASTER_M_PER_PX
    return np.round(np.column_stack([px, py]) * 4).astype(np.int32)  # 2 fractional bits (shift=2)


def _offset(shape: F64, offset_m: float) -> F64:
    """The polyline moved ``offset_m`` to its left (negative: right)."""
    step = np.diff(shape, axis=0)
    normal = np.column_stack([-step[:, 1], step[:, 0]])
    normal /= np.maximum(np.hypot(normal[:, 0], normal[:, 1]), 1e-9)[:, None]
    per_point = np.vstack([normal[:1], (normal[:-1] + normal[1:]) / 2, normal[-1:]])
    per_point /= np.maximum(np.hypot(per_point[:, 0], per_point[:, 1]), 1e-9)[:, None]
    moved: F64 = shape + per_point * offset_m
    return moved


def _dashes(shape: F64, dash_m: float = 3.0, gap_m: float = 6.0) -> list[F64]:
    seg = np.hypot(*np.diff(shape, axis=0).T)
    total = float(seg.sum())
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    pieces = []
    start = gap_m / 2
    while start < total - 1.0:
        s = np.array([start, min(start + dash_m, total)])
        pieces.append(np.column_stack([np.interp(s, cum, shape[:, 0]), np.interp(s, cum, shape[:, 1])]))
        start += dash_m + gap_m
    return pieces


def _lanes_near(geometry: NetGeometry, box: tuple[float, float, float, float]) -> list[int]:
    x0, y0, x1, y1 = box
    near = []
    for i, shape in enumerate(geometry.lanes.shapes):
        if (
            shape[:, 0].max() >= x0
            and shape[:, 0].min() <= x1
            and shape[:, 1].max() >= y0
            and shape[:, 1].min() <= y1
        ):
            near.append(i)
    return near


def draw_raster(
    geometry: NetGeometry, box: tuple[float, float, float, float]
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Top-down road and marking masks (255 = full) of the ground inside ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    shape = (math.ceil((y1 - y0) / RASTER_M_PER_PX), math.ceil((x1 - x0) / RASTER_M_PER_PX))
    road = np.zeros(shape, np.uint8)
    paint = np.zeros(shape, np.uint8)
    origin = (x0, y1)
    lanes = _lanes_near(geometry, (x0 - 50, y0 - 50, x1 + 50, y1 + 50))
    width_px = round(LANE_WIDTH_M / RASTER_M_PER_PX)
    for i in lanes:  # asphalt
        cv2.polylines(
            road, [_to_raster(geometry.lanes.shapes[i], origin, shape)], False, 255, width_px, cv2.LINE_AA, 2
        )
    ends = np.array([geometry.lanes.shapes[i][k] for i in lanes for k in (0, -1)]).reshape(-1, 2)
    for jx, jy in geometry.junction_xy:  # junction areas: the hull of the lane ends around it
        close = ends[np.hypot(ends[:, 0] - jx, ends[:, 1] - jy) < JUNCTION_REACH_M]
        if len(close) >= 3:
            hull = cv2.convexHull(_to_raster(close, origin, shape))
            cv2.fillConvexPoly(road, hull, 255, cv2.LINE_AA, 2)
    _draw_markings(geometry, lanes, paint, origin, shape)
    return road, paint


def _draw_markings(
    geometry: NetGeometry,
    lanes: list[int],
    paint: NDArray[np.uint8],
    origin: tuple[float, float],
    shape: tuple[int, int],
) -> None:
    line_px = max(1, round(0.15 / RASTER_M_PER_PX))
    ids = set(geometry.lanes.ids)
    stop_lanes = {lane for s in geometry.signals for lane in s.incoming_lanes}
    half = LANE_WIDTH_M / 2
    for i in lanes:
        lane_id, lane_shape = geometry.lanes.ids[i], geometry.lanes.shapes[i]
        if len(lane_shape) < 2:
            continue
        edge, _, index = lane_id.rpartition("_")
        has_left = index.isdigit() and f"{edge}_{int(index) + 1}" in ids
        left = _offset(lane_shape, half)
        if has_left:
            for dash in _dashes(left):
                cv2.polylines(paint, [_to_raster(dash, origin, shape)], False, 255, line_px, cv2.LINE_AA, 2)
        else:
            cv2.polylines(paint, [_to_raster(left, origin, shape)], False, 200, line_px, cv2.LINE_AA, 2)
        if index == "0":
            right = _offset(lane_shape, -half + 0.3)
            cv2.polylines(paint, [_to_raster(right, origin, shape)], False, 255, line_px, cv2.LINE_AA, 2)
        if i in stop_lanes:
            end = np.array([_offset(lane_shape, half)[-1], _offset(lane_shape, -half)[-1]])
            cv2.polylines(
                paint,
                [_to_raster(end, origin, shape)],
                False,
                255,
                int(0.4 / RASTER_M_PER_PX),
                cv2.LINE_AA,
                2,
            )


def ground_view(camera: CameraSpec, geometry: NetGeometry) -> GroundView:
    """The road as this camera sees it (computed once per camera)."""
    w, h = camera.image_width, camera.image_height
    us, vs = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    pixels = np.column_stack([us.ravel(), vs.ravel()])
    ground = image_to_ground(camera, pixels)
    flat = np.hypot(ground[:, 0] - camera.x, ground[:, 1] - camera.y)
    far = camera.range_m * FAR_FACTOR
    sky = ~np.isfinite(flat)
    drawn = ~sky & (flat <= far)
    if drawn.any():
        pts = ground[drawn]
        box = (pts[:, 0].min() - 2, pts[:, 1].min() - 2, pts[:, 0].max() + 2, pts[:, 1].max() + 2)
        road_raster, paint_raster = draw_raster(geometry, box)
        map_x = ((ground[:, 0] - box[0]) / RASTER_M_PER_PX).astype(np.float32).reshape(h, w)
        map_y = ((box[3] - ground[:, 1]) / RASTER_M_PER_PX).astype(np.float32).reshape(h, w)
        map_x[~drawn.reshape(h, w)] = -1.0
        road = cv2.remap(road_raster, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
        paint = cv2.remap(paint_raster, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
    else:
        road = np.zeros((h, w), np.uint8)
        paint = np.zeros((h, w), np.uint8)
    depth = np.where(sky, 1e4, np.hypot(flat, camera.height)).reshape(h, w).astype(np.float32)
    rng = np.random.default_rng(7)  # the same grain for every camera and run
    grain = np.asarray(
        cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.2), np.float32
    )
    grain /= max(float(np.abs(grain).max()), 1e-6)
    return GroundView(
        road.astype(np.float32) / 255.0,
        paint.astype(np.float32) / 255.0 * (road.astype(np.float32) > 20),
        sky.reshape(h, w),
        depth,
        grain,
    )


def sees_road(view: GroundView, min_fraction: float = 0.02) -> bool:
    """Whether a camera's image shows any road at all (a pose that sees none is a user mistake)."""
    return float(view.road.mean()) >= min_fraction
