"""A ground-plane multi-object tracker for a fixed camera.

Each detection's box bottom-centre is cast through the camera onto the ground; tracks keep their
ground positions and are matched to detections by predicted ground distance (Hungarian assignment,
``lap``), which is steadier than image IoU for a vehicle far away or moving fast. There is no
camera-motion compensation: a pole camera does not move.

Matching runs in three stages (ByteTrack's cascade, without appearance):

1. confident detections (score >= ``min_score``) against the tracks seen within ``recent_s``;
2. the remaining low-confidence detections (>= ``low_score``) against the tracks still unmatched
   (a vehicle half hidden keeps its id even when the detector is unsure; they never start tracks);
3. the confident detections still unmatched against the *lost* tracks (unseen for longer), with
   a gate along the track's heading: a vehicle hidden in a queue is predicted in place (a stopped
   vehicle does not move) and may reappear ahead of where it stopped (the queue moved on while it
   was hidden), never far behind it nor in another lane.

Gates are in ground metres, scaled by the camera's metres per pixel at the detection (a pixel of
box bottom edge is centimetres near the camera and metres at 150 m): the residual is split into
its component along the camera's line of sight and across it, each divided by
``max(gate_m, pixel_tolerance * metres per pixel in that direction)``.

A track is confirmed after ``confirm_hits`` matches, dropped after ``max_missed_s`` unseen, or
after ``standing_missed_s`` when it stood still (a queued vehicle hidden behind the one in front of
it for a whole red phase is still there when the queue moves), or after ``edge_missed_s`` when its
box touched the image border or was tiny when last seen (it left the view; a lost track there
would take the next vehicle entering at the same place).
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
STANDING_MPS = 1.0  # slower than this, a track is predicted in place
HEADING_MPS = 2.0  # faster than this, the motion sets the track's heading
FAR_MPP = 50.0  # metres per pixel taken at or above the horizon
NO_MATCH = 1e6


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
    heading: F64 | None = None  # unit direction of travel, from the last time it moved
    stood: bool = False  # stood still (below STANDING_MPS) when last seen, after 5 hits
    at_edge: bool = False  # its box touched the image border when last seen (leaving the view)

    @property
    def confirmed(self) -> bool:
        return self.hits >= 2

    @property
    def standing(self) -> bool:
        return float(np.hypot(*self.velocity)) < STANDING_MPS

    def predicted(self, time_s: float) -> F64:
        """Constant velocity, except that a standing vehicle stays where it stopped."""
        if self.standing:
            return self.xy.copy()
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


@dataclass(frozen=True, slots=True)
class PixelScale:
    """Per ground point: the unit line-of-sight direction on the ground (n, 2) and the metres one
    image pixel spans along it (vertical pixel) and across it (horizontal pixel)."""

    sight: F64
    along_m: F64
    across_m: F64


def cast_boxes(camera: CameraSpec, boxes: NDArray[np.floating]) -> tuple[F64, PixelScale]:
    """Each box's bottom-centre on the ground (n, 2) and the metres per pixel there, along and
    across the line of sight (one projection of the three pixels per box)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(b)
    uv = np.column_stack([(b[:, 0] + b[:, 2]) / 2, b[:, 3]])
    cast = image_to_ground(camera, np.vstack([uv, uv - np.array([0.0, 1.0]), uv + np.array([1.0, 0.0])]))
    here, up, side = cast[:n], cast[n : 2 * n], cast[2 * n :]
    step = up - here
    along = np.hypot(step[:, 0], step[:, 1])
    across = np.hypot(side[:, 0] - here[:, 0], side[:, 1] - here[:, 1])
    ok = np.isfinite(along) & (along > 1e-9)
    sight = np.where(ok[:, None], step / np.where(ok, along, 1.0)[:, None], np.array([[1.0, 0.0]]))
    scale = PixelScale(
        np.asarray(sight, np.float64).reshape(-1, 2),
        np.where(ok, along, FAR_MPP),
        np.where(np.isfinite(across), across, FAR_MPP),
    )
    return here, scale


