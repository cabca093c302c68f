"""The control center's main window: map in the middle, panels in docks, time control on top."""

from __future__ import annotations

import contextlib
import getpass
import os
import time
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from trafficai.core.events import Event
from trafficai.core.scenario import available_scenarios, resolve_scenario
from trafficai.errors import StoreError, TrafficAIError
from trafficai.gui import theme
from trafficai.gui.bridge import WorkerBridge
from trafficai.gui.map.picking import Pick
from trafficai.gui.map.widget import NetworkMap
from trafficai.gui.panels.events import EventsPanel, clock
from trafficai.gui.panels.incidents import IncidentsPanel
from trafficai.gui.panels.inspector import InspectorPanel
from trafficai.gui.panels.kpis import KpiDashboard
from trafficai.gui.panels.signals import SignalsPanel
from trafficai.gui.panels.training import TrainingPanel
from trafficai.runtime.commands import (
    MAX_ROUTE_DEMAND,
    BlockLane,
    ClearIncident,
    ClearOverride,
    CloseEdge,
    CloseLane,
    Command,
    Jump,
    OpenLane,
    Override,
    Pause,
    Play,
    Restart,
    RouteDemand,
    SetController,
    SetSpeed,
    Step,
)
from trafficai.runtime.messages import (
    Events,
    Finished,
    Incidents,
    IncidentView,
    KpiSample,
    Progress,
    Ready,
    SignalChanges,
    SimFrame,
)
from trafficai.runtime.worker_config import WorkerConfig
from trafficai.storage import RunStore

SPEEDS: tuple[tuple[str, float | None], ...] = (
    ("0.5x", 0.5),
    ("1x real time", 1.0),
    ("2x", 2.0),
    ("5x", 5.0),
    ("10x", 10.0),
    ("25x", 25.0),
    ("100x", 100.0),
    ("as fast as possible", None),
)


def operator_name() -> str:
    name = os.environ.get("TRAFFICAI_USER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def parse_time(text: str) -> float:
    """Seconds from '1234', '1234.5', 'mm:ss' or 'hh:mm:ss'."""
    text = text.strip()
    if not text:
        raise ValueError("give a time, e.g. 900 or 00:15:00")
    try:
        total = 0.0
        for part in text.split(":"):
            total = total * 60 + float(part)
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use seconds or hh:mm:ss)") from None
    if text.count(":") > 2 or total < 0:
        raise ValueError(f"not a time: {text!r} (use seconds or hh:mm:ss)")
    return total


