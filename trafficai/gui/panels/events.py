"""Events and alarms: one list of operator actions, controller fallbacks, SUMO warnings and sensor
faults, with severity, time and acknowledgement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from trafficai.core.events import Event, event_key, is_critical
from trafficai.gui import theme
from trafficai.gui.widgets.table_model import ColumnsModel, Index
from trafficai.runtime.commands import AcknowledgeAlarm, CloseLane

MAX_ROWS = 20000
MAX_ACK_COMMANDS = 20  # more acknowledged at once: one summary command
DETECTED_INCIDENT = "incident-detected"  # runtime/incident_watch.py: the alarm's object is the lane
COLUMNS = ("sim time", "wall time", "severity", "kind", "object", "user", "message", "ack")


def clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class Row:
    event: Event
    wall: str
    serial: int = 0  # order of arrival, never reused (storage indices shift when old rows go)
    acked_by: str = ""
    acked_at: str = ""  # wall-clock time of the acknowledgement

    @property
    def acked(self) -> bool:
        return bool(self.acked_at)


class EventModel(ColumnsModel):
    """The events, newest first in the view; ``rows`` keeps them oldest first (row r of the view is
    ``rows[len(rows) - 1 - r]``)."""

    columns = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []
        self.open_counts: dict[str, int] = {"info": 0, "warning": 0, "alarm": 0}
        self.open_critical: dict[int, Row] = {}  # serial -> row, oldest first
        self._serial = 0

    def row_count(self) -> int:
        return len(self.rows)

    def storage_index(self, view_row: int) -> int:
        return len(self.rows) - 1 - view_row

    def row_at(self, view_row: int) -> Row:
        return self.rows[self.storage_index(view_row)]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        e = row.event
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return (
                clock(e.time_s),
                row.wall,
                e.severity,
                e.kind,
                e.object_id,
                e.user,
                e.message,
                f"{row.acked_by} {row.acked_at}".strip() if row.acked else "",
            )[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 2:
            return QColor(theme.SEVERITY_COLORS.get(e.severity, theme.TEXT))
        if role == Qt.ItemDataRole.BackgroundRole and is_critical(e) and not row.acked:
            return QColor(90, 20, 20)
        return None

    def add(self, events: Sequence[Event], wall: str) -> None:
        if not events:
            return
        overflow = len(self.rows) + len(events) - MAX_ROWS
        if overflow > 0:  # the oldest rows: the bottom of the view
            self.beginRemoveRows(QModelIndex(), len(self.rows) - overflow, len(self.rows) - 1)
            for row in self.rows[:overflow]:
                if not row.acked:
                    self.open_counts[row.event.severity] = self.open_counts.get(row.event.severity, 1) - 1
                self.open_critical.pop(row.serial, None)
            del self.rows[:overflow]
            self.endRemoveRows()
        self.beginInsertRows(QModelIndex(), 0, len(events) - 1)
        for e in events:
            self._serial += 1
            row = Row(e, wall, self._serial)
            self.rows.append(row)
            self.open_counts[e.severity] = self.open_counts.get(e.severity, 0) + 1
            if is_critical(e):
                self.open_critical[row.serial] = row
        self.endInsertRows()

    def acknowledge(self, rows: Sequence[int], user: str = "", wall: str = "") -> list[Event]:
        """Acknowledge the rows at these storage indices; returns the events that were still open."""
        wall = wall or datetime.now().strftime("%H:%M:%S")
        done: list[Event] = []
        for r in rows:
            if 0 <= r < len(self.rows) and not self.rows[r].acked:
                row = self.rows[r]
                row.acked_by, row.acked_at = user, wall
                self.open_counts[row.event.severity] = self.open_counts.get(row.event.severity, 1) - 1
                self.open_critical.pop(row.serial, None)
                done.append(row.event)
        valid = [self.storage_index(r) for r in rows if 0 <= r < len(self.rows)]
        if valid:
            self.dataChanged.emit(self.index(min(valid), 0), self.index(max(valid), len(COLUMNS) - 1))
        return done

    def acknowledge_serial(self, serial: int, user: str = "") -> list[Event]:
        row = self.open_critical.get(serial)
        if row is None:
            return []
        first = self.rows[0].serial if self.rows else 0
        return self.acknowledge([serial - first], user)  # serials are consecutive in ``rows``

    def oldest_open_critical(self) -> Row | None:
        return next(iter(self.open_critical.values()), None)

    def unacknowledged(self, severities: tuple[str, ...] = ("alarm", "warning")) -> int:
        return sum(self.open_counts.get(s, 0) for s in severities)


def acknowledgement_commands(events: Sequence[Event], user: str) -> list[AcknowledgeAlarm]:
    """What the worker records for an acknowledgement: one command per alarm or warning, or one for
    the lot when there are many (a thousand acknowledged warnings are one line in the run)."""
    worth = [e for e in events if e.severity != "info"]
    if len(worth) > MAX_ACK_COMMANDS:
        alarms = sum(1 for e in worth if is_critical(e))
        summary = f"{alarms} alarms and {len(worth) - alarms} warnings at once"
        return [AcknowledgeAlarm("*", user, summary)]
    return [AcknowledgeAlarm(event_key(e), user, e.message[:160]) for e in worth]


class SeverityFilter(QSortFilterProxyModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.allowed: tuple[str, ...] = ("info", "warning", "alarm")

    def set_allowed(self, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, EventModel)
        return model.rows[source_row].event.severity in self.allowed


# column -> the widest text it shows (the kinds the code emits), so no column is cut to 'contr…'
FIXED_WIDTHS = {
    "sim time": "00:00:00",
    "wall time": "00:00:00",
    "severity": "warning",
    "kind": "controller",
    "ack": "operator 00:00:00",
}


class EventsPanel(QWidget):
    """The list, newest first; it follows new events while "Follow newest" is on."""

    unacked_changed = Signal(int)  # unacknowledged alarms
    acknowledged = Signal(object)  # list[Event] just acknowledged (by ``user``)
    create_incident = Signal(object)  # CloseLane for the lane a detected incident names
    show_camera = Signal(str)  # the camera an event names (an incident alarm's), to open large

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.user = ""
        self.model = EventModel(self)
        self.proxy = SeverityFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(20)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)  # rows, not pixels
        self._size_columns()
        self.filter = QComboBox()
        self.filter.addItem("All events", ("info", "warning", "alarm"))
        self.filter.addItem("Warnings and alarms", ("warning", "alarm"))
        self.filter.addItem("Alarms only", ("alarm",))
        self.filter.currentIndexChanged.connect(
            lambda _: self.proxy.set_allowed(tuple(self.filter.currentData()))
        )
        self.follow = QCheckBox("Follow newest")
        self.follow.setChecked(True)
        self.follow.setToolTip("Keep the newest event in view (the list is newest first)")
        self.ack_button = QPushButton("Acknowledge selected")
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.ack_all_button = QPushButton("Acknowledge all")
        self.ack_all_button.clicked.connect(self.acknowledge_all)
        self.incident_button = QPushButton("Create incident")
        self.incident_button.setToolTip("Close the lane the selected detected incident names (one click)")
        self.incident_button.clicked.connect(self.create_incident_from_selected)
        self.camera_button = QPushButton("Show camera")
        self.camera_button.setToolTip("Open the camera the selected alarm names (or double-click the alarm)")
        self.camera_button.setEnabled(False)
        self.camera_button.clicked.connect(self.show_selected_camera)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_camera_button())
        self.view.doubleClicked.connect(self._row_double_clicked)
        self.count_label = theme.steady(QLabel())
        bar = QHBoxLayout()
        bar.addWidget(self.filter)
        bar.addWidget(self.follow)
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.camera_button)
        bar.addWidget(self.incident_button)
        bar.addWidget(self.ack_button)
        bar.addWidget(self.ack_all_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self._update_count()

    def _size_columns(self) -> None:
        header = self.view.horizontalHeader()
        metrics = self.view.fontMetrics()
        for col, name in enumerate(COLUMNS):
            template = FIXED_WIDTHS.get(name)
            if template is not None:
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
                width = max(metrics.horizontalAdvance(template), metrics.horizontalAdvance(name))
                header.resizeSection(col, width + 24)
            else:
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("message"), QHeaderView.ResizeMode.Stretch)

    def add_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        bar = self.view.verticalScrollBar()
        before, rows_before = bar.value(), self.proxy.rowCount()
        self.model.add(events, datetime.now().strftime("%H:%M:%S"))
        if self.follow.isChecked():
            self.view.scrollToTop()
        else:  # keep the rows the operator is reading where they are
            bar.setValue(before + self.proxy.rowCount() - rows_before)
        self._update_count()

    def clear(self) -> None:
        self.model.beginResetModel()
        self.model.rows.clear()
        self.model.open_counts = {"info": 0, "warning": 0, "alarm": 0}
        self.model.open_critical.clear()
        self.model.endResetModel()
        self._update_count()

    def acknowledge_selected(self) -> None:
        rows = sorted(
            {
                self.model.storage_index(self.proxy.mapToSource(i).row())
                for i in self.view.selectionModel().selectedRows()
            }
        )
        self._acknowledged(self.model.acknowledge(rows, self.user))

    def selected_events(self) -> list[Event]:
        return [
            self.model.row_at(self.proxy.mapToSource(i).row()).event
            for i in self.view.selectionModel().selectedRows()
        ]

    def selected_camera(self) -> str:
        """The camera the first selected event that names one names ('' for none)."""
        return next((e.camera for e in self.selected_events() if e.camera), "")

    def show_selected_camera(self) -> None:
        """The selected alarm's camera, opened large."""
        camera = self.selected_camera()
        if camera:
            self.show_camera.emit(camera)

    def _row_double_clicked(self, index: QModelIndex) -> None:
        event = self.model.row_at(self.proxy.mapToSource(index).row()).event
        if event.camera:
            self.show_camera.emit(event.camera)

    def _update_camera_button(self) -> None:
        camera = self.selected_camera()
        self.camera_button.setEnabled(bool(camera))
        self.camera_button.setToolTip(
            f"Open camera {camera} large (or double-click the alarm)"
            if camera
            else "Open the camera the selected alarm names (or double-click the alarm)"
        )

    def create_incident_from_selected(self) -> None:
        """One click: the selected detected incidents' lanes closed, each alarm acknowledged."""
        for event in self.selected_events():
            if event.kind == DETECTED_INCIDENT and event.object_id:
                reason = f"confirmed detected incident: {event.message[:120]}"
                self.create_incident.emit(CloseLane(event.object_id, self.user, reason))

    def acknowledge_all(self) -> None:
        self._acknowledged(self.model.acknowledge(list(range(len(self.model.rows))), self.user))

    def acknowledge_oldest_critical(self) -> None:
        """The alarm the banner shows."""
        row = self.model.oldest_open_critical()
        if row is not None:
            self._acknowledged(self.model.acknowledge_serial(row.serial, self.user))

    def _acknowledged(self, events: list[Event]) -> None:
        self._update_count()
        if events:
            self.acknowledged.emit(events)

    def _update_count(self) -> None:
        alarms = self.model.unacknowledged(("alarm",))
        warnings = self.model.unacknowledged(("warning",))
        self.count_label.setText(
            f"{len(self.model.rows)} events · {alarms} alarms and {warnings} warnings unacknowledged"
        )
        self.unacked_changed.emit(alarms)
