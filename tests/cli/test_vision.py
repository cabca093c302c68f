"""``trafficai vision ...``: user mistakes are one line naming the thing, exit 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.cli.support import assert_one_line_error, trafficai

pytest.importorskip("ultralytics")


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (
            ["vision", "eval", "--weights", "/nope.pt", "--runtime", "torch"],
            ("weights file not found", "/nope.pt"),
        ),
        (["vision", "eval", "--runtime", "bogus"], ("--runtime", "bogus")),
        (["vision", "train", "--data", "/nope.yaml"], ("dataset not found", "/nope.yaml")),
        (["vision", "card", "--data", "/nope.yaml"], ("dataset not found", "/nope.yaml")),
        (["vision", "card", "--data", "/nope.yaml", "--splits", "test,bogus"], ("--splits", "bogus")),
    ],
    ids=["missing weights", "unknown runtime", "missing dataset", "card dataset", "card split"],
)
def test_vision_mistakes_are_one_line(argv: list[str], needles: tuple[str, ...]) -> None:
    proc = trafficai(*argv)
    assert proc.returncode == 1
    assert_one_line_error(proc, *needles)


def _black_video(path: Path) -> Path:
    from trafficai.vision.video import write_video

    write_video(path, [np.zeros((96, 160, 3), np.uint8)] * 5, 5.0)
    return path


def test_watch_mistakes_are_one_line(tmp_path: Path) -> None:
    video = _black_video(tmp_path / "black.avi")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(bytes(range(256)))
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video")
    cases = [
        (
            ["vision", "watch", str(tmp_path / "nope.mp4"), "--line", "a:0,50,160,50"],
            ("video file not found",),
        ),
        (["vision", "watch", str(not_video), "--line", "a:0,50,160,50"], ("cannot read video", "notes.mp4")),
        (["vision", "watch", str(video)], ("give a counting line",)),
        (["vision", "watch", str(video), "--line", "a:0,50"], ("--line", "NAME:u1,v1,u2,v2")),
        (
            [
                "vision",
                "watch",
                str(video),
                "--line",
                "a:0,50,160,50",
                "--weights",
                str(junk),
                "--runtime",
                "torch",
            ],
            ("cannot load weights", "junk.pt"),
        ),
    ]
    for argv, needles in cases:
        assert_one_line_error(trafficai(*argv), *needles)


def test_train_mistakes_are_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("names: {}\n", encoding="utf-8")
    cases = [
        (["--time-hours", "0"], ("--time-hours", "0")),
        (["--init", str(tmp_path / "nope.pt")], ("--init", "nope.pt")),
    ]
    for extra, needles in cases:
        proc = trafficai("vision", "train", "--data", str(data), *extra)
        assert proc.returncode == 1
        assert_one_line_error(proc, *needles)
