"""The ``trafficai`` command line (Typer + rich).

User mistakes print one line naming the problem and exit non-zero; never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from trafficai.errors import ConfigError, TrafficAIError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="trafficai: open traffic-signal operations on SUMO.",
)
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks, measured side by side in one run.")
app.add_typer(bench_app, name="bench")
out = Console()
err = Console(stderr=True)

KPI_LABELS = {
    "mean_delay_s": "mean delay (s/veh)",
    "mean_waiting_s": "mean waiting (s/veh)",
    "mean_travel_time_s": "mean travel time (s)",
    "throughput_veh": "throughput (veh)",
    "mean_queue_veh": "mean queue (veh)",
    "max_queue_veh": "max queue (veh)",
    "mean_stops": "stops per vehicle",
    "co2_kg": "CO2 (kg)",
    "departed": "departed",
    "arrived": "arrived",
    "not_inserted": "never inserted",
    "teleports": "teleports",
}


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>6.0f}/{task.total:.0f} s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario name, scenario folder, or path to a .sumocfg")],
    controller: Annotated[str | None, typer.Option(help="Controller name (default: the scenario's)")] = None,
    end: Annotated[float | None, typer.Option(help="Simulated seconds from the scenario's begin")] = None,
    seed: Annotated[int | None, typer.Option(help="SUMO random seed")] = None,
    signals: Annotated[
        str | None, typer.Option(help="Comma-separated signal ids to control (default: all)")
    ] = None,
    demand: Annotated[float | None, typer.Option(help="Demand scale factor")] = None,
    backend: Annotated[str | None, typer.Option(help="libsumo (default) or traci")] = None,
    sumo_gui: Annotated[bool, typer.Option("--sumo-gui", help="Watch the run in sumo-gui (TraCI)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Run a scenario headless and print its KPIs."""
    from trafficai.config import resolve_run_config
    from trafficai.runtime.session import run_headless
    from trafficai.storage import RunStore

    sim: dict[str, Any] = {
        k: v
        for k, v in {
            "seed": seed,
            "demand_scale": demand,
            "backend": backend,
            "sumo_gui": sumo_gui or None,
        }.items()
        if v is not None
    }
    cli: dict[str, Any] = {"scenario": scenario, "controller": controller, "end_s": end, "sim": sim or None}
    if signals:
        cli["signals"] = tuple(s.strip() for s in signals.split(",") if s.strip())
    config = resolve_run_config(cli)
    with RunStore() as store:
        if as_json:
            result = run_headless(config, store)
        else:
            with _progress() as progress:
                task = progress.add_task(f"{scenario} · {controller or 'default'}", total=1.0)

                def update(done: float, total: float) -> None:
                    progress.update(task, completed=done, total=total)

                result = run_headless(config, store, update)
    kpis = result.kpis
    if as_json:
        payload: dict[str, Any] = {
            "run_id": result.run_id,
            "scenario": result.scenario,
            "controller": result.controller,
            "mean_delay_s": kpis["mean_delay_s"],
            "mean_waiting_s": kpis["mean_waiting_s"],
            "mean_travel_time_s": kpis["mean_travel_time_s"],
            "throughput_veh": kpis["throughput_veh"],
            "mean_queue_veh": kpis["mean_queue_veh"],
            "co2_kg": kpis["co2_kg"],
            "departed": int(kpis["departed"]),
            "arrived": int(kpis["arrived"]),
            "teleports": int(kpis["teleports"]),
            "kpis": kpis,
            "events": len(result.events),
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    table = Table(title=f"{result.scenario} · {result.controller} · run {result.run_id}")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key, label in KPI_LABELS.items():
        table.add_row(label, f"{kpis[key]:,.2f}")
    out.print(table)
    for event in result.events:
        if event.severity != "info":
            err.print(f"[yellow]{event.severity}[/]: t={event.time_s:g}s {event.message}")


@app.command()
def scenarios() -> None:
    """List the shipped scenarios with their size."""
    from trafficai.runtime.inventory import scenario_rows

    table = Table(title="scenarios")
    for column in ("name", "signals", "lanes", "E1", "E2", "vehicles", "veh/h", "duration", "description"):
        table.add_column(column, justify="left" if column in ("name", "description") else "right")
    for row in scenario_rows():
        table.add_row(*row)
    out.print(table)


@app.command()
def runs(limit: Annotated[int, typer.Option(help="How many runs to show")] = 20) -> None:
    """List recorded runs, newest first."""
    from trafficai.storage import RunStore

    with RunStore() as store:
        table = Table(title=f"runs in {store.path}")
        for column in ("run", "scenario", "controller", "seed", "status", "started", "delay (s)", "bins"):
            table.add_column(column, no_wrap=column in ("run", "started"))
        for r in store.list_runs(limit):
            delay = r.kpis.get("mean_delay_s")
            table.add_row(
                r.id,
                r.scenario,
                r.controller,
                str(r.seed),
                r.status,
                r.started_at[:19],
                "" if delay is None else f"{delay:.2f}",
                str(r.n_bins),
            )
    out.print(table)


@app.command()
def compare(run_ids: Annotated[list[str], typer.Argument(help="Run ids (or unique prefixes)")]) -> None:
    """Side-by-side KPI table of runs (changes relative to the first)."""
    from trafficai.storage import RunStore
    from trafficai.storage.compare import compare_header, compare_kpis

    with RunStore() as store:
        records = [store.get_run(r) for r in run_ids]
    table = Table(title="KPI comparison")
    for column in compare_header(records):
        table.add_column(column)
    for row in compare_kpis(records, list(KPI_LABELS)):
        table.add_row(*row)
    out.print(table)


@app.command()
def export(
    run_id: Annotated[str, typer.Argument(help="Run id (or unique prefix)")],
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    output: Annotated[Path | None, typer.Option("--out", help="Output folder (default: current)")] = None,
) -> None:
    """Export a run's KPI series and metadata."""
    from trafficai.storage import RunStore
    from trafficai.storage.export import export_run

    if fmt not in ("parquet", "csv"):
        raise ConfigError(f"--format: unknown format '{fmt}' (parquet, csv)")
    with RunStore() as store:
        paths = export_run(store, run_id, fmt, output)  # type: ignore[arg-type]
    for path in paths:
        out.print(str(path))


@bench_app.command("sim")
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
        sys.stdout.write(json.dumps(result) + "\n")
        return
    table = Table(
        title=f"bench sim · {result['scenario']} · {result['steps']} steps, "
        f"peak {result['max_vehicles']} vehicles"
    )
    table.add_column("variant")
    table.add_column("wall (s)", justify="right")
    table.add_column("steps/s", justify="right")
    table.add_column("ratio to bare sumo", justify="right")
    table.add_row(
        "bare sumo binary", f"{result['bare_s']:.3f}", f"{result['steps'] / result['bare_s']:.0f}", "1.00"
    )
    table.add_row(
        "libsumo stepping, nothing read (ceiling of control)",
        f"{result['libsumo_only_s']:.3f}",
        f"{result['steps'] / result['libsumo_only_s']:.0f}",
        f"{result['ratio_libsumo_only']:.2f}",
    )
    table.add_row(
        "vehicles subscribed, nothing read (ceiling of full)",
        f"{result['subscribed_only_s']:.3f}",
        f"{result['steps'] / result['subscribed_only_s']:.0f}",
        f"{result['ratio_subscribed_only']:.2f}",
    )
    table.add_row(
        "full snapshot every step",
        f"{result['full_s']:.3f}",
        f"{result['steps'] / result['full_s']:.0f}",
        f"{result['ratio_full']:.2f}",
    )
    table.add_row(
        "controller every 5 s",
        f"{result['control_s']:.3f}",
        f"{result['steps'] / result['control_s']:.0f}",
        f"{result['ratio_control']:.2f}",
    )
    out.print(table)


def _register_extensions() -> None:
    """Commands that live with their layers: the control center and reinforcement learning."""
    from trafficai import cli_gui, cli_rl

    cli_gui.register(app, bench_app)
    cli_rl.register(app, bench_app)


_register_extensions()


def main() -> None:
    try:
        app(standalone_mode=False)
    except TrafficAIError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(1) from None
    except typer.Abort:
        err.print("aborted")
        raise SystemExit(130) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(130) from None
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        if isinstance(exc, click.exceptions.Exit):
            raise SystemExit(exc.exit_code) from None
        raise


if __name__ == "__main__":
    main()
