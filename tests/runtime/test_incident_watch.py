"""An incident alarm as the operator sees it: severity alarm, the lane to close as its object, the
loop pair, the evidence and the nearest camera."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.sensors.fakes import cross_geometry
from trafficai.errors import TrafficAIError
from trafficai.runtime.incident_watch import INCIDENT_KIND, IncidentWatch
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
    assert "camera cam_C" in event.message
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
