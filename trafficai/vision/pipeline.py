"""One camera's perception: detect, track on the ground plane, count crossings, measure queues and
speeds. Detector-agnostic (anything with ``detect(image) -> Detections``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from trafficai.core.geometry import NetGeometry
from trafficai.sensors.camera_counts import CameraCounts
from trafficai.sensors.cameras import CameraSpec
from trafficai.vision.counting import (
    CountLine,
    Crossing,
    LaneStats,
    LineCounter,
    camera_lines,
    lane_stats,
    queue_lengths,
    zone_occupancy,
)
from trafficai.vision.dataset import labelled
from trafficai.vision.detect import Detections, Detector
from trafficai.vision.render import FrameTruth
from trafficai.vision.scene import SHAPES
from trafficai.vision.tracking import GroundTracker, Track

U8 = NDArray[np.uint8]


class TruthDetector:
    """A detector that returns the frame's labelled ground-truth boxes: measures tracking and
    counting alone, and stands in for a model in tests."""

    name = "truth"

    def __init__(self) -> None:
        self.truth: FrameTruth | None = None

    def feed(self, truth: FrameTruth) -> None:
        self.truth = truth

    def detect(self, image: U8) -> Detections:
        if self.truth is None:
            return Detections.empty()
        keep = labelled(self.truth)
        return Detections(
            self.truth.boxes[keep], np.ones(int(keep.sum()), np.float32), self.truth.classes[keep]
        )


@dataclass(frozen=True, slots=True)
class CameraReading:
    """What one camera measured in one frame."""

    camera: str
    time_s: float
    tracks: tuple[Track, ...]
    crossings: tuple[Crossing, ...]
    queues_m: dict[tuple[str, int], float]
    occupancy: dict[str, int]
    # per SUMO lane id of the count lines: tracked vehicles in the zone before the stop line
    lanes: dict[str, LaneStats] = field(default_factory=dict)

    def as_sensor(self) -> CameraCounts:
        """The reading as the sensors layer carries it (counts, queues per lane, occupancy)."""
        crossings: dict[str, int] = dict.fromkeys(self.occupancy, 0)
        for c in self.crossings:
            crossings[c.line] = crossings.get(c.line, 0) + 1
        lanes: dict[str, dict[int, float]] = {}
        for (line, lane), metres in self.queues_m.items():
            lanes.setdefault(line, {})[lane] = metres
        queues = {line: tuple(v for _, v in sorted(per.items())) for line, per in lanes.items()}
        return CameraCounts(
            self.camera,
            self.time_s,
            crossings=crossings,
            queue_m=queues,
            occupancy=dict(self.occupancy),
            lane_vehicles={lane: s.vehicles for lane, s in self.lanes.items()},
            lane_halting={lane: s.halting for lane, s in self.lanes.items()},
            lane_speed_mps={
                lane: s.mean_speed_mps for lane, s in self.lanes.items() if s.mean_speed_mps is not None
            },
        )


@dataclass(slots=True)
class CameraPipeline:
    camera: CameraSpec
    geometry: NetGeometry
    detector: Detector
    lines: tuple[CountLine, ...] = ()
    tracker: GroundTracker = field(init=False)
    counter: LineCounter = field(init=False)

    def __post_init__(self) -> None:
        if not self.lines:
            self.lines = camera_lines(self.geometry, self.camera)
        self.tracker = GroundTracker(self.camera)
        self.counter = LineCounter(self.lines)

    def process(self, image: U8, time_s: float, truth: FrameTruth | None = None) -> CameraReading:
        if truth is not None and isinstance(self.detector, TruthDetector):
            self.detector.feed(truth)
        detections = self.detector.detect(image)
        tracks = self.tracker.update(detections, time_s)
        crossings: list[Crossing] = []
        for track in tracks:
            crossings += self.counter.observe(track.id, time_s, track.xy)
        xy = np.array([t.xy for t in tracks]).reshape(-1, 2)
        speeds = np.array([_speed(t) for t in tracks])
        lengths = np.array([SHAPES[t.cls].length for t in tracks])
        queues = queue_lengths(self.lines, xy, speeds, lengths)
        occupancy = zone_occupancy(self.lines, xy)
        ids = self.geometry.lanes.ids
        lanes = {
            ids[line.lanes[k]]: stats
            for line in self.lines
            for (name, k), stats in lane_stats((line,), xy, speeds).items()
            if name == line.name
        }
        if int(time_s * 10) % 300 == 0:
            self.counter.forget_before(time_s - 30.0)
        return CameraReading(
            self.camera.id, time_s, tuple(tracks), tuple(crossings), queues, occupancy, lanes
        )


def _speed(track: Track) -> float:
    speed = track.speed()
    return float(np.hypot(*track.velocity)) if speed is None else speed
