"""A readable map (issue 9, item 6): vehicles visible at every zoom, junctions filled, closures that
no scheme colour can be mistaken for, picking that prefers the icon under the cursor, street names,
and go to by id."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from trafficai.core.geometry import LaneGeometry, NetGeometry
from trafficai.gui.map.layers import HEALTH_COLORS, SELECTION_LANE_Z
from trafficai.gui.map.overlays import street_labels
from trafficai.gui.map.picking import Picker, point_in_polygon
from trafficai.gui.map.schemes import (
    CATEGORIES,
    CLOSED,
    LANE_SCHEMES,
    ROAD,
    SELECTION,
    SIGNAL_COLORS,
    VEHICLE_SPEED,
)
from trafficai.gui.map.search import SearchIndex
from trafficai.gui.map.vehicles import MIN_VEHICLE_PX, marker_px
from trafficai.gui.map.widget import NetworkMap
from trafficai.runtime.messages import IncidentView

from .conftest import cross_frame, cross_geometry, cross_ready

pytestmark = pytest.mark.gui


def scaled(geometry: NetGeometry, factor: float) -> NetGeometry:
    """The cross junction blown up ``factor`` times (a city-sized extent for Fit zoom)."""
    lanes = geometry.lanes
    big = LaneGeometry(
        lanes.ids,
        lanes.edges,
        tuple(s * factor for s in lanes.shapes),
        lanes.lengths * factor,
        lanes.max_speeds,
    )
    xmin, ymin, xmax, ymax = geometry.bounds
    return replace(geometry, lanes=big, bounds=(xmin * factor, ymin * factor, xmax * factor, ymax * factor))


def named_geometry() -> NetGeometry:
    square = np.array([[-8.0, -8.0], [8.0, -8.0], [8.0, 8.0], [-8.0, 8.0]])
    other = square + 300.0
    return replace(
        cross_geometry(),
        junction_shapes=(square, other),
        edge_names={"N_in": "Main Street", "C_S": "Main Street"},
    )


def test_vehicles_keep_a_minimum_size_at_fit_zoom(qtbot) -> None:  # type: ignore[no-untyped-def]
    assert marker_px(5.0, 0.05) == MIN_VEHICLE_PX  # 5 m at 20 m/px would be a quarter pixel
    assert marker_px(5.0, 4.0) == 20  # zoomed in: true size
    widget = NetworkMap()
    qtbot.addWidget(widget)
    widget.resize(800, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_ready(cross_ready(scaled(cross_geometry(), 50.0)))  # 10 km across
    widget.set_frame(cross_frame([("car1", 0.5, 3000.0, 180.0, 5.0)]))
    widget.fit()
    widget.view.grab()  # paint once
    assert widget.tolerance_m(1.0) > 5.0  # fit zoom: a vehicle's 5 m is under a pixel
    assert widget.vehicles.drawn_px >= MIN_VEHICLE_PX


def test_picking_prefers_the_camera_icon_over_a_nearby_vehicle() -> None:
    geometry = cross_geometry()
    picker = Picker(geometry, cross_ready(geometry).cameras)  # camera 'cam' at (20, 20)
    xy = np.array([[23.5, 20.0]])  # 7 px from the camera: within the click tolerance (8 px)
    tolerance = 8 * 0.5  # 8 px at 0.5 m/px
    pick = picker.pick(20.0, 20.0, tolerance, xy, ("car1",))
    assert pick is not None and (pick.kind, pick.id) == ("camera", "cam")
    pick = picker.pick(25.0, 20.0, tolerance, xy, ("car1",))  # on the vehicle, off the icon
    assert pick is not None and (pick.kind, pick.id) == ("vehicle", "car1")
    picker.set_incidents(np.array([[60.0, 0.0]]), ("INC-1",))
    pick = picker.pick(60.5, 0.0, tolerance, np.array([[61.0, 0.3]]), ("car2",))
    assert pick is not None and (pick.kind, pick.id) == ("incident", "INC-1")


def test_a_click_on_the_camera_icon_picks_the_camera(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = NetworkMap()
    qtbot.addWidget(widget)
    widget.resize(800, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_ready(cross_ready())
    widget.set_frame(cross_frame([("car1", 21.0, 20.0, 0.0, 0.0)]))
    widget.view.grab()
    point = widget.view.mapFromScene(widget.vb.mapViewToScene(pg_point(20.0, 20.0)))
    with qtbot.waitSignal(widget.picked, timeout=2000) as blocker:
        qtbot.mouseClick(widget.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    pick = blocker.args[0]
    assert pick is not None and pick.kind == "camera"


def pg_point(x: float, y: float):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return float(np.linalg.norm(np.subtract(a, b)))


def test_closed_lanes_cannot_be_mistaken_for_a_scheme_colour_or_the_selection(qtbot) -> None:  # type: ignore[no-untyped-def]
    palette = [c for s in LANE_SCHEMES.values() for c in s.colors]
    palette += [*VEHICLE_SPEED.colors, *CATEGORIES, *SIGNAL_COLORS.values(), *HEALTH_COLORS.values()]
    palette += [SELECTION, ROAD]
    assert min(_distance(CLOSED, c) for c in palette) > 90
    widget = NetworkMap()
    qtbot.addWidget(widget)
    widget.set_ready(cross_ready())
    widget.set_incidents([IncidentView("INC-1", "lane closed", "E_in_0", ("E_in_0",), 0.0)])
    layer = widget.incident_layer
    pen = layer.closed.opts["pen"]
    assert pen.style() == Qt.PenStyle.CustomDashLine  # striped, not a plain colour
    assert pen.color().getRgb()[:3] == CLOSED
    assert layer.blocks.opts["brush"].color().getRgb()[:3] == CLOSED
    # the selection's halo lies under the lane colours and the closure, never over them
    assert widget.selection_layer.lane.zValue() == SELECTION_LANE_Z
    assert min(item.zValue() for item in widget.lanes.overlays) > SELECTION_LANE_Z
    assert layer.closed_band.zValue() > SELECTION_LANE_Z


def test_junctions_are_filled_and_picked_inside_their_outline(qtbot) -> None:  # type: ignore[no-untyped-def]
    geometry = named_geometry()
    widget = NetworkMap()
    qtbot.addWidget(widget)
    widget.set_ready(cross_ready(geometry))
    assert widget.junctions.count == 2
    assert not widget.junctions.item.path().isEmpty()
    assert point_in_polygon(geometry.junction_shapes[1], 305.0, 295.0)
    assert not point_in_polygon(geometry.junction_shapes[1], 320.0, 295.0)
    pick = Picker(geometry).pick(306.0, 293.0, 0.5)  # inside X's outline, 7 m from its centre
    assert pick is not None and (pick.kind, pick.id) == ("junction", "X")


def test_street_names_where_the_net_has_them(qtbot) -> None:  # type: ignore[no-untyped-def]
    labels = street_labels(named_geometry())
    assert [name for name, *_ in labels] == ["Main Street"]  # once per street
    _, x, _, angle = labels[0]
    assert x == pytest.approx(0.0) and -90.0 <= angle <= 90.0  # along the N-S street, never upside down
    widget = NetworkMap()
    qtbot.addWidget(widget)
    widget.resize(800, 700)
    widget.show()
    widget.set_ready(cross_ready(named_geometry()))
    assert len(widget.street_names.items) == 1
    widget.zoom_to(0.0, 0.0, 30.0)
    widget.street_names.set_zoom(widget.tolerance_m(1.0))
    assert widget.street_names.items[0].isVisible()
    widget.street_names.set_zoom(20.0)  # a city on screen: names would be clutter
    assert not widget.street_names.items[0].isVisible()


def test_search_finds_each_kind_of_id(qtbot) -> None:  # type: ignore[no-untyped-def]
    geometry = named_geometry()
    index = SearchIndex(geometry, cross_ready().cameras)
    xy = np.array([[0.5, 60.0]])
    found = {
        text: index.find(text, ("car1",), xy)[0].pick
        for text in ("C", "X", "car1", "e1_N", "cam", "C_S", "main street")
    }
    assert (found["C"].kind, found["C"].id) == ("signal", "C")
    assert (found["X"].kind, found["X"].id) == ("junction", "X")
    assert (found["car1"].kind, found["car1"].x, found["car1"].y) == ("vehicle", 0.5, 60.0)
    assert (found["e1_N"].kind, found["e1_N"].id) == ("e1", "e1_N")
    assert (found["cam"].kind, found["cam"].id) == ("camera", "cam")
    assert (found["C_S"].kind, found["C_S"].id) == ("lane", "C_S_0")  # an edge: its first lane
    assert found["main street"].kind == "lane"
    assert index.find("nothing-like-this") == []
    widget = NetworkMap()
    qtbot.addWidget(widget)
    widget.resize(800, 700)
    widget.show()
    widget.set_ready(cross_ready(geometry))
    widget.set_frame(cross_frame([("car1", 0.5, 60.0, 180.0, 5.0)]))
    with qtbot.waitSignal(widget.picked, timeout=2000) as blocker:
        widget.search_edit.setText("car1")
        widget.search_edit.returnPressed.emit()
    assert blocker.args[0].id == "car1" and widget.selected == blocker.args[0]
    (x0, x1), _ = widget.vb.viewRange()
    assert x0 < 0.5 < x1 and x1 - x0 < 150.0  # zoomed in on it
    assert widget.go_to("no such thing") is None
