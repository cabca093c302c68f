"""``trafficai incidents eval`` on a tiny configuration (the default suite's smoke test), its
one-line errors, ``trafficai whatif``'s one-line errors, and ``run --detect-incidents``."""

from __future__ import annotations

import json

import pytest

from tests.cli.support import assert_one_line_error, trafficai

pytestmark = pytest.mark.sumo


def test_incidents_eval_on_a_tiny_configuration_prints_every_detector(tiny: str) -> None:
    proc = trafficai(
        "incidents",
        "eval",
        tiny,
        "--runs",
        "1",
        "--tuning-runs",
        "1",
        "--levels",
        "1.0",
        "--duration",
        "480",
        "--warmup",
        "120",
        "--incident-duration",
        "240",
        "--jobs",
        "1",
        "--camera-runs",
        "1",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["runs"] == {
        "tuning": 2,
        "evaluation": 2,
        "levels": [1.0],
        "camera_tuning": 1,
        "camera_evaluation": 1,
    }
    # the best is ours, never a baseline (held-vehicles, by measurement on corridor)
    assert result["best"]["detector"] == "held-vehicles"
    held = result["spacings"]["100 m"]["detectors"]["held-vehicles"]["setting"]
    assert "held_bounds" in held and {"held_min", "held_margin", "quiet_bins"} <= set(held)
    for name in ("california8", "fixed-threshold"):
        assert set(result["baselines"][name]) == {"detection_rate", "mttd_s", "false_alarms_per_network_hour"}
    assert result["false_alarms_per_network_hour"] >= 0
    assert set(result["spacings"]) == {"stop-line", "200 m", "100 m"}
    # tiny: four stop-line loops and no loop downstream of them (no pair); mid-block loops add pairs
    assert result["spacings"]["stop-line"]["loops"] == 4 and result["spacings"]["stop-line"]["pairs"] == 0
    assert result["spacings"]["100 m"]["pairs"] > 0
    cameras = result["cameras"]  # tiny's one camera, its stopped-vehicle detector scored
    assert cameras["cameras"] == ["cam_C"] and cameras["false_alarms_per_network_hour"] >= 0
    assert cameras["incidents_in_view"] == 1  # the camera run's stopped vehicle, drawn in view
    assert cameras["detector"] == "camera-stopped-vehicle" and set(cameras["setting"]) == {
        "min_stop_s",
        "min_dist_to_end_m",
    }


def test_incidents_eval_refuses_a_bad_plan(tiny: str) -> None:
    proc = trafficai(
        "incidents", "eval", tiny, "--duration", "300", "--warmup", "120", "--incident-duration", "240"
    )
    assert_one_line_error(proc, "--duration 300")


def test_whatif_refuses_an_unknown_controller_and_lane(tiny: str) -> None:
    assert_one_line_error(
        trafficai("whatif", tiny, "--at", "200", "--branch", "controller=warp"), "unknown controller 'warp'"
    )
    assert_one_line_error(
        trafficai("whatif", tiny, "--at", "200", "--branch", "incident=close-lane:X_0"), "no lane 'X_0'"
    )
