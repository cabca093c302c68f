"""Domain randomisation: light, weather and camera imperfections, drawn from a seeded generator.

Everything here is deterministic for a given ``numpy.random.Generator`` state, so a dataset or an
evaluation renders the same pixels every time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

U8 = NDArray[np.uint8]
F32 = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Conditions:
    """How one frame looks. The default is a clear, sharp day with no compression."""

    light: str = "day"  # day | dusk | night
    sun_azimuth: float = 135.0  # deg, SUMO convention
    sun_elevation: float = 45.0  # deg above the horizon
    fog_visibility_m: float = math.inf  # distance at which contrast falls to ~5 %
    rain: float = 0.0  # 0..1 streak density
    blur_sigma: float = 0.0  # px
    noise_sigma: float = 0.0  # grey levels
    jpeg_quality: int = 0  # 0: no compression
    shake_px: tuple[float, float] = (0.0, 0.0)
    shake_deg: float = 0.0
    asphalt: float = 0.42  # grey level 0..1
    verge: tuple[float, float, float] = (0.30, 0.45, 0.35)  # BGR 0..1

    @property
    def ambient(self) -> float:
        return {"day": 1.0, "dusk": 0.55}.get(self.light, 0.18)

    @property
    def headlights(self) -> bool:
        return self.light != "day"

    def sun_vector(self) -> NDArray[np.float64]:
        """Unit vector towards the sun, network coordinates."""
        az, el = math.radians(self.sun_azimuth), math.radians(self.sun_elevation)
        return np.array([math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), math.sin(el)])


CLEAR = Conditions()


def sample_conditions(rng: np.random.Generator) -> Conditions:
    """Random conditions for training data: mostly day, some dusk and night, some fog and rain."""
    light = str(rng.choice(["day", "dusk", "night"], p=[0.6, 0.2, 0.2]))
    fog = float(rng.uniform(60.0, 250.0)) if rng.random() < 0.2 else math.inf
    rain = float(rng.uniform(0.2, 1.0)) if rng.random() < 0.2 else 0.0
    return Conditions(
        light=light,
        sun_azimuth=float(rng.uniform(0.0, 360.0)),
        sun_elevation=float(rng.uniform(20.0, 70.0)),
        fog_visibility_m=fog,
        rain=rain,
        blur_sigma=float(rng.choice([0.0, 0.0, 0.6, 1.2])),
        noise_sigma=float(rng.uniform(0.0, 6.0)),
        jpeg_quality=int(rng.choice([0, 40, 60, 85])),
        shake_px=(float(rng.normal(0.0, 1.5)), float(rng.normal(0.0, 1.5))),
        shake_deg=float(rng.normal(0.0, 0.3)),
        asphalt=float(rng.uniform(0.3, 0.55)),
        verge=(float(rng.uniform(0.2, 0.4)), float(rng.uniform(0.3, 0.55)), float(rng.uniform(0.25, 0.45))),
    )


def night(conditions: Conditions = CLEAR) -> Conditions:
    return replace(conditions, light="night")


def apply_fog(image: F32, depth: F32, conditions: Conditions) -> F32:
    if not math.isfinite(conditions.fog_visibility_m):
        return image
    transmission = np.exp(-3.0 * depth / conditions.fog_visibility_m)[..., None]
    haze = 0.75 * conditions.ambient
    fogged: F32 = image * transmission + haze * (1.0 - transmission)
    return fogged


def apply_rain(image: F32, conditions: Conditions, rng: np.random.Generator) -> F32:
    if conditions.rain <= 0:
        return image
    h, w = image.shape[:2]
    streaks = np.zeros((h, w), np.float32)
    n = int(conditions.rain * w * h / 900)
    starts = rng.uniform([0, 0], [w, h], size=(n, 2))
    length = rng.uniform(6, 14, size=n)
    for (x, y), d in zip(starts, length, strict=True):
        cv2.line(streaks, (int(x), int(y)), (int(x + d * 0.15), int(y + d)), 1.0, 1)
    wet: F32 = image * (1.0 - 0.12 * conditions.rain) + streaks[..., None] * 0.35
    return wet


def shake_matrix(conditions: Conditions, width: int, height: int) -> NDArray[np.float64]:
    """The 2x3 affine map of a small camera shake (rotation about the image centre + shift)."""
    matrix = np.asarray(
        cv2.getRotationMatrix2D((width / 2, height / 2), conditions.shake_deg, 1.0), np.float64
    )
    matrix[:, 2] += conditions.shake_px
    return matrix


def shaken(conditions: Conditions) -> bool:
    return conditions.shake_deg != 0.0 or conditions.shake_px != (0.0, 0.0)


def finish(image: F32, conditions: Conditions, rng: np.random.Generator) -> U8:
    """Camera imperfections after the scene is drawn: blur, sensor noise, shake, JPEG."""
    h, w = image.shape[:2]
    if conditions.blur_sigma > 0:
        image = np.asarray(cv2.GaussianBlur(image, (0, 0), conditions.blur_sigma), np.float32)
    if conditions.noise_sigma > 0:
        image = image + rng.normal(0.0, conditions.noise_sigma / 255.0, image.shape).astype(np.float32)
    out: U8 = np.clip(image * 255.0, 0, 255).astype(np.uint8)
    if shaken(conditions):
        matrix = shake_matrix(conditions, w, h)
        out = np.asarray(cv2.warpAffine(out, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE), np.uint8)
    if conditions.jpeg_quality > 0:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, conditions.jpeg_quality])
        if ok:
            out = np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)
    return out
