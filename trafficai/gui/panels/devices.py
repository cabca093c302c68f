"""Connected devices (loop detectors and cameras): the inventory with each device's type, status,
its health (as the worker judged it; "substituted" when the controllers read a substitute for it,
and the fault injected on it), last seen, stored bins, sequence gaps, drops by reason and its latest
bin (a camera's: crossings per class, per approach with its turning movements, queue and speed)
with a sparkline of the last ones (a camera's: its crossings). Right-click a device to inject a
fault on it or clear one (``gui/fault_dialog.py``).

Fed by the worker's :class:`~trafficai.runtime.messages.DeviceStatus` (about once a second while
something changes); the table model changes in place, so a selection and the scroll position stay.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from trafficai.gui import theme
from trafficai.gui.panels.events import clock
from trafficai.gui.widgets.table_model import ColumnsModel, Index
from trafficai.runtime.messages import DeviceStatus, DeviceView, FaultView
from trafficai.sensors.health import DetectorHealth

COLUMNS = (
    "device", "type", "source", "status", "health", "last seen", "bins", "gaps", "drops", "latest", "trend",
)  # fmt: skip
STATE_COLORS = {"online": "#5ad17a", "offline": theme.MUTED, "silent": "#ffb347", "unknown": theme.MUTED}
HEALTH_COLORS = {
    "ok": theme.TEXT,
    "suspect": theme.SEVERITY_COLORS["warning"],
    "failed": theme.SEVERITY_COLORS["alarm"],
}
SPARK = "▁▂▃▄▅▆▇█"
_SHORT = {"count": "n", "occupancy": "occ", "speed": "v", "vehicles": "veh", "halting": "halt"}


def sparkline(values: Sequence[float]) -> str:
    """One block character per value, scaled from 0 to the largest (all zero: the lowest block)."""
    top = max(values, default=0.0)
    if top <= 0:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.5))] for v in values)


def drops_text(drops: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in drops)


def camera_text(values: Sequence[tuple[str, float]]) -> str:
    """A camera's bin: crossings per class, then per approach its count, its movements (exit edges),
    queue and speed: ``car 3, van 1 · N_in 4 (→E_out 1, →S_out 3) q 12.5 m v 6.2``."""
    classes = [f"{name[6:]} {value:g}" for name, value in values if name.startswith("class.")]
    named = dict(values)
    parts = [", ".join(classes)] if classes else []
    for name, count in values:
        if not name.startswith("approach."):
            continue
        edge = name[9:]
        moves = [
            f"→{m[len(edge) + 10 :]} {v:g}" for m, v in values if m.startswith(f"movement.{edge}.") and v
        ]
        text = f"{edge} {count:g}" + (f" ({', '.join(moves)})" if moves else "")
        if named.get(f"queue.{edge}"):
            text += f" q {named[f'queue.{edge}']:.1f} m"
        if f"speed.{edge}" in named:
            text += f" v {named[f'speed.{edge}']:.1f}"
        parts.append(text)
    return " · ".join(parts)


def latest_text(values: Sequence[tuple[str, float]]) -> str:
    if any(name.startswith(("class.", "approach.")) for name, _ in values):
        return camera_text(values)
    parts = []
    for name, value in values:
        shown = f"{value:.0%}" if name == "occupancy" else f"{value:.1f}" if name == "speed" else f"{value:g}"
        parts.append(f"{_SHORT.get(name, name)} {shown}")
    return " · ".join(parts)


def health_text(health: DetectorHealth | None, substituted: bool, faults: Sequence[str]) -> str:
    """``failed: locked on · substituted · stuck-off injected`` (``ok`` when nothing is wrong)."""
    parts = [f"{health.state}: {health.reason}" if health is not None and health.reason else (
        health.state if health is not None else "ok"
    )]  # fmt: skip
    if substituted:
        parts.append("substituted")
    parts += [f"{kind} injected" for kind in faults]
    return " · ".join(parts)


def network_text(status: DeviceStatus | None) -> str:
    """The panel's headline: the transport, and the totals."""
    if status is None:
        return "no devices (the run is not recorded, or devices are off)"
    if status.transport == "mqtt":
        link = f"MQTT broker {status.broker}, {'connected' if status.connected else 'DISCONNECTED'}"
    else:
        link = "in-process bus"
    online = sum(1 for d in status.devices if d.state == "online")
    return (
        f"{len(status.devices)} devices on the {link} · {online} online · "
        f"{status.stored:,} bins stored · {status.dropped:,} messages dropped"
    )


