"""Opening the live run: the scenario (or a saved state) through the run lifecycle, its
controllers, its record, and the Ready message the GUI builds its views from."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from trafficai.control.registry import make_controller
from trafficai.core.scenario import Scenario
from trafficai.errors import StoreError, TrafficAIError
from trafficai.runtime.incident_schedule import IncidentSchedule
from trafficai.runtime.incident_watch import IncidentWatch
from trafficai.runtime.lifecycle import RunLifecycle
from trafficai.runtime.live_faults import LiveFaults
from trafficai.runtime.live_forecast import open_live_forecaster
from trafficai.runtime.resume import resumed
from trafficai.runtime.views import ready_message
from trafficai.sim.state_files import SavedState
from trafficai.storage import RunStore

if TYPE_CHECKING:
    from trafficai.runtime.sim_worker import SimWorker

logger = logging.getLogger("trafficai.runtime.sim_worker")
MAX_LOAD_WARNINGS = 20  # SUMO's load warnings shown as events at most


def open_live_simulation(worker: SimWorker, scenario: Scenario, resume: SavedState | None = None) -> None:
    """Open ``scenario`` (``resume``: from a saved state) for the live run and publish Ready."""
    cfg = worker.config
    origin_s = worker.origin_s = scenario.begin_s
    run_config = cfg.run
    if resume is not None:
        scenario, run_config = resumed(scenario, run_config, resume)
    controller = worker.controller or scenario.default_controller
    worker.controller = controller
    run = run_config.model_copy(
        update={
            "scenario": str(scenario.source),
            "controller": controller,
            "sim": cfg.run.sim.model_copy(update={"demand_scale": worker.demand}),
        }
    )
    incident_watch = (IncidentWatch(),) if cfg.detect_incidents else ()
    life = RunLifecycle(
        run,
        scenario,
        observers=(*worker.observers, worker.inspection, *incident_watch),
        sample_interval_s=cfg.kpi_interval_s,
        tolerate_store_errors=True,
        devices=cfg.devices,
        live_faults=True,  # the operator may inject faults (runtime/live_faults.py)
    )
    worker.life = life
    sim = life.open(
        warnings=cfg.warnings,
        max_depart_delay_s=cfg.max_depart_delay_s,
        sumo_extra=cfg.sumo_extra,
        message_log=True,
        scratch_prefix="trafficai-gui-",
        state_saving=worker.resume_points.saving(worker.generation, resume),
        load_state=resume.path if resume is not None else None,
    )
    worker.backend, worker.loop = sim.backend, sim.loop
    worker.resumable = None
    worker.schedule = IncidentSchedule(run.incidents, worker.operator, origin_s) if run.incidents else None
    if worker.schedule is not None:
        worker.schedule.check(sim.backend)
    worker.tracking = worker.frames
    worker.tracked_since_s = sim.backend.time_s
    worker.inspection.reset(sim.backend.geometry)
    worker.forecaster, why_not = open_live_forecaster(scenario.name, sim.backend.geometry)
    if worker.forecaster is not None:
        life.observers = (*life.observers, worker.forecaster)
    elif why_not:
        worker.event("warning", "forecast", why_not)
    _attach_controllers(worker, life, controller)
    store = _open_store(worker) if cfg.record else None
    worker.pending_events += life.record(store, controller, source="gui", owns_store=True)
    logger.info("simulation of %s started (run %s)", scenario.name, life.run_id or "not recorded")
    worker.kpis.reset()
    worker.pacer.reanchor(sim.backend.time_s)
    worker.rate.reset()
    ready = ready_message(
        worker.generation, scenario, sim.backend, sim.loop, controller, life.run_id, worker.demand
    )
    worker.publish(ready)
    worker.live_faults = LiveFaults(life)
    worker.publish(worker.live_faults.view(worker.generation))
    worker.event("info", "run", f"simulation of {scenario.name} started (controller {controller})")
    for warning in sim.backend.load_warnings[:MAX_LOAD_WARNINGS]:
        worker.event("warning", "sumo", str(warning))
    worker._track_signals()
    worker.publish_incidents()
    worker.budget.dirty = True


def _open_store(worker: SimWorker) -> RunStore | None:
    path = worker.config.store_path
    try:
        return RunStore(Path(path) if path else None)
    except (StoreError, ValueError) as exc:
        worker.event("warning", "store", f"this run is not recorded: {exc}")
        return None


def _attach_controllers(worker: SimWorker, life: RunLifecycle, controller: str) -> None:
    try:
        life.attach(make_controller(controller), worker.config.run.signals)
    except TrafficAIError as exc:
        worker.event("warning", "controller", f"controller '{controller}' not applied: {exc}")
    for name, signals in worker.assignments:
        try:
            life.attach(make_controller(name), signals)
        except TrafficAIError as exc:
            where = ", ".join(signals)
            worker.event("warning", "controller", f"controller '{name}' not applied to {where}: {exc}")
