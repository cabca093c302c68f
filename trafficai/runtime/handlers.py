"""What the worker does for each command: one handler per command type, in one table.

A handler takes the worker and the command; raising a :class:`~trafficai.errors.TrafficAIError`
refuses the command with that one-line message (the worker reports it). A new command is its type
in :mod:`trafficai.runtime.commands` plus one ``@handles`` function here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from trafficai.control.registry import make_controller
from trafficai.errors import TrafficAIError
from trafficai.runtime.authorization import command_user
from trafficai.runtime.commands import (
    AcknowledgeAlarm,
    BlockLane,
    ClearFault,
    ClearIncident,
    ClearOverride,
    CloseEdge,
    CloseLane,
    Command,
    DemandScale,
    ForkWhatIf,
    InjectFault,
    Inspect,
    Jump,
    MarkDetector,
    OpenLane,
    Override,
    Pause,
    Play,
    Restart,
    RestoreAll,
    Resume,
    RouteDemand,
    SetController,
    SetFrames,
    SetSpeed,
    Shutdown,
    Step,
    describe,
)
from trafficai.runtime.resume import clock

if TYPE_CHECKING:
    from trafficai.runtime.lifecycle import RunLifecycle
    from trafficai.runtime.live_faults import LiveFaults
    from trafficai.runtime.sim_worker import SimWorker
    from trafficai.runtime.whatif import BranchSpec

C = TypeVar("C")
Handler = Callable[["SimWorker", Any], None]
HANDLERS: dict[type, Handler] = {}
MAX_DEMAND_SCALE = 20.0


def handles(kind: type[C]) -> Callable[[Callable[[SimWorker, C], None]], Callable[[SimWorker, C], None]]:
    """Register the decorated function as the one handler of ``kind``."""

    def register(fn: Callable[[SimWorker, C], None]) -> Callable[[SimWorker, C], None]:
        if kind in HANDLERS:
            raise TypeError(f"{kind.__name__} has a handler already")
        HANDLERS[kind] = fn
        return fn

    return register


def handler_for(command: Command) -> Handler:
    try:
        return HANDLERS[type(command)]
    except KeyError:
        raise TrafficAIError(f"unknown command {describe(command)}") from None


# -- running the simulation ---------------------------------------------------------------------


@handles(Play)
def play(worker: SimWorker, command: Play) -> None:
    worker.need_sim()
    worker.playing = True
    worker.reanchor()
    worker.rate.reset()


@handles(Pause)
def pause(worker: SimWorker, command: Pause) -> None:
    worker.playing = False
    worker.jump_target = None
    worker.steps_to_go = 0
    worker.budget.dirty = True


@handles(Step)
def step(worker: SimWorker, command: Step) -> None:
    worker.need_sim()
    if command.count < 1:
        raise TrafficAIError("step count must be at least 1")
    worker.playing = False
    worker.steps_to_go += command.count


@handles(SetSpeed)
def set_speed(worker: SimWorker, command: SetSpeed) -> None:
    if command.factor is not None and not (math.isfinite(command.factor) and command.factor > 0):
        raise TrafficAIError(f"speed must be a positive real-time factor, got {command.factor}")
    worker.pacer.speed = command.factor
    worker.reanchor()


@handles(Restart)
def restart(worker: SimWorker, command: Restart) -> None:
    worker.restart()


@handles(Jump)
def jump(worker: SimWorker, command: Jump) -> None:
    if not math.isfinite(command.time_s):
        raise TrafficAIError(f"cannot jump to t={command.time_s}")
    if worker.backend is None or command.time_s < worker.backend.time_s:
        worker.event(
            "info", "run", f"jump back to t={command.time_s:g}s: the scenario restarts", user=command.user
        )
        worker.restart()
        if worker.backend is None:
            return
    backend = worker.backend
    end = backend.time_s + (backend.end_step - backend.step) * backend.step_length_s
    target = min(command.time_s, end)
    if target <= backend.time_s:
        worker.budget.dirty = True
        return
    worker.jump_target = target
    worker.set_tracking(False)  # nothing read per step while jumping: headless speed


@handles(SetFrames)
def set_frames(worker: SimWorker, command: SetFrames) -> None:
    worker.frames = command.enabled
    if worker.jump_target is None:
        worker.set_tracking(command.enabled)
    worker.budget.dirty = command.enabled


@handles(Inspect)
def inspect(worker: SimWorker, command: Inspect) -> None:
    worker.inspection.set(command)
    worker.budget.dirty = True  # the next frame carries the details


@handles(Shutdown)
def shutdown(worker: SimWorker, command: Shutdown) -> None:
    worker.stopping = True


# -- control ------------------------------------------------------------------------------------


@handles(SetController)
def set_controller(worker: SimWorker, command: SetController) -> None:
    _, loop = worker.need_sim()
    controller = make_controller(command.name)
    signals = tuple(command.signals)
    loop.assign(controller, signals or None)
    where = ", ".join(signals) if signals else "all signals"
    if signals:
        kept = [(n, tuple(s for s in sig if s not in signals)) for n, sig in worker.assignments]
        worker.assignments = [(n, sig) for n, sig in kept if sig] + [(command.name, signals)]
    else:
        worker.controller = command.name
        worker.assignments = []
    worker.operator.drop_overrides(loop, signals)
    worker.event("info", "controller", f"controller {command.name} now runs {where}", user=command.user)
    worker.budget.dirty = True


@handles(DemandScale)
def demand_scale(worker: SimWorker, command: DemandScale) -> None:
    backend, _ = worker.need_sim()
    if not (math.isfinite(command.factor) and 0 < command.factor <= MAX_DEMAND_SCALE):
        raise TrafficAIError(f"demand scale must be in (0, {MAX_DEMAND_SCALE:g}], got {command.factor}")
    backend.set_demand_scale(command.factor)
    worker.demand = command.factor
    worker.event("info", "demand", f"demand scaled to {command.factor:g}x", user=command.user)


@handles(Override)
def override(worker: SimWorker, command: Override) -> None:
    _, loop = worker.need_sim()
    worker.operator.override(loop, command)
    worker.budget.dirty = True


@handles(ClearOverride)
def clear_override(worker: SimWorker, command: ClearOverride) -> None:
    _, loop = worker.need_sim()
    worker.operator.clear_override(loop, command.signal_id, command.user)
    worker.budget.dirty = True


# -- incidents ----------------------------------------------------------------------------------


def _incident_changed(worker: SimWorker) -> None:
    worker.publish_incidents()
    worker.budget.dirty = True


@handles(CloseLane)
def close_lane(worker: SimWorker, command: CloseLane) -> None:
    backend, _ = worker.need_sim()
    worker.operator.close(backend, command)
    _incident_changed(worker)


@handles(CloseEdge)
def close_edge(worker: SimWorker, command: CloseEdge) -> None:
    backend, _ = worker.need_sim()
    worker.operator.close(backend, command)
    _incident_changed(worker)


@handles(BlockLane)
def block_lane(worker: SimWorker, command: BlockLane) -> None:
    backend, _ = worker.need_sim()
    worker.operator.block(backend, command)
    _incident_changed(worker)


@handles(RouteDemand)
def route_demand(worker: SimWorker, command: RouteDemand) -> None:
    backend, _ = worker.need_sim()
    worker.operator.route_demand(backend, command)
    _incident_changed(worker)


@handles(OpenLane)
def open_lane(worker: SimWorker, command: OpenLane) -> None:
    backend, _ = worker.need_sim()
    worker.operator.open_lane(backend, command.lane_id, command.user)
    _incident_changed(worker)


@handles(ClearIncident)
def clear_incident(worker: SimWorker, command: ClearIncident) -> None:
    backend, _ = worker.need_sim()
    worker.operator.clear_incident(backend, command.incident_id, command.user)
    _incident_changed(worker)


@handles(RestoreAll)
def restore_all(worker: SimWorker, command: RestoreAll) -> None:
    """End every incident and set the demand back to the run's own scale."""
    backend, _ = worker.need_sim()
    worker.operator.clear_all(backend, command.user)
    own = worker.config.run.sim.demand_scale
    if worker.demand != own:
        backend.set_demand_scale(own)
        worker.demand = own
        worker.event("info", "demand", f"demand back to {worker.demand:g}x", user=command.user)
    _incident_changed(worker)


