"""``run``, ``scenarios``, ``runs``, ``compare``, ``export``: headless runs and the run store.

Everything here works on the base install (no Qt, torch or YOLO).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from trafficai.cli.launch import resolve_launch
from trafficai.cli.observe_options import (
    CameraDropOpt,
    CameraFallbackOpt,
    CameraFpsOpt,
    CameraLightOpt,
    CameraOfflineOpt,
    CameraPlacementOpt,
    CameraRuntimeOpt,
    CamerasOpt,
    CameraWeightsOpt,
    ObserveOpt,
    observe_flags,
)
from trafficai.cli.output import err, out, print_json, progress_bar
from trafficai.cli.parsing import FAULT_HELP, INCIDENT_HELP, csv_values, fault_values, incident_values
from trafficai.errors import ConfigError

if TYPE_CHECKING:
    from trafficai.config import FaultSection
    from trafficai.storage import ControllerRecord

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
JSON_KPIS = (
    "mean_delay_s",
    "mean_waiting_s",
    "mean_travel_time_s",
    "throughput_veh",
    "mean_queue_veh",
    "co2_kg",
)
JSON_COUNTS = ("departed", "arrived", "teleports")
BROKER_HELP = "MQTT broker HOST:PORT for the devices (default: the in-process bus, or [iot])"
IOT_DIR_HELP = "Certificates from `trafficai iot init DIR` (selects MQTT)"


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
    incident: Annotated[list[str] | None, typer.Option("--incident", help=INCIDENT_HELP)] = None,
    fault: Annotated[list[str] | None, typer.Option("--fault", help=FAULT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
    broker: Annotated[str | None, typer.Option(help=BROKER_HELP)] = None,
    iot_dir: Annotated[Path | None, typer.Option("--iot-dir", help=IOT_DIR_HELP)] = None,
    detect_incidents: Annotated[
        bool, typer.Option("--detect-incidents", help="Automatic incident detection: alarms as events")
    ] = False,
    incident_detector: Annotated[
        str | None,
        typer.Option(
            help="With --detect-incidents: the loop detector (default: held-vehicles where the scenario "
            "has fitted bounds, `trafficai incidents fit`, else baseline-anomaly)"
        ),
    ] = None,
    incident_bounds: Annotated[
        Path | None,
        typer.Option(
            help="With --detect-incidents: held-vehicles' bounds file (default: the scenario's own)"
        ),
    ] = None,
    cameras: CamerasOpt = None,
    camera_placement: CameraPlacementOpt = None,
    observe: ObserveOpt = None,
    camera_runtime: CameraRuntimeOpt = None,
    camera_fps: CameraFpsOpt = None,
    camera_drop: CameraDropOpt = None,
    camera_offline: CameraOfflineOpt = None,
    camera_light: CameraLightOpt = None,
    camera_fallback: CameraFallbackOpt = None,
    camera_weights: CameraWeightsOpt = None,
) -> None:
    """Run a scenario headless and print its KPIs; its detectors publish their bins as devices."""
    from trafficai.runtime.device_settings import network_settings
    from trafficai.runtime.incident_watch import IncidentWatch
    from trafficai.runtime.session import RunResult, run_headless
    from trafficai.storage import RunStore
    from trafficai.storage.retention import apply_retention

    sim = {"seed": seed, "demand_scale": demand, "backend": backend, "sumo_gui": sumo_gui or None}
    flags = {"controller": controller, "end_s": end, "sim": sim, "signals": csv_values(signals) or None}
    flags["observe"] = observe_flags(
        observe, camera_runtime, camera_fps, camera_drop, camera_offline, camera_light, camera_fallback,
        camera_weights,
    )  # fmt: skip
    config = resolve_launch(
        scenario, {**flags, "incidents": incident_values(incident), "faults": fault_values(fault)}
    )
    audit_faults(config.faults)
    devices = network_settings(broker, iot_dir, cameras, camera_placement)
    watch = IncidentWatch(incident_detector, bounds_file=incident_bounds) if detect_incidents else None
    observers = [watch] if watch is not None else []
    with RunStore() as store:
        apply_retention(store)  # [storage] retention_days: old runs' raw bins go before this one starts
        if as_json:
            result: RunResult = run_headless(config, store, devices=devices, observers=observers)
        else:
            with progress_bar("{task.completed:>6.0f}/{task.total:.0f} s") as progress:
                task = progress.add_task(f"{scenario} · {config.controller}", total=1.0)

                def update(done: float, total: float) -> None:
                    progress.update(task, completed=done, total=total)

                result = run_headless(config, store, update, devices=devices, observers=observers)
    kpis = result.kpis
    if as_json:
        payload: dict[str, Any] = {"run_id": result.run_id, "scenario": result.scenario}
        payload["controller"] = result.controller
        payload.update({key: kpis[key] for key in JSON_KPIS})
        payload.update({key: int(kpis[key]) for key in JSON_COUNTS})
        payload.update(kpis=kpis, events=len(result.events))
        print_json(payload)
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


def scenarios() -> None:
    """List the shipped scenarios with their size."""
    from trafficai.runtime.inventory import scenario_rows

    table = Table(title="scenarios")
    for column in ("name", "signals", "lanes", "E1", "E2", "vehicles", "veh/h", "duration", "description"):
        table.add_column(column, justify="left" if column in ("name", "description") else "right")
    for row in scenario_rows():
        table.add_row(*row)
    out.print(table)


def controllers_text(starting: str, history: Sequence[ControllerRecord]) -> str:
    """Every controller that was in charge of a run and from when: ``fixed; rl from t=120s;
    max-pressure on 6,7 from t=300s`` (a run recorded before the history: its starting one)."""
    if not history:
        return starting
    parts = []
    for i, h in enumerate(history):
        where = f" on {','.join(h.signals)}" if h.signals else ""
        when = f" from t={h.time_s:g}s" if i > 0 else ""
        parts.append(f"{h.controller}{where}{when}")
    return "; ".join(parts)


def runs(limit: Annotated[int, typer.Option(help="How many runs to show")] = 20) -> None:
    """List recorded runs, newest first, with every controller that was in charge and from when."""
    from trafficai.storage import RunStore

    with RunStore() as store:
        table = Table(title=f"runs in {store.path}")
        for column in ("run", "scenario", "controller", "seed", "status", "started", "delay (s)", "bins"):
            table.add_column(column, no_wrap=column in ("run", "started"))
        listed = store.list_runs(limit)
        history = store.controllers([r.id for r in listed])
        for r in listed:
            delay = r.kpis.get("mean_delay_s")
            table.add_row(
                r.id,
                r.scenario,
                controllers_text(r.controller, history[r.id]),
                str(r.seed),
                r.status,
                r.started_at[:19],
                "" if delay is None else f"{delay:.2f}",
                str(r.n_bins),
            )
    out.print(table)


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


def prune(
    older_than: Annotated[
        float | None,
        typer.Option("--older-than", help="Days: delete older runs' raw detector bins (default: [storage])"),
    ] = None,
) -> None:
    """Retention: delete the raw detector bins of runs started more than N days ago (their KPIs,
    events and health records stay); without --older-than, the configured [storage] retention_days."""
    from trafficai.config import user_config_path
    from trafficai.storage import RunStore
    from trafficai.storage.retention import retention_days

    days = older_than if older_than is not None else retention_days()
    if days is None:
        where = user_config_path()
        raise ConfigError(f"prune: give --older-than DAYS, or set [storage] retention_days in {where}")
    with RunStore() as store:
        deleted = store.prune_bins(days)
    out.print(f"deleted {deleted} detector bin values older than {days:g} days")


def register(app: typer.Typer) -> None:
    """Add the run and store commands to ``app``."""
    for command in (run, scenarios, runs, compare, export, prune):
        app.command()(command)


def audit_faults(faults: Sequence[FaultSection]) -> None:
    """A fault injection is an operator action: one audit row per fault, before the run."""
    if not faults:
        return
    from trafficai.access.audit import AuditLog
    from trafficai.access.identity import os_user

    with AuditLog() as audit:
        for f in faults:
            audit.record(os_user(), "fault.inject", f.device, {"fault": f.describe(), **f.model_dump()})
