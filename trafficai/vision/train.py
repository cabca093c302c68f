"""Training the vehicle detector: an ultralytics YOLO nano built from its YAML (no pretrained
weights, nothing downloaded), on the rendered dataset, on CPU unless told otherwise."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafficai.errors import ConfigError
from trafficai.vision.offline import prepare_offline, settings_off

MODEL_YAML = "yolo11n.yaml"  # resolved inside the ultralytics package (cfg/models/11), never fetched
WEIGHTS_NAME = "vehicles-yolo11n.pt"


@dataclass(frozen=True, slots=True)
class TrainPlan:
    data: Path  # the dataset's data.yaml
    out: Path  # the folder the weights and the ultralytics run go to
    epochs: int = 10
    imgsz: int = 320
    batch: int = 16
    seed: int = 0
    device: str = "cpu"
    threads: int = 2
    close_mosaic: int = 2


@dataclass(frozen=True, slots=True)
class TrainResult:
    weights: Path
    wall_s: float
    epochs: int
    metrics: dict[str, float]


def _quiet_yolo(model: str) -> Any:
    prepare_offline()
    from ultralytics import YOLO  # type: ignore[attr-defined]

    settings_off()
    return YOLO(model)


def train_model(plan: TrainPlan) -> TrainResult:
    if not plan.data.is_file():
        raise ConfigError(f"dataset not found: {plan.data} (make one with 'trafficai vision dataset')")
    import torch

    torch.set_num_threads(plan.threads)
    model = _quiet_yolo(MODEL_YAML)
    started = time.perf_counter()
    run = plan.out / "run"
    model.train(
        data=str(plan.data),
        epochs=plan.epochs,
        imgsz=plan.imgsz,
        batch=plan.batch,
        workers=0,
        device=plan.device,
        seed=plan.seed,
        deterministic=True,
        plots=False,
        amp=plan.device != "cpu",
        close_mosaic=plan.close_mosaic,
        project=str(run.parent),
        name=run.name,
        exist_ok=True,
        verbose=False,
        pretrained=False,
    )
    wall = time.perf_counter() - started
    best = run / "weights" / "best.pt"
    if not best.is_file():
        best = run / "weights" / "last.pt"
    weights = plan.out / WEIGHTS_NAME
    shutil.copyfile(best, weights)
    metrics = getattr(getattr(model, "trainer", None), "metrics", {}) or {}
    return TrainResult(weights, wall, plan.epochs, {k: float(v) for k, v in metrics.items()})
