"""Training the vehicle detector: an ultralytics YOLO nano built from its YAML (no pretrained
weights, nothing downloaded), on the rendered dataset, on CPU unless told otherwise.

``init`` continues from weights of our own (e.g. the shipped detector, itself trained from the YAML
here); ``time_hours`` bounds the run by wall time, and ultralytics then re-estimates the number of
epochs after each one and schedules the learning rate over that budget."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafficai.errors import ConfigError
from trafficai.vision.offline import prepare_offline, settings_off
from trafficai.vision.scene import CLASS_NAMES

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
    time_hours: float | None = None  # wall-time budget: overrides ``epochs``
    init: Path | None = None  # weights to continue from (same classes); None: from the YAML
    warmup_epochs: float = 3.0  # ultralytics' default; a continued run needs less
    nbs: int = 64  # nominal batch: gradients accumulate to it (ultralytics' default 64)


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


def check_plan(plan: TrainPlan) -> None:
    """One clear error for a plan that cannot run (before anything heavy is imported)."""
    if not plan.data.is_file():
        raise ConfigError(f"dataset not found: {plan.data} (make one with 'trafficai vision dataset')")
    if plan.time_hours is not None and not 0 < plan.time_hours <= 72:
        raise ConfigError(f"--time-hours: {plan.time_hours:g} is not in (0, 72]")
    if plan.warmup_epochs < 0:
        raise ConfigError(f"--warmup-epochs: {plan.warmup_epochs:g} is negative")
    if plan.nbs < plan.batch:
        raise ConfigError(f"--nbs: {plan.nbs} is below --batch {plan.batch}")
    if plan.epochs < 1:
        raise ConfigError(f"--epochs: {plan.epochs} is not a positive number")
    if plan.init is not None and not plan.init.is_file():
        raise ConfigError(f"--init: weights file not found: {plan.init}")


def _start_model(plan: TrainPlan) -> Any:
    if plan.init is None:
        return _quiet_yolo(MODEL_YAML)
    try:
        model = _quiet_yolo(str(plan.init))
    except Exception as exc:  # ultralytics raises many kinds on a bad file
        raise ConfigError(f"--init: cannot load weights {plan.init}: {exc}") from exc
    names = list(dict(getattr(model, "names", {}) or {}).values())
    if names != list(CLASS_NAMES):
        raise ConfigError(f"--init: {plan.init} has classes {names}, not {list(CLASS_NAMES)}")
    return model


def epochs_run(run: Path) -> int:
    """Epochs the run completed (rows of ultralytics' results.csv)."""
    results = run / "results.csv"
    if not results.is_file():
        return 0
    return max(0, len(results.read_text(encoding="utf-8").strip().splitlines()) - 1)


def train_model(plan: TrainPlan) -> TrainResult:
    check_plan(plan)
    import torch

    torch.set_num_threads(plan.threads)
    model = _start_model(plan)
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
        warmup_epochs=plan.warmup_epochs,
        nbs=plan.nbs,
        project=str(run.parent.resolve()),  # relative: ultralytics puts it under its runs_dir
        name=run.name,
        exist_ok=True,
        verbose=False,
        pretrained=plan.init is not None,  # False would drop the --init weights (ultralytics 8.4)
        **({"time": plan.time_hours} if plan.time_hours is not None else {}),
    )
    wall = time.perf_counter() - started
    best = run / "weights" / "best.pt"
    if not best.is_file():
        best = run / "weights" / "last.pt"
    weights = plan.out / WEIGHTS_NAME
    shutil.copyfile(best, weights)
    metrics = getattr(getattr(model, "trainer", None), "metrics", {}) or {}
    return TrainResult(weights, wall, epochs_run(run), {k: float(v) for k, v in metrics.items()})
