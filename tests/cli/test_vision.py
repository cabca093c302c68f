"""``trafficai vision ...``: user mistakes are one line naming the thing, exit 1."""

from __future__ import annotations

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
    ],
    ids=["missing weights", "unknown runtime", "missing dataset"],
)
def test_vision_mistakes_are_one_line(argv: list[str], needles: tuple[str, ...]) -> None:
    proc = trafficai(*argv)
    assert proc.returncode == 1
    assert_one_line_error(proc, *needles)
