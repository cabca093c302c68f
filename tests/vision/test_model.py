"""The shipped detector works offline: it loads, finds vehicles in a rendered frame and plots its
result with every network connection refused; the exported ONNX Runtime and OpenVINO paths agree."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.vision.support import vehicles
from trafficai.cli.vision import SHIPPED_WEIGHTS
from trafficai.core.geometry import NetGeometry
from trafficai.errors import ConfigError
from trafficai.sensors.cameras import CameraSpec
from trafficai.vision.metrics import box_iou
from trafficai.vision.render import Frame, Renderer

pytest.importorskip("ultralytics")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("network access refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def frame(geometry: NetGeometry, north_camera: CameraSpec) -> Frame:
    scene = vehicles(
        [("a", 0.0, 16.0, 180.0, 5.0), ("b", 0.0, 26.0, 180.0, 5.0), ("c", 0.0, 36.0, 180.0, 5.0)]
    )
    return Renderer(north_camera, geometry).render(scene)


def _found(frame: Frame, boxes: np.ndarray) -> int:
    """Ground-truth vehicles matched by a detection at IoU >= 0.5."""
    iou = box_iou(frame.truth.boxes, boxes)
    return int((iou.max(axis=1) >= 0.5).sum()) if iou.size else 0


def test_the_shipped_model_finds_vehicles_offline_and_plots(offline: None, frame: Frame) -> None:
    from trafficai.vision.detect import UltralyticsDetector

    assert SHIPPED_WEIGHTS.is_file() and SHIPPED_WEIGHTS.stat().st_size < 10 * 2**20
    detector = UltralyticsDetector(SHIPPED_WEIGHTS, conf=0.1)
    found = detector.detect(frame.image)
    assert _found(frame, found.boxes) >= 1
    result = detector.model.predict(frame.image, imgsz=320, verbose=False)[0]
    plotted = result.plot()  # draws labels: the font must be local
    assert plotted.shape == frame.image.shape


def test_missing_or_corrupt_weights_are_one_line(tmp_path: Path) -> None:
    from trafficai.vision.detect import UltralyticsDetector

    with pytest.raises(ConfigError, match="weights file not found"):
        UltralyticsDetector(tmp_path / "nope.pt")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="cannot load weights"):
        UltralyticsDetector(broken)


@pytest.mark.slow
def test_onnx_runtime_and_openvino_agree_with_pytorch(
    offline: None, frame: Frame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openvino

    from trafficai.vision.detect import (
        OnnxRuntimeDetector,
        OpenVinoDetector,
        UltralyticsDetector,
        export_onnx,
    )

    def no_converter(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the OpenVINO converter (which carries telemetry) must not run")

    monkeypatch.setattr(openvino, "convert_model", no_converter, raising=False)
    onnx_file = export_onnx(SHIPPED_WEIGHTS, tmp_path)
    found = {
        "torch": UltralyticsDetector(SHIPPED_WEIGHTS, conf=0.1).detect(frame.image),
        "onnx": OnnxRuntimeDetector(onnx_file, conf=0.1).detect(frame.image),
        "openvino": OpenVinoDetector(onnx_file, conf=0.1).detect(frame.image),
    }
    counts = {name: _found(frame, d.boxes) for name, d in found.items()}
    assert counts["torch"] >= 1
    assert abs(counts["onnx"] - counts["torch"]) <= 1 and abs(counts["openvino"] - counts["onnx"]) <= 1
