"""The main window's menu bar (File, View, Simulation) and the file dialogs its actions open."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from trafficai.core.scenario import available_scenarios
from trafficai.errors import TrafficAIError

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
