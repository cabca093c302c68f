"""The main window's menu bar (File, View, Simulation) and the file dialogs its actions open."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from trafficai.core.scenario import available_scenarios
from trafficai.errors import TrafficAIError
from trafficai.gui.fault_dialog import add_clear_actions, open_fault_dialog

if TYPE_CHECKING:
    from trafficai.gui.main_window import MainWindow


def build_menus(window: MainWindow) -> None:
    file_menu = window.menuBar().addMenu("&File")
    open_action = QAction("&Open scenario file (.sumocfg, scenario.toml)...", window)
    open_action.setShortcut(QKeySequence.StandardKey.Open)
    open_action.triggered.connect(lambda: open_file_dialog(window))
    file_menu.addAction(open_action)
    folder_action = QAction("Open scenario &folder...", window)
    folder_action.triggered.connect(lambda: open_folder_dialog(window))
    file_menu.addAction(folder_action)
    shipped = file_menu.addMenu("Shipped scenarios")
    for name in available_scenarios():
        action = QAction(name, window)
        action.triggered.connect(lambda _=False, n=name: window.open_scenario(n))
        shipped.addAction(action)
    file_menu.addSeparator()
    shot = QAction("Save &screenshot...", window)
    shot.triggered.connect(lambda: screenshot_dialog(window))
    file_menu.addAction(shot)
    file_menu.addSeparator()
    quit_action = QAction("&Quit", window)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(window.close)
    file_menu.addAction(quit_action)
    view_menu = window.menuBar().addMenu("&View")
    for dock in window.docks.values():
        view_menu.addAction(dock.toggleViewAction())
    fit = QAction("&Fit network", window)
    fit.setShortcut(QKeySequence("F"))
    fit.triggered.connect(window.map.fit)
    view_menu.addAction(fit)
    sim_menu = window.menuBar().addMenu("&Simulation")
    for action in (window.play_action, window.step_action, window.restart_action):
        sim_menu.addAction(action)
    whatif = QAction("&What-if from now…", window)
    whatif.setToolTip("Fork branches from now and compare their KPIs; the live run keeps running")
    whatif.triggered.connect(window.ask_whatif)
    sim_menu.addAction(whatif)
    window.whatif_action = whatif
    add_fault_menu(window, sim_menu)


def add_fault_menu(window: MainWindow, sim_menu: QMenu) -> None:
    """Simulation → Inject fault… and Clear injected fault (the faults acting now)."""
    sim_menu.addSeparator()
    inject = QAction("Inject device &fault…", window)
    inject.setToolTip("A detector reports false readings from a time you choose: the run's ground truth")
    inject.triggered.connect(lambda: open_fault_dialog(window))
    sim_menu.addAction(inject)
    window.inject_fault_action = inject
    clear = sim_menu.addMenu("Clear injected fault")
    clear.aboutToShow.connect(lambda: _fill_clear_menu(window, clear))
    window.clear_fault_menu = clear


def _fill_clear_menu(window: MainWindow, menu: QMenu) -> None:
    menu.clear()
    add_clear_actions(window, menu)
    if menu.isEmpty():
        menu.addAction("(no injected fault acts now)").setEnabled(False)


def open_file_dialog(window: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(
        window,
        "Open scenario",
        str(Path.cwd()),
        "Scenarios (*.sumocfg *.sumocfg.gz scenario.toml *.toml);;All files (*)",
    )
    if path:
        window.open_scenario(path)


def open_folder_dialog(window: MainWindow) -> None:
    path = QFileDialog.getExistingDirectory(window, "Open scenario folder", str(Path.cwd()))
    if path:
        window.open_scenario(path)


def screenshot_dialog(window: MainWindow) -> None:
    path, _ = QFileDialog.getSaveFileName(window, "Save screenshot", "trafficai.png", "PNG images (*.png)")
    if path:
        try:
            window.save_screenshot(path)
        except TrafficAIError as exc:
            window.statusBar().showMessage(str(exc), 8000)
