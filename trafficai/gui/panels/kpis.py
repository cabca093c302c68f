"""KPI dashboard: live network delay, queue, throughput, mean speed, CO2 and per-intersection delay
from ring buffers, with a saved run from the store overlaid as a baseline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from trafficai.errors import StoreError
from trafficai.gui import theme
from trafficai.gui.forecast_view import network_forecast_text
from trafficai.gui.widgets.ringbuffer import RingBuffer
from trafficai.runtime.messages import ForecastUpdate, KpiSample, Ready
from trafficai.storage import RunStore, RunSummary

CAPACITY = 8192
REDRAW_MS = 150  # one plot per tick, so each plot about once a second
PLOT_MIN_HEIGHT = 56  # six plots in two rows still fit a 1366x768 screen's bottom dock
MIN_WINDOW_S = 300.0  # the x range shows at least this much simulated time
BASELINE_STATUSES = ("completed", "interrupted")  # failed runs are no reference


@dataclass(frozen=True, slots=True)
class Metric:
    key: str  # column in the ring buffer
    title: str
    unit: str
    scale: float = 1.0


NETWORK_METRICS = (
    Metric("mean_waiting_s", "Network delay (mean waiting)", "s/veh"),
    Metric("queue_veh", "Queue (halting vehicles)", "veh"),
    Metric("throughput_veh_h", "Throughput (arrivals)", "veh/h"),
    Metric("mean_speed_mps", "Mean speed", "km/h", 3.6),
    Metric("co2_g_s", "CO2 emissions", "kg/h", 3.6),
)
NET_KEYS = (*(m.key for m in NETWORK_METRICS), "running")


def baseline_network(store: RunStore, run_id: str) -> dict[str, NDArray[np.float64]]:
    """A stored run's network bins under the dashboard's metric names (throughput from arrivals)."""
    series = store.network_series(run_id)
    t = series.get("t_end", np.zeros(0))
    out: dict[str, NDArray[np.float64]] = {"t": t}
    for key in ("mean_waiting_s", "queue_veh", "mean_speed_mps", "co2_g_s", "running"):
        if key in series:
            out[key] = series[key]
    if "arrived" in series and t.size:
        begin = np.concatenate([[t[0] - (t[1] - t[0]) if t.size > 1 else 0.0], t[:-1]])
        width = np.maximum(t - begin, 1e-9)
        out["throughput_veh_h"] = series["arrived"] * 3600.0 / width
    return out


def baseline_signal_delay(
    store: RunStore, run_id: str
) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    per: dict[str, tuple[list[float], list[float]]] = {}
    for row in store.scoped_series(run_id, "signal"):
        if row.metric == "mean_waiting_s":
            ts, vs = per.setdefault(row.object_id, ([], []))
            ts.append(row.t_end)
            vs.append(row.value)
    return {k: (np.array(t), np.array(v)) for k, (t, v) in per.items()}


def baseline_candidates(runs: Sequence[RunSummary], scenario: str, own: str) -> list[RunSummary]:
    """Runs worth comparing with: not this one, with bins, not failed; this scenario's first, newest
    first within each group."""
    usable = [r for r in runs if r.id != own and r.n_bins > 0 and r.status in BASELINE_STATUSES]
    usable.sort(key=lambda r: r.started_at, reverse=True)
    return sorted(usable, key=lambda r: r.scenario != scenario)  # stable: keeps newest first


def baseline_label(run: RunSummary) -> str:
    """'grid4x4 · max-pressure · 2024-05-01 14:03 · delay 35.2 s/veh' (the id is the tooltip)."""
    started = run.started_at.replace("T", " ")[:16]
    text = f"{run.scenario} · {run.controller} · {started}"
    delay = run.kpis.get("mean_delay_s")
    if delay is not None:
        text += f" · delay {delay:.1f} s/veh"
    if run.status != "completed":
        text += f" · {run.status} (partial)"
    return text


def live_x_range(times: NDArray[np.float64]) -> tuple[float, float] | None:
    """The x range that shows the live series (the baseline may cover hours more); None: no data."""
    if times.size == 0:
        return None
    first, last = float(times[0]), float(times[-1])
    return first, max(last, first + MIN_WINDOW_S)


def value_at(t: NDArray[np.float64], v: NDArray[np.float64], at: float) -> float:
    if t.size == 0 or at < t[0]:
        return float("nan")
    return float(np.interp(at, t, v))


class KpiDashboard(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ready: Ready | None = None
        self.store_path: Path | None = None
        self.network = RingBuffer(CAPACITY, len(NET_KEYS))
        self.signal_ids: tuple[str, ...] = ()
        self.signal_delay = RingBuffer(CAPACITY, 1)
        self.intersection = ""
        self.baseline: dict[str, NDArray[np.float64]] = {}
        self.baseline_signals: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
        self.baseline_id = ""
        self._dirty = False
        self._pending = False
        self._next = 0
        self._base_intersection = ""

        self.baseline_combo = QComboBox()
        self.baseline_combo.setMinimumWidth(320)
        self.baseline_combo.currentIndexChanged.connect(self._baseline_chosen)
        self.refresh_button = QPushButton("Refresh runs")
        self.refresh_button.clicked.connect(self.refresh_runs)
        self.intersection_combo = QComboBox()
        self.intersection_combo.currentTextChanged.connect(self.set_intersection)
        self.status = theme.steady(QLabel())
        head = QHBoxLayout()
        head.addWidget(QLabel("Baseline:"))
        head.addWidget(self.baseline_combo, 1)
        head.addWidget(self.refresh_button)
        head.addWidget(QLabel("Intersection:"))
        head.addWidget(self.intersection_combo)

        grid = QGridLayout()
        grid.setSpacing(4)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.base_curves: dict[str, pg.PlotDataItem] = {}
        self.headlines: dict[str, QLabel] = {}
        metrics = [*NETWORK_METRICS, Metric("intersection", "Intersection delay (mean waiting)", "s/veh")]
        self.metrics = {m.key: m for m in metrics}
        for i, metric in enumerate(metrics):
            box = QWidget()
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(0, 0, 0, 0)
            box_layout.setSpacing(0)
            label = theme.steady(QLabel(f"<b>{metric.title}</b> ({metric.unit})"))
            label.setTextFormat(Qt.TextFormat.RichText)
            plot = pg.PlotWidget()
            plot.setMinimumHeight(PLOT_MIN_HEIGHT)
            plot.setAutoVisible(y=True)  # y fits what the x range shows (live time, not the baseline)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMenuEnabled(False)
            plot.getPlotItem().hideButtons()
            curve = plot.plot(pen=theme.pen(78, 161, 255, 2.0), name="live")
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            base = plot.plot(
                pen=pg.mkPen((200, 200, 200), width=1.5, style=Qt.PenStyle.DashLine), name="baseline"
            )
            base.setClipToView(True)
            box_layout.addWidget(label)
            box_layout.addWidget(plot, 1)
            grid.addWidget(box, i // 3, i % 3)
            self.plots[metric.key] = plot
            self.curves[metric.key] = curve
            self.base_curves[metric.key] = base
            self.headlines[metric.key] = label
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(head)
        layout.addWidget(self.status)
        self.status.setVisible(False)  # shown only while it says something: no gap above the plots
        self.forecast_label = theme.steady(QLabel())
        self.forecast_label.setVisible(False)  # only with a trained forecast model of the scenario
        layout.addWidget(self.forecast_label)
        layout.addLayout(grid, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._redraw)
        self.timer.start()

    # -- data ---------------------------------------------------------------------------------

    def set_ready(self, ready: Ready, store_path: Path | None) -> None:
        self.ready = ready
        self.store_path = store_path
        self.forecast_label.setVisible(False)  # until this scenario's first forecast
        self.network.clear()
        self.signal_ids = tuple(s.id for s in ready.geometry.signals)
        self.signal_delay = RingBuffer(CAPACITY, max(1, len(self.signal_ids)))
        self.intersection_combo.blockSignals(True)
        self.intersection_combo.clear()
        self.intersection_combo.addItems(list(self.signal_ids))
        self.intersection_combo.blockSignals(False)
        self.intersection = self.signal_ids[0] if self.signal_ids else ""
        self.refresh_runs()
        self._mark()

    def add_sample(self, sample: KpiSample) -> None:
        self.network.append(sample.time_s, [sample.network.get(k, np.nan) for k in NET_KEYS])
        if self.signal_ids:
            self.signal_delay.append(
                sample.time_s,
                [sample.signals.get(s, {}).get("mean_waiting_s", np.nan) for s in self.signal_ids],
            )
        self._mark()

    def update_forecast(self, update: ForecastUpdate) -> None:
        self.forecast_label.setText(network_forecast_text(update))
        self.forecast_label.setVisible(True)

    def set_intersection(self, signal_id: str) -> None:
        if signal_id and signal_id != self.intersection and signal_id in self.signal_ids:
            self.intersection = signal_id
            if self.intersection_combo.currentText() != signal_id:
                self.intersection_combo.setCurrentText(signal_id)
            self._mark()

    # -- baseline -----------------------------------------------------------------------------

    def refresh_runs(self) -> None:
        current = self.baseline_id
        self.baseline_combo.blockSignals(True)
        self.baseline_combo.clear()
        self.baseline_combo.addItem("No baseline", "")
        try:
            with RunStore(self.store_path) as store:
                runs = store.list_runs(200)
        except StoreError as exc:
            self._say(f"Run store not available: {exc}")
            runs = []
        scenario = self.ready.scenario if self.ready is not None else ""
        own = self.ready.run_id if self.ready is not None else ""
        for r in baseline_candidates(runs, scenario, own):
            self.baseline_combo.addItem(baseline_label(r), r.id)
            self.baseline_combo.setItemData(
                self.baseline_combo.count() - 1, f"run {r.id} ({r.status})", Qt.ItemDataRole.ToolTipRole
            )
        index = self.baseline_combo.findData(current)
        self.baseline_combo.setCurrentIndex(max(index, 0))
        self.baseline_combo.blockSignals(False)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _baseline_chosen(self, _index: int) -> None:
        self.set_baseline(str(self.baseline_combo.currentData() or ""))

    def set_baseline(self, run_id: str) -> None:
        self.baseline_id = run_id
        self.baseline = {}
        self.baseline_signals = {}
        if run_id:
            try:
                with RunStore(self.store_path) as store:
                    self.baseline = baseline_network(store, run_id)
                    self.baseline_signals = baseline_signal_delay(store, run_id)
                self._say(f"Baseline: run {run_id} ({self.baseline.get('t', np.zeros(0)).size} bins)")
            except StoreError as exc:
                self._say(f"Baseline not loaded: {exc}")
        else:
            self._say("")
        self._show_baseline()
        self._mark()

    # -- display ------------------------------------------------------------------------------

    def current_values(self) -> dict[str, float]:
        last = self.network.last()
        if last is None:
            return {}
        _, row = last
        return {k: float(row[i]) for i, k in enumerate(NET_KEYS)}

    def _redraw(self) -> None:
        """Redraw one plot per tick, in turn: repainting all six at once would stall the window."""
        if not self._dirty or not self.isVisible():
            return
        keys = list(self.metrics)
        key = keys[self._next % len(keys)]
        self._next += 1
        if self._next % len(keys) == 0:
            self._dirty = self._pending
            self._pending = False
        t = self.network.times()
        now = float(t[-1]) if t.size else 0.0
        x_range = live_x_range(t)
        if x_range is not None:
            self.plots[key].setXRange(*x_range, padding=0.02)
        if key != "intersection":
            metric = self.metrics[key]
            values = self.network.values(NET_KEYS.index(key)) * metric.scale
            self.curves[key].setData(t, values)
            base_t = self.baseline.get("t", np.zeros(0))
            base_v = self.baseline.get(key)
            ref = value_at(base_t, base_v * metric.scale, now) if base_v is not None else float("nan")
            self._headline(metric, float(values[-1]) if values.size else float("nan"), ref)
            return
        metric = self.metrics["intersection"]
        if self.intersection and self.intersection in self.signal_ids:
            k = self.signal_ids.index(self.intersection)
            st = self.signal_delay.times()
            sv = self.signal_delay.values(k)
            self.curves["intersection"].setData(st, sv)
            base = self.baseline_signals.get(self.intersection)
            if base is not None:
                if self._base_intersection != self.intersection:
                    self.base_curves["intersection"].setData(*base)
                ref = value_at(base[0], base[1], now)
            else:
                self.base_curves["intersection"].setData([], [])
                ref = float("nan")
            self._base_intersection = self.intersection
            self._headline(metric, float(sv[-1]) if sv.size else float("nan"), ref, self.intersection)

    def _mark(self) -> None:
        """New data: redraw every plot (again, once the current round is done)."""
        if self._dirty:
            self._pending = True
        else:
            self._dirty = True
            self._next = 0

    def _show_baseline(self) -> None:
        base_t = self.baseline.get("t", np.zeros(0))
        for metric in NETWORK_METRICS:
            base_v = self.baseline.get(metric.key)
            if base_v is not None and base_t.size:
                self.base_curves[metric.key].setData(base_t, base_v * metric.scale)
            else:
                self.base_curves[metric.key].setData([], [])
        self._base_intersection = ""

    def _headline(self, metric: Metric, value: float, ref: float, where: str = "") -> None:
        title = f"<b>{metric.title}</b>" + (f" {where}" if where else "") + f" ({metric.unit})"
        if np.isfinite(value):
            title += f" · now <b>{value:,.1f}</b>"
        if np.isfinite(ref):
            title += f" · baseline {ref:,.1f}"
            if ref and np.isfinite(value):
                title += f" ({(value - ref) / abs(ref) * 100:+.0f} %)"
        self.headlines[metric.key].setText(title)
