"""``trafficai sweep``: a grid of headless runs as Ray tasks, recorded and summarised."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from trafficai.cli.launch import resolve_launch
from trafficai.cli.output import err, out, print_json, progress_bar
from trafficai.config import RunConfig
from trafficai.errors import ConfigError

if TYPE_CHECKING:
    from trafficai.scale.shipping import Shipment
    from trafficai.scale.sweep import Outcome


def _resolve(scenario: str, flags: dict[str, Any]) -> RunConfig:
    # a scenario path resolves to an absolute one: Ray workers need not share the driver's cwd
    path = Path(scenario)
    return resolve_launch(str(path.resolve()) if path.exists() else scenario, flags)


def sweep(
    spec: Annotated[Path | None, typer.Argument(help="Sweep spec (TOML); see --template")] = None,
    address: Annotated[
        str | None,
        typer.Option(help="An existing Ray cluster (HOST:PORT or ray://...); default: a local one"),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Skip runs the store already holds (same config)")] = False,
    measure_serial: Annotated[
        bool, typer.Option(help="Also run everything serially here: speed-up and identity check")
    ] = False,
    template: Annotated[bool, typer.Option(help="Print a commented example spec and exit")] = False,
    chart: Annotated[
        Path | None, typer.Option(help="PNG of the summary (default: runs/sweep/SPEC.png)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """Run every scenario x controller x demand scale x seed of SPEC as Ray tasks (one SUMO per
    task) on a local Ray cluster or the one at --address; every run lands in the run store."""
    from trafficai.scale.spec import TEMPLATE, expand, load_spec

    if template:
        sys.stdout.write(TEMPLATE)
        return
    if spec is None:
        raise ConfigError("sweep needs a SPEC.toml (or --template for an example)")
    parsed = load_spec(spec)
    runs = expand(parsed, spec, _resolve)
    summary = _execute(runs, spec, parsed.sweep.num_cpus, address, resume, measure_serial, json_out)
    summary["chart"] = _chart(summary, chart or Path("runs") / "sweep" / f"{spec.stem}.png", spec, json_out)
    if json_out:
        print_json(summary)
        return
    _print_table(summary)


def _execute(
    runs: list[Any], spec: Path, num_cpus: int, address: str | None, resume: bool, serial: bool, quiet: bool
) -> dict[str, Any]:
    from trafficai.scale import results
    from trafficai.scale import sweep as engine
    from trafficai.scale.cluster import connect, shutdown
    from trafficai.storage import RunStore

    with RunStore() as store:
        todo, resumed = (
            results.split_resumed(runs, results.finished_in_store(store)) if resume else (runs, [])
        )
        # on an existing cluster the scenario files travel in the job's runtime environment
        shipment = _ship(todo) if todo and address else None
        started_ray = connect(address, num_cpus, shipment.runtime_env() if shipment else None) if todo else False
        try:
            started = time.perf_counter()
            with progress_bar("{task.completed}/{task.total} runs") as bar:
                task = bar.add_task(f"sweep {spec.name}", total=len(todo))

                def done(outcome: Outcome) -> None:
                    results.record(store, outcome, spec.name)  # the driver is the one store writer
                    bar.advance(task)

                outcomes = engine.run_on_ray(todo, done, shipment)
            ray_wall_s = time.perf_counter() - started
        finally:
            if started_ray:
                shutdown()
            if shipment is not None:
                shipment.cleanup()
    summary = _summary(outcomes, resumed, ray_wall_s, num_cpus)
    if serial:
        started = time.perf_counter()
        reference = engine.run_serially(todo)
        serial_wall_s = time.perf_counter() - started
        summary["serial_wall_s"] = round(serial_wall_s, 3)
        summary["speedup"] = round(serial_wall_s / ray_wall_s, 3) if ray_wall_s > 0 else None
        summary["identical_to_serial"] = engine.identical(outcomes, reference)
    if not quiet:
        for outcome in outcomes:
            if not outcome.ok:
                err.print(
                    f"[red]run {outcome.run.label} seed {outcome.run.config.sim.seed} failed "
                    f"after {outcome.attempts} attempts: {outcome.error}[/red]"
                )
    return summary


def _chart(summary: dict[str, Any], path: Path, spec: Path, quiet: bool) -> str | None:
    from trafficai.scale.chart import can_draw, write_summary_chart

    if not can_draw():
        if not quiet:
            err.print("note: no chart: it needs matplotlib (pip install 'trafficai[rl]')")
        return None
    title = f"sweep {spec.name}: {summary['runs']} runs, ranked by mean delay"
    return str(write_summary_chart(summary["configurations"], path, title))


def _ship(runs: list[Any]) -> Shipment:
    from trafficai.scale.shipping import stage

    return stage(run.config.scenario for run in runs)


def _summary(outcomes: list[Outcome], resumed: list[Outcome], wall_s: float, num_cpus: int) -> dict[str, Any]:
    from trafficai.scale.results import summarize

    task_s = sum(o.wall_s for o in outcomes if o.ok)
    return {
        "runs": len(outcomes) + len(resumed),
        "ran": len(outcomes),
        "resumed": len(resumed),
        "failed": [
            {
                "configuration": o.run.label,
                "seed": o.run.config.sim.seed,
                "attempts": o.attempts,
                "error": o.error,
            }
            for o in outcomes
            if not o.ok
        ],
        "retried": sum(1 for o in outcomes if o.attempts > 1),
        "nodes": sorted({o.node for o in outcomes if o.ok}),
        "wall_s": round(wall_s, 3),
        "task_s_sum": round(task_s, 3),
        # share of the cluster's CPU time not spent inside the runs (scheduling, start-up, idle tail)
        "overhead": round(1 - task_s / (wall_s * num_cpus), 3) if outcomes and wall_s > 0 else None,
        "speedup": None,
        "identical_to_serial": None,
        "run_ids": [o.run_id for o in [*resumed, *outcomes] if o.run_id],
        "configurations": summarize([*resumed, *outcomes]),
    }


def _print_table(summary: dict[str, Any]) -> None:
    table = Table(title=f"sweep: {summary['runs']} runs ({summary['resumed']} resumed), ranked by mean delay")
    for column in (
        "rank",
        "configuration",
        "runs",
        "mean delay (s/veh)",
        "waiting (s/veh)",
        "throughput (veh)",
    ):
        table.add_column(column)
    for row in summary["configurations"]:
        cells = [
            f"{row[k]:.2f} ± {row[f'{k}_std']:.2f}" if row[k] is not None else "-"
            for k in ("mean_delay_s", "mean_waiting_s", "throughput_veh")
        ]
        runs = f"{row['runs']}" + (f" ({row['failed']} failed)" if row["failed"] else "")
        table.add_row(str(row["rank"]), row["configuration"], runs, *cells)
    out.print(table)
    line = f"wall {summary['wall_s']:.1f} s, overhead {summary['overhead']}"
    if summary["speedup"] is not None:
        line += f", speed-up {summary['speedup']:.2f}x, identical to serial: {summary['identical_to_serial']}"
    out.print(line)
    if summary["chart"]:
        out.print(f"chart: {summary['chart']}")


def register(app: typer.Typer) -> None:
    app.command()(sweep)
