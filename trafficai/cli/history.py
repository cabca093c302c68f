"""``trafficai history SCENARIO --days N``: many simulated days of detector bins in the run store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trafficai.cli.output import err, out, print_json

STORE_HELP = "Run store file (default: the user's run store)"


def history(
    scenario: Annotated[str, typer.Argument(help="Scenario name or folder (routed <vehicle> demand)")],
    days: Annotated[int, typer.Option(help="Days to simulate")] = 14,
    seed: Annotated[int, typer.Option(help="Seed of the history (each day's plan and SUMO seed)")] = 1,
    day_hours: Annotated[float, typer.Option(help="Simulated hours per day (a compressed day)")] = 6.0,
    first_day: Annotated[int, typer.Option(help="Index of the first day (0 is a Monday)")] = 0,
    jobs: Annotated[int, typer.Option(help="Days simulated in parallel (worker processes)")] = 2,
    controller: Annotated[str | None, typer.Option(help="Controller (default: the scenario's)")] = None,
    cameras: Annotated[
        str,
        typer.Option(
            help="off | truth: also store perfect camera devices' 30 s bins (counts by class, approach "
            "and movement, queues, speeds; the scenario's cameras, else auto-placed)"
        ),
    ] = "off",
    store: Annotated[Path | None, typer.Option("--store", help=STORE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")] = False,
) -> None:
    """Simulate DAYS days headless, each with its own demand (weekday/weekend profile, +-15 % scale,
    shifted peaks, weather slowdowns, random lane closures recorded as ground truth), and store
    their 30 s detector bins with the day index and type (and, with --cameras truth, the camera
    devices' bins)."""
    import time

    from trafficai.control.registry import check_controller
    from trafficai.runtime.history import DayResult, HistorySpec, generate_history
    from trafficai.storage import default_store_path

    if controller:
        check_controller(controller)
    spec = HistorySpec(scenario, days, seed, day_hours * 3600.0, controller or "", first_day, cameras)
    path = store or default_store_path()
    started = time.perf_counter()

    def report(day: DayResult) -> None:
        incident = " · incident" if day.has_incident else ""
        err.print(f"day {day.day} ({day.day_type}{incident}): run {day.run_id}, {day.wall_s:.1f} s")

    results = generate_history(spec, path, max(1, jobs), None if as_json else report)
    wall = time.perf_counter() - started
    if as_json:
        print_json(
            {
                "set": spec.set_id,
                "store": str(path),
                "cameras": spec.cameras,
                "wall_s": wall,
                "days": [
                    {
                        "day": r.day,
                        "day_type": r.day_type,
                        "has_incident": r.has_incident,
                        "run_id": r.run_id,
                        "wall_s": r.wall_s,
                        "mean_delay_s": r.kpis.get("mean_delay_s"),
                    }
                    for r in results
                ],
            }
        )
        return
    incidents = sum(r.has_incident for r in results)
    out.print(f"{len(results)} days of {spec.set_id} ({incidents} with incidents) in {path}, {wall:.0f} s")


def register(app: typer.Typer) -> None:
    app.command("history")(history)
