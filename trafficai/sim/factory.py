"""Opening a backend by name."""

from __future__ import annotations

from typing import Literal

from trafficai.core.scenario import Scenario
from trafficai.sim.backend import SimBackend
from trafficai.sim.sumo_command import SumoOptions


def open_backend(
    scenario: Scenario,
    options: SumoOptions,
    *,
    kind: Literal["libsumo", "traci"] = "libsumo",
    vehicles: bool = True,
    gui: bool = False,
) -> SimBackend:
    if kind == "traci" or gui:
        from trafficai.sim.traci_backend import TraciBackend

        return TraciBackend(scenario, options, vehicles=vehicles, gui=gui)
    from trafficai.sim.libsumo_backend import LibsumoBackend

    return LibsumoBackend(scenario, options, vehicles=vehicles)
