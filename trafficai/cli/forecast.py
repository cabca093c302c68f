"""``trafficai forecast train|eval SCENARIO``: short-term forecasts learned from simulated history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from trafficai.cli.history import STORE_HELP
from trafficai.cli.output import err, out, print_json
from trafficai.extras import require_extra

if TYPE_CHECKING:
    from trafficai.forecast.data import History

MODEL_HELP = "Model file (default: <data dir>/forecast/<scenario>.npz)"
SET_HELP = "History set (default: the one with most days)"
ScenarioArg = Annotated[str, typer.Argument(help="Scenario name or folder")]
StoreOpt = Annotated[Path | None, typer.Option("--store", help=STORE_HELP)]
ModelOpt = Annotated[Path | None, typer.Option("--model", help=MODEL_HELP)]
SetOpt = Annotated[str | None, typer.Option("--set", help=SET_HELP)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout")]


def default_model_path(scenario: str) -> Path:
    from trafficai.forecast.model import default_model_path as path_of

    return path_of(scenario)


def _history(scenario: str, store: Path | None, set_id: str | None) -> History:
    from trafficai.core.scenario import resolve_scenario
    from trafficai.forecast.data import load_history
    from trafficai.storage import RunStore

    name = resolve_scenario(scenario).name
    with RunStore(store) as run_store:
        return load_history(run_store, name, set_id)


def forecast_train(
    scenario: ScenarioArg,
    store: StoreOpt = None,
    model: ModelOpt = None,
    set_id: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train the forecaster on the history's first days (its last quarter held out for `eval`)."""
    require_extra("forecast")
    from trafficai.forecast.model import split_days, train_model

    history = _history(scenario, store, set_id)
    trained = train_model(history, split_days(len(history.days)))
    path = model or default_model_path(history.scenario)
    trained.save(path)
    meta = trained.meta
    if as_json:
        print_json(
            {
                "model": str(path),
                "set": history.set_id,
                **{k: meta[k] for k in ("train_s", "train_days", "calibration_days", "test_days")},
                "detectors": len(history.objects),
            }
        )
        return
    out.print(
        f"trained on days {_days(meta['train_days'])}, intervals calibrated on "
        f"{_days(meta['calibration_days'])} ({len(history.objects)} detectors and approaches) "
        f"in {meta['train_s']:.1f} s: {path}"
    )


def forecast_eval(
    scenario: ScenarioArg,
    store: StoreOpt = None,
    model: ModelOpt = None,
    set_id: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Forecast every held-out day from every bin at +15/+30/+60 min; MAE against the historical
    average, persistence and seasonal naive, and the 80 % intervals' coverage."""
    require_extra("forecast")
    from trafficai.errors import ModelError
    from trafficai.forecast.evaluate import evaluate
    from trafficai.forecast.model import ForecastModel, split_days, train_model

    history = _history(scenario, store, set_id)
    split = split_days(len(history.days))
    path = model or default_model_path(history.scenario)
    if path.is_file():
        trained = ForecastModel.load(path, history.scenario, history.objects)
        held_out = {history.days[i].day for i in split.test}
        seen = held_out & set(trained.meta.get("train_days", []) + trained.meta.get("calibration_days", []))
        if seen:
            raise ModelError(f"{path}: trained on held-out day(s) {_days(sorted(seen))}; retrain it")
    else:
        if model is not None:
            raise ModelError(f"{path}: no such model file (run `trafficai forecast train {scenario}`)")
        err.print(f"no model file {path}: training one now (not saved)")
        trained = train_model(history, split)
    report = evaluate(trained, history, split)
    if as_json:
        print_json(report)
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    table = Table(title=f"MAE on held-out days {_days(report['test_days'])} (5-minute targets)")
    table.add_column("variable · method")
    for h in ("15", "30", "60"):
        table.add_column(f"+{h} min", justify="right")
    for variable, values in report["by_variable"].items():
        for method, by_h in values["mae"].items():
            table.add_row(f"{variable} · {method}", *(f"{by_h[h]:.2f}" for h in ("15", "30", "60")))
    out.print(table)
    for key in ("mae_ratio_ha", "mae_ratio_persistence"):
        ratios = " / ".join(f"{report[key][h]:.3f}" for h in ("15", "30", "60"))
        out.print(f"{key} (+15/+30/+60): {ratios}")
    out.print(
        f"coverage_80: {report['coverage_80']:.3f} · train_s: {report['train_s']:.1f} · "
        f"one forecast of every detector: {report['forecast_ms']:.1f} ms"
    )


def _days(days: list[int]) -> str:
    return ", ".join(str(d) for d in days) or "-"


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=True, help="Short-term traffic forecasts (flow, speed).")
    group.command("train")(forecast_train)
    group.command("eval")(forecast_eval)
    app.add_typer(group, name="forecast")