# -- alarms -------------------------------------------------------------------------------------


@handles(AcknowledgeAlarm)
def acknowledge_alarm(worker: SimWorker, command: AcknowledgeAlarm) -> None:
    """Recorded as an info event (simulation time here; the run store adds the wall-clock time)."""
    if not command.key.strip():
        raise TrafficAIError("acknowledge: name the alarm (its key)")
    who = command.user or "unknown operator"
    what = f": {command.summary}" if command.summary else ""
    worker.event("info", "ack", f"{who} acknowledged {command.key}{what}", user=command.user)


# -- detectors ----------------------------------------------------------------------------------


@handles(MarkDetector)
def mark_detector(worker: SimWorker, command: MarkDetector) -> None:
    worker.need_sim()
    assert worker.life is not None  # need_sim: a simulation runs, so its life cycle exists
    event = worker.life.mark_detector(command.detector, command.in_service, command.user, command.reason)
    worker.pending_events.append(event)
    worker.budget.dirty = True


# -- injected faults (runtime/live_faults.py) ----------------------------------------------------


def _live_faults(worker: SimWorker) -> LiveFaults:
    worker.need_sim()
    if worker.live_faults is None:
        raise TrafficAIError("the simulation is not running")
    return worker.live_faults


@handles(InjectFault)
def inject_fault(worker: SimWorker, command: InjectFault) -> None:
    """The fault acts from its start: ground truth in the run store, an audit row, an event."""
    live = _live_faults(worker)
    fault = live.inject(command)
    user = command_user(command, worker.config.user)
    detail = {"fault": fault.describe(), **fault.model_dump(), "source": "gui"}
    worker.audit.record(user, "fault.inject", fault.device, detail)
    start = live.plan.begin_s + fault.at
    until = f" for {fault.duration:g} s" if fault.duration is not None else " until cleared"
    param = f" ({fault.param:g})" if fault.param is not None else ""
    worker.event(
        "warning",
        "fault",
        f"fault injected: {fault.kind}{param} on {fault.device} from {clock(start)}{until}",
        fault.device,
        user,
    )
    worker.publish(live.view(worker.generation))
    worker.budget.dirty = True