def pixel_scale(camera: CameraSpec, boxes: NDArray[np.floating]) -> PixelScale:
    """Metres per pixel at each box's bottom-centre, along and across the line of sight."""
    return cast_boxes(camera, boxes)[1]


def assign(cost: F64, limit: float) -> list[tuple[int, int]]:
    """Minimum-cost pairs (row, column) with cost below ``limit``."""
    if cost.size == 0:
        return []
    import lap  # type: ignore[import-untyped]

    _, rows, _ = lap.lapjv(cost, extend_cost=True, cost_limit=limit)
    return [(r, int(c)) for r, c in enumerate(rows) if c >= 0 and cost[r, c] < limit]


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    gate_m: float = 4.0  # ground gate near the camera (the floor of every gate; a lane change is 3.2 m)
    pixel_tolerance: float = 4.0  # box bottom-edge error, px, that the gate allows at range
    max_missed_s: float = 2.0  # a moving track unseen this long is dropped
    standing_missed_s: float = 90.0  # a standing one: longer (hidden in a queue)
    recent_s: float = 0.5  # tracks seen this recently take part in stages 1 and 2
    min_score: float = 0.3  # stage 1 and births
    low_score: float = 0.1  # stage 2: kept tracks only, never births
    confirm_hits: int = 2
    lane_half_width_m: float = 1.6  # lost-track gate across its heading
    reappear_mps: float = 8.0  # how fast a lost queued vehicle may have moved on, hidden
    reappear_max_m: float = 40.0
    edge_px: float = 2.0  # a box this near the image border is leaving (or entering) the view
    edge_missed_s: float = 0.6  # a track lost at the border left the view: dropped soon
    unseen_growth_mps: float = 1.5  # a moving track's gate grows this fast while unseen
    small_px: float = 8.0  # a box narrower or lower than this is at the edge of what is detected
    newborn_mps: float = 20.0  # a track seen once has no velocity yet: its gate grows by this x dt


