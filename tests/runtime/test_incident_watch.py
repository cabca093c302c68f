"""An incident alarm as the operator sees it: severity alarm, the lane to close as its object, the
loop pair, the evidence and the nearest camera; a camera's stopped-vehicle alarm the same way."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.sensors.fakes import cross_geometry, snapshot
from trafficai.core.snapshot import Snapshot, VehicleArrays
from trafficai.errors import TrafficAIError
from trafficai.runtime.incident_watch import INCIDENT_KIND, IncidentWatch
from trafficai.sensors.cameras import CameraSpec, in_view
from trafficai.sensors.incident_detection import Alarm
from trafficai.sensors.loop_pairs import loop_pairs


def test_alarm_event_names_lane_pair_evidence_and_camera() -> None:
    geometry = cross_geometry()
    watch = IncidentWatch()
    watch.geometry = geometry
    watch.pairs = loop_pairs(geometry, {"N_in_0": ("C_S_0",), "S_in_0": ("C_N_0",)})
    watch.cameras = (("cam_far", 500.0, 500.0), ("cam_C", 5.0, 5.0))
    mid_block = next(i for i, p in enumerate(watch.pairs) if p.id == "up_N>stop_N")
    stop_line = next(i for i, p in enumerate(watch.pairs) if p.id == "stop_S>free")
    event = watch.event(Alarm(600.0, mid_block, "baseline-anomaly", {"z_up": 7.5}))
    assert (event.severity, event.kind, event.object_id) == ("alarm", INCIDENT_KIND, "N_in_0")
    assert "between up_N and stop_N" in event.message and "z_up 7.50" in event.message
    assert "camera cam_C" in event.message and event.camera == "cam_C"  # the events list's link
    # a stop-line loop's alarm points past the junction, to the next lane of the pair
    assert watch.event(Alarm(630.0, stop_line, "california8", {})).object_id == "C_N_0"


def test_unknown_detector_is_one_line() -> None:
    with pytest.raises(TrafficAIError, match="unknown incident detector 'magic'"):
        IncidentWatch("magic")


@pytest.mark.parametrize("asked", [False, True])
def test_the_live_worker_watches_for_incidents_only_when_asked(asked: bool) -> None:
    from tests.runtime.conftest import TINY
    from trafficai.runtime.messages import Message
    from trafficai.runtime.sim_worker import SimWorker
    from trafficai.runtime.worker_config import WorkerConfig

    published: list[Message] = []
    config = WorkerConfig.for_scenario(TINY, speed=None, playing=False, record=False)
    worker = SimWorker(replace(config, detect_incidents=asked), published.append, lambda: 10**9)
    worker.start(first=True)
    try:
        assert worker.life is not None
        watching = [o for o in worker.life.observers if isinstance(o, IncidentWatch)]
        assert len(watching) == (1 if asked else 0)
    finally:
        worker.end_simulation("interrupted")


def standing(time_s: float, y: float, speed: float = 0.0) -> Snapshot:
    """A snapshot of ``cross_geometry`` with one vehicle on lane N_in_0 at (0, y)."""
    vehicles = VehicleArrays(
        ids=("veh",),
        xy=np.array([[0.0, y]], dtype=np.float32),
        angle=np.array([180.0], dtype=np.float32),
        speed=np.array([speed], dtype=np.float32),
        lane=np.array([0], dtype=np.int32),
        vtype=np.zeros(1, dtype=np.int32),
        waiting=np.zeros(1, dtype=np.float32),
        time_loss=np.zeros(1, dtype=np.float32),
    )
    return replace(snapshot(time_s, [0, 0, 0, 0], [0.0] * 4), vehicles=vehicles)


def camera_watch() -> IncidentWatch:
    watch = IncidentWatch()
    camera = CameraSpec("cam_N", "C", 0.0, 10.0, heading=0.0)  # looks up the north arm
    watch.bind_cameras([camera], cross_geometry())
    assert in_view(camera, np.array([[0.0, 50.0]]))[0]
    return watch


def test_a_camera_raises_an_alarm_for_a_vehicle_standing_mid_lane() -> None:
    watch = camera_watch()
    events = [e for t in range(0, 40, 5) for e in watch.observe(standing(600.0 + t, 50.0))]
    assert len(events) == 1  # once, after 10 s of standing (the evaluation's setting)
    event = events[0]
    assert (event.time_s, event.severity, event.kind, event.object_id) == (
        610.0,
        "alarm",
        INCIDENT_KIND,
        "N_in_0",
    )
    assert "camera cam_N (in view)" in event.message and "42 m before the lane's end" in event.message
    assert event.camera == "cam_N"


def test_a_camera_ignores_moving_vehicles_and_snapshots_without_vehicles() -> None:
    watch = camera_watch()
    assert [e for t in range(0, 60, 5) for e in watch.observe(standing(600.0 + t, 50.0, speed=8.0))] == []
    assert watch.observe(snapshot(700.0, [0, 0, 0, 0], [0.0] * 4)) == []
    assert IncidentWatch().observe(standing(600.0, 50.0)) == []  # not bound: no cameras, no loops
