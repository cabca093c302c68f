"""KPI comparison table of several runs (pure; the CLI's ``trafficai compare`` prints it)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from trafficai.storage.records import RunSummary

MISSING = "n/a"


def compare_header(runs: Sequence[RunSummary]) -> list[str]:
    """Column titles matching :func:`compare_kpis` rows."""
    first = runs[0].id if runs else ""
    return ["metric", *(run.id for run in runs), *(f"{run.id} vs {first}" for run in runs[1:])]


def compare_kpis(runs: Sequence[RunSummary], metrics: Sequence[str]) -> list[list[str]]:
    """One row per metric: its name, its value in each run, then (2+ runs) each later run's change
    relative to the first, e.g. ``"+3.2 %"``. A metric a run lacks shows as ``"n/a"``.

    The header is not included; see :func:`compare_header`.
    """
    rows: list[list[str]] = []
    for metric in metrics:
        values = [run.kpis.get(metric) for run in runs]
        baseline = values[0] if values else None
        rows.append(
            [
                metric,
                *(format_value(value) for value in values),
                *(format_change(baseline, value) for value in values[1:]),
            ]
        )
    return rows


def format_value(value: float | None) -> str:
    """Two decimals, or three significant digits for tiny values so they do not print as 0.00."""
    if value is None or math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.2f}"


def format_change(baseline: float | None, value: float | None) -> str:
    """``value`` relative to ``baseline`` in percent; "n/a" when undefined (missing or zero base)."""
    if baseline is None or value is None or not (math.isfinite(baseline) and math.isfinite(value)):
        return MISSING
    if baseline == 0:
        return "+0.0 %" if value == 0 else MISSING
    change = (value - baseline) / abs(baseline) * 100.0
    return f"{change:+.1f} %"
