"""``trafficai vision watch SOURCE``: detect -> track -> count on a real video file or stream.

Frames come from :class:`~trafficai.vision.video.VideoSource` (any OpenCV source: a file, RTSP or
HTTP); the detector is any :class:`~trafficai.vision.detect.Detector` (user weights: COCO car,
motorcycle, bus and truck map to our classes). Tracks live on the ground plane of the camera's
pose (:class:`~trafficai.vision.tracking.GroundTracker`); without a pose a nominal one is used (a
pole 8 m up, tilted so the whole image is below the horizon): the tracker still works on it, but
distances and speeds are not metres, so no speed is reported.

Counting lines are image segments (pixels): a track's box bottom-centre crossing one, beyond a
small band (a box rocking on the line never counts), counts once per track and line, as
``forward`` (from the left of a->b to its right, as seen in the image) or ``backward``. A track
first seen on one side and never on the other never counts.

Every ``interval_s`` of video time (files: frame index / frame rate; streams: wall time) one
record is emitted with the counts per line and direction, per class, and (with a pose) the mean
speed of the tracks that crossed. A stream that stops is reported offline with the reason and
reopened up to ``retries`` times; a file ends at its last frame.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml  # type: ignore[import-untyped]
from numpy.typing import NDArray
from pydantic import ValidationError

from trafficai.config import WatchLine, WatchPose, WatchSection, format_validation_error
from trafficai.errors import ConfigError
from trafficai.sensors.cameras import CameraSpec
from trafficai.vision.detect import Detector
from trafficai.vision.scene import CLASS_NAMES
from trafficai.vision.tracking import GroundTracker, Track

log = logging.getLogger(__name__)
U8 = NDArray[np.uint8]
Sink = Callable[[dict[str, Any]], None]


class FrameSource(Protocol):
    online: bool
    reason: str

    @property
    def fps(self) -> float: ...

    def read(self) -> U8 | None: ...

    def close(self) -> None: ...


def load_watch_section(path: Path) -> WatchSection:
    """A ``vision watch`` YAML file, validated (one ConfigError line when it is wrong)."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from exc
    try:
        return WatchSection.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path))) from exc


def parse_line(spec: str) -> WatchLine:
    """``NAME:u1,v1,u2,v2`` (pixels) as a counting line."""
    name, _, rest = spec.partition(":")
    try:
        u1, v1, u2, v2 = (float(v) for v in rest.split(","))
    except ValueError as exc:
        raise ConfigError(f"--line {spec!r}: expected NAME:u1,v1,u2,v2 (pixels)") from exc
    if not name or (u1, v1) == (u2, v2):
        raise ConfigError(f"--line {spec!r}: a name and two different points are needed")
    return WatchLine(name=name, points=((u1, v1), (u2, v2)))


def watch_camera(pose: WatchPose | None, width: int, height: int, fps: float) -> CameraSpec:
    """The camera of the video: the given pose, or a nominal one whose whole image sees ground."""
    if pose is not None:
        return CameraSpec(
            "watch", "", pose.x, pose.y, pose.height, pose.heading, pose.tilt, pose.fov,
            width, height, fps, pose.range_m,
        )  # fmt: skip
    fov = 60.0
    focal = width / 2.0 / math.tan(math.radians(fov / 2.0))
    half_vertical = math.degrees(math.atan(height / 2.0 / focal))
    return CameraSpec("watch", "", 0.0, 0.0, 8.0, 0.0, half_vertical + 8.0, fov, width, height, fps, 1e4)


@dataclass(slots=True)
class ImageLineCounter:
    """Crossings of image segments by box bottom-centres, once per track and line."""

    lines: tuple[WatchLine, ...]
    band_px: float = 2.0
    _side: dict[tuple[int, str], int] = field(default_factory=dict)
    _done: set[tuple[int, str]] = field(default_factory=set)

    def observe(self, track_id: int, uv: tuple[float, float]) -> list[tuple[str, str]]:
        """The (line, direction) crossings this observation completes."""
        found = []
        for line in self.lines:
            (ax, ay), (bx, by) = line.points
            dx, dy = bx - ax, by - ay
            length = math.hypot(dx, dy)
            px, py = uv[0] - ax, uv[1] - ay
            along = (px * dx + py * dy) / (length * length)
            offset = (dx * py - dy * px) / length  # > 0: right of a->b in the image
            if not -0.05 <= along <= 1.05 or abs(offset) <= self.band_px:
                continue
            key = (track_id, line.name)
            side = 1 if offset > 0 else -1
            previous = self._side.get(key)
            self._side[key] = side
            if previous is not None and previous != side and key not in self._done:
                self._done.add(key)
                found.append((line.name, "forward" if side > 0 else "backward"))
        return found

    def forget(self, alive: set[int]) -> None:
        """Drop the state of tracks no longer alive (a long stream keeps memory bounded)."""
        self._side = {k: v for k, v in self._side.items() if k[0] in alive}
        self._done = {k for k in self._done if k[0] in alive}


