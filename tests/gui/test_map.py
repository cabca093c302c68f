"""The network map holds the snapshot's data: counts, colour bins, signal colours; clicks pick."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from trafficai.gui.map.schemes import LANE_SCHEMES, lane_bins, signal_char_lut, vehicle_bins
from trafficai.gui.map.widget import NetworkMap
from trafficai.runtime.messages import IncidentView

from .conftest import cross_frame, cross_ready

pytestmark = pytest.mark.gui

VEHICLES = [
    ("car1", 0.5, 60.0, 180.0, 0.0),
    ("car2", 60.0, 0.5, 270.0, 12.0),
    ("car3", -0.5, -40.0, 0.0, 5.0),
]


@pytest.fixture
def net_map(qtbot) -> NetworkMap:  # type: ignore[no-untyped-def]
    widget = NetworkMap()
    qtbot.addWidget(widget)
    widget.resize(800, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_ready(cross_ready())
    return widget


def test_items_hold_the_snapshot(net_map: NetworkMap) -> None:
    frame = cross_frame(
        VEHICLES,
        lane_vehicles=[1, 0, 2, 0, 0, 3, 0, 0],
        lane_speed=[1.0, 13.9, 7.0, 13.9, 13.9, 13.0, 13.9, 13.9],
    )
    net_map.set_frame(frame)
    snap = frame.snapshot
    vehicles = net_map.vehicles
    assert vehicles.count == 3 and vehicles.ids == ("car1", "car2", "car3")
    assert np.allclose(vehicles.xy, snap.vehicles.xy)  # paused: drawn where SUMO has them
    assert list(vehicles.bins) == list(vehicle_bins("speed", snap.vehicles))
    assert list(vehicles.angle) == [180.0, 270.0, 0.0]
    expected = lane_bins("speed", snap.lanes, net_map.net.lanes)  # type: ignore[union-attr]
    assert list(net_map.lanes.bins) == list(expected)
    for b, item in enumerate(net_map.lanes.overlays):  # each colour curve holds exactly its lanes
        x, _ = item.getData()
        assert (0 if x is None else len(x)) == 2 * net_map.lanes.lanes_in_bin(b)
    assert net_map.signal_layer.chars == "GrGr"
    lut, colors = signal_char_lut()
    brushes = [net_map.signal_layer.item.data["brush"][i].color().getRgb()[:3] for i in range(4)]
    assert brushes == [colors[lut[ord(ch)]] for ch in "GrGr"]
    net_map.set_frame(cross_frame(VEHICLES[:1], state="yryr", seq=2))
    assert net_map.vehicles.count == 1 and net_map.signal_layer.chars == "yryr"


def test_lane_colouring_schemes_and_legend(net_map: NetworkMap) -> None:
    frame = cross_frame(VEHICLES, lane_vehicles=[4, 0, 0, 0, 0, 0, 0, 1])
    net_map.set_frame(frame)
    assert net_map.legend.labels() == LANE_SCHEMES["speed"].labels()
    net_map.set_lane_scheme("density")
    assert net_map.legend.labels() == LANE_SCHEMES["density"].labels()
    assert list(net_map.lanes.bins) == list(lane_bins("density", frame.snapshot.lanes, net_map.net.lanes))  # type: ignore[union-attr]
    net_map.set_lane_scheme("none")
    assert (net_map.lanes.bins == -1).all() and net_map.legend.labels() == []
    net_map.set_vehicle_scheme("type")
    assert net_map.vehicle_legend.labels() == ["car"]
    with pytest.raises(ValueError):
        net_map.set_lane_scheme("colourful")


def test_clicks_pick_vehicles_signals_and_lanes(net_map: NetworkMap, qtbot) -> None:  # type: ignore[no-untyped-def]
    net_map.set_frame(cross_frame(VEHICLES))
    qtbot.wait(50)

    def click(x: float, y: float) -> object:
        scene = net_map.vb.mapViewToScene(QPointF(x, y))
        point = net_map.view.mapFromScene(scene)
        with qtbot.waitSignal(net_map.picked, timeout=2000) as blocker:
            qtbot.mouseClick(net_map.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
        return blocker.args[0]

    pick = click(60.0, 0.5)
    assert pick is not None and (pick.kind, pick.id) == ("vehicle", "car2")
    assert net_map.selected == pick and net_map.follow_box.isEnabled()
    pick = click(2.0, -3.0)
    assert pick is not None and (pick.kind, pick.id) == ("signal", "C")
    pick = click(-70.0, 0.0)
    assert pick is not None and (pick.kind, pick.id) == ("lane", "W_in_0")
    assert not net_map.follow_box.isEnabled()


def test_incident_layer_draws_closures_and_route_demand_apart(net_map: NetworkMap) -> None:
    closed = IncidentView("INC-1", "lane closed", "E_in_0", ("E_in_0",), 0.0)
    scaled = IncidentView("INC-2", "route demand", "N_in", ("N_in_0",), 5.0, demand_factor=0.0)
    net_map.set_incidents([closed, scaled])
    index = net_map.net.lanes.index()  # type: ignore[union-attr]
    layer = net_map.incident_layer
    assert layer.closed_lanes == {index["E_in_0"]} and layer.demand_lanes == {index["N_in_0"]}
    assert closed.closes_lanes and not scaled.closes_lanes
    x, _ = layer.demand.getData()
    assert x is not None and len(x) >= 2
    net_map.set_incidents([closed])
    assert layer.demand_lanes == set()
