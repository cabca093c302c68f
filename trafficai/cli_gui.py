"""``trafficai gui`` and ``trafficai bench gui``: registered on the main Typer app by :func:`register`.

Qt is imported only inside the commands, so ``import trafficai.cli`` stays free of PySide6.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from trafficai.errors import ConfigError

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


def _has_display() -> bool:
    """A window can be shown: an X or Wayland display, or a Qt platform chosen explicitly."""
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def gui(
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
    demand: Annotated[float, typer.Option(help="Demand scale factor")] = 1.0,
    lanes: Annotated[
        str, typer.Option(help="Lane colouring: speed, occupancy, density, waiting or none")
    ] = "speed",
    paused: Annotated[bool, typer.Option("--paused", help="Start paused")] = False,
    screenshot: Annotated[Path | None, typer.Option(help="Save a PNG of the window and exit")] = None,
    after: Annotated[float, typer.Option(help="With --screenshot: wall-clock seconds to run first")] = 5.0,
) -> None:
    """Open the control center: live map, signals, KPIs, incidents and events."""
    from trafficai.core.scenario import resolve_scenario

    resolve_scenario(scenario)  # a bad name or path is one clear line, before any window opens
    if lanes not in LANE_COLOURINGS:
        raise ConfigError(f"--lanes: unknown colouring {lanes!r} ({', '.join(LANE_COLOURINGS)})")
    if not 0 < demand <= 20:
        raise ConfigError(f"--demand: must be in (0, 20], got {demand:g}")
    if after < 0:
        raise ConfigError(f"--after: must not be negative, got {after:g}")
    factor = parse_speed(speed)
    if screenshot is None and not _has_display():
        raise ConfigError(
            "no display to open the control center on ($DISPLAY and $WAYLAND_DISPLAY are unset): "
            "run it on a desktop, under xvfb-run, or headless with `trafficai run`"
        )
    from trafficai.gui.app import main

    code = main(
        scenario,
        controller,
        screenshot,
        after,
        speed=factor,
        start_at=at,
        demand=demand,
        playing=not paused,
        lanes=lanes,
    )
    if screenshot is not None and code == 0:
        sys.stdout.write(f"{screenshot}\n")
    raise typer.Exit(code)


def bench_gui(
    scenario: Annotated[str, typer.Argument(help="Scenario to measure")] = "city",
    vehicles: Annotated[int, typer.Option(help="Vehicles on the network during the measurement")] = 5000,
    demand: Annotated[float, typer.Option(help="Demand scale used to fill the network")] = 20.0,
    window: Annotated[float, typer.Option(help="Wall seconds per measurement window")] = 6.0,
    rounds: Annotated[int, typer.Option(help="Headless/rendering window pairs")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Render FPS and simulation speed while rendering vs headless, with thousands of vehicles (offscreen)."""
    from trafficai.gui.bench import bench_gui as measure

    result = measure(scenario, min_vehicles=vehicles, demand_scale=demand, window_s=window, rounds=rounds)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"bench gui · {result['scenario']} · {result['vehicles']:,} vehicles on the network")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("render FPS (map repaints/s)", f"{result['fps']:.1f}", ">= 30")
    table.add_row("frames from the simulation /s", f"{result['frames_per_s']:.1f}", "")
    table.add_row("sim steps/s while rendering", f"{result['gui_steps_per_s']:.1f}", "")
    table.add_row("sim steps/s headless", f"{result['headless_steps_per_s']:.1f}", "")
    table.add_row("sim_ratio (rendering / headless)", f"{result['sim_ratio']:.2f}", ">= 0.5")
    table.add_row("max event-loop stall (ms)", f"{result['max_stall_ms']:.0f}", "<= 100")
    Console().print(table)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``gui`` to ``app`` and ``gui`` to ``bench_app``."""
    app.command("gui")(gui)
    bench_app.command("gui")(bench_gui)
