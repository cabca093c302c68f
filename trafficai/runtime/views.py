"""What the worker shows of a running simulation: the Ready message, the signals' status in a
frame, and the signal state changes step by step (for the phase timeline)."""

from __future__ import annotations

from trafficai.control.loop import ControlLoop
from trafficai.control.registry import controller_names
from trafficai.core.geometry import NetGeometry
from trafficai.core.scenario import Scenario
from trafficai.runtime.messages import CameraView, Ready, SignalView
from trafficai.runtime.operator_state import OperatorState
from trafficai.sensors.cameras import CameraSpec
from trafficai.sim.backend import SimBackend
from trafficai.sim.net_loader import signal_timings
from trafficai.vision.placement import scenario_cameras


def ready_message(
    generation: int,
    scenario: Scenario,
    backend: SimBackend,
    loop: ControlLoop,
    controller: str,
    run_id: str,
    demand_scale: float,
) -> Ready:
    geometry = backend.geometry
    return Ready(
        generation=generation,
        scenario=scenario.name,
        source=str(scenario.source),
        description=scenario.description,
        geometry=geometry,
        cameras=camera_views(scenario, geometry),
        greens={s.id: loop.safety.greens(s.id) for s in geometry.signals},
        controllable=tuple(s.id for s in geometry.signals if loop.safety.controllable(s.id)),
        controllers=controller_names(),
        controller=controller,
        run_id=run_id,
        begin_s=scenario.begin_s,
        end_s=backend.time_s + backend.end_step * backend.step_length_s,
        step_length_s=backend.step_length_s,
        demand_scale=demand_scale,
        timings=signal_timings(scenario.net, scenario.additional),
    )


def signal_views(backend: SimBackend, loop: ControlLoop, operator: OperatorState) -> tuple[SignalView, ...]:
    views = []
    for info in backend.geometry.signals:
        status = loop.safety.status(info.id)
        note = operator.overrides.get(info.id)
        left = loop.safety.override_left_s(info.id) if note is not None else None
        views.append(
            SignalView(
                signal_id=info.id,
                controller=loop.controller_of(info.id),
                controlled=status.controlled,
                current_green=status.current_green,
                n_greens=status.n_greens,
                stage=status.stage,
                time_in_stage_s=status.time_in_stage_s,
                override=note.label if note else "",
                override_left_s=left or 0.0,
                override_reason=note.reason if note else "",
                override_user=note.user if note else "",
            )
        )
    return tuple(views)


class SignalTracker:
    """Signal state changes since the last :meth:`take`: (signal index, time, new state)."""

    def __init__(self) -> None:
        self.last_states: list[str] = []
        self.changes: list[tuple[int, float, str]] = []

    def forget(self) -> None:
        """Re-read every signal's state at the next :meth:`track` (a new simulation, tracking on)."""
        self.last_states = []

    def track(self, backend: SimBackend) -> None:
        time_s = backend.time_s
        ids = [s.id for s in backend.geometry.signals]
        if len(self.last_states) != len(ids):
            self.last_states = [""] * len(ids)
        for i, signal_id in enumerate(ids):
            state = backend.signal_state(signal_id)
            if state != self.last_states[i]:
                self.last_states[i] = state
                self.changes.append((i, time_s, state))

    def take(self) -> tuple[tuple[int, float, str], ...]:
        changes, self.changes = tuple(self.changes), []
        return changes


def camera_view(c: CameraSpec) -> CameraView:
    return CameraView(
        c.id,
        c.junction,
        c.x,
        c.y,
        c.heading,
        c.fov,
        c.range_m,
        c.height,
        c.tilt,
        c.image_width,
        c.image_height,
        c.frame_rate,
    )


def camera_views(scenario: Scenario, geometry: NetGeometry) -> tuple[CameraView, ...]:
    """The manifest's cameras and approach cameras over its main junctions (vision.placement)."""
    return tuple(camera_view(c) for c in scenario_cameras(scenario, geometry))
