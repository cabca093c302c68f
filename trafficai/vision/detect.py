"""Vehicle detectors behind one Protocol: ultralytics (PyTorch) on a ``.pt`` file, and ONNX Runtime
or OpenVINO on the ONNX export of it (same pre- and post-processing in numpy for both).

Weights trained on other data are accepted when their class names include vehicles: COCO's car,
motorcycle, bus and truck map to ours; anything else is dropped. Weights without any vehicle class,
a corrupt file or a missing one give one :class:`~trafficai.errors.ConfigError` line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from trafficai.errors import ConfigError
from trafficai.vision.offline import local_weights, prepare_offline, settings_off, ultralytics_dir
from trafficai.vision.scene import CLASS_NAMES

F32 = NDArray[np.float32]
U8 = NDArray[np.uint8]
# a foreign model's class name -> our class (COCO: 2 car, 3 motorcycle, 5 bus, 7 truck)
FOREIGN_NAMES = {"car": 0, "van": 1, "truck": 2, "bus": 3, "motorcycle": 4, "motorbike": 4}
EXPORT_HW = (192, 320)  # ONNX input (height, width): a 640x384 frame at half size


@dataclass(frozen=True, slots=True)
class Detections:
    boxes: F32  # (n, 4) x1, y1, x2, y2 in the frame's pixels
    scores: F32
    classes: NDArray[np.int64]  # our classes (scene.CLASS_NAMES)

    def __len__(self) -> int:
        return len(self.scores)

    @staticmethod
    def empty() -> Detections:
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))


class Detector(Protocol):
    name: str

    def detect(self, image: U8) -> Detections: ...


def class_map(names: Mapping[int, str]) -> dict[int, int]:
    """Model class index -> our class; ConfigError when the model knows no vehicle class."""
    ours = {i: FOREIGN_NAMES[n.lower()] for i, n in names.items() if n.lower() in FOREIGN_NAMES}
    if not ours:
        listed = ", ".join(list(names.values())[:8])
        raise ConfigError(
            f"the weights' classes ({listed} ...) include no vehicle class (car, bus, truck, motorcycle)"
        )
    return ours


def _remap(boxes: F32, scores: F32, classes: NDArray[np.int64], mapping: dict[int, int]) -> Detections:
    keep = np.array([int(c) in mapping for c in classes], bool)
    ours = np.array([mapping[int(c)] for c in classes[keep]], np.int64)
    return Detections(boxes[keep].astype(np.float32), scores[keep].astype(np.float32), ours)


class UltralyticsDetector:
    """The PyTorch path: ``ultralytics.YOLO`` on a local ``.pt`` file."""

    name = "torch"

    def __init__(
        self, weights: str | Path, imgsz: int = EXPORT_HW[1], conf: float = 0.25, iou: float = 0.5
    ) -> None:
        path = local_weights(weights)
        prepare_offline()
        try:
            from ultralytics import YOLO  # type: ignore[attr-defined]

            settings_off()
            self.model: Any = YOLO(str(path), task="detect")
            names = dict(self.model.names)
        except Exception as exc:  # a corrupt or foreign file fails in many ways inside torch
            raise ConfigError(
                f"cannot load weights {path}: {type(exc).__name__}: {exc}".splitlines()[0]
            ) from exc
        self.mapping = class_map(names)
        self.imgsz, self.conf, self.iou = imgsz, conf, iou

    def detect(self, image: U8) -> Detections:
        result = self.model.predict(
            image, imgsz=self.imgsz, conf=self.conf, iou=self.iou, verbose=False, device="cpu"
        )[0]
        boxes = result.boxes
        return _remap(
            boxes.xyxy.cpu().numpy(),
            boxes.conf.cpu().numpy(),
            boxes.cls.cpu().numpy().astype(np.int64),
            self.mapping,
        )


def export_onnx(weights: str | Path, out_dir: Path | None = None) -> Path:
    """The ONNX export of a ``.pt`` file (cached by content hash; exported offline once)."""
    path = local_weights(weights)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    folder = out_dir or ultralytics_dir() / "exports"
    target = folder / f"{path.stem}-{digest}-{EXPORT_HW[0]}x{EXPORT_HW[1]}.onnx"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    prepare_offline()
    from ultralytics import YOLO  # type: ignore[attr-defined]

    settings_off()
    try:
        exported = YOLO(str(path), task="detect").export(
            format="onnx", imgsz=list(EXPORT_HW), simplify=True, dynamic=False
        )
    except Exception as exc:
        raise ConfigError(
            f"cannot export {path} to ONNX: {type(exc).__name__}: {exc}".splitlines()[0]
        ) from exc
    Path(exported).replace(target)
    return target


def letterbox(image: U8, hw: tuple[int, int]) -> tuple[F32, float, tuple[float, float]]:
    """The image resized into ``hw`` keeping its aspect, padded grey, as a (1, 3, h, w) RGB tensor;
    the scale and the padding to undo on boxes."""
    h, w = image.shape[:2]
    scale = min(hw[0] / h, hw[1] / w)
    nh, nw = round(h * scale), round(w * scale)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nh, nw) != (h, w) else image
    top, left = (hw[0] - nh) / 2, (hw[1] - nw) / 2
    canvas = np.full((hw[0], hw[1], 3), 114, np.uint8)
    canvas[
        round(top - 0.1) : round(top - 0.1) + nh,
        round(left - 0.1) : round(left - 0.1) + nw,
    ] = resized
    tensor = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(tensor), scale, (left, top)


def decode(
    output: F32, scale: float, pad: tuple[float, float], conf: float, iou: float
) -> tuple[F32, F32, NDArray[np.int64]]:
    """YOLO's raw (1, 4 + classes, anchors) output to boxes, scores and classes after NMS."""
    rows = output[0].T
    scores_all = rows[:, 4:]
    classes = scores_all.argmax(axis=1)
    scores = scores_all[np.arange(len(rows)), classes]
    keep = scores >= conf
    rows, scores, classes = rows[keep], scores[keep], classes[keep]
    cx, cy, bw, bh = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    boxes = np.column_stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2])
    boxes = (boxes - np.array([pad[0], pad[1], pad[0], pad[1]])) / scale
    if len(boxes) == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])
    picked = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.tolist(), classes.tolist(), conf, iou)
    index = np.asarray(picked, np.int64).reshape(-1)
    return boxes[index].astype(np.float32), scores[index].astype(np.float32), classes[index].astype(np.int64)