@handles(ClearFault)
def clear_fault(worker: SimWorker, command: ClearFault) -> None:
    live = _live_faults(worker)
    fault = live.clear(command)
    user = command_user(command, worker.config.user)
    worker.audit.record(user, "fault.clear", fault.device, {"fault": fault.describe(), **fault.model_dump()})
    worker.event(
        "info", "fault", f"fault cleared: {fault.kind} on {fault.device} after {fault.duration:g} s",
        fault.device, user,
    )  # fmt: skip
    worker.publish(live.view(worker.generation))
    worker.budget.dirty = True


# -- resuming -----------------------------------------------------------------------------------


@handles(Resume)
def resume(worker: SimWorker, command: Resume) -> None:
    worker.resume(command.user)


@handles(ForkWhatIf)
def fork_whatif(worker: SimWorker, command: ForkWhatIf) -> None:
    """Branches from now, the live run going on: ``fork()``ed copies of this process where it can
    (exact: ``runtime/whatif_fork.py``), else SUMO's state saved now and loaded in new processes."""
    from trafficai.runtime.whatif import check_targets, parse_branch
    from trafficai.runtime.whatif_fork import fork_supported

    backend, _ = worker.need_sim()
    life = worker.life
    if life is None:
        raise TrafficAIError("the simulation is not running")
    if worker.branches.busy:
        raise TrafficAIError("what-if branches are already running; wait for their results")
    specs = [parse_branch(text) for text in command.branches]  # ConfigError: one line, refused
    lanes = backend.geometry.lanes
    check_targets(specs, set(lanes.ids), set(lanes.edges))
    if not (math.isfinite(command.horizon_s) and command.horizon_s > 0):
        raise TrafficAIError(f"what-if horizon must be positive, got {command.horizon_s:g}")
    at_s = backend.time_s
    sim = life.config.sim
    if fork_supported(sim.backend, sim.sumo_gui):
        _fork_branches(worker, life, specs, command.horizon_s)
        how = "forked"
    else:
        _state_branches(worker, life, specs, command.horizon_s)
        how = "from a saved state"
    names = ", ".join(command.branches) or "unchanged only"
    worker.event("info", "whatif", f"what-if {how} at {at_s:g} s: {names}", user=command.user)


def _fork_branches(worker: SimWorker, life: RunLifecycle, specs: list[BranchSpec], horizon_s: float) -> None:
    from trafficai.runtime.whatif import UNCHANGED, BranchSpec, source_edges
    from trafficai.runtime.whatif_fork import fork_branches
    from trafficai.sim.net_loader import lane_successors

    every = [BranchSpec(UNCHANGED), *[s for s in specs if s.text != UNCHANGED]]
    sources: tuple[str, ...] = ()
    if any(s.demand is not None for s in every):
        lanes = life.backend.geometry.lanes
        sources = source_edges(
            lane_successors(life.scenario.net), dict(zip(lanes.ids, lanes.edges, strict=True))
        )
    fd = worker.resume_points.dir_fd
    forked = fork_branches(
        life, every, horizon_s, worker.branches.jobs, sources, state_dirs=(fd,) if fd is not None else ()
    )
    worker.branches.start_forked(forked)


def _state_branches(worker: SimWorker, life: RunLifecycle, specs: list[BranchSpec], horizon_s: float) -> None:
    import tempfile
    from pathlib import Path

    from trafficai.runtime.whatif import BranchTask

    scratch = Path(tempfile.mkdtemp(prefix="trafficai-whatif-"))
    state = scratch / "now.xml.gz"
    life.backend.save_state(state)
    at_s = life.backend.time_s
    controller = worker.controller or life.scenario.default_controller
    tasks = [
        BranchTask(spec, life.config, life.scenario, at_s, horizon_s, state, controller) for spec in specs
    ]
    worker.branches.start(tasks, at_s, horizon_s, scratch)
