"""SUMO over a TraCI socket: slower, but can drive sumo-gui or attach to a remote SUMO."""

from __future__ import annotations

import contextlib
import itertools
import sys

from trafficai.core.scenario import Scenario
from trafficai.errors import SimulationError
from trafficai.sim.sumo_backend import SumoBackend
from trafficai.sim.sumo_command import SumoOptions, sumo_args, sumo_binary

_labels = itertools.count()


class TraciBackend(SumoBackend):
    def __init__(
        self, scenario: Scenario, options: SumoOptions, *, vehicles: bool = True, gui: bool = False
    ) -> None:
        import traci

        label = f"trafficai-{next(_labels)}"
        binary = sumo_binary("sumo-gui" if gui else "sumo")
        try:
            # traci prints connection retries on stdout, which must stay clean for --json
            with contextlib.redirect_stdout(sys.stderr):
                traci.start([str(binary), *sumo_args(scenario, options)], label=label)
        except Exception as exc:
            raise SimulationError(
                f"SUMO could not load {scenario.source}: {exc}", scenario=scenario.name
            ) from exc
        connection = traci.getConnection(label)
        super().__init__(connection, scenario, options, vehicles=vehicles, constants=traci.constants)
