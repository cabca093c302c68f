"""``vision watch``: detect -> track -> count on a video file the renderer writes, with a scripted
detector; image-line counting rules; a stream that drops is marked offline and reopened."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.vision.support import vehicles
from trafficai.config import WatchLine, WatchPose, WatchSection
from trafficai.core.geometry import NetGeometry
from trafficai.errors import ConfigError
from trafficai.sensors.cameras import CameraSpec, world_to_image
from trafficai.vision.dataset import labelled
from trafficai.vision.detect import Detections
from trafficai.vision.render import FrameTruth, Renderer
from trafficai.vision.video import VideoSource, write_video
from trafficai.vision.watch import ImageLineCounter, WatchPlan, load_watch_section, parse_line, watch

FPS = 5.0


class ScriptedDetector:
    """Returns the rendered frames' labelled truth boxes, one frame per call (checks the size)."""

    name = "scripted"

    def __init__(self, truths: list[FrameTruth], shape: tuple[int, int]) -> None:
        self.truths, self.shape, self.calls = truths, shape, 0

    def detect(self, image: np.ndarray) -> Detections:
        assert image.shape[:2] == self.shape
        truth = self.truths[self.calls % len(self.truths)]
        self.calls += 1
        keep = labelled(truth)
        return Detections(truth.boxes[keep], np.full(int(keep.sum()), 0.9, np.float32), truth.classes[keep])


def stop_line(camera: CameraSpec, y: float = 20.0) -> WatchLine:
    """An image segment across arm N at ground y (traffic drives south, towards the camera)."""
    (a, b), _ = world_to_image(camera, np.array([[-6.0, y], [6.0, y]]))
    return WatchLine(name="N", points=((float(a[0]), float(a[1])), (float(b[0]), float(b[1]))))


@pytest.fixture
def rendered(
    geometry: NetGeometry, north_camera: CameraSpec, tmp_path: Path
) -> tuple[Path, list[FrameTruth]]:
    """Two cars driving south through y = 20, 4 s apart, as an MJPG video (8 s at 5 frames/s)."""
    renderer = Renderer(north_camera, geometry)
    frames = []
    for k in range(40):
        t = k / FPS
        rows = [("a", 0.0, 45.0 - 8.0 * t, 180.0, 8.0), ("b", 0.0, 45.0 - 8.0 * (t - 4.0), 180.0, 8.0)]
        frames.append(renderer.render(vehicles([r for r in rows if -10.0 < r[2] < 70.0])))
    path = tmp_path / "cam.avi"
    assert write_video(path, (f.image for f in frames), FPS) == 40
    return path, [f.truth for f in frames]


def test_watch_counts_a_rendered_video_per_interval(
    north_camera: CameraSpec, rendered: tuple[Path, list[FrameTruth]]
) -> None:
    path, truths = rendered
    section = WatchSection(lines=(stop_line(north_camera),), interval_s=4.0)
    records: list[dict[str, object]] = []
    detector = ScriptedDetector(truths, (north_camera.image_height, north_camera.image_width))
    summary = watch(WatchPlan(str(path), section), lambda: VideoSource(str(path)), detector, records.append)
    intervals = [r for r in records if r["type"] == "interval"]
    assert summary.frames == 40 and detector.calls == 40
    assert [(r["start_s"], r["end_s"]) for r in intervals] == [(0.0, 4.0), (4.0, 7.8)]
    # a drives from y 45 at 8 m/s: passes y 20 at 3.1 s; b at 7.1 s; towards the camera, i.e.
    # down the image across a line drawn left to right: from its left to its right, "forward"
    counts = [r["counts"]["N"] for r in intervals]  # type: ignore[index]
    assert counts == [{"forward": 1, "backward": 0}, {"forward": 1, "backward": 0}]
    assert intervals[0]["by_class"] == {"N": {"car": 1}}
    assert intervals[0]["mean_speed_mps"] is None  # no pose: the nominal one is not metres
    assert summary.crossings == 2


def test_with_a_pose_watch_reports_speeds(
    north_camera: CameraSpec, rendered: tuple[Path, list[FrameTruth]]
) -> None:
    path, truths = rendered
    c = north_camera
    pose = WatchPose(x=c.x, y=c.y, height=c.height, heading=c.heading, tilt=c.tilt, fov=c.fov)
    section = WatchSection(camera=pose, lines=(stop_line(c),), interval_s=10.0)
    records: list[dict[str, object]] = []
    detector = ScriptedDetector(truths, (c.image_height, c.image_width))
    watch(WatchPlan(str(path), section), lambda: VideoSource(str(path)), detector, records.append)
    (only,) = records
    assert only["mean_speed_mps"] == pytest.approx(8.0, abs=0.6)


