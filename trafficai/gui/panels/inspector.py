"""Inspector: live values of the picked object and a live time-series plot of any of them."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.gui import theme
from trafficai.gui.inspect import Value, inspect_values, numeric
from trafficai.gui.map.picking import Pick
from trafficai.gui.widgets.ringbuffer import RingBuffer
from trafficai.runtime.messages import CameraView, IncidentView, SignalView

KIND_LABELS = {
    "vehicle": "Vehicle",
    "lane": "Lane",
    "signal": "Signal",
    "junction": "Junction",
    "e1": "Induction loop",
    "e2": "Lane-area detector",
    "camera": "Camera",
}


def _text(value: Value) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.2f}"
    return value


class InspectorPanel(QWidget):
    follow_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pick: Pick | None = None
        self.values: dict[str, Value] = {}
        self.series = RingBuffer(3600)
        self.plotted = ""
        self._last_t = -math.inf
        self.title = theme.steady(QLabel("Click a vehicle, lane, signal, detector or camera on the map."))
        self.follow = QCheckBox("Follow on the map")
        self.follow.setVisible(False)
        self.follow.toggled.connect(self.follow_toggled.emit)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["value", ""])
        self.table.horizontalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.metric_combo = QComboBox()
        self.metric_combo.currentIndexChanged.connect(self._metric_changed)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(150)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "simulation time", units="s")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.curve = self.plot.plot(pen=theme.pen(78, 161, 255, 2.0))
        self.curve.setClipToView(True)
        self.curve.setDownsampling(auto=True, method="peak")
        plot_bar = QHBoxLayout()
        plot_bar.addWidget(QLabel("Plot:"))
        plot_bar.addWidget(self.metric_combo, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.follow)
        layout.addWidget(self.table, 1)
        layout.addLayout(plot_bar)
        layout.addWidget(self.plot, 1)

    def set_pick(self, pick: Pick | None) -> None:
        self.pick = pick
        self.values = {}
        self.series.clear()
        self._last_t = -math.inf
        self.curve.setData([], [])
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        self.metric_combo.blockSignals(False)
        self.plotted = ""
        self.follow.blockSignals(True)
        self.follow.setChecked(False)
        self.follow.blockSignals(False)
        self.follow.setVisible(pick is not None and pick.kind == "vehicle")
        if pick is None:
            self.title.setText("Click a vehicle, lane, signal, detector or camera on the map.")
            self.table.setRowCount(0)
        else:
            self.title.setText(f"<b>{KIND_LABELS.get(pick.kind, pick.kind)} {pick.id}</b>")

    def update_values(
        self,
        snapshot: Snapshot,
        geometry: NetGeometry,
        signals: Sequence[SignalView],
        cameras: Sequence[CameraView],
        incidents: Sequence[IncidentView],
    ) -> None:
        pick = self.pick
        if pick is None:
            return
        values = inspect_values(pick, snapshot, geometry, signals, cameras, incidents)
        if values is None:
            self.title.setText(
                f"<b>{KIND_LABELS.get(pick.kind, pick.kind)} {pick.id}</b> has left the network"
            )
            return
        self.values = values
        self.table.setRowCount(len(values))
        self.table.setVerticalHeaderLabels(list(values))
        for row, value in enumerate(values.values()):
            item = self.table.item(row, 0)
            text = _text(value)
            if item is None:
                self.table.setItem(row, 0, QTableWidgetItem(text))
            elif item.text() != text:
                item.setText(text)
        keys = numeric(values)
        if [self.metric_combo.itemText(i) for i in range(self.metric_combo.count())] != keys:
            current = self.plotted or (keys[0] if keys else "")
            self.metric_combo.blockSignals(True)
            self.metric_combo.clear()
            self.metric_combo.addItems(keys)
            if current in keys:
                self.metric_combo.setCurrentText(current)
            self.metric_combo.blockSignals(False)
            self.plotted = self.metric_combo.currentText()
        if self.plotted and snapshot.time_s > self._last_t:
            point = values.get(self.plotted)
            if isinstance(point, float):
                self._last_t = snapshot.time_s
                self.series.append(snapshot.time_s, point)
                self.curve.setData(self.series.times(), self.series.values(0))

    def _metric_changed(self, _index: int) -> None:
        self.plotted = self.metric_combo.currentText()
        self.series.clear()
        self._last_t = -math.inf
        self.curve.setData([], [])
        self.plot.setLabel("left", self.plotted)
