"""``trafficai history``'s days: seeded plans that vary day to day, their demand files, their runs."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from trafficai.core.scenario import resolve_scenario
from trafficai.errors import ConfigError, ScenarioError
from trafficai.forecast.data import load_history
from trafficai.runtime.day_demand import draw_departures, loop_lanes, read_route_pool, write_day_files
from trafficai.runtime.day_plan import MAX_SCALE_DEVIATION, WEEKDAY, WEEKEND, day_type, draw_day_plan
from trafficai.runtime.history import HistorySpec, generate_history
from trafficai.storage import RunStore

LANES = ["a_0", "a_1", "b_0", "b_1"]


def test_a_day_plan_is_seeded_and_days_differ() -> None:
    plans = [draw_day_plan(3, d, 21600.0, ["o1", "o2"], LANES) for d in range(28)]
    again = [draw_day_plan(3, d, 21600.0, ["o1", "o2"], LANES) for d in reversed(range(28))]
    assert plans == list(reversed(again))  # the same whatever order the days are drawn in
    assert draw_day_plan(4, 0, 21600.0, ["o1", "o2"], LANES) != plans[0]
    scales = np.array([p.scale for p in plans])
    assert np.all(np.abs(scales - 1) <= MAX_SCALE_DEVIATION + 1e-9) and scales.std() > 0.03
    assert len({p.peak_shift_s for p in plans}) == 28 and len({p.fluctuation for p in plans}) == 28
    drift = np.array([plans[0].drift(t) for t in range(0, 21600, 300)])
    assert 0.03 < drift.std() < 0.3 and np.abs(np.diff(drift)).max() < 0.25  # smooth, not noise
    assert [p.day_type for p in plans[:7]] == [WEEKDAY] * 5 + [WEEKEND] * 2
    assert any(p.weather for p in plans) and not all(p.weather for p in plans)
    closures = [c for p in plans for c in p.closures]
    assert closures and {c.lane for c in closures} <= set(LANES)
    assert all(c.at_s > 0 and c.at_s + c.duration_s <= 21600.0 for c in closures)
    assert any(p.has_incident for p in plans) and not all(p.has_incident for p in plans)


def test_weekday_and_weekend_profiles_differ() -> None:
    weekday, weekend = (draw_day_plan(1, d, 3600.0, [], []) for d in (0, 5))

    def at(plan: object, fraction: float) -> float:
        return (
            weekday.rate_factor(fraction * 3600) if plan is weekday else weekend.rate_factor(fraction * 3600)
        )

    assert day_type(5) == WEEKEND
    assert at(weekday, 0.25) > at(weekday, 0.5) < at(weekday, 0.7)  # morning and evening peaks
    assert at(weekend, 0.25) < at(weekend, 0.55) > at(weekend, 0.85)  # one midday hump
    assert at(weekday, 0.25) / at(weekday, 0.0) > 2.5


def test_day_files_follow_the_plan_and_are_reproducible(tmp_path: Path) -> None:
    scenario = resolve_scenario("single")
    pool = read_route_pool(scenario)
    lanes = loop_lanes(scenario)
    assert lanes and all(not lane.startswith("e1_") for lane in lanes)
    plan = draw_day_plan(2, 0, 3600.0, pool.origins, lanes)
    first = write_day_files(plan, scenario, pool, tmp_path / "a")
    second = write_day_files(plan, scenario, pool, tmp_path / "b")
    assert (first.parent / "day.rou.xml").read_text() == (second.parent / "day.rou.xml").read_text()
    departs, _ = draw_departures(plan, pool)
    assert np.all(np.diff(departs) >= 0) and departs.max() < 3600.0
    expected = pool.mean_rate_veh_s * 0.85 * np.mean([plan.rate_factor(t) for t in np.arange(30, 3600, 60)])
    assert abs(departs.size / 3600.0 - expected) < 0.15 * expected
    assert resolve_scenario(str(first)).duration_s == 3600.0


def test_a_scenario_without_routed_vehicles_is_refused(tmp_path: Path) -> None:
    scenario = resolve_scenario("single")
    empty = tmp_path / "empty.rou.xml"
    empty.write_text("<routes/>")

    with pytest.raises(ScenarioError, match="no vehicle with a route"):
        read_route_pool(replace(scenario, routes=(empty,)))
    with pytest.raises(ConfigError, match="at least 1 day"):
        HistorySpec("single", 0).check()


@pytest.mark.sumo
def test_history_is_recorded_seeded_and_varies_day_to_day(tmp_path: Path) -> None:
    spec = HistorySpec("single", days=2, seed=5, day_s=600.0)
    generate_history(spec, tmp_path / "a.sqlite", jobs=1)
    generate_history(spec, tmp_path / "b.sqlite", jobs=1)
    with RunStore(tmp_path / "a.sqlite") as a, RunStore(tmp_path / "b.sqlite") as b:
        first, again = load_history(a, "single"), load_history(b, "single")
        runs = a.list_runs()
    assert first.set_id == "single/seed5/600s" and [d.day for d in first.days] == [0, 1]
    assert first.flow.shape == (2, 20, len(first.objects)) and not any(
        o.startswith("e2_") for o in first.objects
    )
    np.testing.assert_array_equal(first.flow, again.flow)  # seeded: the same history twice
    np.testing.assert_array_equal(first.speed, again.speed)
    assert np.nansum(np.abs(first.flow[0] - first.flow[1])) > 0  # and no two days alike
    record = runs[0].config["history"]
    assert {"day", "day_type", "plan"} <= set(record) and "closures" in record["plan"]
    assert record["cameras"] == "off"
    from trafficai.storage.devices import DeviceStore

    with DeviceStore(tmp_path / "a.sqlite") as devices:
        assert devices.devices(runs[0].id) == [] and devices.bins(runs[0].id) == []  # off: no cameras


def test_history_cameras_option_is_checked() -> None:
    with pytest.raises(ConfigError, match=re.escape("--cameras: expected one of off | truth, got 'vision'")):
        HistorySpec("single", 1, cameras="vision").check()


@pytest.mark.sumo
def test_history_stores_camera_bins_as_the_camera_devices_do(tmp_path: Path) -> None:
    from trafficai.iot.devices import camera_device_id
    from trafficai.sensors.camera_truth import TRUTH_FIRMWARE
    from trafficai.storage.devices import DeviceStore

    spec = HistorySpec("single", days=1, seed=5, day_s=600.0, cameras="truth")
    stores = [tmp_path / "a.sqlite", tmp_path / "b.sqlite"]
    for path in stores:  # in one process: a second run must not see the first one's vehicles
        generate_history(spec, path, jobs=1)
    generate_history(replace(spec, cameras="off"), tmp_path / "off.sqlite", jobs=1)
    with RunStore(stores[0]) as a, RunStore(tmp_path / "off.sqlite") as off:
        watched, plain = load_history(a, "single"), load_history(off, "single")
        assert a.list_runs()[0].kpis == off.list_runs()[0].kpis  # the cameras only watch
    np.testing.assert_array_equal(watched.flow, plain.flow)
    with RunStore(stores[0]) as runs:
        run = runs.list_runs()[0]
        # (the detectors' zero-length bin at the start is not a camera bin: live devices skip it too)
        detector_ends = sorted({r.t_end for r in runs.scoped_series(run.id, "detector") if r.t_end > 0})
        assert run.config["history"]["cameras"] == "truth"
    with RunStore(stores[1]) as runs:
        other_run = runs.list_runs()[0].id
    with DeviceStore(stores[0]) as a, DeviceStore(stores[1]) as b:
        devices, bins, again = a.devices(run.id), a.bins(run.id), b.bins(other_run)
    cameras = {d.source for d in devices}
    assert cameras and all(d.kind == "camera" and d.firmware == TRUTH_FIRMWARE for d in devices)
    assert {d.device_id for d in devices} == {camera_device_id(c) for c in cameras}
    # 30 s bins in simulation seconds, on the detector bins' boundaries, numbered from 1 per device
    for device in devices:
        mine = [b for b in bins if b.device_id == device.device_id]
        assert [b.seq for b in mine] == list(range(1, len(mine) + 1))
        assert [b.t_end for b in mine] == detector_ends
        assert all(b.t_end - b.t_begin == pytest.approx(30.0) for b in mine)
    crossed = 0.0
    for row in bins:
        approach = {k: v for k, v in row.values.items() if k.startswith("approach.")}
        classes = sum(v for k, v in row.values.items() if k.startswith("class."))
        moves = sum(v for k, v in row.values.items() if k.startswith("movement."))
        assert approach and classes == sum(approach.values()) == moves  # the sums hold
        assert all(k.split(".")[0] in ("class", "approach", "movement", "queue", "speed") for k in row.values)
        crossed += sum(approach.values())
    assert crossed > 50  # vehicles were counted
    assert [(b.device_id, b.seq, b.values) for b in bins] == [(b.device_id, b.seq, b.values) for b in again]
