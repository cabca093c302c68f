"""The control center's main window: map in the middle, panels in docks, time control on top."""

from __future__ import annotations

import contextlib
import time
from html import escape
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
)

from trafficai.access.identity import os_user
from trafficai.core.events import Event
from trafficai.errors import StoreError, TrafficAIError
from trafficai.gui import scenario_switch, window_layout
from trafficai.gui.bridge import WorkerBridge
from trafficai.gui.camera_wall import CameraWallController
from trafficai.gui.fault_dialog import device_menu
from trafficai.gui.feedback import (
    INCIDENT_COMMANDS,
    SIGNAL_COMMANDS,
    command_title,
    open_alarm,
    window_title,
)
from trafficai.gui.map.picking import Pick
from trafficai.gui.map.widget import NetworkMap
from trafficai.gui.map_actions import lane_of, map_menu, route_demand_dialog
from trafficai.gui.menus import build_menus
from trafficai.gui.panels.devices import DevicesPanel
from trafficai.gui.panels.events import EventsPanel, acknowledgement_commands, clock
from trafficai.gui.panels.incidents import IncidentsPanel
from trafficai.gui.panels.inspector import InspectorPanel
from trafficai.gui.panels.kpis import KpiDashboard
from trafficai.gui.panels.signals import SignalsPanel
from trafficai.gui.panels.training import TrainingPanel
from trafficai.gui.role_gate import RoleGate
from trafficai.gui.status_labels import StatusLabels
from trafficai.gui.time_controls import TimeControls
from trafficai.gui.widgets.banner import AlarmBanner, Banner, Notice
from trafficai.runtime.commands import (
    Command,
    Jump,
    Pause,
    Play,
    Restart,
    Resume,
    SetController,
    SetSpeed,
    Step,
    describe,
)
from trafficai.runtime.messages import (
    DeviceStatus,
    Events,
    Finished,
    ForecastUpdate,
    Incidents,
    InjectedFaults,
    KpiSample,
    Progress,
    Ready,
    SignalChanges,
    SimFrame,
)
from trafficai.runtime.worker_config import WorkerConfig
from trafficai.storage import RunStore

BRIDGE_SIGNALS = (
    "forecast",
    "ready",
    "frame",
    "progress",
    "kpi",
    "signal_changes",
    "events",
    "incidents",
    "refused",
    "failed",
    "finished",
    "died",
    "devices",
    "whatif",
    "faults",
)  # each handled by the window's ``_on_<name>``


