"""``trafficai vision card``: the model card's detection figures (mAP and recall per band) for one
or more weights files, side by side in one run, with the ratio of each to the first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from trafficai.cli.output import out, print_json
from trafficai.cli.parsing import choice_values
from trafficai.errors import ConfigError
from trafficai.extras import require_extra

SPLIT_NAMES = ("train", "val", "test")


def _rows(result: dict[str, Any], split: str) -> dict[str, float | None]:
    figures = result["splits"][split]
    rows: dict[str, float | None] = {"mAP50": figures["map50"], "mAP50-95": figures["map50_95"]}
    for band, value in figures["recall"].items():
        rows[f"recall {band} ({value['labels']})"] = value["recall"]
    for scenario, value in figures["precision"].items():
        rows[f"precision {scenario}"] = value
    return rows


def _table(results: list[dict[str, Any]], split: str) -> Table:
    table = Table(title=f"vision card · {split} split · {results[0]['runtime']}")
    table.add_column("measure")
    for k, r in enumerate(results):
        table.add_column(Path(r["weights"]).name, justify="right")
        if k:
            table.add_column(f"/ {Path(results[0]['weights']).name}", justify="right")
    per_model = [_rows(r, split) for r in results]
    for key in per_model[0]:
        cells: list[str] = []
        base = per_model[0][key]
        for k, rows in enumerate(per_model):
            value = rows.get(key)
            cells.append("-" if value is None else f"{value:.3f}")
            if k:
                ratio = value / base if value is not None and base else None
                cells.append("-" if ratio is None else f"{ratio:.2f}")
        table.add_row(key, *cells)
    return table


def card(
    data: Annotated[Path, typer.Option(help="The dataset's data.yaml (from 'trafficai vision dataset')")],
    weights: Annotated[
        list[Path] | None,
        typer.Option(help="Weights to measure (repeat it to compare; ratios are to the first)"),
    ] = None,
    splits: Annotated[str, typer.Option(help="Comma-separated splits")] = "test,val",
    runtime: Annotated[
        str, typer.Option(help="Runtime of the band recalls: openvino | onnx | torch")
    ] = "openvino",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """mAP50, mAP50-95 and recall per box height, occlusion and scenario, per split and model."""
    require_extra("vision", ("ultralytics", "torch", "cv2"))
    from trafficai.cli.vision import SHIPPED_WEIGHTS
    from trafficai.vision.card import card_metrics

    chosen = choice_values(splits, "--splits", SPLIT_NAMES)
    if not data.is_file():
        raise ConfigError(f"dataset not found: {data} (make one with 'trafficai vision dataset')")
    if runtime not in ("openvino", "onnx", "torch"):
        raise ConfigError(f"--runtime: unknown {runtime!r} (choose from openvino, onnx, torch)")
    files = weights or [SHIPPED_WEIGHTS]
    missing = [str(w) for w in files if not w.is_file()]
    if missing:
        raise ConfigError(f"weights file not found: {', '.join(missing)}")
    results = [card_metrics(w, data, chosen, runtime) for w in files]
    if as_json:
        print_json({"models": results})
        return
    for split in chosen:
        out.print(_table(results, split))
