"""``trafficai vision dataset|train|eval`` and ``trafficai bench vision`` (the ``vision`` extra).

ultralytics, torch, OpenCV and SUMO are imported inside the commands, after the extra is checked,
so ``trafficai --help`` stays light and a base install gets one line, not a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.table import Table

from trafficai.cli import vision_card
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
    time_hours: Annotated[
        float | None,
        typer.Option(help="Wall-time budget in hours (overrides --epochs; the LR is scheduled over it)"),
    ] = None,
    init: Annotated[
        Path | None, typer.Option(help="Continue from these weights (same classes) instead of the YAML")
    ] = None,
    warmup_epochs: Annotated[float, typer.Option(help="Learning-rate warm-up epochs")] = 3.0,
    nbs: Annotated[
        int, typer.Option(help="Nominal batch: gradients accumulate to it (= --batch: a step per batch)")
    ] = 64,
) -> None:
    """Train a YOLO nano detector from its YAML on the rendered dataset (nothing downloaded)."""
    _need_vision()
    from trafficai.vision.train import TrainPlan, check_plan, train_model

    plan = TrainPlan(
        data=data,
        out=out_dir,
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        device=device,
        time_hours=time_hours,
        init=init,
        warmup_epochs=warmup_epochs,
        nbs=nbs,
    )
    check_plan(plan)
    result = train_model(plan)
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


WATCH_RUNTIMES = ("openvino", "onnx", "torch")
WATCH_FORMATS = ("jsonl", "csv")


def watch(
    source: Annotated[str, typer.Argument(help="A video file, or an rtsp:// / http(s):// stream")],
    weights: Annotated[
        Path,
        typer.Option(help="Detector weights (.pt or .onnx; COCO weights: car, motorcycle, bus, truck)"),
    ] = SHIPPED_WEIGHTS,
    runtime: Annotated[str, typer.Option(help="openvino | onnx | torch")] = "openvino",
    config: Annotated[
        Path | None, typer.Option(help="YAML: camera pose, counting lines, interval (docs/vision.md)")
    ] = None,
    line: Annotated[
        list[str] | None, typer.Option(help="Counting line NAME:u1,v1,u2,v2 in pixels (repeatable)")
    ] = None,
    interval: Annotated[float | None, typer.Option(help="Seconds per record (default 60)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv")] = "jsonl",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write records here (default stdout)")
    ] = None,
    max_frames: Annotated[int | None, typer.Option(help="Stop after this many frames")] = None,
    retries: Annotated[int, typer.Option(help="Reconnect attempts when a stream stops")] = 3,
    retry_wait: Annotated[float, typer.Option(help="Seconds between reconnect attempts")] = 2.0,
    conf: Annotated[
        float, typer.Option(help="Detector confidence floor (low ones only extend tracks)")
    ] = 0.1,
) -> None:
    """Count vehicles crossing lines in a video file or stream: detect, track, count per interval."""
    _need_vision()
    if runtime not in WATCH_RUNTIMES:
        raise ConfigError(f"--runtime: unknown {runtime!r} (choose from {', '.join(WATCH_RUNTIMES)})")
    if fmt not in WATCH_FORMATS:
        raise ConfigError(f"--format: unknown {fmt!r} (choose from {', '.join(WATCH_FORMATS)})")
    from trafficai.vision import watch as w

    section = _watch_section(config, line or [], interval)
    plan = w.WatchPlan(
        source,
        section,
        is_stream=source.startswith(STREAM_PREFIXES),
        max_frames=max_frames,
        retries=max(retries, 0),
        retry_wait_s=max(retry_wait, 0.0),
    )
    from trafficai.vision.video import VideoSource

    def open_source() -> VideoSource:
        return VideoSource(source)

    first = open_source()  # an unreadable file fails here, before the weights are loaded
    first.close()
    from trafficai.vision.detect import open_detector

    detector = open_detector(weights, runtime, conf=conf)
    with _record_writer(out_file, fmt) as sink:
        summary = w.watch(plan, open_source, detector, sink)
    err.print(
        f"{source}: {summary.frames} frames, {summary.crossings} crossings, "
        f"{summary.intervals} intervals, {summary.reconnects} reconnects"
    )


STREAM_PREFIXES = ("rtsp://", "rtsps://", "http://", "https://")


def _watch_section(config: Path | None, lines: list[str], interval: float | None) -> Any:
    from trafficai.config import WatchSection
    from trafficai.vision.watch import load_watch_section, parse_line

    extra = tuple(parse_line(spec) for spec in lines)
    if config is not None:
        base = load_watch_section(config)
        update: dict[str, Any] = {"lines": base.lines + extra}
    elif extra:
        base, update = WatchSection(lines=extra), {}
    else:
        raise ConfigError(
            "vision watch: give a counting line (--line NAME:u1,v1,u2,v2) or --config FILE.yaml"
        )
    if interval is not None:
        if interval <= 0:
            raise ConfigError("--interval must be positive")
        update["interval_s"] = interval
    return base.model_copy(update=update)


@contextmanager
def _record_writer(path: Path | None, fmt: str) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A sink for watch records: JSON lines (every record and event) or CSV (one row per interval,
    line and direction; events go to the log)."""
    import csv
    import json
    import logging
    import sys

    handle: IO[str] = path.open("w", newline="") if path is not None else sys.stdout
    writer = csv.writer(handle) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(["start_s", "end_s", "line", "direction", "count", "online", "reason"])

    def sink(record: dict[str, Any]) -> None:
        if writer is None:
            handle.write(json.dumps(record) + "\n")
        elif record["type"] == "interval":
            for name, per in record["counts"].items():
                for direction, n in per.items():
                    writer.writerow(
                        [
                            record["start_s"],
                            record["end_s"],
                            name,
                            direction,
                            n,
                            record["online"],
                            record["reason"],
                        ]
                    )
        else:
            logging.getLogger("trafficai.vision.watch").warning("%s", record)
        handle.flush()

    try:
        yield sink
    finally:
        if path is not None:
            handle.close()


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def register(app: typer.Typer) -> None:
    """Add the ``vision`` group to ``app``."""
    group = typer.Typer(no_args_is_help=True, help="Cameras: rendered dataset, YOLO training, accuracy.")
    group.command("dataset")(dataset)
    group.command("train")(train)
    group.command("eval")(evaluate)
    group.command("card")(vision_card.card)
    group.command("loop-eval")(loop_eval)
    group.command("watch")(watch)
    app.add_typer(group, name="vision")