def _onnx_names(path: Path) -> dict[int, str]:
    import onnx

    try:
        meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    except Exception as exc:
        raise ConfigError(f"cannot read ONNX file {path}: {type(exc).__name__}") from exc
    raw = meta.get("names")
    if raw is None:
        return dict(enumerate(CLASS_NAMES))
    import ast

    parsed = ast.literal_eval(raw) if raw.startswith("{") else json.loads(raw)
    return {int(k): str(v) for k, v in parsed.items()}


class OnnxRuntimeDetector:
    name = "onnx"

    def __init__(self, onnx_path: str | Path, conf: float = 0.25, iou: float = 0.5, threads: int = 2) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]

        path = local_weights(onnx_path)
        self.mapping = class_map(_onnx_names(path))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ConfigError(f"cannot load ONNX model {path}: {type(exc).__name__}") from exc
        self.input = self.session.get_inputs()[0].name
        shape = self.session.get_inputs()[0].shape
        self.hw = (int(shape[2]), int(shape[3]))
        self.conf, self.iou = conf, iou

    def detect(self, image: U8) -> Detections:
        tensor, scale, pad = letterbox(image, self.hw)
        output = self.session.run(None, {self.input: tensor})[0]
        return _remap(*decode(output, scale, pad, self.conf, self.iou), self.mapping)


class OpenVinoDetector:
    """OpenVINO Runtime reading the ONNX file directly (no converter, so no telemetry)."""

    name = "openvino"

    def __init__(self, onnx_path: str | Path, conf: float = 0.25, iou: float = 0.5, threads: int = 2) -> None:
        import openvino as ov  # type: ignore[import-untyped]

        path = local_weights(onnx_path)
        self.mapping = class_map(_onnx_names(path))
        core = ov.Core()
        try:
            model = core.read_model(str(path))
            self.compiled = core.compile_model(
                model, "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
            )
        except Exception as exc:
            raise ConfigError(f"cannot load {path} with OpenVINO: {type(exc).__name__}") from exc
        shape = model.inputs[0].get_shape()
        self.hw = (int(shape[2]), int(shape[3]))
        self.request = self.compiled.create_infer_request()
        self.conf, self.iou = conf, iou

    def detect(self, image: U8) -> Detections:
        tensor, scale, pad = letterbox(image, self.hw)
        self.request.infer({0: tensor})
        output = self.request.get_output_tensor(0).data
        return _remap(*decode(np.asarray(output), scale, pad, self.conf, self.iou), self.mapping)


RUNTIMES = ("torch", "onnx", "openvino")


def open_detector(weights: str | Path, runtime: str = "torch", conf: float = 0.25) -> Detector:
    """A detector on ``weights`` (a .pt file; the ONNX runtimes export it once, offline)."""
    if runtime == "torch":
        return UltralyticsDetector(weights, conf=conf)
    path = Path(weights)
    onnx_path = path if path.suffix == ".onnx" else export_onnx(path)
    if runtime == "onnx":
        return OnnxRuntimeDetector(onnx_path, conf=conf)
    if runtime == "openvino":
        return OpenVinoDetector(onnx_path, conf=conf)
    raise ConfigError(f"unknown runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")