def test_image_line_rules_a_rocking_box_counts_once_or_never() -> None:
    counter = ImageLineCounter((WatchLine(name="L", points=((0.0, 100.0), (200.0, 100.0))),))
    rocking = [counter.observe(1, (50.0, 100.0 + dv)) for dv in (-1.5, 1.5, -1.0, 1.9, -1.9)]
    assert not any(rocking)  # never leaves the band
    back_and_forth = [counter.observe(2, (50.0, v)) for v in (90.0, 110.0, 90.0, 110.0)]
    assert [c for found in back_and_forth for c in found] == [("L", "forward")]
    assert counter.observe(3, (60.0, 120.0)) == [] and counter.observe(3, (60.0, 125.0)) == []  # born past it
    assert (
        counter.observe(4, (300.0, 90.0)) == [] and counter.observe(4, (300.0, 110.0)) == []
    )  # off the segment


class DroppingSource:
    """A stream that delivers ``n`` blank frames, then stops."""

    def __init__(self, n: int) -> None:
        self.n, self.online, self.reason = n, True, ""

    @property
    def fps(self) -> float:
        return FPS

    def read(self) -> np.ndarray | None:
        if self.n == 0:
            self.online, self.reason = False, "stream stopped"
            return None
        self.n -= 1
        return np.zeros((384, 640, 3), np.uint8)

    def close(self) -> None:
        pass


class EmptyDetector:
    name = "empty"

    def detect(self, image: np.ndarray) -> Detections:
        return Detections.empty()


def test_a_stream_that_drops_is_marked_offline_reopened_then_given_up(north_camera: CameraSpec) -> None:
    opened: Iterator[DroppingSource | None] = iter([DroppingSource(10), DroppingSource(5), None, None])

    def open_source() -> DroppingSource:
        source = next(opened)
        if source is None:
            raise ConfigError("cannot read video rtsp://cam (unreachable)")
        return source

    ticks = iter(np.arange(0.0, 100.0, 0.2))
    section = WatchSection(lines=(stop_line(north_camera),), interval_s=1.0)
    plan = WatchPlan("rtsp://cam", section, is_stream=True, retries=2, retry_wait_s=0.0)
    records: list[dict[str, object]] = []
    with pytest.raises(ConfigError, match="offline after 2 reconnect attempts"):
        watch(
            plan,
            open_source,
            EmptyDetector(),
            records.append,
            clock=lambda: float(next(ticks)),
            sleep=lambda _: None,
        )
    events = [r["type"] for r in records if r["type"] != "interval"]
    assert events == ["offline", "online", "offline"]
    first_offline = next(k for k, r in enumerate(records) if r["type"] == "offline")
    assert records[first_offline]["reason"] == "stream stopped"
    assert all(r["online"] for r in records[:first_offline] if r["type"] == "interval")
    last = records[-1]
    assert last["type"] == "interval" and last["online"] is False and "unreachable" in str(last["reason"])
    assert sum(int(r["frames"]) for r in records if r["type"] == "interval") == 15  # nothing lost


def test_watch_config_and_line_specs_are_validated(tmp_path: Path) -> None:
    good = tmp_path / "cam.yaml"
    good.write_text(
        "camera: {height: 9, tilt: 15, fov: 60}\nlines:\n  - {name: a, points: [[0, 1], [5, 1]]}\n"
    )
    section = load_watch_section(good)
    assert section.camera is not None and section.camera.height == 9 and section.lines[0].name == "a"
    bad = tmp_path / "bad.yaml"
    bad.write_text("lines: []\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: field 'lines'"):
        load_watch_section(bad)
    with pytest.raises(ConfigError, match="expected NAME:u1,v1,u2,v2"):
        parse_line("a:1,2,3")
    assert parse_line("in:0,10,100,10").points == ((0.0, 10.0), (100.0, 10.0))


@pytest.mark.slow  # loads torch and ultralytics in a subprocess (about 25 s on 2 busy cores)
def test_the_cli_writes_json_lines_for_a_rendered_video_with_the_shipped_model(
    north_camera: CameraSpec, rendered: tuple[Path, list[FrameTruth]], tmp_path: Path
) -> None:
    from tests.cli.support import trafficai

    path, _ = rendered
    (a, b) = stop_line(north_camera).points
    out = tmp_path / "counts.jsonl"
    spec = f"N:{a[0]:.1f},{a[1]:.1f},{b[0]:.1f},{b[1]:.1f}"
    proc = trafficai(
        "vision",
        "watch",
        str(path),
        "--runtime",
        "torch",
        "--line",
        spec,
        "--interval",
        "4",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["type"] for r in records] == ["interval", "interval"]
    assert sum(r["frames"] for r in records) == 40
    assert "40 frames" in proc.stderr
