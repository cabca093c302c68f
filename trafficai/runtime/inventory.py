"""Rows for ``trafficai scenarios``."""

from __future__ import annotations

from trafficai.core.scenario import available_scenarios, resolve_scenario
from trafficai.errors import TrafficAIError
from trafficai.sim.inventory import scenario_size


def scenario_rows() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name in available_scenarios():
        try:
            scenario = resolve_scenario(name)
            size = scenario_size(scenario)
        except (TrafficAIError, OSError) as exc:
            rows.append((name, "", "", "", "", "", "", "", f"[red]broken: {exc}[/]"))
            continue
        per_hour = size.vehicles * 3600.0 / scenario.duration_s
        vehicles = f"{size.vehicles:,}" + (f" +{size.flows} flows" if size.flows else "")
        rows.append(
            (
                name,
                str(size.signals),
                str(size.lanes),
                str(size.e1),
                str(size.e2),
                vehicles,
                f"{per_hour:,.0f}",
                f"{scenario.duration_s:g} s",
                scenario.description,
            )
        )
    return rows
