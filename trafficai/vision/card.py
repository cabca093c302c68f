"""Detection quality by band for the model card: recall and precision at IoU 0.5 per scenario, per
box height and per occlusion band, on one split of a rendered dataset (``frames.jsonl`` holds each
label's occlusion in label-file order)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from trafficai.vision.detect import Detector
from trafficai.vision.metrics import box_iou

HEIGHT_BANDS = ((0.0, 16.0, "h<16px"), (16.0, 48.0, "16-48px"), (48.0, 1e9, "h>=48px"))
OCCLUSION_BANDS = ((0.0, 0.1, "occl<0.1"), (0.1, 0.4, "occl 0.1-0.4"), (0.4, 1.01, "occl 0.4-0.7"))


def _labels(path: Path, width: int, height: int) -> np.ndarray:
    rows = [list(map(float, line.split())) for line in path.read_text().splitlines() if line.strip()]
    if not rows:
        return np.zeros((0, 4))
    a = np.array(rows)
    cx, cy, w, h = a[:, 1] * width, a[:, 2] * height, a[:, 3] * width, a[:, 4] * height
    return np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def _band(value: float, bands: tuple[tuple[float, float, str], ...]) -> str:
    return next(name for lo, hi, name in bands if lo <= value < hi)


def band_metrics(
    detector: Detector, dataset: Path, split: str = "test", limit: int | None = None
) -> dict[str, Any]:
    """Recall per band and precision per scenario of ``detector`` on ``split``."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # band -> [hit, total]
    precision: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # scenario -> [true positive, detections]
    records = [json.loads(line) for line in (dataset / "frames.jsonl").read_text().splitlines()]
    records = [r for r in records if r["split"] == split][:limit]
    for record in records:
        image = np.asarray(cv2.imread(str(dataset / record["image"])), np.uint8)
        h, w = image.shape[:2]
        label = record["image"].replace("images/", "labels/").rsplit(".", 1)[0] + ".txt"
        truth = _labels(dataset / label, w, h)
        detections = detector.detect(image)
        iou = box_iou(truth, detections.boxes)
        hit = iou.max(axis=1) >= 0.5 if iou.size else np.zeros(len(truth), bool)
        used = iou.max(axis=0) >= 0.5 if iou.size else np.zeros(len(detections), bool)
        scenario = record["scenario"]
        precision[scenario][0] += int(used.sum())
        precision[scenario][1] += len(detections)
        for k, box in enumerate(truth):
            for key in (
                f"scenario {scenario}",
                _band(float(box[3] - box[1]), HEIGHT_BANDS),
                _band(float(record["occlusion"][k]), OCCLUSION_BANDS),
            ):
                found[key][0] += int(hit[k])
                found[key][1] += 1
    return {
        "images": len(records),
        "recall": {
            k: {"recall": v[0] / v[1] if v[1] else None, "labels": v[1]} for k, v in sorted(found.items())
        },
        "precision": {k: v[0] / v[1] if v[1] else None for k, v in sorted(precision.items())},
    }


def card_metrics(
    weights: Path, data_yaml: Path, splits: tuple[str, ...], runtime: str = "openvino", imgsz: int = 320
) -> dict[str, Any]:
    """The model card's figures for ``weights``: ultralytics mAP50 / mAP50-95 and the band recalls
    (``runtime``'s detector at confidence 0.25) on each split."""
    from trafficai.vision.detect import open_detector
    from trafficai.vision.evaluate import detection_metrics

    detector = open_detector(weights, runtime)
    result: dict[str, Any] = {"weights": str(weights), "runtime": runtime, "splits": {}}
    for split in splits:
        result["splits"][split] = {
            **detection_metrics(weights, data_yaml, split=split, imgsz=imgsz),
            **band_metrics(detector, data_yaml.parent, split),
        }
    return result
