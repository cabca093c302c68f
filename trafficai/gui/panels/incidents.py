"""Incidents: close a lane or edge, block a lane with a stopped vehicle, scale demand (network-wide
or on the routes through an edge); the list of active incidents with clear and restore."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from trafficai.gui import theme
from trafficai.gui.panels.events import clock
from trafficai.runtime.commands import (
    MAX_ROUTE_DEMAND,
    BlockLane,
    ClearIncident,
    CloseEdge,
    CloseLane,
    DemandScale,
    RestoreAll,
    RouteDemand,
)
from trafficai.runtime.messages import IncidentView, Ready

COLUMNS = ("id", "kind", "where", "since", "until", "by", "reason")


class IncidentsPanel(QWidget):
    command = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.command.connect(lambda _command: self.message.setText(""))  # a new try: the old refusal goes
        self.user = ""
        self.ready: Ready | None = None
        self.lane = ""
        self.edge = ""
        self.position_m = 0.0
        self.incidents: tuple[IncidentView, ...] = ()

        actions = self._build_actions()
        demand_box = self._build_demand()
        list_row = self._build_list()
        top = QHBoxLayout()
        top.addWidget(actions, 2)
        top.addWidget(demand_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addLayout(list_row)
        layout.addWidget(self.table, 1)
        self._update_buttons()

    def _build_actions(self) -> QGroupBox:
        """The form that creates an incident on the target lane or edge."""
        self.target = theme.steady(QLabel("Target: click a lane (or a vehicle) on the map"))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("reason (optional), e.g. 'crash reported by camera'")
        self.block_duration = QDoubleSpinBox()
        self.block_duration.setRange(10.0, 24 * 3600.0)
        self.block_duration.setDecimals(0)
        self.block_duration.setValue(600.0)
        self.block_duration.setSuffix(" s")
        self.close_lane_button = QPushButton("Close lane")
        self.close_lane_button.clicked.connect(self.close_lane)
        self.close_edge_button = QPushButton("Close edge (all lanes)")
        self.close_edge_button.clicked.connect(self.close_edge)
        self.block_button = QPushButton("Block lane (stopped vehicle)")
        self.block_button.clicked.connect(self.block_lane)
        self.route_factor = QDoubleSpinBox()
        self.route_factor.setRange(0.0, MAX_ROUTE_DEMAND)
        self.route_factor.setDecimals(2)
        self.route_factor.setSingleStep(0.1)
        self.route_factor.setValue(0.5)
        self.route_factor.setSuffix(" x")
        self.route_factor.setToolTip(
            "Vehicles departing from now on whose route passes the target's edge:"
            " 0 removes them, 0.5 halves them, 2 doubles them"
        )
        self.route_demand_button = QPushButton("Scale demand through edge")
        self.route_demand_button.clicked.connect(self.scale_route_demand)
        actions = QGroupBox("New incident")
        form = QFormLayout(actions)
        form.addRow(self.target)
        form.addRow("Reason:", self.reason)
        form.addRow("Block for:", self.block_duration)
        row = QHBoxLayout()
        row.addWidget(self.close_lane_button)
        row.addWidget(self.close_edge_button)
        row.addWidget(self.block_button)
        form.addRow(row)
        route_row = QHBoxLayout()
        route_row.addWidget(self.route_factor)
        route_row.addWidget(self.route_demand_button)
        route_row.addStretch(1)
        form.addRow("Routes through edge:", route_row)
        self.message = QLabel()  # why the last incident command was refused, next to the buttons
        self.message.setWordWrap(True)
        form.addRow(self.message)

        return actions

    def _build_demand(self) -> QGroupBox:
        """The network-wide demand scale."""
        self.demand = QDoubleSpinBox()
        self.demand.setRange(0.1, 20.0)
        self.demand.setSingleStep(0.1)
        self.demand.setValue(1.0)
        self.demand.setSuffix(" x")
        self.demand_button = QPushButton("Apply demand scale")
        self.demand_button.clicked.connect(self.apply_demand)
        demand_box = QGroupBox("Demand (vehicles still to enter the network)")
        demand_row = QHBoxLayout(demand_box)
        demand_row.addWidget(self.demand)
        demand_row.addWidget(self.demand_button)
        demand_row.addStretch(1)

        return demand_box

    def _build_list(self) -> QHBoxLayout:
        """The table of active incidents (``self.table``) and the row of buttons above it."""
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.clear_button = QPushButton("Clear selected")
        self.clear_button.clicked.connect(self.clear_selected)
        self.restore_button = QPushButton("Restore all (and demand)")
        self.restore_button.clicked.connect(self.restore_all)
        list_row = QHBoxLayout()
        list_row.addWidget(QLabel("Active incidents"))
        list_row.addStretch(1)
        list_row.addWidget(self.clear_button)
        list_row.addWidget(self.restore_button)

        return list_row

    def set_ready(self, ready: Ready, user: str) -> None:
        self.ready = ready
        self.user = user
        self.demand.setValue(ready.demand_scale)
        self.set_target("", 0.0)
        self.set_incidents(())

    def set_target(self, lane: str, position_m: float) -> None:
        """The lane the next incident applies to (from a map pick)."""
        self.lane = lane
        self.position_m = position_m
        self.edge = ""
        if lane and self.ready is not None:
            lanes = self.ready.geometry.lanes
            index = lanes.index().get(lane)
            if index is not None:
                self.edge = lanes.edges[index]
                self.target.setText(f"Target: lane <b>{lane}</b> (edge {self.edge}) at {position_m:.0f} m")
        else:
            self.target.setText("Target: click a lane (or a vehicle) on the map")
        self._update_buttons()

    def set_incidents(self, incidents: Sequence[IncidentView]) -> None:
        self.incidents = tuple(incidents)
        self.table.setRowCount(len(incidents))
        for row, inc in enumerate(incidents):
            where = inc.target
            if inc.vehicle:
                where = f"{inc.target} @ {inc.position_m:.0f} m"
            elif inc.demand_factor is not None:
                where = f"{inc.target} × {inc.demand_factor:g}"
            values = (
                inc.id,
                inc.kind,
                where,
                clock(inc.since_s),
                clock(inc.until_s) if inc.until_s is not None else "until cleared",
                inc.user,
                inc.reason,
            )
            for col, text in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self._update_buttons()

    def show_refusal(self, message: str) -> None:
        self.message.setText(
            f'<span style="color:{theme.SEVERITY_COLORS["alarm"]}">Refused: {escape(message)}</span>'
        )

    def _update_buttons(self) -> None:
        has = bool(self.lane)
        self.close_lane_button.setEnabled(has)
        self.close_edge_button.setEnabled(has)
        self.block_button.setEnabled(has)
        self.route_demand_button.setEnabled(bool(self.edge))
        self.clear_button.setEnabled(bool(self.incidents))
        self.restore_button.setEnabled(True)

    def close_lane(self) -> None:
        if self.lane:
            self.command.emit(CloseLane(self.lane, self.user, self.reason.text().strip()))

    def close_edge(self) -> None:
        if self.edge:
            self.command.emit(CloseEdge(self.edge, self.user, self.reason.text().strip()))

    def block_lane(self) -> None:
        if self.lane:
            self.command.emit(
                BlockLane(
                    self.lane,
                    self.position_m,
                    float(self.block_duration.value()),
                    self.user,
                    self.reason.text().strip(),
                )
            )

    def scale_route_demand(self) -> None:
        if self.edge:
            factor = float(self.route_factor.value())
            self.command.emit(RouteDemand(self.edge, factor, self.user, self.reason.text().strip()))

    def clear_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        for row in rows:
            if 0 <= row < len(self.incidents):
                self.command.emit(ClearIncident(self.incidents[row].id, self.user))

    def restore_all(self) -> None:
        self.command.emit(RestoreAll(self.user))

    def apply_demand(self) -> None:
        self.command.emit(DemandScale(float(self.demand.value()), self.user))
