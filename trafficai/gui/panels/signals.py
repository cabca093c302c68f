"""Signals panel: every intersection's phase, time in phase, controller and override; for the selected
one a rolling phase timeline with detector calls, controller choice and operator overrides."""

from __future__ import annotations

import re

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from trafficai.gui import theme
from trafficai.gui.map.schemes import signal_char_lut
from trafficai.gui.panels.timeline import Timeline
from trafficai.gui.widgets.scroll import scrolling
from trafficai.runtime.commands import ClearOverride, Override, SetController
from trafficai.runtime.messages import Ready, SignalChanges, SignalView, SimFrame

TIMELINE_WINDOWS_S = (60.0, 180.0, 600.0)
REFRESH_MS = 500
MAX_TICKS = 12
TABLE_ROWS = 16  # the table is first given room for this many rows (all of them when fewer)
ACTIONS = (
    ("Hold the current phase", "hold"),
    ("Force the next phase", "force"),
    ("Force to green stage...", "force_to"),
    ("Flash (yield to all)", "flash"),
)


def stage_text(view: SignalView) -> str:
    if view.stage.startswith("program:"):
        return f"plan {view.stage.removeprefix('program:')}"
    if view.stage == "green" and view.current_green >= 0:
        return f"green {view.current_green + 1}/{view.n_greens}"
    return view.stage.replace("_", "-")


def state_html(state: str) -> str:
    """A state string as coloured letters, one per link (the label's own font: see ``state_font``)."""
    _, colors = signal_char_lut()
    lut, _ = signal_char_lut()
    out = []
    for ch in state:
        r, g, b = colors[lut[ord(ch) if ord(ch) < 256 else 0]]
        out.append(f'<span style="color: rgb({r},{g},{b});">{ch}</span>')
    return "".join(out)


