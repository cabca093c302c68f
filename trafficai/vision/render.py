"""A CPU renderer of camera frames with exact ground truth (numpy + OpenCV, no Qt, no GPU).

Vehicles are shaded 3D boxes (one to two per vehicle: body and cabin, cargo box and cab ...) drawn
far to near (painter's order), so nearer vehicles hide farther ones; an id buffer drawn in the same
order gives each vehicle's visible fraction. Shadows are the boxes cast along the sun direction onto
the ground; at dusk and night vehicles carry head- and tail-lights that light the road ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.sensors.cameras import CameraSpec, camera_axes
from trafficai.vision import effects
from trafficai.vision.effects import CLEAR, Conditions
from trafficai.vision.ground import GroundView, ground_view
from trafficai.vision.scene import SHAPES, Part, VehicleView, vehicle_colour

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]
NEAR_M = 1.0  # vehicles with a corner nearer the camera plane than this are not drawn
SKY = np.array([0.85, 0.75, 0.62], np.float32)  # BGR
# the box faces of a part, as corner indices; corner bits: 1 = front, 2 = left, 4 = top
FACES = {
    "front": (1, 3, 7, 5),
    "back": (0, 4, 6, 2),
    "right": (0, 1, 5, 4),
    "left": (2, 6, 7, 3),
    "top": (4, 5, 7, 6),
}


@dataclass(frozen=True, slots=True)
class FrameTruth:
    """Ground truth of one frame, one row per vehicle whose box touches the image."""

    ids: tuple[str, ...]
    classes: NDArray[np.int64]
    boxes: F32  # (n, 4) x1, y1, x2, y2 in pixels, clipped to the image
    occlusion: F32  # fraction of the vehicle's silhouette hidden by nearer vehicles
    truncation: F32  # fraction of the silhouette outside the image
    ground_xy: F64  # (n, 2) footprint centre
    speed: F32  # m/s

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class Frame:
    image: U8  # (h, w, 3) BGR
    truth: FrameTruth
    conditions: Conditions


class Projector:
    """The camera's projection with its axes computed once."""

    def __init__(self, camera: CameraSpec) -> None:
        self.camera = camera
        self.right, self.down, self.forward = camera_axes(camera)
        self.origin = np.array([camera.x, camera.y, camera.height])
        self.focal = camera.focal_px
        self.centre = np.array([camera.image_width / 2.0, camera.image_height / 2.0])

    def project(self, points: F64) -> tuple[F64, F64]:
        """Pixels (n, 2) and depths (n,) along the optical axis of 3D points (n, 3)."""
        p = points - self.origin
        depth = p @ self.forward
        safe = np.where(depth > 1e-6, depth, 1e-6)
        uv = np.column_stack([p @ self.right, p @ self.down]) * (self.focal / safe)[:, None] + self.centre
        return uv, depth


def part_corners(part: Part, rear_xy: F64, direction: F64) -> F64:
    """The 8 corners (8, 3) of a part; corner bits: 1 = front, 2 = left, 4 = top."""
    right = np.array([direction[1], -direction[0]])
    corners = np.empty((8, 3))
    for k in range(8):
        along = part.front if k & 1 else part.rear
        side = -part.half_width if k & 2 else part.half_width
        xy = rear_xy + direction * along + right * side
        corners[k] = (xy[0], xy[1], part.top if k & 4 else part.bottom)
    return corners


@dataclass(slots=True)
class _Placed:
    index: int
    depth: float
    parts: list[F64]  # 3D corners of each part
    pixels: list[F64]  # their pixels
    direction: F64


