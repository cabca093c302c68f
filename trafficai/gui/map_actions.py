"""What the operator can do from the map: the context menu of a picked object (close, block or
reopen lanes, scale demand, override a signal, mark a detector failed or back in service, inject or
clear a fault on it, follow a vehicle) and the dialogs it opens; an action the operator's role may
not take is disabled (``gui/role_gate.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMenu

from trafficai.gui.fault_dialog import add_fault_actions
from trafficai.gui.map.picking import Pick
from trafficai.runtime.commands import (
    MAX_ROUTE_DEMAND,
    BlockLane,
    ClearIncident,
    ClearOverride,
    CloseEdge,
    CloseLane,
    MarkDetector,
    OpenLane,
    Override,
    RouteDemand,
)
from trafficai.runtime.messages import IncidentView
from trafficai.sensors.health import MARKED_FAILED

if TYPE_CHECKING:
    from trafficai.gui.main_window import MainWindow


def lane_of(window: MainWindow, pick: Pick) -> tuple[str, float] | None:
    """The lane (and position on it) a pick stands on: a lane, or a vehicle's lane."""
    picker = window.map.picker
    if picker is None or window.ready is None:
        return None
    lanes = window.ready.geometry.lanes
    if pick.kind == "lane":
        return pick.id, picker.position_on_lane(pick.index, pick.x, pick.y)
    if pick.kind == "vehicle" and window.last_frame is not None:
        veh = window.last_frame.snapshot.vehicles
        if pick.index < len(veh) and veh.ids[pick.index] == pick.id:
            lane = int(veh.lane[pick.index])
            if 0 <= lane < len(lanes):
                return lanes.ids[lane], picker.position_on_lane(lane, pick.x, pick.y)
    return None


def route_demand_on(incidents: tuple[IncidentView, ...], edge: str) -> IncidentView | None:
    """The demand scaling through ``edge`` in force, if any."""
    return next((inc for inc in incidents if inc.demand_factor is not None and inc.target == edge), None)


def _lane_actions(window: MainWindow, menu: QMenu, lane_id: str, position: float) -> None:
    assert window.ready is not None
    lanes = window.ready.geometry.lanes
    edge = lanes.edges[lanes.index()[lane_id]]
    send, user, gate = window.send, window.user, window.gate.gate
    closed = any(lane_id in inc.lanes and inc.closes_lanes for inc in window.map.incidents)
    if closed:
        gate(menu.addAction(f"Reopen lane {lane_id}", lambda: send(OpenLane(lane_id, user))), OpenLane)
    else:
        gate(menu.addAction(f"Close lane {lane_id}", lambda: send(CloseLane(lane_id, user))), CloseLane)
        gate(menu.addAction(f"Close edge {edge}", lambda: send(CloseEdge(edge, user))), CloseEdge)
    block = menu.addAction(
        f"Block lane {lane_id} here for 10 min", lambda: send(BlockLane(lane_id, position, 600.0, user))
    )
    gate(block, BlockLane)
    scale = menu.addAction(f"Scale demand through edge {edge}…", lambda: window.ask_route_demand(edge))
    gate(scale, RouteDemand)
    scaled = route_demand_on(window.map.incidents, edge)
    if scaled is not None:
        incident_id = scaled.id
        clear = menu.addAction(
            f"Clear demand scaling through {edge} ({scaled.demand_factor:g}x)",
            lambda: send(ClearIncident(incident_id, user)),
        )
        gate(clear, ClearIncident)


def map_menu(window: MainWindow, pick: Pick | None) -> QMenu:
    """The context menu for ``pick`` (None: empty map)."""
    menu = QMenu(window)
    lane = lane_of(window, pick) if pick is not None else None
    if lane is not None and window.ready is not None:
        _lane_actions(window, menu, *lane)
    if pick is not None and pick.kind == "signal":
        signal_id = pick.id
        override = menu.addAction(f"Override signal {signal_id}...", lambda: focus_signal(window, signal_id))
        window.gate.gate(override, Override)
        if window.last_frame is not None and any(
            v.signal_id == signal_id and v.override for v in window.last_frame.signals
        ):
            clear = menu.addAction(
                f"Clear override on {signal_id}",
                lambda: window.send(ClearOverride(signal_id, window.user)),
            )
            window.gate.gate(clear, ClearOverride)
    if pick is not None and pick.kind in ("e1", "e2"):
        _detector_actions(window, menu, pick.id)
    if pick is not None and pick.kind == "vehicle":
        vehicle = pick
        menu.addAction(f"Follow vehicle {pick.id}", lambda: follow(window, vehicle))
    if not menu.isEmpty():
        menu.addSeparator()
    menu.addAction("Fit network", window.map.fit)
    return menu


def _detector_actions(window: MainWindow, menu: QMenu, detector: str) -> None:
    """Mark the detector failed, or back in service when it is not in service (health as the
    worker last published it)."""
    frame = window.last_frame
    health = frame.detector_health.get(detector) if frame is not None else None
    send, user = window.send, window.user
    if health is not None and health.state != "ok":
        back = menu.addAction(
            f"Mark detector {detector} back in service", lambda: send(MarkDetector(detector, True, user))
        )
        window.gate.gate(back, MarkDetector)
    if health is None or not health.reason.startswith(MARKED_FAILED):
        failed = menu.addAction(
            f"Mark detector {detector} failed", lambda: send(MarkDetector(detector, False, user))
        )
        window.gate.gate(failed, MarkDetector)
    add_fault_actions(window, menu, detector)


def route_demand_dialog(window: MainWindow, edge: str) -> QInputDialog:
    """A window-modal dialog (not blocking the event loop) asking for the factor on the routes
    through ``edge``; accepting it sends the command."""
    current = route_demand_on(window.map.incidents, edge)
    dialog = QInputDialog(window)
    dialog.setWindowTitle("Scale demand through an edge")
    dialog.setLabelText(
        f"Vehicles whose route passes edge {edge}, from now on:\n"
        f"keep this many times as many (0: none, 0.5: half, 2: double; at most {MAX_ROUTE_DEMAND:g})"
    )
    dialog.setInputMode(QInputDialog.InputMode.DoubleInput)
    dialog.setDoubleRange(0.0, MAX_ROUTE_DEMAND)
    dialog.setDoubleDecimals(2)
    dialog.setDoubleStep(0.1)
    factor = current.demand_factor if current is not None else None
    dialog.setDoubleValue(factor if factor is not None else 0.5)
    dialog.doubleValueSelected.connect(
        lambda value: window.send(RouteDemand(edge, float(value), window.user))
    )
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.open()
    return dialog


def focus_signal(window: MainWindow, signal_id: str) -> None:
    window.docks["signals"].show()
    window.docks["signals"].raise_()
    window.signals_panel.select(signal_id)
    window.signals_panel.reason.setFocus()


def follow(window: MainWindow, pick: Pick) -> None:
    window.map.select(pick)
    window.inspector.set_pick(pick)
    window.map.follow_box.setChecked(True)
