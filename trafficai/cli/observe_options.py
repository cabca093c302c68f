"""``--observe``, ``--cameras`` and the ``--camera-*`` options: what controllers see, which cameras are
devices, and the camera pipeline's settings. Defined once here and shared by ``run``, ``evaluate``,
``iot run`` and ``vision loop-eval``: the same settings configure the observation cameras
(``--observe cameras``) and the camera devices (``--cameras vision``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError

from trafficai.cli.parsing import csv_values
from trafficai.config import ObserveSection, drop_none, format_validation_error
from trafficai.errors import ConfigError
from trafficai.runtime.device_settings import check_choice

ObserveOpt = Annotated[
    str | None,
    typer.Option(help="What controllers observe: oracle (simulator state, default) | loops | cameras"),
]
CameraDetectorOpt = Annotated[
    str | None,
    typer.Option(
        "--camera-detector",
        "--camera-runtime",  # its first name, kept
        help="Camera detector: truth (ground-truth boxes, default) | openvino | onnx | torch",
    ),
]
CameraRuntimeOpt = CameraDetectorOpt
CameraWeightsOpt = Annotated[
    str | None, typer.Option(help="Detector weights for openvino|onnx|torch (default: the shipped model)")
]
CamerasOpt = Annotated[
    str | None,
    typer.Option(
        "--cameras",
        help="Camera devices: off (default) | truth (perfect cameras) | vision (the perception pipeline)",
    ),
]
CameraPlacementOpt = Annotated[
    str | None,
    typer.Option(help="Camera devices' cameras: manifest ([[cameras]], default) | auto (any net)"),
]
CameraFpsOpt = Annotated[float | None, typer.Option(help="Camera frames per second in the loop (default 5)")]
CameraDropOpt = Annotated[float | None, typer.Option(help="Share of camera frames lost, e.g. 0.1")]
CameraOfflineOpt = Annotated[str | None, typer.Option(help="Comma-separated camera ids down from the start")]
CameraLightOpt = Annotated[str | None, typer.Option(help="day | dusk | night (rendered frames)")]
CameraFallbackOpt = Annotated[
    str | None, typer.Option(help="Lanes no online camera sees: loops (default) | none (read empty)")
]


def observe_flags(
    observe: str | None,
    runtime: str | None = None,
    fps: float | None = None,
    drop: float | None = None,
    offline: str | None = None,
    light: str | None = None,
    fallback: str | None = None,
    weights: str | None = None,
) -> dict[str, Any]:
    """The ``observe`` table of the run config from the flags (unset ones: None, dropped later);
    a ConfigError naming the option for an unknown detector or light."""
    check_choice("--camera-detector", runtime, ("truth", "openvino", "onnx", "torch"))
    check_choice("--camera-light", light, ("day", "dusk", "night"))
    return {
        "camera_weights": weights,
        "source": observe,
        "camera_runtime": runtime,
        "camera_fps": fps,
        "camera_drop_rate": drop,
        "camera_offline": csv_values(offline) or None,
        "camera_light": light,
        "camera_fallback": fallback,
    }


def observe_section(flags: dict[str, Any]) -> ObserveSection:
    """The validated ``observe`` settings of ``flags`` (one line naming the field when wrong)."""
    try:
        return ObserveSection(**drop_none(flags))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, "observe options")) from None
