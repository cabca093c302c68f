"""How the main window fits a screen: docks that scroll instead of forcing the window taller, side
docks that take the full height, the bottom docks tabbed, and a first size that fits the screen.

The minimum size of the whole window stays well under 1280x720 (a 1366x768 laptop shows it with its
task bar): no panel asks for more than a small minimum, a panel with more content than room scrolls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDockWidget, QVBoxLayout, QWidget

from trafficai.gui.widgets.scroll import scrolling

if TYPE_CHECKING:
    from trafficai.gui.main_window import MainWindow

PREFERRED_SIZE = QSize(1600, 1000)
MAX_MINIMUM_SIZE = QSize(1280, 720)  # the window never asks for more than this
SIDE_SHARE = (0.24, 0.18)  # left (signals) and right (inspector) docks, of the window width
BOTTOM_SHARE = 0.34  # the bottom docks (KPIs, incidents, events, training, devices, camera wall)


def initial_size(available: QSize, preferred: QSize = PREFERRED_SIZE) -> QSize:
    """The first window size: the preferred one, cut to the screen's available area."""
    if available.isEmpty():
        return QSize(preferred)
    return QSize(min(preferred.width(), available.width()), min(preferred.height(), available.height()))


def build_docks(window: MainWindow) -> None:
    """Signals left and inspector right, both full height; the rest tabbed at the bottom."""
    left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    window.setCorner(Qt.Corner.TopLeftCorner, left)
    window.setCorner(Qt.Corner.BottomLeftCorner, left)
    window.setCorner(Qt.Corner.TopRightCorner, right)
    window.setCorner(Qt.Corner.BottomRightCorner, right)
    window.setDockOptions(
        window.dockOptions() | window.DockOption.AllowTabbedDocks | window.DockOption.AnimatedDocks
    )
    add_dock(window, "signals", "Signals", window.signals_panel, left)
    add_dock(window, "inspector", "Inspector", window.inspector, right)
    add_dock(window, "kpis", "KPI dashboard", window.kpis, bottom)
    add_dock(window, "incidents", "Incidents", window.incidents_panel, bottom)
    add_dock(window, "events", "Events and alarms", window.events_panel, bottom)
    add_dock(window, "training", "RL training", window.training_panel, bottom)
    add_dock(window, "devices", "Devices", window.devices_panel, bottom)
    add_dock(window, "cameras", "Camera wall", window.camera_wall.panel, bottom)
    window.docks["cameras"].visibilityChanged.connect(window.camera_wall.set_visible)
    docks = window.docks
    window.tabifyDockWidget(docks["kpis"], docks["incidents"])
    window.tabifyDockWidget(docks["incidents"], docks["events"])
    window.tabifyDockWidget(docks["events"], docks["training"])
    window.tabifyDockWidget(docks["training"], docks["devices"])
    window.tabifyDockWidget(docks["devices"], docks["cameras"])
    docks["kpis"].raise_()


def add_dock(window: MainWindow, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
    dock = QDockWidget(title, window)
    dock.setObjectName(key)
    dock.setWidget(scrolling(widget))
    window.addDockWidget(area, dock)
    window.docks[key] = dock


def share_space(window: MainWindow, size: QSize) -> None:
    """Dock sizes as shares of ``size`` (the map keeps the rest)."""
    docks = window.docks
    window.resizeDocks(
        [docks["signals"], docks["inspector"]],
        [int(size.width() * SIDE_SHARE[0]), int(size.width() * SIDE_SHARE[1])],
        Qt.Orientation.Horizontal,
    )
    window.resizeDocks([docks["kpis"]], [int(size.height() * BOTTOM_SHARE)], Qt.Orientation.Vertical)


def fit(window: MainWindow, size: QSize | None = None) -> QSize:
    """Resize to ``size`` (default: the preferred size cut to the screen) and share it out."""
    if size is None:
        screen = window.screen()
        size = initial_size(screen.availableGeometry().size() if screen is not None else QSize())
    window.resize(size)
    layout = window.layout()
    if layout is not None:
        layout.activate()  # lay the docks out at the new size first: resizeDocks works from there
    share_space(window, size)
    return size


def build_central(window: MainWindow) -> None:
    """The banners and the notice above the map, in the central widget."""
    central = QWidget()
    central_layout = QVBoxLayout(central)
    central_layout.setContentsMargins(2, 2, 2, 2)
    central_layout.addWidget(window.banner)
    central_layout.addWidget(window.alarm_banner)
    central_layout.addWidget(window.notice)
    central_layout.addWidget(window.map, 1)
    window.setCentralWidget(central)

