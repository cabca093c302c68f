"""``trafficai vision dataset|train|eval`` and ``trafficai bench vision`` (the ``vision`` extra).

ultralytics, torch, OpenCV and SUMO are imported inside the commands, after the extra is checked,
so ``trafficai --help`` stays light and a base install gets one line, not a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from trafficai.cli.observe_options import CameraDetectorOpt, CameraFpsOpt
from trafficai.cli.output import err, out, print_json, progress_bar
from trafficai.errors import ConfigError
from trafficai.extras import require_extra

SHIPPED_WEIGHTS = Path(__file__).resolve().parents[2] / "assets" / "models" / "vision" / "vehicles-yolo11n.pt"
DEFAULT_DATASET = Path("vision-dataset")
RUNTIME_CHOICES = ("torch", "onnx", "openvino", "truth")


def _need_vision() -> None:
    require_extra("vision", ("ultralytics", "torch", "cv2"))


def dataset(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write the YOLO dataset to")
    ] = DEFAULT_DATASET,
    frames: Annotated[int, typer.Option(help="Frames per camera")] = 22,
    every: Annotated[float, typer.Option(help="Simulated seconds between frames")] = 15.0,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Render a YOLO-format dataset from the shipped scenarios' cameras (split by scene)."""
    _need_vision()
    from trafficai.vision.dataset import DatasetPlan, build_dataset

    counts = build_dataset(DatasetPlan(out=out_dir, frames_per_camera=frames, every_s=every, seed=seed))
    out.print(f"dataset {out_dir}: " + ", ".join(f"{k} {v} images" for k, v in counts.items()))


def train(
    data: Annotated[Path, typer.Option(help="The dataset's data.yaml")] = DEFAULT_DATASET / "data.yaml",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the run and the weights")] = Path(
        "vision-train"
    ),
    epochs: Annotated[int, typer.Option()] = 9,
    imgsz: Annotated[int, typer.Option(help="Training image size (px)")] = 320,
    batch: Annotated[int, typer.Option()] = 16,
    device: Annotated[str, typer.Option(help="cpu, or a CUDA device index")] = "cpu",
) -> None:
    """Train a YOLO nano detector from its YAML on the rendered dataset (nothing downloaded)."""
    _need_vision()
    from trafficai.vision.train import TrainPlan, train_model

    result = train_model(
        TrainPlan(data=data, out=out_dir, epochs=epochs, imgsz=imgsz, batch=batch, device=device)
    )
    out.print(f"weights {result.weights} · {result.epochs} epochs · {result.wall_s:.0f} s")


def _detector(weights: Path, runtime: str) -> Any:
    if runtime == "truth":
        from trafficai.vision.pipeline import TruthDetector

        return TruthDetector()
    from trafficai.vision.detect import open_detector

    return open_detector(weights, runtime)


