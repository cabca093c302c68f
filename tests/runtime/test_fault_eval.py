"""``iot faults eval`` on the tiny network: every class measured, stuck-on found fast, no false alarm."""

from __future__ import annotations

from trafficai.runtime.fault_eval import evaluate


def test_fault_eval_on_tiny_reports_every_figure(tiny: str) -> None:
    result = evaluate(tiny, (0,), per_run=2, classes=("stuck-on", "chatter"), workers=2)
    data = result.as_json()
    assert set(data) >= {
        "min_recall",
        "recall_by_class",
        "median_ttd_s_by_class",
        "false_alarms_per_100_detector_hours",
        "substitution_wape",
    }
    assert data["recall_by_class"] == {"stuck-on": 1.0, "chatter": 1.0}
    assert 0 < data["median_ttd_s_by_class"]["stuck-on"] <= 120
    assert data["false_alarms_per_100_detector_hours"] == 0.0


def test_heartbeat_loss_is_found_by_the_heartbeat_watch(tiny: str) -> None:
    result = evaluate(tiny, (0,), per_run=2, classes=("heartbeat-loss",), workers=2)
    data = result.as_json()
    assert data["recall_by_class"] == {"heartbeat-loss": 1.0}
    assert 90 <= data["median_ttd_s_by_class"]["heartbeat-loss"] <= 150  # 3 periods of 30 s, at a bin
    assert data["false_alarms_per_100_detector_hours"] == 0.0