@dataclass(slots=True)
class _Interval:
    start_s: float
    lines: tuple[str, ...]
    frames: int = 0
    tracks: set[int] = field(default_factory=set)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    classes: dict[str, dict[str, int]] = field(default_factory=dict)
    speeds: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.counts = {n: {"forward": 0, "backward": 0} for n in self.lines}
        self.classes = {n: defaultdict(int) for n in self.lines}

    def record(self, source: str, end_s: float, online: bool, reason: str, posed: bool) -> dict[str, Any]:
        return {
            "type": "interval",
            "source": source,
            "start_s": round(self.start_s, 3),
            "end_s": round(end_s, 3),
            "frames": self.frames,
            "online": online,
            "reason": reason,
            "tracks": len(self.tracks),
            "counts": self.counts,
            "by_class": {n: dict(c) for n, c in self.classes.items()},
            "mean_speed_mps": float(np.mean(self.speeds)) if posed and self.speeds else None,
        }


@dataclass(frozen=True, slots=True)
class WatchPlan:
    source: str
    section: WatchSection
    is_stream: bool = False
    max_frames: int | None = None
    retries: int = 3
    retry_wait_s: float = 2.0


@dataclass(slots=True)
class WatchSummary:
    frames: int = 0
    intervals: int = 0
    crossings: int = 0
    reconnects: int = 0


@dataclass(slots=True)
class _Run:
    plan: WatchPlan
    detector: Detector
    sink: Sink
    clock: Callable[[], float]
    tracker: GroundTracker | None = None
    counter: ImageLineCounter = field(init=False)
    interval: _Interval = field(init=False)
    summary: WatchSummary = field(default_factory=WatchSummary)
    t0: float = 0.0
    now_s: float = 0.0

    def __post_init__(self) -> None:
        lines = self.plan.section.lines
        self.counter = ImageLineCounter(lines)
        self.interval = _Interval(0.0, tuple(line.name for line in lines))
        self.t0 = self.clock()

    def frame(self, image: U8, fps: float) -> None:
        if self.tracker is None:
            h, w = image.shape[:2]
            self.tracker = GroundTracker(watch_camera(self.plan.section.camera, w, h, fps))
        t = self.clock() - self.t0 if self.plan.is_stream else self.summary.frames / fps
        self.now_s = t
        self._roll(t)
        tracks = self.tracker.update(self.detector.detect(image), t)
        self.interval.frames += 1
        self.summary.frames += 1
        for track in tracks:
            self._count(track)
        if self.summary.frames % 500 == 0:
            self.counter.forget({tr.id for tr in self.tracker.tracks})

    def _count(self, track: Track) -> None:
        self.interval.tracks.add(track.id)
        box = track.box
        uv = (float(box[0] + box[2]) / 2.0, float(box[3]))
        for line, direction in self.counter.observe(track.id, uv):
            self.interval.counts[line][direction] += 1
            self.interval.classes[line][CLASS_NAMES[track.cls]] += 1
            self.summary.crossings += 1
            speed = track.speed()
            if speed is not None:
                self.interval.speeds.append(speed)

    def _roll(self, t: float) -> None:
        step = self.plan.section.interval_s
        while t >= self.interval.start_s + step:
            self.flush(self.interval.start_s + step, True, "")
            self.interval = _Interval(self.interval.start_s + step, self.interval.lines)

    def flush(self, end_s: float, online: bool, reason: str) -> None:
        posed = self.plan.section.camera is not None
        self.sink(self.interval.record(self.plan.source, end_s, online, reason, posed))
        self.summary.intervals += 1


def watch(
    plan: WatchPlan,
    open_source: Callable[[], FrameSource],
    detector: Detector,
    sink: Sink,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WatchSummary:
    """Run the source to its end (a file), or until ``max_frames`` or the retries are spent (a
    stream); one record per interval to ``sink``, plus ``offline`` / ``online`` events."""
    run = _Run(plan, detector, sink, clock)
    source = open_source()
    try:
        while plan.max_frames is None or run.summary.frames < plan.max_frames:
            image = source.read()
            if image is not None:
                run.frame(image, source.fps)
                continue
            if not plan.is_stream:
                break
            source.close()
            source = _reconnect(plan, open_source, source.reason, run, sleep)
            run.summary.reconnects += 1
    finally:
        source.close()
    run.flush(run.now_s if run.summary.frames else 0.0, source.online, source.reason)
    return run.summary


def _reconnect(
    plan: WatchPlan,
    open_source: Callable[[], FrameSource],
    reason: str,
    run: _Run,
    sleep: Callable[[float], None],
) -> FrameSource:
    """Reopen a stream that stopped; ConfigError once ``retries`` attempts failed."""
    run.sink({"type": "offline", "source": plan.source, "time_s": round(run.now_s, 3), "reason": reason})
    log.warning("%s offline: %s", plan.source, reason)
    for attempt in range(1, plan.retries + 1):
        sleep(plan.retry_wait_s)
        try:
            source = open_source()
        except ConfigError as exc:
            reason = str(exc)
            log.warning("%s: reconnect %d/%d failed: %s", plan.source, attempt, plan.retries, reason)
            continue
        run.sink({"type": "online", "source": plan.source, "time_s": round(run.now_s, 3)})
        return source
    run.flush(run.now_s, False, reason)
    raise ConfigError(f"{plan.source}: offline after {plan.retries} reconnect attempts ({reason})")
