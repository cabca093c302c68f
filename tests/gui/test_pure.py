"""Pure pieces of the control center: commands pickle, colour bins, picking, ring buffers, parsing."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from trafficai.core.events import Event
from trafficai.gui.inspect import camera_spec, inspect_values
from trafficai.gui.map.picking import Picker, lane_segments, segment_distances
from trafficai.gui.map.schemes import LANE_SCHEMES, NO_BIN, VEHICLE_SPEED, lane_bins, vehicle_bins
from trafficai.gui.widgets.ringbuffer import RingBuffer
from trafficai.runtime import commands as c
from trafficai.runtime import messages as m
from trafficai.sensors.cameras import in_view

from .conftest import cross_frame, cross_geometry, cross_ready

pytestmark = pytest.mark.gui


def test_commands_and_messages_pickle() -> None:
    ready = cross_ready()
    frame = cross_frame([("v0", 0.0, 50.0, 180.0, 10.0)])
    items = [
        c.Play(),
        c.Pause(),
        c.Step(3),
        c.SetSpeed(None),
        c.SetSpeed(2.0),
        c.Restart("ann"),
        c.Jump(600.0),
        c.SetController("max-pressure", ("C",)),
        c.DemandScale(1.5),
        c.Override("C", "hold", 60, "police", "ann"),
        c.ClearOverride("C"),
        c.CloseLane("N_in_0"),
        c.CloseEdge("N_in"),
        c.OpenLane("N_in_0"),
        c.BlockLane("N_in_0", 40.0, 300.0),
        c.RouteDemand("N_in", 0.5, "ann", "event"),
        m.Incidents(
            0, (m.IncidentView("INC-1", "route demand", "N_in", ("N_in_0",), 0.0, demand_factor=0.5),)
        ),
        c.ClearIncident("INC-1"),
        c.RestoreAll(),
        c.SetFrames(False),
        c.Shutdown(),
        ready,
        frame,
        m.Events(0, (Event(1.0, "info", "run", "x"),)),
        m.Refused("Override", "no"),
        m.KpiSample(0, 5.0, {"queue_veh": 1.0}, {"C": {"queue_veh": 1.0}}),
        m.Closed(),
    ]
    for item in items:
        copy = pickle.loads(pickle.dumps(item))
        assert type(copy) is type(item)
    again = pickle.loads(pickle.dumps(frame))
    assert again.snapshot.vehicles.ids == ("v0",)
    assert np.array_equal(again.snapshot.vehicles.xy, frame.snapshot.vehicles.xy)


def test_lane_bins_follow_the_scheme_edges() -> None:
    geometry = cross_geometry()
    frame = cross_frame(
        [], lane_vehicles=[0, 1, 2, 3, 0, 0, 5, 0], lane_speed=[13.9, 1.0, 7.0, 13.9, 0, 0, 13.9, 0]
    )
    bins = lane_bins("speed", frame.snapshot.lanes, geometry.lanes)
    scheme = LANE_SCHEMES["speed"]
    # empty lanes have no speed (road colour); 1/13.9 = 7 % -> slowest bin; 50 % -> bin 3; 100 % -> last
    assert bins[0] == NO_BIN and bins[4] == NO_BIN
    assert bins[1] == 0
    assert bins[2] == int(np.searchsorted(scheme.edges, 100 * 7.0 / 13.9, side="right"))
    assert bins[3] == scheme.n_bins - 1
    density = lane_bins("density", frame.snapshot.lanes, geometry.lanes)
    assert density[6] == int(np.searchsorted(LANE_SCHEMES["density"].edges, 5 / 92 * 1000, side="right"))
    assert scheme.labels()[0] == "< 15" and scheme.labels()[-1] == ">= 90"
    assert (lane_bins("none", frame.snapshot.lanes, geometry.lanes) == NO_BIN).all()


def test_vehicle_speed_bins() -> None:
    frame = cross_frame([("a", 0, 0, 0, 0.0), ("b", 0, 0, 0, 10.0), ("c", 0, 0, 0, 30.0)])
    bins = vehicle_bins("speed", frame.snapshot.vehicles)
    assert list(bins) == [
        0,
        int(np.searchsorted(VEHICLE_SPEED.edges, 36.0, side="right")),
        VEHICLE_SPEED.n_bins - 1,
    ]
    assert list(vehicle_bins("type", frame.snapshot.vehicles)) == [0, 0, 0]


def test_picking_prefers_vehicles_then_devices_then_signals_lanes_junctions() -> None:
    geometry = cross_geometry()
    ready = cross_ready(geometry)
    picker = Picker(geometry, ready.cameras)
    xy = np.array([[0.5, 60.0], [50.0, 0.5]])
    ids = ("car1", "car2")
    pick = picker.pick(0.0, 59.0, 2.0, xy, ids)
    assert pick is not None and (pick.kind, pick.id, pick.index) == ("vehicle", "car1", 0)
    pick = picker.pick(0.3, 20.2, 2.0, xy, ids)
    assert pick is not None and (pick.kind, pick.id) == ("e1", "e1_N")
    pick = picker.pick(20.0, 20.5, 2.0, xy, ids)
    assert pick is not None and (pick.kind, pick.id) == ("camera", "cam")
    pick = picker.pick(3.0, -2.0, 2.0, xy, ids)
    assert pick is not None and (pick.kind, pick.id) == ("signal", "C")
    pick = picker.pick(-60.0, 1.0, 2.0, xy, ids)
    assert pick is not None and (pick.kind, pick.id) == ("lane", "W_in_0")
    assert picker.position_on_lane(pick.index, -60.0, 0.0) == pytest.approx(40.0)
    pick = picker.pick(301.0, 299.0, 2.0, xy, ids)
    assert pick is not None and (pick.kind, pick.id) == ("junction", "X")
    assert picker.pick(60.0, 60.0, 2.0, xy, ids) is None


def test_segment_distance_is_to_the_nearest_point_of_the_segment() -> None:
    seg = lane_segments(cross_geometry().lanes)
    dist, t = segment_distances(seg, 0.0, 120.0)  # beyond the N arm's end
    assert dist[0] == pytest.approx(20.0)
    assert t[0] == pytest.approx(0.0)


def test_camera_field_of_view() -> None:
    ready = cross_ready()
    camera = ready.cameras[0]  # at (20, 20) looking south-west (225 deg), 70 deg wide, 60 m
    xy = np.array([[0.0, 0.0], [40.0, 40.0], [-40.0, -40.0], [20.0, -20.0]])
    assert list(in_view(camera_spec(camera), xy)) == [True, False, False, False]


def test_inspector_values_of_a_vehicle_and_a_lane() -> None:
    geometry = cross_geometry()
    ready = cross_ready(geometry)
    frame = cross_frame([("car1", 0.0, 50.0, 180.0, 10.0)], lane_vehicles=[1, 0, 0, 0, 0, 0, 0, 0])
    picker = Picker(geometry, ready.cameras)
    vehicle = picker.pick(0.0, 50.0, 1.0, frame.snapshot.vehicles.xy, frame.snapshot.vehicles.ids)
    assert vehicle is not None
    values = inspect_values(vehicle, frame.snapshot, geometry)
    assert values is not None and values["speed (km/h)"] == pytest.approx(36.0) and values["lane"] == "N_in_0"
    lane = picker.pick(-60.0, 0.0, 1.0)
    assert lane is not None
    lane_values = inspect_values(lane, frame.snapshot, geometry)
    assert lane_values is not None and lane_values["edge"] == "W_in" and lane_values["vehicles"] == 0.0
    gone = cross_frame([])
    assert inspect_values(vehicle, gone.snapshot, geometry) is None


def test_ring_buffer_keeps_the_last_samples_in_order() -> None:
    ring = RingBuffer(3, 2)
    for i in range(5):
        ring.append(float(i), [i, 10 * i])
    assert list(ring.times()) == [2.0, 3.0, 4.0]
    assert list(ring.values(1)) == [20.0, 30.0, 40.0]
    last = ring.last()
    assert last is not None and last[0] == 4.0
    with pytest.raises(ValueError):
        ring.append(5.0, [1.0])


def test_time_parsing() -> None:  # the CLI's --speed parsing is tested in tests/cli/test_gui.py
    from trafficai.gui.time_controls import parse_time

    assert parse_time("01:00:05") == 3605.0 and parse_time("90") == 90.0
    with pytest.raises(ValueError):
        parse_time("noon")