def evaluate(
    weights: Annotated[Path, typer.Option(help="Detector weights (.pt or .onnx)")] = SHIPPED_WEIGHTS,
    runtime: Annotated[
        str, typer.Option(help="openvino (fastest measured here) | onnx | torch | truth (ground-truth boxes)")
    ] = "openvino",
    data: Annotated[
        Path | None, typer.Option(help="A dataset's data.yaml: adds mAP on its test split")
    ] = None,
    scenario: Annotated[str, typer.Option(help="Held-out scene for the live run")] = "corridor",
    cameras: Annotated[int, typer.Option(help="Approach cameras in the live run")] = 2,
    minutes: Annotated[float, typer.Option(help="Simulated minutes measured (after 2 min warm-up)")] = 10.0,
    fps: Annotated[float, typer.Option(help="Camera frame rate (SUMO steps at 1/fps)")] = 5.0,
    night: Annotated[bool, typer.Option(help="Render the live run at night")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Accuracy against the simulator: mAP on the held-out split, counts, queues, speeds, IDF1."""
    _need_vision()
    if runtime not in RUNTIME_CHOICES:
        raise ConfigError(f"--runtime: unknown {runtime!r} (choose from {', '.join(RUNTIME_CHOICES)})")
    from trafficai.vision.effects import CLEAR
    from trafficai.vision.effects import night as night_conditions
    from trafficai.vision.evaluate import LivePlan, detection_metrics, evaluate_live

    result: dict[str, Any] = {"map50": None, "map50_95": None}
    if data is not None and runtime != "truth":
        result.update(detection_metrics(weights, data))
    plan = LivePlan(
        scenario=scenario,
        cameras=cameras,
        fps=fps,
        duration_s=minutes * 60.0,
        conditions=night_conditions() if night else CLEAR,
    )
    result.update(evaluate_live(plan, _detector(weights, runtime)))
    result["runtime"] = runtime
    if as_json:
        print_json(result)
        return
    table = Table(title=f"vision eval · {scenario} · {runtime} · {minutes:g} min · {fps:g} fps")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in (
        "map50",
        "map50_95",
        "idf1",
        "count_wape",
        "count_mape",
        "geh_lt5_rate",
        "geh_lt3_rate",
        "crossing_precision",
        "crossing_recall",
        "crossing_f1",
        "queue_mae_m",
        "speed_rmse_mps",
        "speed_median_abs_mps",
    ):
        value = result.get(key)
        table.add_row(key, "-" if value is None else f"{value:.3f}")
    out.print(table)


def bench_vision(
    weights: Annotated[Path, typer.Option(help="Detector weights (.pt)")] = SHIPPED_WEIGHTS,
    scenario: Annotated[str, typer.Option()] = "single",
    frames: Annotated[int, typer.Option(help="Frames per runtime")] = 100,
    threads: Annotated[int, typer.Option(help="CPU threads per runtime")] = 2,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Render FPS, and detection + tracking + counting FPS for PyTorch, ONNX Runtime and OpenVINO."""
    _need_vision()
    require_extra("vision", ("onnxruntime", "openvino"))
    from trafficai.vision.bench import bench_vision as measure

    result = measure(weights, scenario, frames, threads=threads)
    if as_json:
        print_json(result)
        return
    table = Table(
        title=f"bench vision · {result['camera']} {result['image']} · {frames} frames · {threads} threads"
    )
    for column in ("stage", "FPS", "p95 (ms)"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    table.add_row("render (1 core)", f"{result['render_fps']:.1f}", "")
    for runtime in ("torch", "onnx", "openvino"):
        table.add_row(
            f"detect+track+count {runtime}",
            f"{result[f'fps_{runtime}']:.1f}",
            f"{result[f'p95_ms_{runtime}']:.1f}",
        )
    out.print(table)
    err.print(f"fastest: {result['fastest']}")


def loop_eval(
    scenario: Annotated[str, typer.Argument(help="Scenario name, folder or .sumocfg")],
    controllers: Annotated[
        str, typer.Option(help="Comma-separated controllers")
    ] = "max-pressure,sotl,greedy,rl",
    seeds: Annotated[int, typer.Option(help="SUMO seeds 1..N, the same for every source")] = 5,
    end: Annotated[float, typer.Option(help="Simulated seconds per run")] = 600.0,
    sources: Annotated[
        str, typer.Option(help="Comma-separated: oracle, loops, cameras, drop10, offline1, night")
    ] = "oracle,loops,cameras,drop10,offline1",
    degraded_controllers: Annotated[
        str | None, typer.Option(help="Run the degradations for these controllers only (default: all)")
    ] = None,
    camera_runtime: CameraDetectorOpt = None,
    camera_fps: CameraFpsOpt = None,
    jobs: Annotated[int, typer.Option(help="Runs in parallel (one SUMO process each)")] = 1,
    record: Annotated[
        Path | None, typer.Option(help="Append each run to this file; runs already in it are skipped")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Mean delay of each controller on oracle state, loops and cameras (and degraded cameras),
    same seeds, with the ratio to oracle."""
    require_extra("vision", ("cv2", "lap"))
    from trafficai.cli.parsing import csv_values
    from trafficai.runtime.perception_eval import LoopEvalPlan
    from trafficai.runtime.perception_eval import loop_eval as run_loop_eval

    if seeds < 1:
        raise ConfigError("--seeds must be at least 1")
    if end <= 0:
        raise ConfigError("--end must be positive")
    from trafficai.control.registry import check_controller

    camera_runtime, camera_fps = camera_runtime or "truth", camera_fps or 5.0

    names = tuple(csv_values(controllers))
    for name in names:
        check_controller(name)
    plan = LoopEvalPlan(
        scenario,
        names,
        tuple(range(1, seeds + 1)),
        end,
        tuple(csv_values(sources)),
        tuple(csv_values(degraded_controllers)) if degraded_controllers else (),
        camera_runtime,
        camera_fps,
    )
    if as_json:
        print_json(run_loop_eval(plan, jobs, record=record))
        return
    with progress_bar("{task.completed}/{task.total} runs") as progress:
        task = progress.add_task(f"loop-eval {scenario}", total=len(plan.tasks()))
        result = run_loop_eval(
            plan,
            jobs,
            lambda done, _n, label: progress.update(task, completed=done, description=label),
            record,
        )
    title = f"{scenario} · {seeds} seeds · {end:g} s · cameras {camera_runtime} at {camera_fps:g} fps"
    table = Table(title=title)
    for column in ("controller", "source", "mean delay (s)", "std", "/ oracle", "seed range", "/ loops"):
        table.add_column(column, justify="left" if column in ("controller", "source") else "right")
    for row in result["rows"]:
        table.add_row(
            row["controller"],
            row["source"],
            f"{row['mean_delay_s']:.2f}",
            f"{row['std_delay_s']:.2f}",
            _ratio(row["ratio_to_oracle"]),
            f"{_ratio(row['seed_ratio_min'])}-{_ratio(row['seed_ratio_max'])}",
            _ratio(row.get("ratio_to_loops")),
        )
    out.print(table)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def register(app: typer.Typer) -> None:
    """Add the ``vision`` group to ``app``."""
    group = typer.Typer(no_args_is_help=True, help="Cameras: rendered dataset, YOLO training, accuracy.")
    group.command("dataset")(dataset)
    group.command("train")(train)
    group.command("eval")(evaluate)
    group.command("loop-eval")(loop_eval)
    app.add_typer(group, name="vision")