class MainWindow(QMainWindow):
    def __init__(self, config: WorkerConfig, *, user: str | None = None) -> None:
        super().__init__()
        self.config = config
        self.user = user or operator_name()
        self.ready: Ready | None = None
        self.last_frame: SimFrame | None = None
        self.last_progress: Progress | None = None
        self.state = "starting"
        self.last_refusal = ""
        self.error_dialog: QMessageBox | None = None
        self.route_demand_dialog: QInputDialog | None = None
        self.candidate: WorkerBridge | None = None
        self.candidate_source = ""
        self._fps = 0.0
        self._fps_mark = (time.perf_counter(), 0)
        self.setWindowTitle("trafficai control center")
        self.resize(1600, 1000)

        self.map = NetworkMap()
        self.banner = QFrame()
        self.banner.setStyleSheet(
            "QFrame { background: #5a1a1a; border-radius: 4px; } QLabel { color: white; }"
        )
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.banner_button = QPushButton("Restart simulation")
        self.banner_button.clicked.connect(self.restart)
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.addWidget(self.banner_text, 1)
        banner_layout.addWidget(self.banner_button)
        self.banner.setVisible(False)
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(2, 2, 2, 2)
        central_layout.addWidget(self.banner)
        central_layout.addWidget(self.map, 1)
        self.setCentralWidget(central)

        self.signals_panel = SignalsPanel()
        self.inspector = InspectorPanel()
        self.kpis = KpiDashboard()
        self.incidents_panel = IncidentsPanel()
        self.events_panel = EventsPanel()
        self.training_panel = TrainingPanel(lambda: self.config.scenario)
        self.docks: dict[str, QDockWidget] = {}
        self._dock("signals", "Signals", self.signals_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("inspector", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("kpis", "KPI dashboard", self.kpis, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock("incidents", "Incidents", self.incidents_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock("events", "Events and alarms", self.events_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock("training", "RL training", self.training_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["kpis"], self.docks["incidents"])
        self.tabifyDockWidget(self.docks["incidents"], self.docks["events"])
        self.tabifyDockWidget(self.docks["events"], self.docks["training"])
        self.docks["kpis"].raise_()
        self.resizeDocks(
            [self.docks["signals"], self.docks["inspector"]], [430, 330], Qt.Orientation.Horizontal
        )
        self.resizeDocks([self.docks["kpis"]], [300], Qt.Orientation.Vertical)

        self._build_toolbar()
        self._build_menus()
        self._build_status_bar()

        self.map.picked.connect(self._picked)
        self.map.context_requested.connect(self._map_menu)
        self.map.sensor_events.connect(self.events_panel.add_events)
        self.inspector.follow_toggled.connect(self.map.follow_box.setChecked)
        self.signals_panel.command.connect(self.send)
        self.signals_panel.selected.connect(self._signal_selected)
        self.incidents_panel.command.connect(self.send)
        self.events_panel.unacked_changed.connect(lambda n: self.alarm_label.setText(f"alarms: {n}"))

        self.bridge = WorkerBridge(config, self)
        self._attach(self.bridge)
        self.bridge.start()

        self.status_timer = QTimer(self)
        self.status_timer.setInterval(500)
        self.status_timer.timeout.connect(self._update_status)
        self.status_timer.start()

    # -- construction -------------------------------------------------------------------------

    def _dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(key)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock

    def _build_toolbar(self) -> None:
        bar = QToolBar("Time control")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setObjectName("time")
        bar.setMovable(False)
        self.addToolBar(bar)
        style = self.style()
        self.play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self.pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        self.play_action = QAction(self.play_icon, "Play", self)
        self.play_action.setShortcut(QKeySequence("Space"))
        self.play_action.triggered.connect(self.toggle_play)
        self.step_action = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step", self
        )
        self.step_action.setShortcut(QKeySequence("S"))
        self.step_action.triggered.connect(lambda: self.send(Step(1)))
        self.restart_action = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload), "Restart", self
        )
        self.restart_action.triggered.connect(self.restart)
        bar.addAction(self.play_action)
        bar.addAction(self.step_action)
        bar.addWidget(QLabel(" Speed "))
        self.speed_combo = QComboBox()
        for label, value in SPEEDS:
            self.speed_combo.addItem(label, value)
        self._select_speed(self.config.speed)
        self.speed_combo.activated.connect(lambda _: self.send(SetSpeed(self.speed_combo.currentData())))
        bar.addWidget(self.speed_combo)
        bar.addAction(self.restart_action)
        bar.addSeparator()
        bar.addWidget(QLabel(" Jump to "))
        self.jump_edit = QLineEdit()
        self.jump_edit.setPlaceholderText("hh:mm:ss or s")
        self.jump_edit.setMaximumWidth(110)
        self.jump_edit.returnPressed.connect(self.jump)
        bar.addWidget(self.jump_edit)
        self.jump_button = QPushButton("Go")
        self.jump_button.clicked.connect(self.jump)
        bar.addWidget(self.jump_button)
        bar.addSeparator()
        bar.addWidget(QLabel(" Controller (all signals) "))
        self.controller_combo = QComboBox()
        self.controller_combo.activated.connect(
            lambda _: self.send(SetController(self.controller_combo.currentText(), (), self.user))
        )
        bar.addWidget(self.controller_combo)
        bar.addSeparator()
        self.clock_label = QLabel(" t = --:--:-- ")
        self.clock_label.setStyleSheet("font-family: monospace; font-size: 15pt; padding: 0 8px;")
        self.clock_label.setFixedWidth(self.clock_label.sizeHint().width() + 40)
        bar.addWidget(self.clock_label)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open scenario file (.sumocfg, scenario.toml)...", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._open_file_dialog)
        file_menu.addAction(open_action)
        folder_action = QAction("Open scenario &folder...", self)
        folder_action.triggered.connect(self._open_folder_dialog)
        file_menu.addAction(folder_action)
        shipped = file_menu.addMenu("Shipped scenarios")
        for name in available_scenarios():
            action = QAction(name, self)
            action.triggered.connect(lambda _=False, n=name: self.open_scenario(n))
            shipped.addAction(action)
        file_menu.addSeparator()
        shot = QAction("Save &screenshot...", self)
        shot.triggered.connect(self._screenshot_dialog)
        file_menu.addAction(shot)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        fit = QAction("&Fit network", self)
        fit.setShortcut(QKeySequence("F"))
        fit.triggered.connect(self.map.fit)
        view_menu.addAction(fit)
        sim_menu = self.menuBar().addMenu("&Simulation")
        for action in (self.play_action, self.step_action, self.restart_action):
            sim_menu.addAction(action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.time_label = theme.steady(QLabel("sim time --:--:--"), "sim time 00:00:00 (000,000 s)")
        self.rtf_label = theme.steady(QLabel("real-time factor -"), "real-time factor 0,000.0x")
        self.vehicles_label = theme.steady(QLabel("vehicles -"), "vehicles 000,000")
        self.fps_label = theme.steady(QLabel("render - fps"), "render 000 fps")
        self.state_label = theme.steady(QLabel("starting"), "finished")
        self.alarm_label = theme.steady(QLabel("alarms: 0"), "alarms: 00000")
        for label in (
            self.time_label,
            self.rtf_label,
            self.vehicles_label,
            self.fps_label,
            self.state_label,
            self.alarm_label,
        ):
            label.setStyleSheet("padding: 0 10px;")
            bar.addPermanentWidget(label)

    def _attach(self, bridge: WorkerBridge) -> None:
        bridge.ready.connect(self._on_ready)
        bridge.frame.connect(self._on_frame)
        bridge.progress.connect(self._on_progress)
        bridge.kpi.connect(self._on_kpi)
        bridge.signal_changes.connect(self._on_signal_changes)
        bridge.events.connect(self._on_events)
        bridge.incidents.connect(self._on_incidents)
        bridge.refused.connect(self._on_refused)
        bridge.failed.connect(self._on_failed)
        bridge.finished.connect(self._on_finished)
        bridge.died.connect(self._on_died)

    def _detach(self, bridge: WorkerBridge) -> None:
        for signal in (
            bridge.ready,
            bridge.frame,
            bridge.progress,
            bridge.kpi,
            bridge.signal_changes,
            bridge.events,
            bridge.incidents,
            bridge.refused,
            bridge.failed,
            bridge.finished,
            bridge.died,
        ):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect()

    # -- commands -----------------------------------------------------------------------------

    def send(self, command: Command) -> None:
        if not self.bridge.send(command):
            self.statusBar().showMessage("The simulation is not running; restart it first.", 6000)

    def toggle_play(self) -> None:
        playing = self.last_frame.playing if self.last_frame is not None else self.config.playing
        if self.last_progress is not None and (
            self.last_frame is None or self.last_progress.time_s >= self.last_frame.snapshot.time_s
        ):
            playing = self.last_progress.playing
        self.send(Pause() if playing else Play())

    def jump(self) -> None:
        try:
            seconds = parse_time(self.jump_edit.text())
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 6000)
            return
        self.send(Jump(seconds, self.user))

    def restart(self) -> None:
        """Restart the scenario (a fresh worker process if the last one died)."""
        self.banner.setVisible(False)
        if self.bridge.dead or not self.bridge.alive():
            self.state = "starting"
            self.bridge.restart_process()
        else:
            self.send(Restart(self.user))

    def _select_speed(self, speed: float | None) -> None:
        for i in range(self.speed_combo.count()):
            if self.speed_combo.itemData(i) == speed:
                self.speed_combo.setCurrentIndex(i)
                return

    # -- opening scenarios --------------------------------------------------------------------

    def _open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open scenario",
            str(Path.cwd()),
            "Scenarios (*.sumocfg *.sumocfg.gz scenario.toml *.toml);;All files (*)",
        )
        if path:
            self.open_scenario(path)

    def _open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open scenario folder", str(Path.cwd()))
        if path:
            self.open_scenario(path)

    def open_scenario(self, name_or_path: str) -> None:
        """Start the scenario in a new worker; the current simulation runs on until it is ready."""
        try:
            resolve_scenario(name_or_path)
        except TrafficAIError as exc:
            self.show_error("Cannot open scenario", name_or_path, str(exc))
            return
        if self.candidate is not None:
            self.candidate.stop(1.0)
        config = self.config.with_scenario(name_or_path)
        candidate = WorkerBridge(config, self)
        candidate.ready.connect(self._candidate_ready)
        candidate.failed.connect(self._candidate_failed)
        candidate.died.connect(self._candidate_failed)
        self.candidate = candidate
        self.candidate_source = name_or_path
        self.statusBar().showMessage(f"Opening {name_or_path}...", 10000)
        candidate.start()

    def _candidate_ready(self, ready: Ready) -> None:
        candidate = self.candidate
        if candidate is None:
            return
        self.candidate = None
        for signal in (candidate.ready, candidate.failed, candidate.died):
            signal.disconnect()
        old = self.bridge
        self._detach(old)
        old.stop(2.0)
        old.deleteLater()
        self.config = candidate.config
        self.bridge = candidate
        self._attach(candidate)
        self.events_panel.add_events(
            [Event(ready.begin_s, "info", "gui", f"opened {self.candidate_source}", "", self.user)]
        )
        self._on_ready(ready)

    def _candidate_failed(self, message: str) -> None:
        candidate = self.candidate
        if candidate is None:
            return
        self.candidate = None
        candidate.stop(1.0)
        candidate.deleteLater()
        self.show_error("Cannot open scenario", self.candidate_source, message)

    def show_error(self, title: str, source: str, message: str) -> None:
        """A non-blocking error dialog naming the file; the current simulation keeps running."""
        self.events_panel.add_events(
            [Event(self._sim_time(), "alarm", "gui", f"{title}: {source}: {message}", source, self.user)]
        )
        dialog = QMessageBox(
            QMessageBox.Icon.Critical, title, f"{title}: {source}", QMessageBox.StandardButton.Ok, self
        )
        dialog.setInformativeText(
            message + ("\n\nThe current simulation keeps running." if self.ready is not None else "")
        )
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()
        self.error_dialog = dialog

    # -- messages from the worker -------------------------------------------------------------

    def _on_ready(self, ready: Ready) -> None:
        self.ready = ready
        self.last_frame = None
        self.state = "paused"
        self.banner.setVisible(False)
        self.setWindowTitle(f"trafficai control center — {ready.scenario}")
        self.map.set_ready(ready)
        self.inspector.set_pick(None)
        self.signals_panel.set_ready(ready, self.user)
        store_path = Path(self.config.store_path) if self.config.store_path else None
        self.kpis.set_ready(ready, store_path)
        self.incidents_panel.set_ready(ready, self.user)
        self.controller_combo.blockSignals(True)
        self.controller_combo.clear()
        self.controller_combo.addItems(list(ready.controllers))
        self.controller_combo.setCurrentText(ready.controller)
        self.controller_combo.blockSignals(False)
        recorded = f" · recording run {ready.run_id}" if ready.run_id else " · not recorded"
        self.statusBar().showMessage(f"{ready.scenario}: {ready.description}{recorded}", 10000)

    def _on_frame(self, frame: SimFrame) -> None:
        if self.ready is None or frame.generation != self.ready.generation:
            return
        self.last_frame = frame
        self.map.set_frame(frame)
        self.signals_panel.update_frame(frame)
        if self.inspector.pick is not None:
            self.inspector.update_values(
                frame.snapshot, self.ready.geometry, frame.signals, self.ready.cameras, self.map.incidents
            )
        self.state = "running" if frame.playing else "paused"
        self._show_time(frame.snapshot.time_s, frame.snapshot.counters.running, frame.rtf, frame.playing)

    def _on_progress(self, progress: Progress) -> None:
        self.last_progress = progress
        if self.ready is None or progress.generation != self.ready.generation:
            return
        if progress.busy == "jump":
            self.state = "jumping"
        elif self.state in ("jumping", "running", "paused"):
            self.state = "running" if progress.playing else "paused"
        if (
            self.last_frame is None
            or progress.time_s > self.last_frame.snapshot.time_s
            or not progress.frames
        ):
            self._show_time(progress.time_s, progress.running, progress.rtf, progress.playing)
        self._show_playing(progress.playing)

    def _show_time(self, time_s: float, vehicles: int, rtf: float, playing: bool) -> None:
        self.clock_label.setText(f" t = {clock(time_s)} ")
        self.time_label.setText(f"sim time {clock(time_s)} ({time_s:,.0f} s)")
        self.vehicles_label.setText(f"vehicles {vehicles:,}")
        self.rtf_label.setText(
            f"real-time factor {rtf:,.1f}x" if playing or self.state == "jumping" else "real-time factor -"
        )
        self._show_playing(playing)

    def _show_playing(self, playing: bool) -> None:
        self.play_action.setText("Pause" if playing else "Play")
        self.play_action.setIcon(self.pause_icon if playing else self.play_icon)

    def _on_kpi(self, sample: KpiSample) -> None:
        if self.ready is not None and sample.generation == self.ready.generation:
            self.kpis.add_sample(sample)

    def _on_signal_changes(self, message: SignalChanges) -> None:
        if self.ready is not None and message.generation == self.ready.generation:
            self.signals_panel.add_changes(message)

    def _on_events(self, message: Events) -> None:
        self.events_panel.add_events(message.events)

    def _on_incidents(self, message: Incidents) -> None:
        if self.ready is not None and message.generation == self.ready.generation:
            self.incidents_panel.set_incidents(message.incidents)
            self.map.set_incidents(message.incidents)

    def _on_refused(self, command: str, message: str) -> None:
        self.last_refusal = f"{command}: {message}"
        self.statusBar().showMessage(f"{command} refused: {message}", 8000)
        if command in ("Override", "ClearOverride", "SetController"):
            self.signals_panel.show_refusal(message)

    def _on_failed(self, message: str) -> None:
        self.state = "failed"
        self._show_banner(f"The simulation stopped with an error: {message}")
        self.events_panel.add_events(
            [Event(self._sim_time(), "alarm", "run", f"simulation stopped: {message}")]
        )

    def _on_finished(self, finished: Finished) -> None:
        self.state = "finished"
        delay = finished.kpis.get("mean_delay_s")
        summary = f" Mean delay {delay:.1f} s/veh." if delay is not None else ""
        self._show_banner(
            f"The scenario ended at {clock(finished.time_s)}.{summary}"
            f" Run {finished.run_id or '(not recorded)'} is saved.",
            error=False,
        )

    def _on_died(self, message: str) -> None:
        self.state = "died"
        run_id = self.ready.run_id if self.ready is not None else ""
        kept = ""
        if run_id:
            try:
                with RunStore(Path(self.config.store_path) if self.config.store_path else None) as store:
                    if store.get_run(run_id).status in ("running", "interrupted"):
                        store.finish_run(run_id, {}, "interrupted")
                kept = f" What run {run_id} recorded until then is kept (marked interrupted)."
            except StoreError as exc:
                kept = f" (run store: {exc})"
        self._show_banner(f"{message}.{kept}")
        self.events_panel.add_events([Event(self._sim_time(), "alarm", "worker", message + "." + kept)])

    def _show_banner(self, text: str, error: bool = True) -> None:
        color = "#5a1a1a" if error else "#1a3a5a"
        self.banner.setStyleSheet(
            f"QFrame {{ background: {color}; border-radius: 4px; }} QLabel {{ color: white; }}"
        )
        self.banner_text.setText(text)
        self.banner.setVisible(True)
        self.state_label.setText(self.state)

    def _sim_time(self) -> float:
        if self.last_frame is not None:
            return self.last_frame.snapshot.time_s
        return self.ready.begin_s if self.ready is not None else 0.0

    # -- map interaction ----------------------------------------------------------------------

    def _picked(self, pick: Pick | None) -> None:
        self.inspector.set_pick(pick)
        if pick is None:
            return
        if pick.kind == "signal":
            self.signals_panel.select(pick.id)
        lane = self._lane_of(pick)
        if lane is not None:
            self.incidents_panel.set_target(*lane)
        if self.last_frame is not None and self.ready is not None:
            self.inspector.update_values(
                self.last_frame.snapshot,
                self.ready.geometry,
                self.last_frame.signals,
                self.ready.cameras,
                self.map.incidents,
            )

    def _lane_of(self, pick: Pick) -> tuple[str, float] | None:
        """The lane (and position on it) a pick stands on: a lane, or a vehicle's lane."""
        picker = self.map.picker
        if picker is None or self.ready is None:
            return None
        lanes = self.ready.geometry.lanes
        if pick.kind == "lane":
            return pick.id, picker.position_on_lane(pick.index, pick.x, pick.y)
        if pick.kind == "vehicle" and self.last_frame is not None:
            veh = self.last_frame.snapshot.vehicles
            if pick.index < len(veh) and veh.ids[pick.index] == pick.id:
                lane = int(veh.lane[pick.index])
                if 0 <= lane < len(lanes):
                    return lanes.ids[lane], picker.position_on_lane(lane, pick.x, pick.y)
        return None

    def _signal_selected(self, signal_id: str) -> None:
        self.kpis.set_intersection(signal_id)

    def _map_menu(self, pick: Pick | None, where: QPoint) -> None:
        menu = QMenu(self)
        lane = self._lane_of(pick) if pick is not None else None
        if lane is not None and self.ready is not None:
            lane_id, position = lane
            edge = self.ready.geometry.lanes.edges[self.ready.geometry.lanes.index()[lane_id]]
            closed = any(lane_id in inc.lanes and inc.closes_lanes for inc in self.map.incidents)
            if closed:
                menu.addAction(f"Reopen lane {lane_id}", lambda: self.send(OpenLane(lane_id, self.user)))
            else:
                menu.addAction(f"Close lane {lane_id}", lambda: self.send(CloseLane(lane_id, self.user)))
                menu.addAction(f"Close edge {edge}", lambda: self.send(CloseEdge(edge, self.user)))
            menu.addAction(
                f"Block lane {lane_id} here for 10 min",
                lambda: self.send(BlockLane(lane_id, position, 600.0, self.user)),
            )
            menu.addAction(f"Scale demand through edge {edge}…", lambda: self.ask_route_demand(edge))
            scaled = self._route_demand_on(edge)
            if scaled is not None:
                incident_id = scaled.id
                menu.addAction(
                    f"Clear demand scaling through {edge} ({scaled.demand_factor:g}x)",
                    lambda: self.send(ClearIncident(incident_id, self.user)),
                )
        if pick is not None and pick.kind == "signal":
            signal_id = pick.id
            menu.addAction(f"Override signal {signal_id}...", lambda: self._focus_signal(signal_id))
            if self.last_frame is not None and any(
                v.signal_id == signal_id and v.override for v in self.last_frame.signals
            ):
                menu.addAction(
                    f"Clear override on {signal_id}", lambda: self.send(ClearOverride(signal_id, self.user))
                )
        if pick is not None and pick.kind == "vehicle":
            vehicle = pick
            menu.addAction(f"Follow vehicle {pick.id}", lambda: self._follow(vehicle))
        if not menu.isEmpty():
            menu.addSeparator()
        menu.addAction("Fit network", self.map.fit)
        menu.popup(where)
        self.context_menu = menu

    def _route_demand_on(self, edge: str) -> IncidentView | None:
        return next(
            (inc for inc in self.map.incidents if inc.demand_factor is not None and inc.target == edge), None
        )

    def ask_route_demand(self, edge: str) -> None:
        """Ask for the factor on the routes through ``edge`` (a window-modal dialog, not blocking the
        event loop); accepting it sends the command."""
        current = self._route_demand_on(edge)
        dialog = QInputDialog(self)
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
            lambda value: self.send(RouteDemand(edge, float(value), self.user))
        )
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()
        self.route_demand_dialog = dialog

    def _focus_signal(self, signal_id: str) -> None:
        self.docks["signals"].show()
        self.docks["signals"].raise_()
        self.signals_panel.select(signal_id)
        self.signals_panel.reason.setFocus()

    def _follow(self, pick: Pick) -> None:
        self.map.select(pick)
        self.inspector.set_pick(pick)
        self.map.follow_box.setChecked(True)

    def override_signal(self, command: Override) -> None:
        """Programmatic override (scripts, tests): the same path as the panel's button."""
        self.send(command)

    # -- status -------------------------------------------------------------------------------

    def _update_status(self) -> None:
        now = time.perf_counter()
        t0, n0 = self._fps_mark
        n = self.map.paint_count
        if now > t0:
            self._fps = (n - n0) / (now - t0)
        self._fps_mark = (now, n)
        self.fps_label.setText(f"render {self._fps:.0f} fps")
        self.state_label.setText(self.state)

    @property
    def render_fps(self) -> float:
        return self._fps

    def save_screenshot(self, path: str | Path) -> Path:
        """A PNG of the whole window."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not self.grab().save(str(target), "PNG"):
            raise TrafficAIError(f"cannot write screenshot {target}")
        return target

    def _screenshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", "trafficai.png", "PNG images (*.png)")
        if path:
            try:
                self.save_screenshot(path)
            except TrafficAIError as exc:
                self.statusBar().showMessage(str(exc), 8000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.status_timer.stop()
        self.training_panel.shutdown()
        if self.candidate is not None:
            self.candidate.stop(1.0)
        self.bridge.stop(3.0)
        event.accept()
