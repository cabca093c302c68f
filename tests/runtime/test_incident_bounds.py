"""The live held-vehicles detector's bounds file: round trip, and ``IncidentWatch`` choosing
held-vehicles only where a file fitted for the net's loop pairs is found (else one warning naming
the file, and baseline-anomaly)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.sensors.fakes import cross_geometry
from trafficai.core.scenario import Scenario
from trafficai.runtime.incident_bounds import (
    BOUNDS_NAME,
    HeldBounds,
    default_bounds_path,
    load_bounds,
    pair_ids,
    save_bounds,
)
from trafficai.runtime.incident_watch import HELD_LIVE_SETTINGS, LIVE_SETTINGS, IncidentWatch
from trafficai.sensors.incident_detection import Alarm, BaselineAnomaly, HeldVehicles
from trafficai.sensors.loop_pairs import LoopPair, loop_pairs

SUCCESSORS = {"N_in_0": ("C_S_0",), "S_in_0": ("C_N_0",)}
WATCH_LOG = "trafficai.runtime.incident_watch"


def cross_pairs() -> tuple[LoopPair, ...]:
    return loop_pairs(cross_geometry(), SUCCESSORS)


def fitted_for(pairs: tuple[LoopPair, ...]) -> HeldBounds:
    bounds = np.arange(len(pairs) * 11, dtype=np.float64).reshape(len(pairs), 11) / 7.0
    fit = {"runs_per_level": 2, "levels": [1.0], "seeds": [50000, 50001], "duration_s": 600.0}
    return HeldBounds(
        "cross", tuple(pair_ids(pairs)), dict(HELD_LIVE_SETTINGS), bounds, fit, "2026-12-04T20:00:00+00:00"
    )


def cross_scenario(folder: Path) -> Scenario:
    return Scenario("cross", "", folder / "scenario.toml", folder / "cross.net.xml", (), (), 0.0, 600.0, 1.0)


def watch(**kwargs: Any) -> IncidentWatch:
    w = IncidentWatch(**kwargs)
    w.geometry, w.pairs = cross_geometry(), cross_pairs()
    return w


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == WATCH_LOG and r.levelno >= logging.WARNING]


def test_bounds_file_round_trip(tmp_path: Path) -> None:
    pairs = cross_pairs()
    assert len(pairs) >= 2
    fitted = fitted_for(pairs)
    path = save_bounds(fitted, tmp_path / "b.json")
    data = json.loads(path.read_text())
    assert (data["version"], data["detector"], data["quiet_levels"]) == (1, "held-vehicles", 10)
    assert data["pairs"] == [p.id for p in pairs]
    back = load_bounds(path)
    assert back.pairs == fitted.pairs and back.fingerprint == fitted.fingerprint
    assert back.setting == HELD_LIVE_SETTINGS and back.fit == fitted.fit and back.created == fitted.created
    np.testing.assert_allclose(back.bounds, fitted.bounds, atol=1e-6)
    assert back.mismatch(pairs) == ""


def test_the_scenario_bounds_file_sits_by_its_manifest(tmp_path: Path) -> None:
    assert default_bounds_path(cross_scenario(tmp_path)) == tmp_path / BOUNDS_NAME


def test_watch_runs_fitted_held_vehicles_when_the_file_matches(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fitted = fitted_for(cross_pairs())
    save_bounds(fitted, tmp_path / BOUNDS_NAME)
    w = watch()
    with caplog.at_level(logging.INFO, logger=WATCH_LOG):
        detector = w.choose_detector(cross_scenario(tmp_path))
    assert isinstance(detector, HeldVehicles)
    assert w.detector_name == "held-vehicles" and w.settings == HELD_LIVE_SETTINGS
    # the file's bounds are the thresholds: above held_min, held_margin over the fitted envelope
    expected = np.maximum(HELD_LIVE_SETTINGS["held_min"], fitted.bounds + HELD_LIVE_SETTINGS["held_margin"])
    np.testing.assert_allclose(detector.held_threshold, expected, atol=1e-6)
    assert warnings_of(caplog) == []


def test_no_bounds_file_is_baseline_anomaly_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w = watch()
    detector = w.choose_detector(cross_scenario(tmp_path))
    assert type(detector) is BaselineAnomaly and w.settings == LIVE_SETTINGS
    assert warnings_of(caplog) == []


def test_fingerprint_mismatch_falls_back_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pairs = cross_pairs()
    save_bounds(fitted_for(pairs[:-1]), tmp_path / BOUNDS_NAME)  # a net with one pair fewer
    w = watch()
    detector = w.choose_detector(cross_scenario(tmp_path))
    assert type(detector) is BaselineAnomaly and w.detector_name == "baseline-anomaly"
    [line] = warnings_of(caplog)
    assert str(tmp_path / BOUNDS_NAME) in line
    assert f"fitted for {len(pairs) - 1} loop pairs, the net has {len(pairs)}" in line
    assert "using baseline-anomaly" in line


def test_renamed_pair_is_named_in_the_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pairs = cross_pairs()
    fitted = fitted_for(pairs)
    renamed = HeldBounds("cross", ("other>loop", *fitted.pairs[1:]), fitted.setting, fitted.bounds)
    save_bounds(renamed, tmp_path / BOUNDS_NAME)
    assert type(watch().choose_detector(cross_scenario(tmp_path))) is BaselineAnomaly
    [line] = warnings_of(caplog)
    assert f"loop pair 0 is other>loop in the file, {pairs[0].id} in the net" in line


def _edit(data: dict[str, Any], key: str, value: Any) -> str:
    return json.dumps({**data, key: value})


@pytest.mark.parametrize(
    ("corrupt", "needle"),
    [
        (lambda d: "{not json", "not a JSON incident bounds file"),
        (lambda d: _edit(d, "version", 99), "version 99"),
        (lambda d: _edit(d, "bounds", [[1.0, 2.0]]), "'bounds' is not"),
        (lambda d: _edit(d, "bounds", [[-1.0] * 11] * len(d["pairs"])), "negative or non-finite"),
        (lambda d: _edit(d, "setting", {**d["setting"], "magic": 1.0}), "'setting'"),
        (lambda d: _edit(d, "pairs", d["pairs"][::-1]), "'pairs_fingerprint' does not match"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k != "bounds"}), "field 'bounds' is missing"),
    ],
    ids=["json", "version", "shape", "negative", "setting", "fingerprint", "missing"],
)
def test_a_corrupt_file_falls_back_with_one_line_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, corrupt: Any, needle: str
) -> None:
    path = tmp_path / BOUNDS_NAME
    path.write_text(corrupt(fitted_for(cross_pairs()).to_json()))
    w = watch()
    assert type(w.choose_detector(cross_scenario(tmp_path))) is BaselineAnomaly
    [line] = warnings_of(caplog)
    assert line.startswith(f"incident detection: {path}: ") and needle in line and "\n" not in line


def test_a_given_bounds_file_that_is_missing_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "elsewhere.json"
    assert type(watch(bounds_file=missing).choose_detector(cross_scenario(tmp_path))) is BaselineAnomaly
    [line] = warnings_of(caplog)
    assert str(missing) in line and "cannot read" in line


def test_an_explicit_detector_or_setting_wins_over_the_file(tmp_path: Path) -> None:
    save_bounds(fitted_for(cross_pairs()), tmp_path / BOUNDS_NAME)
    scenario = cross_scenario(tmp_path)
    w = watch(detector="baseline-anomaly")
    assert type(w.choose_detector(scenario)) is BaselineAnomaly and w.settings == LIVE_SETTINGS
    w = watch(detector="held-vehicles", settings={"held_min": 3.0})
    detector = w.choose_detector(scenario)
    assert isinstance(detector, HeldVehicles) and w.fitted is None
    assert np.all(detector.held_threshold == 3.0)  # its own setting, no fitted bounds
    w = watch(detector="held-vehicles")  # held-vehicles without a setting: the fitted one
    assert isinstance(w.choose_detector(scenario), HeldVehicles) and w.fitted is not None


def test_a_held_vehicles_alarm_reads_in_words() -> None:
    w = watch()
    evidence = {
        "occupancy_up": 0.05,
        "baseline_up": 0.04,
        "z_up": 0.1,
        "occupancy_down": 0.0,
        "missing_vehicles": 2.5,
        "ratio": 0.93,
        "held_vehicles": 5.0,
        "quiet_bins": 4.0,
    }
    pair = next(i for i, p in enumerate(w.pairs) if p.id == "up_N>stop_N")
    message = w.event(Alarm(900.0, pair, "held-vehicles", evidence)).message
    assert "(held-vehicles: 5.0 vehicles held between the loops, downstream silent 120 s, " in message
    assert "2.5 vehicles missing (transfer ratio 0.93), occupancy_up 0.05" in message
    assert "quiet_bins" not in message and "held_vehicles" not in message
    # a pair the held and flow tests do not judge (NaN): only the queue test's figures
    unjudged = {**evidence, "held_vehicles": float("nan"), "missing_vehicles": float("nan")}
    message = w.event(Alarm(900.0, pair, "held-vehicles", unjudged)).message
    assert "(held-vehicles: occupancy_up 0.05, baseline_up 0.04, z_up 0.10, occupancy_down 0.00)" in message


def test_stop_line_loops_only_get_the_stricter_setting_and_no_fitted_bounds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from trafficai.runtime.incident_watch import STOP_LINE_SETTINGS, live_settings, stop_lines_only

    pairs = cross_pairs()
    stop_line = tuple(p for p in pairs if p.up_at_lane_end)
    assert stop_line and len(stop_line) < len(pairs)  # the cross net has both kinds
    assert not stop_lines_only(pairs) and stop_lines_only(stop_line) and not stop_lines_only(())
    assert live_settings(pairs) == LIVE_SETTINGS and live_settings(stop_line) == STOP_LINE_SETTINGS
    save_bounds(fitted_for(stop_line), tmp_path / BOUNDS_NAME)  # fitted for these very pairs
    w = watch()
    w.pairs = stop_line
    detector = w.choose_detector(cross_scenario(tmp_path))
    assert type(detector) is BaselineAnomaly and w.settings == STOP_LINE_SETTINGS and w.fitted is None
    [line] = warnings_of(caplog)
    assert "all at stop lines" in line and "using baseline-anomaly" in line
