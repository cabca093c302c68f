"""``trafficai bench sim|rl|gui``: benchmarks, each variant measured side by side in one run.

``bench sim`` needs only the base install; ``bench rl`` the ``rl`` extra, ``bench gui`` the ``gui`` one.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from trafficai.cli import vision
from trafficai.cli.output import err, out, print_json
from trafficai.cli.parsing import int_values
from trafficai.errors import ConfigError
from trafficai.extras import require_extra
from trafficai.runtime.bench_stats import DEFAULT_REPEAT

SIM_VARIANTS = (
    ("bare sumo binary", "bare"),
    ("libsumo stepping only", "libsumo_only"),
    ("vehicles subscribed only", "subscribed_only"),
    ("full snapshot every step", "full"),
    ("controller every 5 s", "control"),
)


def spread_text(spread: dict[str, float], digits: int = 2) -> str:
    """``median [low-high]`` of a spread from the benchmarks' JSON."""
    return escape(f"{spread['median']:.{digits}f} [{spread['low']:.{digits}f}-{spread['high']:.{digits}f}]")


def _sim_table(result: dict[str, Any]) -> Table:
    table = Table(
        title=f"bench sim · {result['scenario']} · {result['steps']} steps, "
        f"peak {result['max_vehicles']} vehicles · median \\[low-high] of {result['repeat']} "
        "interleaved runs"
    )
    for column in ("variant", "wall (s)", "CPU (s)", "steps/s", "bare/variant wall", "bare/variant CPU"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    variants, ratios, steps = result["variants"], result["ratios"], result["steps"]
    for label, key in SIM_VARIANTS:
        wall, cpu = variants[key]["wall"], variants[key]["cpu"]
        ratio = ratios.get(f"ratio_{key}")
        table.add_row(
            label,
            spread_text(wall, 3),
            spread_text(cpu, 3),
            f"{steps / wall['median']:.0f}",
            spread_text(ratio["wall"]) if ratio else "1.00",
            spread_text(ratio["cpu"]) if ratio else "1.00",
        )
    return table


def bench_sim(
    scenario: Annotated[str, typer.Argument(help="Scenario name or .sumocfg path")],
    end: Annotated[
        float | None, typer.Option(help="Simulated seconds (default: the scenario's duration)")
    ] = None,
    repeat: Annotated[
        int, typer.Option(help="Interleaved repetitions; medians and ranges are reported")
    ] = DEFAULT_REPEAT,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Bare sumo vs trafficai full snapshots vs trafficai control cadence, side by side."""
    from trafficai.runtime.bench_sim import bench_sim as measure

    say = None if as_json else (lambda msg: err.print(f"[dim]{msg}[/]"))
    result = measure(scenario, end, repeat, progress=say)
    if as_json:
        print_json(result)
        return
    out.print(_sim_table(result))
    overhead = result["ratios"]["overhead_control"]
    verdict = "met" if result["overhead_control_met"] else "missed"
    out.print(
        f"overhead_control (controller every 5 s / libsumo stepping alone): CPU "
        f"{spread_text(overhead['cpu'])}, wall {spread_text(overhead['wall'])}; "
        f"target <= {result['overhead_control_target']:.2f} (CPU median): {verdict}"
    )


def _rl_tables(result: dict[str, Any]) -> tuple[Table, Table]:
    ours, theirs = result["trafficai"], result["sumo_rl"]
    table = Table(
        title=f"bench rl · {result['scenario']} · {result['agents']} agents · delta 5 s · "
        f"{result['seconds']:g} s episode · median \\[low-high] of {result['repeat']} interleaved runs"
    )
    for column in ("environment", "steps", "steps/s", "trafficai / sumo-rl, wall", "same, CPU"):
        table.add_column(column, justify="left" if column == "environment" else "right")
    ours_rate = spread_text(ours["steps_per_s_spread"], 0)
    table.add_row("trafficai ParallelEnv", str(ours["steps"]), ours_rate, "", "")
    if theirs is not None:
        vs = result["ratios"]["vs_sumo_rl"]
        table.add_row(
            f"sumo-rl {result['sumo_rl_version']} SumoEnvironment",
            str(theirs["steps"]),
            spread_text(theirs["steps_per_s_spread"], 0),
            spread_text(vs["wall"]),
            spread_text(vs["cpu"]),
        )
    scaling = Table(title=f"--envs scaling ({os.cpu_count()} CPU cores)")
    for column in ("simulations", "steps/s", "agent steps/s", "speedup"):
        scaling.add_column(column, justify="right")
    for row in result["scaling"]:
        scaling.add_row(
            str(row["workers"]),
            spread_text(row["steps_per_s_spread"], 0),
            f"{row['agent_steps_per_s']:,.0f}",
            spread_text(row["speedup_spread"]),
        )
    return table, scaling


def bench_rl(
    scenario: Annotated[
        str, typer.Argument(help="Scenario name or .sumocfg (network + routes are used)")
    ] = "grid4x4",
    seconds: Annotated[
        float | None, typer.Option(help="Simulated seconds per episode (default: the scenario's)")
    ] = None,
    repeat: Annotated[
        int, typer.Option(help="Interleaved repetitions; medians and ranges are reported")
    ] = DEFAULT_REPEAT,
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


def _gui_table(result: dict[str, Any]) -> Table:
    spreads = result["spreads"]
    table = Table(
        title=f"bench gui · {result['scenario']} · {result['vehicles']:,} vehicles on the network · "
        f"median \\[low-high] of {result['rounds']} interleaved window pairs"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("render FPS (map repaints/s)", spread_text(spreads["fps"], 1), ">= 30")
    table.add_row("frames from the simulation /s", spread_text(spreads["frames_per_s"], 1), "")
    table.add_row("sim steps/s while rendering", spread_text(spreads["gui_steps_per_s"], 1), "")
    table.add_row("sim steps/s headless", spread_text(spreads["headless_steps_per_s"], 1), "")
    table.add_row("sim_ratio (rendering / headless)", spread_text(spreads["sim_ratio"]["wall"]), ">= 0.5")
    if "cpu" in spreads["sim_ratio"]:
        table.add_row("same, steps per worker CPU second", spread_text(spreads["sim_ratio"]["cpu"]), "")
    table.add_row("GUI process CPU while rendering (cores)", spread_text(spreads["gui_cpu_load"]), "")
    table.add_row("max event-loop stall (ms)", f"{result['max_stall_ms']:.0f}", "<= 100")
    return table


def bench_gui(
    scenario: Annotated[str, typer.Argument(help="Scenario to measure")] = "city",
    vehicles: Annotated[int, typer.Option(help="Vehicles on the network during the measurement")] = 5000,
    demand: Annotated[float, typer.Option(help="Demand scale used to fill the network")] = 20.0,
    window: Annotated[float, typer.Option(help="Wall seconds per measurement window")] = 6.0,
    rounds: Annotated[
        int,
        typer.Option(
            "--repeat", "--rounds", help="Interleaved headless/rendering window pairs (medians and ranges)"
        ),
    ] = DEFAULT_REPEAT,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Render FPS and simulation speed while rendering vs headless, with thousands of vehicles (offscreen)."""
    require_extra("gui")
    from trafficai.gui.bench import bench_gui as measure

    result = measure(scenario, min_vehicles=vehicles, demand_scale=demand, window_s=window, rounds=rounds)
    if as_json:
        print_json(result)
        return
    out.print(_gui_table(result))


def build_bench_app() -> typer.Typer:
    """The ``bench`` group: sim, rl, gui, iot and vision."""
    bench = typer.Typer(no_args_is_help=True, help="Benchmarks, measured side by side in one run.")
    bench.command("sim")(bench_sim)
    bench.command("rl")(bench_rl)
    bench.command("gui")(bench_gui)
    from trafficai.cli.iot import bench_iot

    bench.command("iot")(bench_iot)
    bench.command("vision")(vision.bench_vision)
    return bench
