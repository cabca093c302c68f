"""Video files: written from rendered frames, read back and run through the pipeline; bad input is
one line, and a source that stops is marked offline with the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.vision.support import vehicles
from trafficai.core.geometry import NetGeometry
from trafficai.errors import ConfigError
from trafficai.sensors.cameras import CameraSpec
from trafficai.vision.pipeline import CameraPipeline, TruthDetector
from trafficai.vision.render import Renderer
from trafficai.vision.video import VideoSource, write_video


def test_a_rendered_video_reads_back_frame_by_frame(
    geometry: NetGeometry, north_camera: CameraSpec, tmp_path: Path
) -> None:
    renderer = Renderer(north_camera, geometry)
    frames = [renderer.render(vehicles([("a", 0.0, 40.0 - 2.0 * k, 180.0, 10.0)])) for k in range(12)]
    path = tmp_path / "cam.avi"
    assert write_video(path, (f.image for f in frames), fps=5.0) == 12
    source = VideoSource(str(path))
    assert source.fps == pytest.approx(5.0)
    read = list(source)
    assert len(read) == 12 and read[0].shape == frames[0].image.shape
    assert np.abs(read[5].astype(int) - frames[5].image.astype(int)).mean() < 6  # MJPG is lossy
    assert (source.online, source.reason) == (False, "end of file")
    pipe = CameraPipeline(north_camera, geometry, TruthDetector())
    readings = [pipe.process(image, k * 0.2, frames[k].truth) for k, image in enumerate(read)]
    assert readings[-1].tracks and readings[-1].tracks[0].id == 1


def test_bad_video_input_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="video file not found"):
        VideoSource(str(tmp_path / "missing.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 64)
    try:
        source = VideoSource(str(junk))
    except ConfigError as exc:
        assert "cannot read video" in str(exc)
    else:  # some OpenCV builds open anything and fail on the first frame
        assert source.read() is None
        assert (source.online, source.reason) == (False, "no frame could be decoded")
