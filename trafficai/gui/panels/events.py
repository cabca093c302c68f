"""Events and alarms: one list of operator actions, controller fallbacks, SUMO warnings and sensor
faults, with severity, time and acknowledgement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from trafficai.core.events import Event
from trafficai.gui import theme

MAX_ROWS = 20000
COLUMNS = ("sim time", "wall time", "severity", "kind", "object", "user", "message", "ack")
_Index = QModelIndex | QPersistentModelIndex


def clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class Row:
    event: Event
    wall: str
    acked: bool = False


class EventModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []
        self.open_counts: dict[str, int] = {"info": 0, "warning": 0, "alarm": 0}

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        e = row.event
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                clock(e.time_s),
                row.wall,
                e.severity,
                e.kind,
                e.object_id,
                e.user,
                e.message,
                "yes" if row.acked else "",
            )[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 2:
            return QColor(theme.SEVERITY_COLORS.get(e.severity, theme.TEXT))
        if role == Qt.ItemDataRole.BackgroundRole and e.severity == "alarm" and not row.acked:
            return QColor(90, 20, 20)
        return None

    def add(self, events: Sequence[Event], wall: str) -> None:
        if not events:
            return
        overflow = len(self.rows) + len(events) - MAX_ROWS
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            for row in self.rows[:overflow]:
                if not row.acked:
                    self.open_counts[row.event.severity] = self.open_counts.get(row.event.severity, 1) - 1
            del self.rows[:overflow]
            self.endRemoveRows()
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(events) - 1)
        self.rows.extend(Row(e, wall) for e in events)
        for e in events:
            self.open_counts[e.severity] = self.open_counts.get(e.severity, 0) + 1
        self.endInsertRows()

    def acknowledge(self, rows: Sequence[int]) -> None:
        for r in rows:
            if 0 <= r < len(self.rows) and not self.rows[r].acked:
                self.rows[r].acked = True
                severity = self.rows[r].event.severity
                self.open_counts[severity] = self.open_counts.get(severity, 1) - 1
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(COLUMNS) - 1))

    def unacknowledged(self, severities: tuple[str, ...] = ("alarm", "warning")) -> int:
        return sum(self.open_counts.get(s, 0) for s in severities)


class SeverityFilter(QSortFilterProxyModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.allowed: tuple[str, ...] = ("info", "warning", "alarm")

    def set_allowed(self, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, EventModel)
        return model.rows[source_row].event.severity in self.allowed


class EventsPanel(QWidget):
    unacked_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = EventModel(self)
        self.proxy = SeverityFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(20)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("message"), QHeaderView.ResizeMode.Stretch)
        self.filter = QComboBox()
        self.filter.addItem("All events", ("info", "warning", "alarm"))
        self.filter.addItem("Warnings and alarms", ("warning", "alarm"))
        self.filter.addItem("Alarms only", ("alarm",))
        self.filter.currentIndexChanged.connect(
            lambda _: self.proxy.set_allowed(tuple(self.filter.currentData()))
        )
        self.ack_button = QPushButton("Acknowledge selected")
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.ack_all_button = QPushButton("Acknowledge all")
        self.ack_all_button.clicked.connect(self.acknowledge_all)
        self.count_label = theme.steady(QLabel())
        bar = QHBoxLayout()
        bar.addWidget(self.filter)
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.ack_button)
        bar.addWidget(self.ack_all_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self._update_count()

    def add_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        at_bottom = self.view.verticalScrollBar().value() >= self.view.verticalScrollBar().maximum() - 2
        self.model.add(events, datetime.now().strftime("%H:%M:%S"))
        if at_bottom:
            self.view.scrollToBottom()
        self._update_count()

    def clear(self) -> None:
        self.model.beginResetModel()
        self.model.rows.clear()
        self.model.open_counts = {"info": 0, "warning": 0, "alarm": 0}
        self.model.endResetModel()
        self._update_count()

    def acknowledge_selected(self) -> None:
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()})
        self.model.acknowledge(rows)
        self._update_count()

    def acknowledge_all(self) -> None:
        self.model.acknowledge(list(range(len(self.model.rows))))
        self._update_count()

    def _update_count(self) -> None:
        alarms = self.model.unacknowledged(("alarm",))
        warnings = self.model.unacknowledged(("warning",))
        self.count_label.setText(
            f"{len(self.model.rows)} events · {alarms} alarms and {warnings} warnings unacknowledged"
        )
        self.unacked_changed.emit(alarms)
