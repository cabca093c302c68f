"""A truthful inspector and timeline (issue 9, items 7 and 8): the plotted quantity's label and
unit, a changing value by default, integers as integers, 'no vehicles' on an empty lane, skipped
time as a gap, detector intervals and health, a vehicle's route / destination / delay, incident
severity and the signal timing of the net's program."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from trafficai.core.timing import PhaseTiming, SignalTiming
from trafficai.gui.inspect import NO_VEHICLES, format_value, inspect_values, numeric
from trafficai.gui.map.picking import Pick
from trafficai.gui.panels.inspector import InspectorPanel
from trafficai.gui.panels.timeline import GAP, Timeline
from trafficai.gui.panels.timing import TimingView, timing_rows, timing_summary
from trafficai.runtime.commands import Inspect
from trafficai.runtime.messages import IncidentView, Inspected, incident_severity
from trafficai.sensors.health import DetectorHealth
from trafficai.sensors.intervals import IntervalStats

from .conftest import cross_frame, cross_geometry, cross_ready

pytestmark = pytest.mark.gui

LANE = Pick("lane", "N_in_0", 0, 0.0, 60.0)
SIGNAL = Pick("signal", "C", 0, 0.0, 0.0)


@pytest.fixture
def panel(qtbot) -> InspectorPanel:  # type: ignore[no-untyped-def]
    widget = InspectorPanel()
    qtbot.addWidget(widget)
    return widget


def left_label(panel: InspectorPanel) -> str:
    return str(panel.plot.getAxis("left").labelText)


def test_the_axis_label_follows_the_selection(panel: InspectorPanel) -> None:
    ready = cross_ready()
    panel.set_ready(ready)
    frame = cross_frame([], lane_vehicles=[4, 0, 0, 0, 0, 0, 0, 0])
    panel.set_pick(LANE)
    panel.update_frame(frame, ready, ())
    assert panel.plotted == "vehicles"  # a changing quantity, not the lane's length
    assert left_label(panel) == "vehicles"
    panel.set_pick(SIGNAL)
    assert left_label(panel) == ""  # nothing left over from the lane
    panel.update_frame(frame, ready, ())
    assert panel.plotted == "queue (veh)"
    assert left_label(panel) == "queue" and panel.plot.getAxis("left").labelUnits == "veh"
    panel.metric_combo.setCurrentText("time in phase (s)")
    assert left_label(panel) == "time in phase" and panel.plot.getAxis("left").labelUnits == "s"


def test_static_values_are_not_plotted_and_integers_read_as_integers(panel: InspectorPanel) -> None:
    geometry = cross_geometry()
    frame = cross_frame([], lane_vehicles=[4, 0, 0, 0, 0, 0, 0, 0])
    values = inspect_values(LANE, frame.snapshot, geometry)
    assert values is not None
    assert values["vehicles"] == 4 and isinstance(values["vehicles"], int)
    assert "length (m)" not in numeric(values) and "speed limit (km/h)" not in numeric(values)
    assert format_value(4) == "4" and format_value(1234) == "1,234" and format_value(2.5) == "2.50"
    assert format_value(math.nan) == "-"
    ready = cross_ready(geometry)
    panel.set_pick(LANE)
    panel.update_frame(frame, ready, ())
    row = list(panel.values).index("vehicles")
    assert panel.table.item(row, 0).text() == "4"


def test_an_empty_lane_says_no_vehicles_not_its_speed_limit() -> None:
    frame = cross_frame([], lane_vehicles=[0, 2, 0, 0, 0, 0, 0, 0], lane_speed=[13.9, 5.0] + [13.9] * 6)
    geometry = cross_geometry()
    empty = inspect_values(LANE, frame.snapshot, geometry)
    busy = inspect_values(Pick("lane", "E_in_0", 1, 60.0, 0.0), frame.snapshot, geometry)
    assert empty is not None and empty["mean speed (km/h)"] == NO_VEHICLES
    assert busy is not None and busy["mean speed (km/h)"] == pytest.approx(18.0)


def test_the_vehicle_inspector_shows_route_destination_and_delay(panel: InspectorPanel) -> None:
    geometry = replace(cross_geometry(), edge_names={"C_S": "Harbour Road"})
    frame = cross_frame([("car1", 0.0, 50.0, 180.0, 10.0)])
    pick = Pick("vehicle", "car1", 0, 0.0, 50.0)
    asked: list[object] = []
    panel.command.connect(asked.append)
    panel.set_pick(pick)
    assert asked == [Inspect("vehicle", "car1")]  # the worker is asked for the details
    waiting = inspect_values(pick, frame.snapshot, geometry)
    assert waiting is not None and "asking" in str(waiting["route"])
    details = Inspected("vehicle", "car1", route=("N_in", "C_S"), route_index=0, time_loss_s=12.5)
    values = inspect_values(pick, frame.snapshot, geometry, inspected=details)
    assert values is not None
    assert values["destination"] == "C_S (Harbour Road)"
    assert values["route"] == "N_in → C_S" and values["on route"] == "edge 1 of 2"
    assert values["delay so far (s)"] == 12.5
    panel.set_pick(LANE)
    assert asked[-1] == Inspect()  # a lane needs no details: stop sending them


def test_detector_intervals_and_health_in_the_inspector() -> None:
    geometry = cross_geometry()
    frame = cross_frame([])
    pick = Pick("e1", "e1_N", 0, 0.0, 20.0)
    stats = (
        IntervalStats(30.0, 30.0, 600.0, 5, 0.1, 10.0),
        IntervalStats(300.0, 300.0, 600.0, 40, 0.08, math.nan),
    )
    values = inspect_values(
        pick,
        frame.snapshot,
        geometry,
        inspected=Inspected("e1", "e1_N", intervals=stats),
        health={"e1_N": DetectorHealth("suspect", "chatter", 540.0)},
    )
    assert values is not None
    assert values["volume 30 s (veh)"] == 5 and values["volume 5 min (veh)"] == 40
    assert values["flow 5 min (veh/h)"] == pytest.approx(480.0)
    assert values["occupancy 30 s (%)"] == pytest.approx(10.0)
    assert values["speed 30 s (km/h)"] == pytest.approx(36.0) and values["speed 5 min (km/h)"] == NO_VEHICLES
    assert values["health"] == "suspect: chatter (since t=540 s)"
    assert isinstance(values["count (since start)"], int)


def test_the_inspector_shows_the_health_the_worker_published(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = InspectorPanel()
    qtbot.addWidget(panel)
    ready = cross_ready()
    panel.set_ready(ready)
    panel.set_pick(Pick("e1", "e1_N", 0, 0.0, 20.0))
    health = {"e1_N": DetectorHealth("failed", "marked failed by ann", 60.0)}
    panel.update_frame(replace(cross_frame([]), detector_health=health), ready, ())
    assert panel.values["health"] == "failed: marked failed by ann (since t=60 s)"
    shown = [panel.table.verticalHeaderItem(r).text() for r in range(panel.table.rowCount())]
    assert "health" in shown


def test_incident_severity_from_kind_and_lanes() -> None:
    closed = IncidentView("INC-1", "lane closed", "E_in_0", ("E_in_0",), 0.0)
    assert incident_severity(closed, lanes_on_edge=1) == "major"
    assert incident_severity(closed, lanes_on_edge=3) == "moderate"
    assert incident_severity(replace(closed, kind="edge closed"), lanes_on_edge=3) == "major"
    demand = IncidentView("INC-2", "route demand", "N_in", ("N_in_0",), 0.0, demand_factor=0.5)
    assert incident_severity(demand, lanes_on_edge=1) == "minor"
    values = inspect_values(
        Pick("incident", "INC-1", 0, 0, 0), cross_frame([]).snapshot, cross_geometry(), incidents=[closed]
    )
    assert values is not None and (values["type"], values["severity"]) == ("lane closed", "major")
    lane = inspect_values(
        Pick("lane", "E_in_0", 1, 0, 0), cross_frame([]).snapshot, cross_geometry(), incidents=[closed]
    )
    assert lane is not None and lane["incident"] == "INC-1: lane closed (major)"


def test_the_signal_timing_view_shows_cycle_splits_offset_and_sequence(panel: InspectorPanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    timing = SignalTiming(
        "C",
        "0",
        "static",
        10.0,
        (
            PhaseTiming("GrGr", 30.0),
            PhaseTiming("yryr", 3.0),
            PhaseTiming("rGrG", 27.0),
            PhaseTiming("ryry", 3.0),
        ),
    )
    assert timing.cycle_s == 63.0
    assert timing_summary(timing).startswith("program 0 (static) · cycle 63 s · offset 10 s")
    rows = timing_rows(timing)
    assert [r[2] for r in rows] == ["green", "yellow", "green", "yellow"]
    assert rows[0][5] == "33 s (52%)" and rows[1][5] == ""
    ready = replace(cross_ready(), timings={"C": timing})
    panel.set_ready(ready)
    panel.set_pick(SIGNAL)
    assert not panel.timing.isHidden() and panel.timing.timing == timing
    assert panel.timing.table.rowCount() == 4 and panel.timing.table.item(2, 3).text() == "27"
    panel.set_pick(LANE)
    assert panel.timing.isHidden()
    view = TimingView()
    qtbot.addWidget(view)
    view.set_timing(None)
    assert "no program" in view.summary.text()


def test_skipped_time_after_a_jump_is_a_gap_in_the_timeline() -> None:
    geometry = cross_geometry()
    timeline = Timeline(geometry, 1.0)
    timeline.add_changes([(0, 0.0, "GrGr")])

    def frame(t: float, counts: list[int], since: float):  # type: ignore[no-untyped-def]
        base = cross_frame([], time_s=t)
        det = replace(base.snapshot.detectors, e1_count=np.array(counts, np.int32))
        return replace(base, snapshot=replace(base.snapshot, detectors=det), tracked_since_s=since)

    for t in range(1, 11):
        timeline.add_frame(frame(float(t), [0, 0], 0.0))
    # a jump from t=10 to t=300: the worker tracks again from 300, counts have grown meanwhile
    timeline.add_changes([(0, 300.0, "rGrG")])
    timeline.add_frame(frame(300.0, [40, 35], 300.0))
    timeline.add_frame(frame(301.0, [40, 35], 300.0))
    assert timeline.gaps == [(10.0, 300.0)]
    img, t0, _labels = timeline.image(0, 600.0)
    centers = t0 + (np.arange(img.shape[1]) + 0.5) * (600.0 / img.shape[1])
    skipped = (centers > 20.0) & (centers < 290.0)
    assert skipped.any()
    assert (img[:, skipped] == GAP).all()  # no held green or red, no detector call across the jump
    before = (centers > 2.0) & (centers < 9.0)
    assert (img[0, before, :3] != GAP[:3]).any()  # the state before the jump is still drawn
    starts, _ = timeline.calls_of(0)
    assert starts.size == 0  # the counts that grew during the jump are no call
