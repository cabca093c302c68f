"""In-process SUMO through libsumo: the fast default. One simulation per process."""

from __future__ import annotations

import threading

from trafficai.core.scenario import Scenario
from trafficai.errors import SimulationError
from trafficai.sim.sumo_backend import SumoBackend
from trafficai.sim.sumo_command import SumoOptions, sumo_args, sumo_binary
from trafficai.sim.sumo_messages import captured_stderr, first_error, one_line, warnings_of

_active_lock = threading.RLock()  # close() of another backend re-enters it
_active: list[LibsumoBackend] = []


class LibsumoBackend(SumoBackend):
    def __init__(self, scenario: Scenario, options: SumoOptions, *, vehicles: bool = True) -> None:
        import libsumo

        with _active_lock:
            for other in list(_active):  # libsumo holds one simulation per process
                other.close()
            with captured_stderr() as messages:
                try:
                    libsumo.start([str(sumo_binary("sumo")), *sumo_args(scenario, options)])
                    failure = None
                except Exception as exc:
                    failure = exc
            if failure is not None:
                reason = first_error(messages) or one_line(str(failure))
                raise SimulationError(f"SUMO could not load {scenario.source}: {reason}") from failure
            _active.append(self)
        warnings = tuple(warnings_of(messages))
        super().__init__(libsumo, scenario, options, vehicles=vehicles, load_warnings=warnings)

    def close(self) -> None:
        super().close()
        with _active_lock:
            if self in _active:
                _active.remove(self)
