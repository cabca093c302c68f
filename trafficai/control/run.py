"""One simulation under control: the backend, the control loop over it, and its scratch folder.

The part of a run's life cycle shared by every kind of run (headless runs and the GUI worker
through :mod:`trafficai.runtime.lifecycle`, RL episodes directly): it lives here, below
``runtime``, because RL episodes (``control/rl``) may not import upward. Recording a run (the run
store, KPI bins, tripinfo KPIs) is ``runtime``'s part.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, cast

from trafficai.config import FaultSection, SafetyConfig
from trafficai.control.loop import ControlLoop
from trafficai.core.scenario import Scenario
from trafficai.sensors.faults import with_faults
from trafficai.sensors.substitution import SubstitutingBackend
from trafficai.sim.backend import SimBackend
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

TRIPINFO_FILE = "tripinfo.xml"
MESSAGE_LOG_FILE = "sumo-messages.log"


@dataclass
class SimulationRun:
    scenario: Scenario
    backend: SimBackend
    loop: ControlLoop
    workdir: Path | None  # SUMO's output files (tripinfo, message log); removed on close

    def close(self) -> None:
        """Close SUMO and remove the scratch folder (safe to call twice)."""
        self.backend.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def open_simulation(
    scenario: Scenario,
    options: SumoOptions,
    safety: SafetyConfig,
    decision_interval_s: float,
    *,
    kind: Literal["libsumo", "traci"] = "libsumo",
    gui: bool = False,
    use_deadline: bool = True,
    tripinfo: bool = False,
    message_log: bool = False,
    scratch_prefix: str = "trafficai-run-",
    faults: Sequence[FaultSection] = (),
    fault_seed: int = 0,
    substitute: bool = False,
    vehicles: bool = False,
    live_faults: bool = False,
    fault_cameras: Collection[str] | None = (),
) -> SimulationRun:
    """Start SUMO on ``scenario`` (no vehicle subscriptions unless ``vehicles``, e.g. for perfect
    cameras: nothing per vehicle is read per step)
    and a control loop over it. ``tripinfo``/``message_log`` give SUMO a scratch folder for its
    trip records and its mid-run messages. ``live_faults``: faults may be injected while it runs
    (``sensors.faults.fault_plan``); ``fault_cameras``: the camera ids faults may name (None:
    checked by the caller once its cameras are placed, ``sensors.faults.check_devices``)."""
    workdir = Path(tempfile.mkdtemp(prefix=scratch_prefix)) if tripinfo or message_log else None
    if workdir is not None:
        options = replace(
            options,
            tripinfo_path=workdir / TRIPINFO_FILE if tripinfo else options.tripinfo_path,
            message_log=workdir / MESSAGE_LOG_FILE if message_log else options.message_log,
        )
    try:
        backend = open_backend(scenario, options, kind=kind, vehicles=vehicles, gui=gui)
    except BaseException:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    try:
        # every consumer reads the faulty loops
        backend = with_faults(backend, faults, fault_seed, live=live_faults, cameras=fault_cameras)
        if substitute:  # above the faults: controllers read substitutes for loops flagged failed
            backend = cast(SimBackend, SubstitutingBackend(backend))
    except BaseException:
        backend.close()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    loop = ControlLoop(backend, safety, decision_interval_s, use_deadline=use_deadline)
    return SimulationRun(scenario, backend, loop, workdir)