def state_font() -> QFont:
    """Monospace and large enough to tell 'y' from 'v'; the label is sized for it, descenders too."""
    font = QFont("monospace")
    font.setStyleHint(QFont.StyleHint.TypeWriter)
    font.setPointSizeF(13.0)
    return font


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """'2' before '10' before '176'; words and numbers mixed ('J2' < 'J10') compare part by part."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part)


def time_in_phase(view: SignalView | None, since_change: float | None) -> float | None:
    """One answer for the table and the detail: a signal the safety layer drives is in its stage
    (what the Phase column names) that long; under a SUMO program, since its state last changed."""
    if view is not None and view.controlled:
        return view.time_in_stage_s
    return since_change


class SignalsPanel(QWidget):
    command = Signal(object)
    selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.user = ""
        self.ready: Ready | None = None
        self.timeline: Timeline | None = None
        self.views: dict[str, SignalView] = {}
        self.current: str = ""
        self.order: list[str] = []  # signal ids in table order (natural: 1, 2, 10, 176)
        self.index_of: dict[str, int] = {}  # signal id -> its index in the geometry (and timeline)
        self._synced_controller = ("", "")  # (signal, controller) the combo was last set to
        self._dirty = False
        self._ticks: list[tuple[float, str]] = []

        self._build_table()
        info = self._build_info()
        control_row = self._build_controller_row()
        override_box = self._build_override()
        timeline_head = self._build_timeline()

        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.name)
        detail_layout.addLayout(info)
        detail_layout.addLayout(control_row)
        detail_layout.addWidget(override_box)
        detail_layout.addLayout(timeline_head)
        detail_layout.addWidget(self.timeline_plot, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(scrolling(detail))
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([170, 600])
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(splitter)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._refresh)
        self.timer.start()
        self._update_buttons()

    def _build_table(self) -> None:
        """The table of every signal (``self.table``)."""
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["signal", "stage", "in phase (s)", "controller", "override"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setMinimumHeight(120)
        self.table.itemSelectionChanged.connect(self._row_selected)

    def _build_info(self) -> QFormLayout:
        """The selected signal's state, phase, controller and override."""
        self.name = theme.steady(QLabel("No signal selected"))
        self.state = QLabel()
        self.state.setFont(state_font())
        theme.steady(self.state)
        self.state.setTextFormat(Qt.TextFormat.RichText)
        self.stage = theme.steady(QLabel("-"))
        self.in_phase = theme.steady(QLabel("-"))
        self.controller = theme.steady(QLabel("-"))
        self.override_label = theme.steady(QLabel("none"))
        info = QFormLayout()
        info.addRow("State:", self.state)
        info.addRow("Phase:", self.stage)
        info.addRow("Time in phase:", self.in_phase)
        info.addRow("Controller:", self.controller)
        info.addRow("Override:", self.override_label)
        return info

    def _build_controller_row(self) -> QHBoxLayout:
        """Choose the controller of the selected intersection."""
        self.controller_combo = QComboBox()
        self.apply_controller = QPushButton("Run this intersection")
        self.apply_controller.clicked.connect(self._apply_controller)
        control_row = QHBoxLayout()
        control_row.addWidget(QLabel("Controller:"))
        control_row.addWidget(self.controller_combo, 1)
        control_row.addWidget(self.apply_controller)
        return control_row

    def _build_override(self) -> QGroupBox:
        """The operator override form."""
        self.action = QComboBox()
        for label, key in ACTIONS:
            self.action.addItem(label, key)
        self.action.currentIndexChanged.connect(self._action_changed)
        self.stage_spin = QSpinBox()
        self.stage_spin.setMinimum(1)
        self.stage_spin.setEnabled(False)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(5.0, 24 * 3600.0)
        self.duration.setDecimals(0)
        self.duration.setValue(120.0)
        self.duration.setSuffix(" s")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("reason (required), e.g. 'police on site'")
        self.reason.textChanged.connect(self._update_buttons)
        self.apply_override = QPushButton("Apply override")
        self.apply_override.clicked.connect(self._apply_override)
        self.clear_override = QPushButton("Clear override")
        self.clear_override.clicked.connect(self._clear_override)
        self.message = theme.steady(QLabel())
        form = QFormLayout()
        form.addRow("Action:", self.action)
        form.addRow("Green stage:", self.stage_spin)
        form.addRow("Duration:", self.duration)
        form.addRow("Reason:", self.reason)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_override)
        buttons.addWidget(self.clear_override)
        override_box = QGroupBox("Operator override (expires)")
        override_box.setToolTip("Through the safety layer: clearance and minimum green always hold")
        override_layout = QVBoxLayout(override_box)
        override_layout.addLayout(form)
        override_layout.addLayout(buttons)
        override_layout.addWidget(self.message)
        return override_box

    def _build_timeline(self) -> QHBoxLayout:
        """The phase timeline plot (``self.timeline_plot``) and its heading row."""
        self.window_combo = QComboBox()
        for w in TIMELINE_WINDOWS_S:
            self.window_combo.addItem(f"last {w:g} s", w)
        self.window_combo.setCurrentIndex(1)
        self.window_combo.currentIndexChanged.connect(lambda _: self._mark())
        self.timeline_plot = pg.PlotWidget()
        self.timeline_plot.setMinimumHeight(120)
        self.timeline_plot.setMenuEnabled(False)
        self.timeline_plot.setMouseEnabled(x=False, y=False)
        self.timeline_plot.getPlotItem().hideButtons()
        self.timeline_plot.getViewBox().invertY(True)
        self.timeline_plot.setLabel("bottom", "simulation time", units="s")
        self.timeline_plot.getAxis("bottom").enableAutoSIPrefix(False)
        small = QFont()
        small.setPointSizeF(7.5)
        self.timeline_plot.getAxis("left").setStyle(tickFont=small)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.timeline_plot.addItem(self.image)
        timeline_head = QHBoxLayout()
        timeline_head.addWidget(QLabel("Phase timeline and detector calls"))
        timeline_head.addStretch(1)
        timeline_head.addWidget(self.window_combo)
        return timeline_head

    # -- data ---------------------------------------------------------------------------------

    def set_ready(self, ready: Ready, user: str) -> None:
        self.ready = ready
        self.user = user
        self.timeline = Timeline(ready.geometry, ready.step_length_s)
        self.views = {}
        self.controller_combo.clear()
        self.controller_combo.addItems(list(ready.controllers))
        self.index_of = {s.id: i for i, s in enumerate(ready.geometry.signals)}
        ids = self.order = sorted(self.index_of, key=natural_key)
        self.table.setRowCount(len(ids))
        for row, signal_id in enumerate(ids):
            self.table.setItem(row, 0, QTableWidgetItem(signal_id))
            for col in range(1, 5):
                self.table.setItem(row, col, QTableWidgetItem(""))
        self._fit_table(len(ids))
        keep = self.current if self.current in ids else (ids[0] if ids else "")
        self.current = ""
        if keep:
            self.select(keep)
        self.message.setText("")
        self._update_buttons()

    def _fit_table(self, rows: int) -> None:
        """Room for every row (up to a screenful) before the detail below takes the rest."""
        table = self.table
        wanted = (
            table.horizontalHeader().sizeHint().height()
            + min(rows, TABLE_ROWS) * table.verticalHeader().defaultSectionSize()
            + table.horizontalScrollBar().sizeHint().height()  # in case the columns need it
            + 2 * table.frameWidth()
        )
        total = max(sum(self.splitter.sizes()), wanted + 200)
        self.splitter.setSizes([wanted, total - wanted])

    def add_changes(self, message: SignalChanges) -> None:
        if self.timeline is not None:
            self.timeline.add_changes(message.changes)
            self._dirty = True

    def update_frame(self, frame: SimFrame) -> None:
        self.views = {v.signal_id: v for v in frame.signals}
        if self.timeline is not None:
            self.timeline.add_frame(frame)
        self._dirty = True

    def show_refusal(self, message: str) -> None:
        self.message.setText(f'<span style="color:#ff5c5c">Refused: {message}</span>')

    def select(self, signal_id: str) -> None:
        if self.ready is None or signal_id == self.current:
            return
        if signal_id not in self.index_of:
            return
        self.current = signal_id
        row = self.order.index(signal_id)
        self.table.blockSignals(True)
        self.table.selectRow(row)
        self.table.blockSignals(False)
        greens = self.ready.greens.get(signal_id, ())
        self.stage_spin.setMaximum(max(1, len(greens)))
        controllable = signal_id in self.ready.controllable
        self.name.setText(
            f"<b>Intersection {signal_id}</b> · {len(greens)} green stages"
            + ("" if controllable else " · not controllable (one green stage)")
        )
        self.message.setText("")
        self._mark()
        self._update_buttons()
        self.selected.emit(signal_id)

    def _mark(self) -> None:
        self._dirty = True

    def _row_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and 0 <= rows[0].row() < len(self.order):
            self.select(self.order[rows[0].row()])

    # -- display ------------------------------------------------------------------------------

    def _refresh(self) -> None:
        if not self._dirty or self.ready is None or not self.isVisible():
            return
        self._dirty = False
        for row, signal_id in enumerate(self.order):
            view = self.views.get(signal_id)
            if view is None:
                continue
            in_phase = time_in_phase(view, self._since_change(self.index_of[signal_id]))
            texts = (
                stage_text(view),
                f"{in_phase:.0f}" if in_phase is not None else "",
                view.controller,
                f"{view.override} {view.override_left_s:.0f} s" if view.override else "",
            )
            for col, text in enumerate(texts, start=1):
                item = self.table.item(row, col)
                if item is not None and item.text() != text:
                    item.setText(text)
        self._refresh_detail()

    def _since_change(self, index: int) -> float | None:
        """Seconds since the signal's state string last changed (the phase tracker's clock)."""
        timeline = self.timeline
        if timeline is None or not timeline.times[index]:
            return None
        return max(0.0, timeline.now - timeline.times[index][-1])

    def _refresh_detail(self) -> None:
        if self.ready is None or not self.current:
            return
        index = self.index_of[self.current]
        view = self.views.get(self.current)
        timeline = self.timeline
        state = ""
        if timeline is not None and timeline.states[index]:
            state = timeline.states[index][-1]
        in_phase = time_in_phase(view, self._since_change(index))
        self.in_phase.setText(f"{in_phase:.0f} s" if in_phase is not None else "-")
        self.state.setText(state_html(state) if state else "-")
        if view is not None:
            self.stage.setText(stage_text(view))
            self.controller.setText(view.controller)
            self._sync_controller(view.controller)
            if view.override:
                self.override_label.setText(
                    f"<b>{view.override}</b>, {view.override_left_s:.0f} s left"
                    f" · by {view.override_user or '?'}: "
                    f"{view.override_reason}"
                )
            else:
                self.override_label.setText("none")
        if timeline is not None:
            window = float(self.window_combo.currentData())
            img, t0, labels = timeline.image(index, window)
            self.image.setImage(img, autoLevels=False)
            self.image.setRect(QRectF(t0, 0, window, img.shape[0]))
            axis = self.timeline_plot.getAxis("left")
            every = max(1, -(-len(labels) // MAX_TICKS))
            ticks = [(r + 0.5, label) for r, label in enumerate(labels) if label and r % every == 0]
            if ticks != self._ticks:
                self._ticks = ticks
                axis.setTicks([ticks, []])
                self.timeline_plot.setYRange(0, img.shape[0], padding=0)
            self.timeline_plot.setXRange(t0, t0 + window, padding=0)
        self._update_buttons()

    def _sync_controller(self, running: str) -> None:
        """The controller box shows what runs the selected intersection, until the operator picks
        another (it follows again when the signal or its controller changes)."""
        if (self.current, running) == self._synced_controller or self.controller_combo.view().isVisible():
            return
        index = self.controller_combo.findText(running)
        if index >= 0:
            self.controller_combo.setCurrentIndex(index)
        self._synced_controller = (self.current, running)

    # -- commands -----------------------------------------------------------------------------

    def _action_changed(self, _index: int) -> None:
        self.stage_spin.setEnabled(self.action.currentData() == "force_to")

    def _update_buttons(self) -> None:
        has = bool(self.current) and self.ready is not None
        controllable = has and self.ready is not None and self.current in self.ready.controllable
        self.apply_override.setEnabled(bool(controllable and self.reason.text().strip()))
        self.apply_override.setToolTip("" if self.reason.text().strip() else "Give a reason first")
        view = self.views.get(self.current)
        self.clear_override.setEnabled(bool(view is not None and view.override))
        self.apply_controller.setEnabled(bool(controllable))

    def override_command(self) -> Override | None:
        """The override the form describes (None while it is incomplete)."""
        if not self.current or not self.reason.text().strip():
            return None
        key = str(self.action.currentData())
        green = self.stage_spin.value() - 1 if key == "force_to" else None
        action = "force" if key == "force_to" else key
        return Override(
            self.current, action, float(self.duration.value()), self.reason.text().strip(), self.user, green
        )

    def _apply_override(self) -> None:
        command = self.override_command()
        if command is None:
            self.message.setText("An override needs a reason.")
            return
        self.message.setText(f"Sent: {command.action} on {command.signal_id} for {command.duration_s:g} s")
        self.command.emit(command)

    def _clear_override(self) -> None:
        if self.current:
            self.command.emit(ClearOverride(self.current, self.user))

    def _apply_controller(self) -> None:
        name = self.controller_combo.currentText()
        if self.current and name:
            self.command.emit(SetController(name, (self.current,), self.user))