class Renderer:
    """Frames of one camera: the ground is prepared once, vehicles are drawn per frame."""

    def __init__(self, camera: CameraSpec, geometry: NetGeometry) -> None:
        self.camera = camera
        self.projector = Projector(camera)
        self.ground: GroundView = ground_view(camera, geometry)
        self.size = (camera.image_width, camera.image_height)

    def _background(self, c: Conditions) -> F32:
        g = self.ground
        verge = np.array(c.verge, np.float32)
        asphalt = np.float32(c.asphalt)
        road = g.road[..., None]
        grain = g.texture[..., None] * 0.06
        image = verge * (1.0 - road) * (1.0 + grain * 1.5) + asphalt * road * (1.0 + grain)
        paint = g.marking[..., None]
        image = image * (1.0 - paint) + 0.9 * paint
        image = image * np.float32(c.ambient)
        image[g.sky] = SKY * np.float32(c.ambient if c.light != "night" else 0.08)
        out: F32 = image.astype(np.float32)
        return out

    def _place(self, vehicles: VehicleView) -> list[_Placed]:
        placed = []
        limit = self.camera.range_m * 2.5
        cam_xy = self.projector.origin[:2]
        for i in range(len(vehicles)):
            if np.hypot(*(vehicles.xy[i] - cam_xy)) > limit:
                continue
            shape = SHAPES[int(vehicles.classes[i])]
            rad = np.radians(vehicles.angle[i])
            direction = np.array([np.sin(rad), np.cos(rad)])
            rear = vehicles.xy[i] - direction * shape.length
            parts = [part_corners(p, rear, direction) for p in shape.parts]
            corners = np.vstack(parts)
            pixels, depth = self.projector.project(corners)
            if depth.min() < NEAR_M:
                continue
            w, h = self.size
            if (
                pixels[:, 0].max() < 0
                or pixels[:, 0].min() >= w
                or pixels[:, 1].max() < 0
                or pixels[:, 1].min() >= h
            ):
                continue
            per_part = [pixels[8 * k : 8 * k + 8] for k in range(len(parts))]
            placed.append(_Placed(i, float(depth.mean()), parts, per_part, direction))
        placed.sort(key=lambda p: -p.depth)  # far first
        return placed

    def _shadows(self, image: F32, placed: list[_Placed], c: Conditions) -> None:
        if c.light == "night":
            return
        sun = c.sun_vector()
        mask = np.zeros(image.shape[:2], np.uint8)
        for p in placed:
            corners = np.vstack(p.parts)
            cast = corners[:, :2] - sun[:2] * (corners[:, 2] / max(sun[2], 0.1))[:, None]
            pixels, depth = self.projector.project(np.column_stack([cast, np.zeros(len(cast))]))
            if depth.min() < NEAR_M:
                continue
            hull = cv2.convexHull(np.round(pixels * 4).astype(np.int32))
            cv2.fillConvexPoly(mask, hull, 255, cv2.LINE_AA, 2)
        strength = 0.45 if c.light == "day" else 0.25
        image *= (1.0 - strength * mask.astype(np.float32) / 255.0)[..., None]

    def _lights(self, image: F32, p: _Placed, scale: float) -> None:
        """Headlights on a visible front face (and their pool of light ahead), tail-lights at the back."""
        corners = p.parts[0]
        cam = self.projector.origin
        front_centre = corners[[1, 3, 5, 7]].mean(axis=0)
        facing = float(np.dot(np.append(p.direction, 0.0), cam - front_centre)) > 0
        radius = max(1, round(scale * 0.18))
        for a, b, colour in ((1, 3, (0.95, 1.0, 1.0)), (0, 2, (0.1, 0.1, 0.9))):
            is_front = a == 1
            if is_front != facing:
                continue
            for k, other in ((a, b), (b, a)):
                spot = corners[k] + (corners[other] - corners[k]) * 0.18
                spot = spot.copy()
                spot[2] = 0.7
                uv, _ = self.projector.project(spot[None, :])
                cv2.circle(image, (int(uv[0, 0]), int(uv[0, 1])), radius, colour, -1, cv2.LINE_AA)

    def _glow(self, image: F32, placed: list[_Placed]) -> None:
        glow = np.zeros(image.shape[:2], np.float32)
        for p in placed:
            front = p.parts[0][[1, 3]].mean(axis=0)[:2]
            right = np.array([p.direction[1], -p.direction[0]])
            pool = np.array(
                [
                    front + right * 1.0,
                    front - right * 1.0,
                    front + p.direction * 14 - right * 3.0,
                    front + p.direction * 14 + right * 3.0,
                ]
            )
            pixels, depth = self.projector.project(np.column_stack([pool, np.zeros(4)]))
            if depth.min() < NEAR_M:
                continue
            cv2.fillConvexPoly(glow, np.round(pixels).astype(np.int32), 0.18, cv2.LINE_AA)
        image += cv2.GaussianBlur(glow, (0, 0), 4)[..., None] * np.array([0.9, 1.0, 1.0], np.float32)

    def _draw_vehicle(
        self, image: F32, ids: NDArray[np.uint16], p: _Placed, vehicles: VehicleView, c: Conditions
    ) -> None:
        cls = int(vehicles.classes[p.index])
        body = np.array(vehicle_colour(vehicles.ids[p.index], cls), np.float32) / 255.0
        sun = c.sun_vector()
        cam = self.projector.origin
        normals = {
            "front": np.append(p.direction, 0.0),
            "back": -np.append(p.direction, 0.0),
            "right": np.array([p.direction[1], -p.direction[0], 0.0]),
            "left": np.array([-p.direction[1], p.direction[0], 0.0]),
            "top": np.array([0.0, 0.0, 1.0]),
        }
        for part, corners, pixels in zip(SHAPES[cls].parts, p.parts, p.pixels, strict=True):
            for face, idx in FACES.items():
                centre = corners[list(idx)].mean(axis=0)
                normal = normals[face]
                if float(np.dot(normal, cam - centre)) <= 0:
                    continue
                lit = 0.45 + 0.55 * max(0.0, float(np.dot(normal, sun))) if c.light != "night" else 1.8
                colour = np.clip(body * part.shade * lit * c.ambient, 0, 1)
                poly = np.round(pixels[list(idx)] * 4).astype(np.int32)
                cv2.fillConvexPoly(image, poly, colour.tolist(), cv2.LINE_AA, 2)
        hull = cv2.convexHull(np.round(np.vstack(p.pixels)).astype(np.int32))
        cv2.fillConvexPoly(ids, hull, p.index + 1)
        if c.headlights:
            self._lights(image, p, self.projector.focal / max(p.depth, 1.0))

    def render(self, vehicles: VehicleView, conditions: Conditions = CLEAR, seed: int = 0) -> Frame:
        rng = np.random.default_rng(seed)
        image = self._background(conditions)
        w, h = self.size
        ids = np.zeros((h, w), np.uint16)
        placed = self._place(vehicles)
        self._shadows(image, placed, conditions)
        if conditions.headlights:
            self._glow(image, placed)
        for p in placed:
            self._draw_vehicle(image, ids, p, vehicles, conditions)
        depth = self.ground.depth
        if placed and np.isfinite(conditions.fog_visibility_m):
            by_index = np.zeros(len(vehicles) + 1, np.float32)
            for p in placed:
                by_index[p.index + 1] = p.depth
            depth = np.where(ids > 0, by_index[ids], depth)
        image = effects.apply_fog(image, depth, conditions)
        image = effects.apply_rain(image, conditions, rng)
        pixels = effects.finish(image, conditions, rng)
        truth = self._truth(placed, ids, vehicles, conditions)
        return Frame(pixels, truth, conditions)

    def _truth(
        self, placed: list[_Placed], ids: NDArray[np.uint16], vehicles: VehicleView, c: Conditions
    ) -> FrameTruth:
        w, h = self.size
        visible = np.bincount(ids.ravel(), minlength=len(vehicles) + 1)
        rows: list[tuple[int, F64, float, float]] = []
        shake = effects.shake_matrix(c, w, h) if effects.shaken(c) else None
        for p in placed:
            pts = np.vstack(p.pixels)
            hull = cv2.convexHull(np.round(pts).astype(np.int32))
            total = max(float(cv2.contourArea(hull)), 1.0)
            x0, y0 = np.floor(pts.min(axis=0)).astype(int)
            x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
            roi = (max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1))
            if roi[2] <= roi[0] or roi[3] <= roi[1]:
                continue
            mask = np.zeros((roi[3] - roi[1] + 1, roi[2] - roi[0] + 1), np.uint8)
            cv2.fillConvexPoly(mask, hull - np.array(roi[:2]), 1)
            inside = max(float(mask.sum()), 1.0)
            seen = float(visible[p.index + 1])
            if shake is not None:
                pts = pts @ shake[:, :2].T + shake[:, 2]
            box = np.array([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])
            box = np.clip(box, [0, 0, 0, 0], [w, h, w, h])
            if box[2] - box[0] < 1 or box[3] - box[1] < 1:
                continue
            rows.append((p.index, box, 1.0 - min(seen / inside, 1.0), 1.0 - min(inside / total, 1.0)))
        rows.sort(key=lambda r: r[0])
        index = np.array([r[0] for r in rows], np.int64)
        centres = vehicles.centres()[index] if len(index) else np.zeros((0, 2))
        return FrameTruth(
            tuple(vehicles.ids[i] for i in index),
            vehicles.classes[index].copy(),
            np.array([r[1] for r in rows], np.float32).reshape(-1, 4),
            np.array([r[2] for r in rows], np.float32),
            np.array([r[3] for r in rows], np.float32),
            np.asarray(centres, np.float64).reshape(-1, 2),
            vehicles.speed[index].astype(np.float32),
        )