class GroundTracker:
    def __init__(
        self,
        camera: CameraSpec,
        *,
        gate_m: float = 4.0,
        max_missed_s: float = 2.0,
        min_score: float = 0.3,
        confirm_hits: int = 2,
        settings: TrackerSettings | None = None,
    ) -> None:
        self.camera = camera
        self.settings = settings or TrackerSettings(
            gate_m=gate_m, max_missed_s=max_missed_s, min_score=min_score, confirm_hits=confirm_hits
        )
        self.gate_m, self.max_missed_s = self.settings.gate_m, self.settings.max_missed_s
        self.min_score, self.confirm_hits = self.settings.min_score, self.settings.confirm_hits
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, detections: Detections, time_s: float) -> list[Track]:
        """Match one frame's detections; the tracks seen in this frame (confirmed ones only)."""
        s = self.settings
        ground, scale = cast_boxes(self.camera, detections.boxes)
        valid = np.isfinite(ground).all(axis=1) & (detections.scores >= s.low_score)
        order = [int(i) for i in np.argsort(-detections.scores, kind="stable") if valid[i]]
        high = [i for i in order if detections.scores[i] >= s.min_score]
        low = [i for i in order if detections.scores[i] < s.min_score]
        recent = [r for r, t in enumerate(self.tracks) if time_s - t.last_s <= s.recent_s + 1e-9]
        lost = [r for r, t in enumerate(self.tracks) if time_s - t.last_s > s.recent_s + 1e-9]
        used: set[int] = set()
        free_recent = self._stage(recent, high, ground, scale, time_s, detections, used, lost=False)
        self._stage(free_recent, low, ground, scale, time_s, detections, used, lost=False)
        left = [i for i in high if i not in used]
        self._stage(lost, left, ground, scale, time_s, detections, used, lost=True)
        for track in self.tracks:
            if track.last_s != time_s:
                track.missed += 1
        for i in high:
            if i not in used:
                self._birth(detections, i, ground[i], time_s)
        self.tracks = [t for t in self.tracks if time_s - t.last_s <= self._patience(t)]
        return [t for t in self.tracks if t.last_s == time_s and t.hits >= s.confirm_hits]

    def _stage(
        self,
        rows: list[int],
        dets: list[int],
        ground: F64,
        scale: PixelScale,
        time_s: float,
        detections: Detections,
        used: set[int],
        *,
        lost: bool,
    ) -> list[int]:
        """Match tracks ``rows`` to detections ``dets``; the rows left unmatched."""
        if not rows or not dets:
            return rows
        idx = np.array(dets)
        if not lost:
            cost = self._cost_matrix([self.tracks[r] for r in rows], ground[idx], scale, idx, time_s)
        else:
            cost = np.full((len(rows), len(dets)), NO_MATCH)
            for a, r in enumerate(rows):
                for b, i in enumerate(dets):
                    cost[a, b] = self._lost_cost(self.tracks[r], ground[i], scale, i, time_s)
        matched = set()
        for a, b in assign(cost, 1.0):
            i = dets[b]
            self._refresh(self.tracks[rows[a]], detections, i, ground[i], time_s)
            used.add(i)
            matched.add(rows[a])
        return [r for r in rows if r not in matched]

    def _costs(self, track: Track, xy: F64, scale: PixelScale, idx: NDArray[np.int64], time_s: float) -> F64:
        """Distances (one per detection ``idx``, ground points ``xy``) to the track's prediction
        over the gate (< 1 inside it), split along and across the line of sight; the gate widens
        while the track is unseen (by ``unseen_growth_mps``) and for a track seen once (no
        velocity yet)."""
        s = self.settings
        unseen = time_s - track.last_s
        grow = s.unseen_growth_mps * min(max(unseen - 0.25, 0.0), 2.0)
        young = s.newborn_mps * unseen if track.hits == 1 else 0.0
        d = np.asarray(xy, np.float64).reshape(-1, 2) - track.predicted(time_s)
        sight = scale.sight[idx]
        along = d[:, 0] * sight[:, 0] + d[:, 1] * sight[:, 1]
        across = d[:, 0] * sight[:, 1] - d[:, 1] * sight[:, 0]
        g_along = np.maximum(s.gate_m, s.pixel_tolerance * scale.along_m[idx]) + grow + young
        g_across = np.maximum(s.gate_m, s.pixel_tolerance * scale.across_m[idx]) + grow + young
        cost: F64 = np.hypot(along / g_along, across / g_across)
        return cost

    def _cost_matrix(
        self, tracks: list[Track], xy: F64, scale: PixelScale, idx: NDArray[np.int64], time_s: float
    ) -> F64:
        """:meth:`_costs` of every track (rows) at once: the same arithmetic element by element,
        so the same values as one track at a time."""
        s = self.settings
        grow = np.empty((len(tracks), 1))
        young = np.empty((len(tracks), 1))
        predicted = np.empty((len(tracks), 2))
        for a, track in enumerate(tracks):
            unseen = time_s - track.last_s
            grow[a, 0] = s.unseen_growth_mps * min(max(unseen - 0.25, 0.0), 2.0)
            young[a, 0] = s.newborn_mps * unseen if track.hits == 1 else 0.0
            predicted[a] = track.predicted(time_s)
        d = np.asarray(xy, np.float64).reshape(1, -1, 2) - predicted[:, None, :]
        sight = scale.sight[idx]
        along = d[:, :, 0] * sight[:, 0] + d[:, :, 1] * sight[:, 1]
        across = d[:, :, 0] * sight[:, 1] - d[:, :, 1] * sight[:, 0]
        g_along = np.maximum(s.gate_m, s.pixel_tolerance * scale.along_m[idx]) + grow + young
        g_across = np.maximum(s.gate_m, s.pixel_tolerance * scale.across_m[idx]) + grow + young
        cost: F64 = np.hypot(along / g_along, across / g_across)
        return cost

    def _cost(self, track: Track, xy: F64, scale: PixelScale, i: int, time_s: float) -> float:
        """:meth:`_costs` for one detection."""
        return float(self._costs(track, xy, scale, np.array([i]), time_s)[0])

    def _lost_cost(self, track: Track, xy: F64, scale: PixelScale, i: int, time_s: float) -> float:
        """A lost track against a new detection. Never more than a gate behind where it was last
        seen along its heading (vehicles do not reverse: a lost track does not take a vehicle
        coming the other way or out of the junction). Moving when lost: as :meth:`_cost`.
        Standing: the detection must lie in its lane (``lane_half_width_m`` across) and ahead of
        where it stopped up to the distance it could have moved while hidden; ahead costs less the
        nearer, so a hidden queue keeps its order."""
        s = self.settings
        h = track.heading
        if track.at_edge:
            return NO_MATCH
        if h is None:
            return self._cost(track, xy, scale, i, time_s) if not track.stood else NO_MATCH
        d = xy - track.xy
        along = float(d @ h)
        across = float(d @ np.array([h[1], -h[0]]))
        # metres per pixel in the track's direction (the line of sight's share of it)
        mpp = abs(float(h @ scale.sight[i])) * float(scale.along_m[i]) + float(scale.across_m[i])
        back = max(s.gate_m, s.pixel_tolerance * mpp)
        if along < -back:
            return NO_MATCH
        if not track.stood:
            return self._cost(track, xy, scale, i, time_s)
        ahead = max(back, min(s.reappear_mps * (time_s - track.last_s), s.reappear_max_m))
        side = max(s.lane_half_width_m, s.pixel_tolerance * float(scale.across_m[i]))
        if along > ahead or abs(across) > side:
            return NO_MATCH
        return 0.5 * float(np.hypot(max(along, 0.0) / ahead + max(-along, 0.0) / back, across / side))

    def _patience(self, track: Track) -> float:
        """How long an unseen track is kept: longer when it stood still (a queued vehicle hidden
        behind another is still there when it reappears)."""
        s = self.settings
        if track.at_edge:
            return min(s.edge_missed_s, s.max_missed_s)
        return s.standing_missed_s if track.stood else s.max_missed_s

    def _refresh(self, track: Track, d: Detections, i: int, xy: F64, time_s: float) -> None:
        dt = max(time_s - track.last_s, 1e-3)
        velocity = (xy - track.xy) / dt
        track.velocity = 0.6 * track.velocity + 0.4 * velocity if track.hits > 1 else velocity
        track.xy, track.box, track.cls, track.last_s = xy, d.boxes[i], int(d.classes[i]), time_s
        track.hits += 1
        track.missed = 0
        track.history.append((time_s, float(xy[0]), float(xy[1])))
        speed = float(np.hypot(*track.velocity))
        if speed >= HEADING_MPS:
            track.heading = track.velocity / speed
        track.stood = track.standing and track.hits >= 5
        track.at_edge = self._at_edge(d.boxes[i])

    def _at_edge(self, box: NDArray[np.float32]) -> bool:
        m, w, h = self.settings.edge_px, self.camera.image_width, self.camera.image_height
        small = min(box[2] - box[0], box[3] - box[1]) < self.settings.small_px
        return bool(box[0] <= m or box[2] >= w - m or box[3] >= h - m or small)

    def _birth(self, d: Detections, i: int, xy: F64, time_s: float) -> None:
        track = Track(self._next_id, int(d.classes[i]), d.boxes[i], xy.copy(), np.zeros(2), time_s)
        track.history.append((time_s, float(xy[0]), float(xy[1])))
        track.at_edge = self._at_edge(d.boxes[i])
        self._next_id += 1
        self.tracks.append(track)
