"""``trafficai bench sim|rl|gui``: benchmarks, each variant measured side by side in one run.

``bench sim`` needs only the base install; ``bench rl`` the ``rl`` extra, ``bench gui`` the ``gui`` one.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.table import Table

from trafficai.cli import vision
from trafficai.cli.output import err, out, print_json
from trafficai.cli.parsing import int_values
from trafficai.errors import ConfigError
from trafficai.extras import require_extra

SIM_VARIANTS = (
    ("libsumo stepping, nothing read (ceiling of control)", "libsumo_only"),
    ("vehicles subscribed, nothing read (ceiling of full)", "subscribed_only"),
    ("full snapshot every step", "full"),
    ("controller every 5 s", "control"),
)


def bench_sim(
    scenario: Annotated[str, typer.Argument(help="Scenario name or .sumocfg path")],
    end: Annotated[
        float | None, typer.Option(help="Simulated seconds (default: the scenario's duration)")
    ] = None,
    repeat: Annotated[int, typer.Option(help="Repetitions; the best time of each variant counts")] = 1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Bare sumo vs trafficai full snapshots vs trafficai control cadence, side by side."""
    from trafficai.runtime.bench_sim import bench_sim as measure

    result = measure(scenario, end, repeat)
    if as_json:
        print_json(result)
        return
    table = Table(
        title=f"bench sim · {result['scenario']} · {result['steps']} steps, "
        f"peak {result['max_vehicles']} vehicles"
    )
    table.add_column("variant")
    table.add_column("wall (s)", justify="right")
    table.add_column("steps/s", justify="right")
    table.add_column("ratio to bare sumo", justify="right")
    steps = result["steps"]
    table.add_row("bare sumo binary", f"{result['bare_s']:.3f}", f"{steps / result['bare_s']:.0f}", "1.00")
    for label, key in SIM_VARIANTS:
        wall = result[f"{key}_s"]
        table.add_row(label, f"{wall:.3f}", f"{steps / wall:.0f}", f"{result[f'ratio_{key}']:.2f}")
    out.print(table)


def _rl_tables(result: dict[str, Any]) -> tuple[Table, Table]:
    ours, theirs = result["trafficai"], result["sumo_rl"]
    table = Table(
        title=f"bench rl · {result['scenario']} · {result['agents']} agents · delta 5 s · "
        f"{result['seconds']:g} s episode · best of {result['repeat']}"
    )
    for column in ("environment", "steps", "wall (s)", "steps/s", "ratio"):
        table.add_column(column, justify="left" if column == "environment" else "right")
    table.add_row(
        "trafficai ParallelEnv",
        str(ours["steps"]),
        f"{ours['seconds']:.2f}",
        f"{ours['steps_per_s']:.0f}",
        "",
    )
    if theirs is not None:
        table.add_row(
            f"sumo-rl {result['sumo_rl_version']} SumoEnvironment",
            str(theirs["steps"]),
            f"{theirs['seconds']:.2f}",
            f"{theirs['steps_per_s']:.0f}",
            f"{result['ratio_vs_sumo_rl']:.2f}x",
        )
    scaling = Table(title=f"--envs scaling ({os.cpu_count()} CPU cores)")
    for column in ("simulations", "steps/s", "agent steps/s", "speedup"):
        scaling.add_column(column, justify="right")
    for row in result["scaling"]:
        scaling.add_row(
            str(row["workers"]),
            f"{row['steps_per_s']:.0f}",
            f"{row['agent_steps_per_s']:,.0f}",
            f"{row['speedup']:.2f}x",
        )
    return table, scaling


def bench_rl(
    scenario: Annotated[
        str, typer.Argument(help="Scenario name or .sumocfg (network + routes are used)")
    ] = "grid4x4",
    seconds: Annotated[
        float | None, typer.Option(help="Simulated seconds per episode (default: the scenario's)")
    ] = None,
    repeat: Annotated[int, typer.Option(help="Alternating repetitions; each variant keeps its best")] = 2,
    envs: Annotated[str, typer.Option(help="Simulation process counts for the scaling runs")] = "1,2",
    resco: Annotated[str | None, typer.Option(help="Run on a RESCO map from sumo-rl instead")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Environment steps per second: trafficai vs sumo-rl on the same net, and --envs scaling."""
    counts = int_values(envs, "--envs") or (1,)
    if any(c < 1 for c in counts):
        raise ConfigError("--envs: process counts must be at least 1")
    require_extra("rl", ("gymnasium", "pettingzoo", "stable_baselines3"))
    from trafficai.runtime.bench_rl import bench_rl as measure

    say = None if as_json else (lambda msg: err.print(f"[dim]{msg}[/]"))
    result = measure(scenario, seconds, repeat, counts, resco, progress=say)
    if as_json:
        print_json(result)
        return
    table, scaling = _rl_tables(result)
    out.print(table)
    if result["sumo_rl"] is None:
        out.print("sumo-rl is not installed (pip install sumo-rl): only trafficai was measured")
    out.print(scaling)


def bench_gui(
    scenario: Annotated[str, typer.Argument(help="Scenario to measure")] = "city",
    vehicles: Annotated[int, typer.Option(help="Vehicles on the network during the measurement")] = 5000,
    demand: Annotated[float, typer.Option(help="Demand scale used to fill the network")] = 20.0,
    window: Annotated[float, typer.Option(help="Wall seconds per measurement window")] = 6.0,
    rounds: Annotated[int, typer.Option(help="Headless/rendering window pairs")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Render FPS and simulation speed while rendering vs headless, with thousands of vehicles (offscreen)."""
    require_extra("gui")
    from trafficai.gui.bench import bench_gui as measure

    result = measure(scenario, min_vehicles=vehicles, demand_scale=demand, window_s=window, rounds=rounds)
    if as_json:
        print_json(result)
        return
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
    out.print(table)


def build_bench_app() -> typer.Typer:
    """The ``bench`` group with its three benchmarks."""
    bench = typer.Typer(no_args_is_help=True, help="Benchmarks, measured side by side in one run.")
    bench.command("sim")(bench_sim)
    bench.command("rl")(bench_rl)
    bench.command("gui")(bench_gui)
    bench.command("vision")(vision.bench_vision)
    return bench