class MainWindow(QMainWindow):
    def __init__(self, config: WorkerConfig, *, user: str | None = None) -> None:
        super().__init__()
        self.config = config
        self.user = user or os_user()
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
        self.injected_faults: InjectedFaults | None = None  # the run's injected faults, from the worker
        self.gate = RoleGate.for_user(self.user)  # what the role allows; the worker checks again
        self.whatif_action: QAction | None = None
        self.inject_fault_action: QAction | None = None
        self.clear_fault_menu: QMenu | None = None
        self.setWindowTitle(window_title(""))

        self.map = NetworkMap()
        self.banner = Banner()
        self.banner_text, self.banner_button = self.banner.text, self.banner.button
        self.banner_button.clicked.connect(self.restart)
        self.alarm_banner = AlarmBanner()
        self.notice = Notice()
        window_layout.build_central(self)

        self.signals_panel = SignalsPanel()
        self.inspector = InspectorPanel()
        self.kpis = KpiDashboard()
        self.incidents_panel = IncidentsPanel()
        self.events_panel = EventsPanel()
        self.training_panel = TrainingPanel(lambda: self.config.scenario)
        self.devices_panel = DevicesPanel()
        self.events_panel.user = self.user
        self.camera_wall = CameraWallController(self)
        self.docks: dict[str, QDockWidget] = {}
        window_layout.build_docks(self)

        self._build_toolbar()
        build_menus(self)
        self._build_status_bar()
        self.gate.apply(self)
        if self.gate.multi:  # who is logged in, as what: the reason some controls are off
            self.statusBar().addPermanentWidget(QLabel(self.gate.describe(self.user)))
        self.devices_panel.context_requested.connect(self._device_menu)

        self.map.picked.connect(self._picked)
        self.map.context_requested.connect(self._map_menu)
        self.inspector.follow_toggled.connect(self.map.follow_box.setChecked)
        self.inspector.command.connect(self.send)
        self.signals_panel.command.connect(self.send)
        self.signals_panel.selected.connect(self._signal_selected)
        self.incidents_panel.command.connect(self.send)
        self.events_panel.unacked_changed.connect(self.status_labels.show_alarms)
        self.events_panel.unacked_changed.connect(self._show_open_alarm)
        self.events_panel.acknowledged.connect(self._acknowledged)
        self.events_panel.create_incident.connect(self.send)
        self.events_panel.show_camera.connect(self.show_camera)
        self.alarm_banner.ack_button.clicked.connect(self.events_panel.acknowledge_oldest_critical)
        self.alarm_banner.show_button.clicked.connect(self._show_events)

        self.bridge = WorkerBridge(config, self)
        self._attach(self.bridge)
        self.bridge.start()

        self.status_timer = QTimer(self)
        self.status_timer.setInterval(500)
        self.status_timer.timeout.connect(self._update_status)
        self.status_timer.start()
        window_layout.fit(self)

    # -- construction -------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        bar = TimeControls(self, self.config.speed)
        self.addToolBar(bar)
        self.time_controls = bar
        # the controls tests and scripts drive, by their old names
        self.play_action, self.step_action, self.restart_action = (
            bar.play_action,
            bar.step_action,
            bar.restart_action,
        )
        self.speed_combo, self.jump_edit, self.jump_button = bar.speed_combo, bar.jump_edit, bar.jump_button
        self.controller_combo, self.clock_label = bar.controller_combo, bar.clock_label
        bar.play_toggled.connect(self.toggle_play)
        bar.step.connect(lambda: self.send(Step(1)))
        bar.restart.connect(self.restart)
        bar.speed_chosen.connect(lambda speed: self.send(SetSpeed(speed)))
        bar.jump_to.connect(lambda seconds: self.send(Jump(seconds, self.user)))
        bar.invalid_time.connect(lambda why: self.show_notice("Jump to", why))
        bar.controller_chosen.connect(lambda name: self.send(SetController(name, (), self.user)))

    def _build_status_bar(self) -> None:
        self.status_labels = labels = StatusLabels(self.statusBar())
        self.time_label, self.rtf_label, self.vehicles_label = (
            labels.time_label,
            labels.rtf_label,
            labels.vehicles_label,
        )
        self.fps_label, self.state_label = labels.fps_label, labels.state_label

    def _attach(self, bridge: WorkerBridge) -> None:
        for name in BRIDGE_SIGNALS:
            getattr(bridge, name).connect(getattr(self, f"_on_{name}"))

    def replace_bridge(self, bridge: WorkerBridge, ready: Ready) -> None:
        """A worker that opened another scenario takes over from the running one."""
        old = self.bridge
        self._detach(old)
        old.stop(2.0)
        old.deleteLater()
        self.config = bridge.config
        self.bridge = bridge
        self._attach(bridge)
        self._on_ready(ready)

    def _detach(self, bridge: WorkerBridge) -> None:
        for name in BRIDGE_SIGNALS:
            with contextlib.suppress(RuntimeError, TypeError):
                getattr(bridge, name).disconnect()

    # -- commands -----------------------------------------------------------------------------

    def ask_whatif(self) -> None:
        from trafficai.gui.whatif_dialog import ask_branches

        command = ask_branches(self, self.user)
        if command is not None:
            self.send(command)

    def _on_whatif(self, results: object) -> None:
        from trafficai.gui.whatif_dialog import WhatIfDialog

        dialog = WhatIfDialog(results, self.user, self)  # type: ignore[arg-type]
        self.gate.gate(dialog.apply_button, SetController)
        dialog.apply_controller.connect(self.send)
        dialog.show()

    def send(self, command: Command) -> bool:
        if self.bridge.send(command):
            return True
        self.show_notice(
            f"{command_title(describe(command))} not sent", "the simulation is not running; restart it first"
        )
        return False

    def show_notice(self, headline: str, detail: str = "") -> None:
        """A transient message above the map (and in the status bar), e.g. why a command was refused."""
        self.notice.show_text(f"<b>{escape(headline)}</b>" + (f": {escape(detail)}" if detail else ""))
        self.statusBar().showMessage(headline + (f": {detail}" if detail else ""), 8000)

    def toggle_play(self) -> None:
        playing = self.last_frame.playing if self.last_frame is not None else self.config.playing
        if self.last_progress is not None and (
            self.last_frame is None or self.last_progress.time_s >= self.last_frame.snapshot.time_s
        ):
            playing = self.last_progress.playing
        self.send(Pause() if playing else Play())

    def jump(self) -> None:
        self.time_controls.ask_jump()

    def restart(self) -> None:
        """Restart the scenario (a fresh worker process if the last one died); after a failure with
        a saved state, offer to resume from it instead."""
        self.banner.setVisible(False)
        if self.bridge.dead or not self.bridge.alive():
            self.state = "starting"
            self.bridge.restart_process()
            return
        failed = self.bridge.last_failed
        if (
            failed is not None
            and failed.resume_from_s is not None
            and self._resume_chosen(failed.resume_from_s)
        ):
            self.send(Resume(self.user))
            return
        self.send(Restart(self.user))

    def _resume_chosen(self, time_s: float) -> bool:
        """Ask: resume from the last saved state, or restart from the beginning (Escape: restart)."""
        box = QMessageBox(
            QMessageBox.Icon.Question, "Restart", "The simulation stopped with an error.", parent=self
        )
        box.setInformativeText(
            f"Resume from the state saved at {clock(time_s)}, or restart from the beginning?"
        )
        resume = box.addButton(f"Resume from {clock(time_s)}", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Restart from the beginning", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(resume)
        box.exec()
        return box.clickedButton() is resume

    # -- opening scenarios --------------------------------------------------------------------

    def open_scenario(self, name_or_path: str) -> None:
        """Start the scenario in a new worker; the current simulation runs on until it is ready."""
        scenario_switch.open_scenario(self, name_or_path)

    def show_error(self, title: str, source: str, message: str) -> None:
        """A non-blocking error dialog naming the file; the current simulation keeps running."""
        self.events_panel.add_events(
            [Event(self.sim_time(), "alarm", "gui", f"{title}: {source}: {message}", source, self.user)]
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
        self.injected_faults = None
        self.devices_panel.clear()
        self.last_frame = None
        self.state = "paused"
        self.banner.setVisible(False)
        self.setWindowTitle(window_title(ready.scenario))
        self.map.set_ready(ready)
        self.inspector.set_ready(ready)
        self.signals_panel.set_ready(ready, self.user)
        store_path = Path(self.config.store_path) if self.config.store_path else None
        self.kpis.set_ready(ready, store_path)
        self.incidents_panel.set_ready(ready, self.user)
        self.time_controls.set_controllers(ready.controllers, ready.controller)
        self.camera_wall.set_ready(ready)
        recorded = f" · recording run {ready.run_id}" if ready.run_id else " · not recorded"
        self.statusBar().showMessage(f"{ready.scenario}: {ready.description}{recorded}", 10000)

    def _on_frame(self, frame: SimFrame) -> None:
        if self.ready is None or frame.generation != self.ready.generation:
            return
        self.last_frame = frame
        self.map.set_frame(frame)
        self.devices_panel.set_health(frame.detector_health, frame.substituted, frame.snapshot.time_s)
        self.camera_wall.feed(frame)
        self.signals_panel.update_frame(frame)
        if self.inspector.pick is not None:
            self.inspector.update_frame(frame, self.ready, self.map.incidents)
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
        self.time_controls.show_clock(time_s)
        self.status_labels.show_time(time_s, vehicles, rtf if playing or self.state == "jumping" else None)
        self._show_playing(playing)

    def _show_playing(self, playing: bool) -> None:
        self.time_controls.show_playing(playing)

    def _on_kpi(self, sample: KpiSample) -> None:
        if self.ready is not None and sample.generation == self.ready.generation:
            self.kpis.add_sample(sample)

    def _on_forecast(self, update: ForecastUpdate) -> None:
        self.inspector.update_forecast(update)
        self.kpis.update_forecast(update)

    def _on_signal_changes(self, message: SignalChanges) -> None:
        if self.ready is not None and message.generation == self.ready.generation:
            self.signals_panel.add_changes(message)

    def _on_events(self, message: Events) -> None:
        self.events_panel.add_events(message.events)

    def _on_faults(self, message: InjectedFaults) -> None:
        if self.ready is not None and message.generation == self.ready.generation:
            self.injected_faults = message
            self.devices_panel.set_faults(message.faults)

    def _device_menu(self, device: str, where: QPoint) -> None:
        self.context_menu = device_menu(self, device)
        self.context_menu.popup(where)

    def _on_devices(self, status: DeviceStatus) -> None:
        if self.ready is not None and status.generation == self.ready.generation:
            self.devices_panel.set_status(status)
            self.map.set_device_states({(d.kind, d.source): d.state for d in status.devices})
            self.status_labels.show_devices(status.transport, status.broker, status.connected)

    def _on_incidents(self, message: Incidents) -> None:
        if self.ready is not None and message.generation == self.ready.generation:
            self.incidents_panel.set_incidents(message.incidents)
            self.map.set_incidents(message.incidents)

    def _on_refused(self, command: str, message: str) -> None:
        """Said where the operator acted: above the map, and in the panel of the command."""
        self.last_refusal = f"{command}: {message}"
        self.show_notice(f"{command_title(command)} refused", message)
        if command in SIGNAL_COMMANDS:
            self.signals_panel.show_refusal(message)
        elif command in INCIDENT_COMMANDS:
            self.incidents_panel.show_refusal(f"{command_title(command)}: {message}")

    # -- alarms -------------------------------------------------------------------------------

    def _show_open_alarm(self, _unacknowledged: int) -> None:
        self.alarm_banner.show_alarm(*open_alarm(self.events_panel.model))

    def _acknowledged(self, events: list[Event]) -> None:
        """Recorded in the run by the worker (who and when); if it is gone, only here."""
        for command in acknowledgement_commands(events, self.user):
            if not self.bridge.send(command):
                self.statusBar().showMessage("Acknowledged here only: the simulation is not running.", 6000)
                break

    def _show_events(self) -> None:
        self.docks["events"].show()
        self.docks["events"].raise_()

    def _on_failed(self, message: str) -> None:
        self.state = "failed"
        self._show_banner(f"The simulation stopped with an error: {message}")
        self.events_panel.add_events(
            [Event(self.sim_time(), "alarm", "run", f"simulation stopped: {message}")]
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
        self.events_panel.add_events([Event(self.sim_time(), "alarm", "worker", message + "." + kept)])

    def _show_banner(self, text: str, error: bool = True) -> None:
        self.banner.show_text(text, error)
        self.state_label.setText(self.state)

    def sim_time(self) -> float:
        if self.last_frame is not None:
            return self.last_frame.snapshot.time_s
        return self.ready.begin_s if self.ready is not None else 0.0

    # -- map interaction ----------------------------------------------------------------------

    def show_camera(self, camera: str) -> None:
        """An alarm's camera, opened large (the camera wall's dock raised with it)."""
        if camera not in self.camera_wall.views:
            self.show_notice(f"Camera {camera} not shown", "it is not one of this run's cameras")
            return
        self.docks["cameras"].show()
        self.docks["cameras"].raise_()
        self.camera_wall.open_camera(camera)

    def _picked(self, pick: Pick | None) -> None:
        self.inspector.set_pick(pick)
        if pick is None:
            return
        if pick.kind == "signal":
            self.signals_panel.select(pick.id)
        if pick.kind == "camera":
            self.camera_wall.open_camera(pick.id)
        lane = self._lane_of(pick)
        if lane is not None:
            self.incidents_panel.set_target(*lane)
        if self.last_frame is not None and self.ready is not None:
            self.inspector.update_frame(self.last_frame, self.ready, self.map.incidents)

    def _lane_of(self, pick: Pick) -> tuple[str, float] | None:
        return lane_of(self, pick)

    def _signal_selected(self, signal_id: str) -> None:
        self.kpis.set_intersection(signal_id)

    def _map_menu(self, pick: Pick | None, where: QPoint) -> None:
        self.context_menu = map_menu(self, pick)
        self.context_menu.popup(where)

    def ask_route_demand(self, edge: str) -> None:
        """Ask for the factor on the routes through ``edge``; accepting it sends the command."""
        self.route_demand_dialog = route_demand_dialog(self, edge)

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

    def closeEvent(self, event: QCloseEvent) -> None:
        self.status_timer.stop()
        self.training_panel.shutdown()
        self.camera_wall.shutdown()
        if self.candidate is not None:
            self.candidate.stop(1.0)
        self.bridge.stop(3.0)
        event.accept()
