"""Plot axes for counted things (episodes): ticks only at whole numbers, written without decimals."""

from __future__ import annotations

import math

import pyqtgraph as pg


def integer_ticks(
    levels: list[tuple[float, list[float]]], low: float, high: float
) -> list[tuple[float, list[float]]]:
    """pyqtgraph's tick levels without the fractional ticks; a whole-number level if none is left."""
    out = [
        (max(1.0, float(spacing)), [v for v in values if float(v).is_integer()]) for spacing, values in levels
    ]
    out = [(spacing, values) for spacing, values in out if values]
    if not out and math.isfinite(low) and math.isfinite(high):
        first, last = math.ceil(min(low, high)), math.floor(max(low, high))
        if 0 <= last - first <= 20:
            out = [(1.0, [float(v) for v in range(first, last + 1)])]
    return out


class IntegerAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph is untyped
    """An axis for episode numbers: 1, 2, 3, never 1.5."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        return integer_ticks(list(super().tickValues(minVal, maxVal, size)), minVal, maxVal)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{round(v * scale):d}" for v in values]
