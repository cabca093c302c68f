"""``trafficai gui``: the control center, refused in one line when it cannot open.

Qt is imported only once every check has passed, so ``import trafficai.cli`` stays free of PySide6.
Checked first, in order: scenario and config (with the controller), the option values, the ``gui``
extra, a display, and the system libraries of Qt's xcb platform plugin.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trafficai.cli.launch import resolve_launch
from trafficai.cli.options import global_options
from trafficai.cli.runs import BROKER_HELP, IOT_DIR_HELP
from trafficai.config import RunConfig
from trafficai.errors import ConfigError
from trafficai.extras import require_extra

if TYPE_CHECKING:
    from trafficai.runtime.device_settings import DeviceNetworkSettings

LANE_COLOURINGS = ("speed", "occupancy", "density", "waiting", "none")


def parse_speed(text: str) -> float | None:
    """'max' (as fast as possible) or a positive real-time factor such as '1', '10', '0.5x'."""
    value = text.strip().lower()
    if value in ("max", "fast", "inf"):
        return None
    value = value.removesuffix("x")
    try:
        speed = float(value)
    except ValueError:
        raise ConfigError(f"--speed: not a real-time factor: {text!r} (e.g. 1, 10 or max)") from None
    if not speed > 0:
        raise ConfigError(f"--speed: must be positive, got {text!r}")
    return speed


def parse_size(text: str | None) -> tuple[int, int] | None:
    """'1366x768' -> (1366, 768); None stays None."""
    if text is None:
        return None
    width, sep, height = text.strip().lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        size = (0, 0)
    if not sep or not (320 <= size[0] <= 10_000 and 240 <= size[1] <= 10_000):
        raise ConfigError(f"--size: not a window size: {text!r} (e.g. 1366x768)")
    return size


def has_display() -> bool:
    """A window can be shown: an X or Wayland display, or a Qt platform chosen explicitly."""
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """What the window and the live worker take beside the run config."""

    speed: float | None
    start_at_s: float | None
    playing: bool
    lanes: str
    screenshot: Path | None
    after_s: float
    log_level: str
    window_size: tuple[int, int] | None = None
    devices: DeviceNetworkSettings | None = None
    detect_incidents: bool = False


def check_can_open(screenshot: Path | None) -> None:
    """The ``gui`` extra is installed, there is a display (or a screenshot is asked for), and
    Qt's platform plugin will load."""
    require_extra("gui")
    if screenshot is None and not has_display():
        raise ConfigError(
            "no display to open the control center on ($DISPLAY and $WAYLAND_DISPLAY are unset): "
            "run it on a desktop, under xvfb-run, or headless with `trafficai run`"
        )
    from trafficai.gui.qt_platform import check_qt_platform

    check_qt_platform()


def launch(config: RunConfig, live: LiveOptions) -> int:
    """Open the window on the resolved run ``config``; returns the process exit code."""
    from trafficai.gui.app import main
    from trafficai.runtime.logs import log_level
    from trafficai.runtime.worker_config import WorkerConfig
    from trafficai.storage import RunStore
    from trafficai.storage.retention import apply_retention

    with RunStore() as store:  # [storage] retention_days: old runs' raw bins go before the window opens
        apply_retention(store)

    worker = WorkerConfig(
        run=config,
        speed=live.speed,
        playing=live.playing,
        start_at_s=live.start_at_s,
        log_level=log_level(live.log_level),
        devices=live.devices,
        detect_incidents=live.detect_incidents,
    )
    return main(
        config.scenario,
        screenshot=live.screenshot,
        after=live.after_s,
        lanes=live.lanes,
        worker=worker,
        window_size=live.window_size,
    )


def gui(
    ctx: typer.Context,
    scenario: Annotated[
        str, typer.Argument(help="Scenario name, scenario folder, or path to a .sumocfg")
    ] = "grid4x4",
    controller: Annotated[
        str | None, typer.Option(help="Controller for every signal (default: the scenario's)")
    ] = None,
    speed: Annotated[str, typer.Option(help="Real-time factor to start with, or 'max'")] = "1",
    at: Annotated[
        float | None, typer.Option("--at", help="Jump to this simulation time (s) on start")
    ] = None,
    demand: Annotated[float | None, typer.Option(help="Demand scale factor (default 1)")] = None,
    lanes: Annotated[
        str, typer.Option(help="Lane colouring: speed, occupancy, density, waiting or none")
    ] = "speed",
    paused: Annotated[bool, typer.Option("--paused", help="Start paused")] = False,
    screenshot: Annotated[Path | None, typer.Option(help="Save a PNG of the window and exit")] = None,
    after: Annotated[float, typer.Option(help="With --screenshot: wall-clock seconds to run first")] = 5.0,
    size: Annotated[
        str | None,
        typer.Option(help="Window size WIDTHxHEIGHT, e.g. 1366x768 (default: fit the screen)"),
    ] = None,
    broker: Annotated[str | None, typer.Option(help=BROKER_HELP)] = None,
    iot_dir: Annotated[Path | None, typer.Option("--iot-dir", help=IOT_DIR_HELP)] = None,
    detect_incidents: Annotated[
        bool, typer.Option("--detect-incidents", help="Automatic incident detection: alarms as events")
    ] = False,
) -> None:
    """Open the control center: live map, signals, KPIs, incidents, events and devices."""
    from trafficai.runtime.device_settings import network_settings

    if demand is not None and not 0 < demand <= 20:
        raise ConfigError(f"--demand: must be in (0, 20], got {demand:g}")
    config = resolve_launch(scenario, {"controller": controller, "sim": {"demand_scale": demand}})
    if lanes not in LANE_COLOURINGS:
        raise ConfigError(f"--lanes: unknown colouring {lanes!r} ({', '.join(LANE_COLOURINGS)})")
    if after < 0:
        raise ConfigError(f"--after: must not be negative, got {after:g}")
    live = LiveOptions(
        speed=parse_speed(speed),
        start_at_s=at,
        playing=not paused,
        lanes=lanes,
        screenshot=screenshot,
        after_s=after,
        log_level=global_options(ctx).log_level,
        window_size=parse_size(size),
        devices=network_settings(broker, iot_dir),
        detect_incidents=detect_incidents,
    )
    check_can_open(screenshot)
    code = launch(config, live)
    if screenshot is not None and code == 0:
        sys.stdout.write(f"{screenshot}\n")
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``gui`` to ``app``."""
    app.command("gui")(gui)
