"""Inspector: live values of the picked object and a live time-series plot of any of them; a
signal's timing (net file) below its values.

Picking asks the worker for the object's details (``Inspect``: a vehicle's route and delay, a
detector's 30 s and 5 min intervals), which come back with each frame (``SimFrame.inspected``).
Time the simulation skipped (a jump) is a gap in the plot, not a line across it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

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
from trafficai.core.timing import SignalTiming
from trafficai.gui import theme
from trafficai.gui.forecast_view import forecast_band
from trafficai.gui.inspect import Value, axis_label, default_plot, format_value, inspect_values, numeric
from trafficai.gui.map.picking import Pick
from trafficai.gui.panels.timing import TimingView
from trafficai.gui.widgets.ringbuffer import RingBuffer
from trafficai.runtime.commands import INSPECT_KINDS, Inspect
from trafficai.runtime.messages import (
    CameraView,
    ForecastUpdate,
    IncidentView,
    Inspected,
    Ready,
    SignalView,
    SimFrame,
)
from trafficai.sensors.health import DetectorHealth

KIND_LABELS = {
    "vehicle": "Vehicle",
    "lane": "Lane",
    "signal": "Signal",
    "junction": "Junction",
    "e1": "Induction loop",
    "e2": "Lane-area detector",
    "camera": "Camera",
    "incident": "Incident",
}


def _text(value: Value) -> str:
    return format_value(value)


class InspectorPanel(QWidget):
    follow_toggled = Signal(bool)
    command = Signal(object)  # Inspect, for the worker

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pick: Pick | None = None
        self.values: dict[str, Value] = {}
        self.series = RingBuffer(3600)
        self.plotted = ""
        self._last_t = -math.inf
        self._tracked_since = -math.inf
        self.timings: dict[str, SignalTiming] = {}
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
        self.curve = self.plot.plot(pen=theme.pen(78, 161, 255, 2.0), connect="finite")
        self.curve.setClipToView(True)
        self.curve.setDownsampling(auto=True, method="peak")
        # the forecast from now to +60 min (80 % band and point forecasts) of the plotted flow/speed
        self.forecast: ForecastUpdate | None = None
        self.band_low = self.plot.plot(pen=None)
        self.band_high = self.plot.plot(pen=None)
        self.band = pg.FillBetweenItem(self.band_low, self.band_high, brush=pg.mkBrush(255, 170, 60, 60))
        self.plot.addItem(self.band)
        self.band_point = self.plot.plot(pen=theme.pen(255, 170, 60, 1.5), symbol="o", symbolSize=5)
        plot_bar = QHBoxLayout()
        plot_bar.addWidget(QLabel("Plot:"))
        plot_bar.addWidget(self.metric_combo, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.follow)
        layout.addWidget(self.table, 1)
        layout.addLayout(plot_bar)
        layout.addWidget(self.plot, 1)
        self.timing = TimingView()
        self.timing.setVisible(False)
        layout.addWidget(self.timing, 1)

    def update_forecast(self, update: ForecastUpdate) -> None:
        self.forecast = update
        self._draw_band()

    def _draw_band(self) -> None:
        band = None
        if self.forecast is not None and self.pick is not None and self.plotted:
            band = forecast_band(self.forecast, self._forecast_id(self.pick), self.plotted)
        times, low, point, high = band if band is not None else ((), (), (), ())
        self.band_low.setData(list(times), list(low))
        self.band_high.setData(list(times), list(high))
        self.band_point.setData(list(times), list(point))

    @staticmethod
    def _forecast_id(pick: Pick) -> str:
        return pick.id if pick.kind == "e1" else ""

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
        self._draw_band()
        self.plot.setLabel("left", "")  # nothing plotted yet: no label left from the last object
        inspected = pick is not None and pick.kind in INSPECT_KINDS
        self.command.emit(Inspect(pick.kind, pick.id) if pick is not None and inspected else Inspect())
        self.timing.setVisible(pick is not None and pick.kind == "signal")
        if pick is not None and pick.kind == "signal":
            self.timing.set_timing(self.timings.get(pick.id))
        self.follow.blockSignals(True)
        self.follow.setChecked(False)
        self.follow.blockSignals(False)
        self.follow.setVisible(pick is not None and pick.kind == "vehicle")
        if pick is None:
            self.title.setText("Click a vehicle, lane, signal, detector or camera on the map.")
            self.table.setRowCount(0)
        else:
            self.title.setText(f"<b>{KIND_LABELS.get(pick.kind, pick.kind)} {pick.id}</b>")

    def set_ready(self, ready: Ready) -> None:
        self.timings = dict(ready.timings)
        self._tracked_since = -math.inf
        self.forecast = None
        self.set_pick(None)

    def update_frame(self, frame: SimFrame, ready: Ready, incidents: Sequence[IncidentView]) -> None:
        """The picked object's values in ``frame`` (detector health as the worker judged it)."""
        if not self.timings and ready.timings:
            self.timings = dict(ready.timings)
        self.update_values(
            frame.snapshot,
            ready.geometry,
            frame.signals,
            ready.cameras,
            incidents,
            inspected=frame.inspected,
            health=frame.detector_health,
            tracked_since_s=frame.tracked_since_s,
        )

    def update_values(
        self,
        snapshot: Snapshot,
        geometry: NetGeometry,
        signals: Sequence[SignalView],
        cameras: Sequence[CameraView],
        incidents: Sequence[IncidentView],
        *,
        inspected: Inspected | None = None,
        health: Mapping[str, DetectorHealth] | None = None,
        tracked_since_s: float = -math.inf,
    ) -> None:
        pick = self.pick
        if pick is None:
            return
        values = inspect_values(pick, snapshot, geometry, signals, cameras, incidents, inspected, health)
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
        self._update_plot(pick.kind, values, snapshot.time_s, tracked_since_s)

    def _update_plot(
        self, kind: str, values: dict[str, Value], time_s: float, tracked_since_s: float
    ) -> None:
        keys = numeric(values)
        if [self.metric_combo.itemText(i) for i in range(self.metric_combo.count())] != keys:
            current = self.plotted or default_plot(kind, keys)
            self.metric_combo.blockSignals(True)
            self.metric_combo.clear()
            self.metric_combo.addItems(keys)
            if current in keys:
                self.metric_combo.setCurrentText(current)
            self.metric_combo.blockSignals(False)
            if self.metric_combo.currentText() != self.plotted:
                self._metric_changed(0)
        if self.plotted and time_s > self._last_t:
            point = values.get(self.plotted)
            if isinstance(point, float | int):
                if tracked_since_s > self._tracked_since and len(self.series):
                    self.series.append(tracked_since_s, math.nan)  # a jump: no line across it
                self._tracked_since = max(self._tracked_since, tracked_since_s)
                self._last_t = time_s
                self.series.append(time_s, float(point))
                self.curve.setData(self.series.times(), self.series.values(0), connect="finite")

    def _metric_changed(self, _index: int) -> None:
        self.plotted = self.metric_combo.currentText()
        self.series.clear()
        self._last_t = -math.inf
        self.curve.setData([], [])
        name, unit = axis_label(self.plotted)
        self.plot.setLabel("left", name, units=unit or None)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self._draw_band()
