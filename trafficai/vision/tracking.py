"""A ground-plane multi-object tracker for a fixed camera.

Each detection's box bottom-centre is cast through the camera onto the ground; tracks keep their
ground positions and are matched to detections by predicted ground distance (Hungarian assignment,
``lap``), which is steadier than image IoU for a vehicle far away or moving fast. There is no
camera-motion compensation: a pole camera does not move. A track is confirmed after
``confirm_hits`` matches and dropped after ``max_missed_s`` without one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from trafficai.sensors.cameras import CameraSpec, image_to_ground
from trafficai.vision.detect import Detections

F64 = NDArray[np.float64]
SPEED_WINDOW_S = 1.0  # the speed is the slope of the ground positions over this window


@dataclass(slots=True)
class Track:
    id: int
    cls: int
    box: NDArray[np.float32]
    xy: F64  # latest ground position (box bottom-centre)
    velocity: F64  # m/s, smoothed
    last_s: float
    hits: int = 1
    missed: int = 0
    history: deque[tuple[float, float, float]] = field(default_factory=lambda: deque(maxlen=64))

    @property
    def confirmed(self) -> bool:
        return self.hits >= 2

    def predicted(self, time_s: float) -> F64:
        predicted: F64 = self.xy + self.velocity * (time_s - self.last_s)
        return predicted

    def speed(self, window_s: float = SPEED_WINDOW_S) -> float | None:
        """Ground speed over the last ``window_s`` (least-squares slope), None until the track is
        that old. Updated every frame, so a braking vehicle shows it within the window."""
        if not self.history:
            return None
        latest = self.history[-1][0]
        points = np.array([h for h in self.history if h[0] >= latest - window_s - 1e-9])
        if len(points) < 3 or points[-1, 0] - points[0, 0] < window_s * 0.7:
            return None
        t = points[:, 0] - points[:, 0].mean()
        denom = float((t * t).sum())
        vx = float((t * (points[:, 1] - points[:, 1].mean())).sum()) / denom
        vy = float((t * (points[:, 2] - points[:, 2].mean())).sum()) / denom
        return float(np.hypot(vx, vy))


def ground_points(camera: CameraSpec, boxes: NDArray[np.floating]) -> F64:
    """The ground point (n, 2) under each box's bottom-centre."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return image_to_ground(camera, np.column_stack([(b[:, 0] + b[:, 2]) / 2, b[:, 3]]))


def assign(cost: F64, limit: float) -> list[tuple[int, int]]:
    """Minimum-cost pairs (row, column) with cost below ``limit``."""
    if cost.size == 0:
        return []
    import lap  # type: ignore[import-untyped]

    _, rows, _ = lap.lapjv(cost, extend_cost=True, cost_limit=limit)
    return [(r, int(c)) for r, c in enumerate(rows) if c >= 0 and cost[r, c] < limit]


class GroundTracker:
    def __init__(
        self,
        camera: CameraSpec,
        *,
        gate_m: float = 3.0,
        max_missed_s: float = 2.0,
        min_score: float = 0.3,
        confirm_hits: int = 2,
    ) -> None:
        self.camera = camera
        self.gate_m, self.max_missed_s, self.min_score = gate_m, max_missed_s, min_score
        self.confirm_hits = confirm_hits
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, detections: Detections, time_s: float) -> list[Track]:
        """Match one frame's detections; the tracks seen in this frame (confirmed ones only)."""
        ground = ground_points(self.camera, detections.boxes)
        valid: NDArray[np.bool_] = np.asarray(np.isfinite(ground).all(axis=1), bool)
        order = [i for i in np.argsort(-detections.scores) if valid[i]]
        predicted = np.array([t.predicted(time_s) for t in self.tracks]).reshape(-1, 2)
        cost = np.full((len(self.tracks), len(order)), 1e6)
        # the gate widens with the time since a track was last seen (its prediction drifts)
        slack = np.array([1.0 + min(time_s - t.last_s - 1e-6, 2.0) * 1.5 for t in self.tracks]).reshape(-1, 1)
        for k, i in enumerate(order):
            if len(predicted):
                cost[:, k] = np.hypot(*(predicted - ground[i]).T)
        cost = np.where(cost < 1e6, cost / np.maximum(slack, 1.0), cost)
        matched_tracks, matched_dets = set(), set()
        for r, k in assign(cost, self.gate_m):
            i = order[k]
            self._refresh(self.tracks[r], detections, i, ground[i], time_s)
            matched_tracks.add(r)
            matched_dets.add(i)
        for r, track in enumerate(self.tracks):
            if r not in matched_tracks:
                track.missed += 1
        for i in order:
            if i not in matched_dets and detections.scores[i] >= self.min_score:
                self._birth(detections, i, ground[i], time_s)
        self.tracks = [t for t in self.tracks if time_s - t.last_s <= self._patience(t)]
        return [t for t in self.tracks if t.last_s == time_s and t.hits >= self.confirm_hits]

    def _patience(self, track: Track) -> float:
        """How long an unseen track is kept: longer when it stood still (a queued vehicle hidden
        behind another is still there when it reappears)."""
        standing = float(np.hypot(*track.velocity)) < 1.0 and track.hits >= 5
        return self.max_missed_s * (4.0 if standing else 1.0)

    def _refresh(self, track: Track, d: Detections, i: int, xy: F64, time_s: float) -> None:
        dt = max(time_s - track.last_s, 1e-3)
        velocity = (xy - track.xy) / dt
        track.velocity = 0.6 * track.velocity + 0.4 * velocity if track.hits > 1 else velocity
        track.xy, track.box, track.cls, track.last_s = xy, d.boxes[i], int(d.classes[i]), time_s
        track.hits += 1
        track.missed = 0
        track.history.append((time_s, float(xy[0]), float(xy[1])))

    def _birth(self, d: Detections, i: int, xy: F64, time_s: float) -> None:
        track = Track(self._next_id, int(d.classes[i]), d.boxes[i], xy.copy(), np.zeros(2), time_s)
        track.history.append((time_s, float(xy[0]), float(xy[1])))
        self._next_id += 1
        self.tracks.append(track)
