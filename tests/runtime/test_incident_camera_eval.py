"""Camera incident detection scored on recordings: an incident in view is detected at the tuned
stand time, one out of view is not counted, a stopped vehicle in an incident-free run is a false
alarm, and tuning picks the fastest setting within the false-alarm budget."""

from __future__ import annotations

import numpy as np

from tests.sensors.fakes import cross_geometry
from tests.sensors.test_camera_incidents import CAMERA
from trafficai.config import IncidentSection
from trafficai.runtime.incident_camera_eval import camera_score, evaluate_cameras, in_camera_view
from trafficai.runtime.incident_runs import Recording, RunTask

TIMES = np.arange(0.0, 600.0, 5.0)


def recording(
    incident: IncidentSection | None, stands: tuple[float, float] | None, dist: float = 52.0
) -> Recording:
    """A run whose camera sees one vehicle standing at the head of its chain from ``stands[0]`` to
    ``stands[1]`` (``dist`` m before the lane's end), nothing else."""
    rows = [(t, 0.0, 0.0, dist, 7.0) for t in TIMES if stands and stands[0] <= t <= stands[1]]
    empty = np.zeros((0, 4))
    return Recording(
        RunTask("unused", 1, 1.0, 600.0, incident), cross_geometry(), np.zeros(0), empty, empty, empty,
        np.zeros(0), camera_t=TIMES, camera_heads=np.array(rows).reshape(-1, 5),
    )  # fmt: skip


def block(position: float) -> IncidentSection:
    return IncidentSection(kind="block-lane", target="N_in_0", at=200.0, duration=300.0, position=position)


def test_an_incident_in_view_is_detected_after_the_stand_time() -> None:
    seen = recording(block(40.0), (200.0, 500.0))
    assert in_camera_view(seen, [CAMERA]) and not in_camera_view(recording(block(1.0), None), [CAMERA])
    free = recording(None, (300.0, 360.0), dist=30.0)  # a vehicle standing a minute mid-lane
    score = camera_score({"min_stop_s": 30.0, "min_dist_to_end_m": 10.0}, [seen, free], [CAMERA], 60.0, 600.0)
    assert score["incidents_in_view"] == 1 and score["detected"] == 1 and score["mttd_s"] == 30.0
    assert score["false_alarms"] == 1
    strict = camera_score(
        {"min_stop_s": 90.0, "min_dist_to_end_m": 10.0}, [seen, free], [CAMERA], 60.0, 600.0
    )
    assert strict["detected"] == 1 and strict["mttd_s"] == 90.0 and strict["false_alarms"] == 0


def test_tuning_keeps_within_the_budget() -> None:
    runs = [recording(block(40.0), (200.0, 500.0)), recording(None, (300.0, 360.0), dist=30.0)]
    result = evaluate_cameras([CAMERA], runs, runs, 60.0, 600.0, fa_budget_per_hour=0.5)
    assert result is not None
    # 60 s of standing in the incident-free run: 60 s or less is a false alarm (7.5 per hour), so
    # the fastest setting within the budget waits 90 s
    assert result["setting"]["min_stop_s"] == 90.0
    assert result["detection_rate"] == 1.0 and result["mttd_s"] == 90.0
    assert result["false_alarms_per_network_hour"] == 0.0
    assert evaluate_cameras([], runs, runs, 60.0, 600.0, 0.5) is None
