"""What the control center shows of a ForecastUpdate (pure: no Qt), for the inspector's band and
the KPI dashboard's line."""

from __future__ import annotations

from trafficai.runtime.messages import ForecastUpdate

HORIZONS = (15, 30, 60)
Band = tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...], tuple[float, ...]]


def forecast_band(update: ForecastUpdate, object_id: str, plotted: str) -> Band | None:
    """(times, low, point, high) from now to +60 min of ``object_id`` in the plotted value's
    units, if the plotted value is a flow (veh/h) or a speed (km/h) and the object is forecast."""
    if object_id not in update.objects:
        return None
    if plotted.startswith("flow") and plotted.endswith("(veh/h)"):
        variable, factor = "flow", 1.0
    elif plotted.startswith("speed") and plotted.endswith("(km/h)"):
        variable, factor = "speed", 3.6
    else:
        return None
    i = update.objects.index(object_id)
    times = tuple(update.time_s + 60.0 * m for m in HORIZONS)
    point, low, high = (
        tuple(update.values[variable][m][part][i] * factor for m in HORIZONS) for part in range(3)
    )
    return times, low, point, high


def network_forecast_text(update: ForecastUpdate) -> str:
    """The dashboard's line: the network's approach flow ahead and the live forecast quality."""
    ahead = " · ".join(
        f"+{m} min {update.network_flow[m][0]:,.0f} ({update.network_flow[m][1]:,.0f}-"
        f"{update.network_flow[m][2]:,.0f})"
        for m in HORIZONS
        if m in update.network_flow
    )
    if update.quality_mae is None:
        quality = "forecast quality: none due yet"
    else:
        quality = (
            f"forecast quality: MAE {update.quality_mae:,.0f} veh/h per detector at +15 min "
            f"(last {update.quality_samples})"
        )
    return f"Forecast, network flow (veh/h): {ahead} · {quality}"
