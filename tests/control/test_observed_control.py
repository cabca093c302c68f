"""Controllers fed by cameras (the real tracker and counter on ground-truth boxes) on real SUMO:
they decide on sensed lanes only, and every transition SUMO shows is safe."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tests.support.safety_monitor import SafetyMonitor
from trafficai.config import ObserveSection, SafetyConfig
from trafficai.control.baselines import MaxPressureController, SotlController
from trafficai.control.loop import ControlLoop
from trafficai.control.safety import SignalStatus
from trafficai.core.scenario import resolve_scenario
from trafficai.core.snapshot import Snapshot
from trafficai.runtime.observe import make_observer
from trafficai.sim.factory import open_backend
from trafficai.sim.sumo_command import SumoOptions

pytestmark = pytest.mark.sumo


class Recording(MaxPressureController):
    def __init__(self) -> None:
        self.seen: list[Snapshot] = []

    def decide(self, snapshot: Snapshot, status: Mapping[str, SignalStatus]) -> dict[str, int]:
        self.seen.append(snapshot)
        return super().decide(snapshot, status)


@pytest.mark.parametrize("controller", [Recording, pytest.param(SotlController, marks=pytest.mark.slow)])
def test_camera_fed_control_is_safe_and_sees_only_sensed_lanes(controller: type) -> None:
    scenario = resolve_scenario("single")
    backend = open_backend(scenario, SumoOptions(seed=2, end_s=60.0, warnings=False), vehicles=True)
    try:
        loop = ControlLoop(backend, SafetyConfig(), decision_interval_s=5.0)
        loop.observer = make_observer(
            ObserveSection(source="cameras", camera_drop_rate=0.1, camera_fallback="none"),
            backend.geometry,
            backend.step_length_s,
            2,
        )
        chosen = controller()
        loop.assign(chosen)
        monitors = {
            s.id: SafetyMonitor(
                yellow_steps=round(min(p.duration for p in s.program.phases if "y" in p.state))
            )
            for s in backend.geometry.signals
        }
        oracle_waiting = 0.0
        while backend.step < backend.end_step:
            taken = loop.step(want_snapshot=True)
            assert taken is not None
            oracle_waiting += float(taken.lanes.waiting.sum())
            for signal_id, monitor in monitors.items():
                monitor.observe(backend.signal_state(signal_id))
    finally:
        backend.close()
    assert all(not m.violations for m in monitors.values()), {k: m.violations for k, m in monitors.items()}
    assert oracle_waiting > 0  # the run's own snapshots keep the simulator's truth
    if isinstance(chosen, Recording):
        assert len(chosen.seen) == 60 // 5
        assert all(float(s.lanes.waiting.sum()) == 0.0 for s in chosen.seen)  # not sensed: zero
        assert max(int(s.lanes.vehicles.sum()) for s in chosen.seen) > 0  # cameras saw traffic