class DeviceModel(ColumnsModel):
    columns = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.devices: tuple[DeviceView, ...] = ()
        self.health: dict[str, str] = {}  # detector id -> health text, only where not plain "ok"
        self.states: dict[str, str] = {}  # detector id -> ok | suspect | failed

    def set_health(self, texts: dict[str, str], states: dict[str, str]) -> None:
        if texts == self.health and states == self.states:
            return
        self.health, self.states = texts, states
        if self.devices:
            column = COLUMNS.index("health")
            self.dataChanged.emit(self.index(0, column), self.index(len(self.devices) - 1, column))

    def row_count(self) -> int:
        return len(self.devices)

    def set_devices(self, devices: tuple[DeviceView, ...]) -> None:
        if [d.id for d in devices] != [d.id for d in self.devices]:
            self.beginResetModel()
            self.devices = devices
            self.endResetModel()
            return
        self.devices = devices
        if devices:
            self.dataChanged.emit(self.index(0, 0), self.index(len(devices) - 1, len(COLUMNS) - 1))

    def text(self, row: int, col: int) -> str:
        d = self.devices[row]
        return (
            d.id,
            d.kind,
            d.source,
            d.state,
            self.health.get(d.source, "ok"),
            clock(d.last_seen_s) if d.last_seen_s is not None else "-",
            str(d.stored),
            str(d.gaps),
            drops_text(d.drops),
            latest_text(d.latest),
            sparkline(d.history),
        )[col]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.text(index.row(), index.column())
        device = self.devices[index.row()]
        if role == Qt.ItemDataRole.ForegroundRole and COLUMNS[index.column()] == "status":
            return QColor(STATE_COLORS.get(device.state, theme.TEXT))
        if role == Qt.ItemDataRole.ForegroundRole and COLUMNS[index.column()] == "health":
            return QColor(HEALTH_COLORS.get(self.states.get(device.source, "ok"), theme.TEXT))
        if role == Qt.ItemDataRole.ForegroundRole and COLUMNS[index.column()] in ("gaps", "drops"):
            return QColor(theme.SEVERITY_COLORS["warning"]) if device.gaps or device.drops else None
        return None


class DevicesPanel(QWidget):
    context_requested = Signal(str, QPoint)  # detector id, global position

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status: DeviceStatus | None = None
        self.faults: tuple[FaultView, ...] = ()
        self._health: tuple[dict[str, DetectorHealth], frozenset[str], float] = ({}, frozenset(), 0.0)
        self.headline = theme.steady(QLabel(network_text(None)))
        self.model = DeviceModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.setMinimumHeight(60)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("latest"), QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.view, 1)

    def set_status(self, status: DeviceStatus) -> None:
        self.status = status
        self.headline.setText(network_text(status))
        self.model.set_devices(status.devices)

    def clear(self) -> None:
        self.status = None
        self.faults = ()
        self.headline.setText(network_text(None))
        self.model.set_devices(())
        self.model.set_health({}, {})

    def set_health(
        self, health: dict[str, DetectorHealth], substituted: frozenset[str], time_s: float
    ) -> None:
        """The worker's latest judgement (each frame): the health column follows it."""
        self._health = (health, substituted, time_s)
        faulty: dict[str, list[str]] = {}
        for fault in self.faults:
            if fault.state(time_s) == "active":
                faulty.setdefault(fault.device, []).append(fault.kind)
        wrong = {d for d, h in health.items() if h.state != "ok"} | set(substituted) | set(faulty)
        texts = {d: health_text(health.get(d), d in substituted, faulty.get(d, ())) for d in wrong}
        self.model.set_health(texts, {d: health[d].state for d in wrong if d in health})

    def set_faults(self, faults: tuple[FaultView, ...]) -> None:
        """The run's injected faults (shown in the health column while they act)."""
        self.faults = faults
        self.set_health(*self._health)

    def _context_menu(self, where: QPoint) -> None:
        index = self.view.indexAt(where)
        if index.isValid() and index.row() < len(self.model.devices):
            device = self.model.devices[index.row()].source
            self.context_requested.emit(device, self.view.viewport().mapToGlobal(where))
