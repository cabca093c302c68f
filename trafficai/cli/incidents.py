"""``trafficai incidents eval``: automatic incident detectors measured against simulated truth;
``trafficai incidents fit``: the live held-vehicles detector's bounds for a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trafficai.cli.output import err, out, print_json
from trafficai.errors import ConfigError


def incidents_eval(
    scenario: Annotated[str, typer.Argument(help="Scenario name or folder (a scenario.toml scenario)")],
    runs: Annotated[
        int, typer.Option(help="Incident runs (and as many incident-free runs) per demand level")
    ] = 40,
    tuning_runs: Annotated[
        int, typer.Option(help="Tuning runs of each kind per level (separate seeds)")
    ] = 10,
    levels: Annotated[
        str, typer.Option(help="Demand levels (scale factors), comma-separated")
    ] = "0.8,1.0,1.2",
    duration: Annotated[float, typer.Option(help="Simulated seconds per run")] = 1500.0,
    warmup: Annotated[float, typer.Option(help="Seconds before detectors are judged")] = 300.0,
    incident_s: Annotated[
        float, typer.Option("--incident-duration", help="Seconds each lane stays blocked")
    ] = 600.0,
    camera_runs: Annotated[
        int,
        typer.Option(
            help="Incident runs per level inside a camera's view, for the camera detector (0: none)"
        ),
    ] = 8,
    jobs: Annotated[int, typer.Option(help="Parallel simulation processes (run at nice 10)")] = 2,
    cache: Annotated[
        Path | None, typer.Option(help="Keep each run's recording here; an interrupted evaluation resumes")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """Incident runs at random times and places plus matched incident-free runs (same seeds) at
    each demand level; every detector tuned on separate seeds to the same false-alarm budget,
    then scored per detector spacing: detection rate, mean time to detect, false alarms per
    network-hour."""
    from trafficai.runtime.incident_eval import EvalPlan, evaluate

    try:
        level_values = tuple(float(x) for x in levels.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"--levels: not a list of numbers: {levels!r}") from None
    if runs < 1 or tuning_runs < 1 or not level_values:
        raise ConfigError("--runs, --tuning-runs and --levels need at least one each")
    if duration <= warmup + incident_s:
        raise ConfigError(f"--duration {duration:g} must exceed --warmup plus --incident-duration")
    plan = EvalPlan(
        scenario,
        level_values,
        runs,
        tuning_runs,
        duration,
        warmup,
        incident_s,
        jobs=max(1, jobs),
        camera_runs=max(0, camera_runs),
    )
    result = evaluate(plan, (lambda m: err.print(m)) if not json_out else (lambda _: None), cache)
    if json_out:
        print_json(result)
        return
    _table(result)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value}"


def _table(result: dict[str, Any]) -> None:
    out.print(
        f"{result['scenario']}: {result['runs']['evaluation']} evaluation runs, "
        f"{result['runs']['tuning']} tuning runs, {result['wall_s']} s wall, {result['cpu_s']} s CPU"
    )
    out.print(
        f"{'spacing':>10} {'detector':>17} {'DR':>6} {'DR all':>7} {'MTTD s':>7} {'FA/net-h':>9}  setting"
    )
    for spacing, block in result["spacings"].items():
        for name, row in block["detectors"].items():
            cells = (
                _fmt(row["detection_rate"]),
                _fmt(row["detection_rate_all"]),
                _fmt(row["mttd_s"]),
                row["false_alarms_per_network_hour"],
            )
            line = f"{spacing:>10} {name:>17} {cells[0]:>6} {cells[1]:>7} {cells[2]:>7} {cells[3]:>9}"
            out.print(f"{line}  {row['setting']}")
    cam = result.get("cameras")
    if cam:
        out.print(
            f"cameras {', '.join(cam['cameras'])}: {cam['detector']} on {cam['incidents_in_view']} incidents "
            f"in view: DR {_fmt(cam['detection_rate'])}, MTTD {_fmt(cam['mttd_s'])} s, "
            f"FA/net-h {cam['false_alarms_per_network_hour']}  {cam['setting']}"
        )


def incidents_fit(
    scenario: Annotated[str, typer.Argument(help="Scenario name, scenario folder or .sumocfg")],
    runs: Annotated[int, typer.Option(help="Incident-free runs per demand level (0.8, 1.0, 1.2)")] = 24,
    duration: Annotated[float, typer.Option(help="Simulated seconds per run")] = 1200.0,
    warmup: Annotated[float, typer.Option(help="Seconds of each run replayed but not fitted")] = 300.0,
    seed: Annotated[
        int | None,
        typer.Option(help="First seed (default: incidents eval's incident-free tuning seeds, 50000+)"),
    ] = None,
    jobs: Annotated[int, typer.Option(help="Parallel simulation processes (run at nice 10)")] = 2,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Bounds file (default: incident_bounds.json by the manifest)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """Fit the live held-vehicles detector's per-pair bounds on incident-free runs of the
    scenario (the setting incidents eval chose); live runs with --detect-incidents then use
    held-vehicles instead of baseline-anomaly wherever the file fits the net's loop pairs."""
    import numpy as np

    from trafficai.runtime.incident_bounds import save_bounds
    from trafficai.runtime.incident_eval import TUNING_SEED0
    from trafficai.runtime.incident_fit import FitPlan, default_out, fit_scenario

    first = TUNING_SEED0 if seed is None else seed
    plan = FitPlan(scenario, runs, duration_s=duration, warmup_s=warmup, seed0=first, jobs=max(1, jobs))
    plan.check()
    path = out_file or default_out(plan)
    fitted = fit_scenario(plan, (lambda m: err.print(m)) if not json_out else (lambda _: None))
    save_bounds(fitted, path)
    b = fitted.bounds
    summary = {
        "scenario": fitted.scenario,
        "file": str(path),
        "pairs": len(fitted.pairs),
        "pairs_fingerprint": fitted.fingerprint,
        "quiet_levels": int(b.shape[1]) - 1,
        "bounds_median": round(float(np.median(b)), 2) if b.size else None,
        "bounds_max": round(float(b.max()), 2) if b.size else None,
        "one_lane_pairs": fitted.fit["one_lane_pairs"],
        "fit": fitted.fit,
    }
    if json_out:
        print_json(summary)
        return
    out.print(
        f"{fitted.scenario}: bounds for {len(fitted.pairs)} loop pairs x {summary['quiet_levels'] + 1} quiet "
        f"times (median {_fmt(summary['bounds_median'])}, max {_fmt(summary['bounds_max'])} vehicles) from "
        f"{len(fitted.fit['seeds'])} runs in {fitted.fit['wall_s']} s -> {path}"
    )
    if not fitted.pairs:
        err.print(f"{fitted.scenario} has no loop pairs: there is nothing for held-vehicles to watch")
    elif fitted.fit.get("stop_lines_only"):
        err.print(
            f"warning: {fitted.scenario}'s loops are all at stop lines: live runs will not use these bounds "
            "(held-vehicles was chosen on mid-block loops; they run baseline-anomaly's stop-line setting)"
        )
    elif not fitted.fit["one_lane_pairs"]:
        err.print(
            f"warning: none of {fitted.scenario}'s {len(fitted.pairs)} loop pairs is a one-lane section: "
            "held-vehicles' held test judges none, only its queue and flow tests run "
            "(mid-block loops would give it pairs)"
        )


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=True, help="Automatic incident detection.")
    group.command("eval")(incidents_eval)
    group.command("fit")(incidents_fit)
    app.add_typer(group, name="incidents")
