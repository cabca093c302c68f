"""Real camera sources: video files and RTSP/HTTP streams (OpenCV), and writing rendered frames to a
video file (so the video path is tested on frames whose truth is known).

A source that cannot be opened is one :class:`~trafficai.errors.ConfigError` line; a stream that
stops delivering frames marks itself offline with the reason instead of raising, so the other
cameras and the simulation keep running.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from trafficai.errors import ConfigError

U8 = NDArray[np.uint8]
STREAM_PREFIXES = ("rtsp://", "rtsps://", "http://", "https://")


def write_video(path: Path, frames: Iterable[U8], fps: float) -> int:
    """Frames (BGR, all the same size) to an MJPG ``.avi``; the number written."""
    writer: cv2.VideoWriter | None = None
    written = 0
    try:
        for frame in frames:
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
                if not writer.isOpened():
                    raise ConfigError(f"cannot write video {path}")
            writer.write(frame)
            written += 1
    finally:
        if writer is not None:
            writer.release()
    return written


@dataclass(slots=True)
class VideoSource:
    """Frames of a video file or stream, with its online state."""

    uri: str
    online: bool = True
    reason: str = ""
    frames_read: int = 0
    _capture: cv2.VideoCapture = field(init=False)

    def __post_init__(self) -> None:
        is_stream = self.uri.startswith(STREAM_PREFIXES)
        if not is_stream and not Path(self.uri).is_file():
            raise ConfigError(f"video file not found: {self.uri}")
        self._capture = cv2.VideoCapture(self.uri)
        if not self._capture.isOpened():
            raise ConfigError(f"cannot read video {self.uri} (not a video OpenCV can decode, or unreachable)")

    @property
    def fps(self) -> float:
        value = float(self._capture.get(cv2.CAP_PROP_FPS))
        return value if value > 0 else 25.0

    def read(self) -> U8 | None:
        """The next frame, or None (and ``online`` False with the reason) when the source stops."""
        if not self.online:
            return None
        ok, frame = self._capture.read()
        if not ok or frame is None:
            self.online = False
            self.reason = "end of file" if not self.uri.startswith(STREAM_PREFIXES) else "stream stopped"
            if self.frames_read == 0:
                self.reason = "no frame could be decoded"
            return None
        self.frames_read += 1
        return np.asarray(frame, np.uint8)

    def __iter__(self) -> Iterator[U8]:
        while (frame := self.read()) is not None:
            yield frame

    def close(self) -> None:
        self._capture.release()
