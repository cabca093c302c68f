"""Cameras: where each one stands and looks, and pinhole projection between network and image.

Network coordinates are SUMO's (metres, x east, y north, the ground at z = 0); headings follow SUMO
(degrees, 0 = north, clockwise); tilt is degrees below the horizon. Image pixels are (u, v) from the
top-left corner, u to the right and v downwards; pixels are square, the principal point is the image
centre and there is no lens distortion, so the horizontal field of view fixes the focal length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from trafficai.config import CameraSection

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """A camera's full pose and sensor. Defaults (kept in ``config.CameraSection``) describe a
    typical intersection camera: 8 m up, 20 deg down, 70 deg wide, 1280x720 at 25 frames/s."""

    id: str
    junction: str
    x: float
    y: float
    height: float = 8.0  # m above the ground
    heading: float = 0.0  # deg, 0 = north, clockwise
    tilt: float = 20.0  # deg below the horizon
    fov: float = 70.0  # horizontal field of view, deg
    image_width: int = 1280  # px
    image_height: int = 720  # px
    frame_rate: float = 25.0  # frames per simulated second
    range_m: float = 60.0  # farthest ground distance it is used for (detection range)

    @classmethod
    def from_section(cls, section: CameraSection) -> CameraSpec:
        """The spec of a ``[[cameras]]`` entry of a scenario manifest."""
        return cls(
            id=section.id,
            junction=section.junction,
            x=section.x,
            y=section.y,
            height=section.height,
            heading=section.heading,
            tilt=section.tilt,
            fov=section.fov,
            image_width=section.image_width,
            image_height=section.image_height,
            frame_rate=section.frame_rate,
            range_m=section.range_m,
        )

    @property
    def focal_px(self) -> float:
        return self.image_width / 2.0 / math.tan(math.radians(self.fov) / 2.0)

    @property
    def vertical_fov(self) -> float:
        """Vertical field of view, deg (from the horizontal one and the image's aspect)."""
        return math.degrees(2.0 * math.atan(self.image_height / 2.0 / self.focal_px))


@lru_cache(maxsize=4096)
def camera_axes(camera: CameraSpec) -> tuple[F64, F64, F64]:
    """Unit vectors (right, down, forward) of the image in network coordinates (read-only arrays,
    computed once per pose: the tracker casts every frame's boxes through them)."""
    h, t = math.radians(camera.heading), math.radians(camera.tilt)
    forward = np.array([math.sin(h) * math.cos(t), math.cos(h) * math.cos(t), -math.sin(t)])
    right = np.array([math.cos(h), -math.sin(h), 0.0])
    down = np.cross(forward, right)
    for axis in (right, down, forward):
        axis.flags.writeable = False
    return right, down, forward


def _as_points(points: NDArray[np.floating]) -> F64:
    """(n, 2) ground points or (n, 3) points as (n, 3) float64."""
    p: F64 = np.atleast_2d(np.asarray(points, dtype=np.float64))
    if p.shape[1] == 2:
        p = np.column_stack([p, np.zeros(len(p))])
    return p


def world_to_image(camera: CameraSpec, points: NDArray[np.floating]) -> tuple[F64, NDArray[np.bool_]]:
    """Pixels (n, 2) of network points ((n, 2) on the ground or (n, 3) with z) and which of them the
    image shows (in front of the camera and inside the frame). Points behind it get NaN pixels."""
    p = _as_points(points) - np.array([camera.x, camera.y, camera.height])
    right, down, forward = camera_axes(camera)
    depth = p @ forward
    ahead = depth > 1e-9
    safe = np.where(ahead, depth, np.nan)
    f = camera.focal_px
    u = camera.image_width / 2.0 + f * (p @ right) / safe
    v = camera.image_height / 2.0 + f * (p @ down) / safe
    pixels = np.column_stack([u, v])
    with np.errstate(invalid="ignore"):
        inside = ahead & (u >= 0) & (u < camera.image_width) & (v >= 0) & (v < camera.image_height)
    return pixels, inside


def image_rays(camera: CameraSpec, pixels: NDArray[np.floating]) -> F64:
    """Direction (n, 3), not normalised, of the ray through each pixel (n, 2)."""
    uv = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
    right, down, forward = camera_axes(camera)
    f = camera.focal_px
    du = (uv[:, 0] - camera.image_width / 2.0) / f
    dv = (uv[:, 1] - camera.image_height / 2.0) / f
    rays: F64 = forward + du[:, None] * right + dv[:, None] * down
    return rays


def image_to_ground(camera: CameraSpec, pixels: NDArray[np.floating]) -> F64:
    """Ground points (n, 2) seen at pixels (n, 2); NaN for pixels at or above the horizon."""
    rays = image_rays(camera, pixels)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(rays[:, 2] < -1e-12, camera.height / -rays[:, 2], np.nan)
    ground: F64 = np.column_stack([camera.x + s * rays[:, 0], camera.y + s * rays[:, 1]])
    return ground


def in_view(camera: CameraSpec, xy: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Which ground points (n, 2) the camera sees: inside its image and within its range."""
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if points.size == 0:
        return np.zeros(0, dtype=bool)
    _, inside = world_to_image(camera, points)
    near = np.hypot(points[:, 0] - camera.x, points[:, 1] - camera.y) <= camera.range_m
    seen: NDArray[np.bool_] = inside & near
    return seen


def ground_footprint(camera: CameraSpec, samples_per_edge: int = 16) -> F64:
    """The ground the camera sees as a closed polygon (k, 2): the image border cast on the ground,
    each ray cut at ``range_m`` (rays at or above the horizon reach it at that distance). Empty when
    the camera sees no ground (looking up)."""
    w, h = float(camera.image_width), float(camera.image_height)
    s = np.linspace(0.0, 1.0, samples_per_edge, endpoint=False)
    border = np.concatenate(
        [
            np.column_stack([s * w, np.zeros_like(s)]),  # top, left to right
            np.column_stack([np.full_like(s, w), s * h]),  # right, downwards
            np.column_stack([(1 - s) * w, np.full_like(s, h)]),  # bottom, right to left
            np.column_stack([np.zeros_like(s), (1 - s) * h]),  # left, upwards
        ]
    )
    rays = image_rays(camera, border)
    flat = np.hypot(rays[:, 0], rays[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        to_ground = np.where(rays[:, 2] < -1e-12, camera.height / -rays[:, 2] * flat, np.inf)
    if not np.isfinite(to_ground).any():
        return np.zeros((0, 2))
    reach = np.minimum(to_ground, camera.range_m)
    unit = rays[:, :2] / np.maximum(flat, 1e-12)[:, None]
    outline: F64 = np.array([camera.x, camera.y]) + unit * reach[:, None]
    return np.vstack([outline, outline[:1]])
