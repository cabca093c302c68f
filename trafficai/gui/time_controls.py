"""The time-control toolbar: play/pause, step, speed, restart, jump to a time, controller, clock."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QToolBar,
    QToolButton,
    QWidget,
)

from trafficai.gui.panels.events import clock

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


class TimeControls(QToolBar):
    """Emits what the operator asked for; the window turns it into worker commands."""

    play_toggled = Signal()
    step = Signal()
    restart = Signal()
    speed_chosen = Signal(object)  # float | None (as fast as possible)
    jump_to = Signal(float)  # simulated seconds
    invalid_time = Signal(str)  # why the typed time was not understood
    controller_chosen = Signal(str)

    def __init__(self, parent: QWidget, speed: float | None) -> None:
        super().__init__("Time control", parent)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setObjectName("time")
        self.setMovable(False)
        style = self.style()
        self.play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self.pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        self.play_action = QAction(self.play_icon, "Play", self)
        self.play_action.setShortcut(QKeySequence("Space"))
        self.play_action.triggered.connect(self.play_toggled.emit)
        self.step_action = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step", self
        )
        self.step_action.setShortcut(QKeySequence("S"))
        self.step_action.triggered.connect(self.step.emit)
        self.restart_action = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload), "Restart", self
        )
        self.restart_action.triggered.connect(self.restart.emit)
        self.addAction(self.play_action)
        self._steady_width(self.play_action, ("Play", "Pause"))
        self.addAction(self.step_action)
        self.addWidget(QLabel(" Speed "))
        self.speed_combo = QComboBox()
        for label, value in SPEEDS:
            self.speed_combo.addItem(label, value)
        self.select_speed(speed)
        self.speed_combo.activated.connect(lambda _: self.speed_chosen.emit(self.speed_combo.currentData()))
        self.addWidget(self.speed_combo)
        self.addAction(self.restart_action)
        self.addSeparator()
        self._build_jump()
        self.addSeparator()
        self.addWidget(QLabel(" Controller (all signals) "))
        self.controller_combo = QComboBox()
        self.controller_combo.activated.connect(
            lambda _: self.controller_chosen.emit(self.controller_combo.currentText())
        )
        self.addWidget(self.controller_combo)
        self.addSeparator()
        self.clock_label = QLabel(" t = --:--:-- ")
        self.clock_label.setStyleSheet("font-family: monospace; font-size: 15pt; padding: 0 8px;")
        self.clock_label.setFixedWidth(self.clock_label.sizeHint().width() + 40)
        self.addWidget(self.clock_label)

    def _steady_width(self, action: QAction, texts: tuple[str, ...]) -> None:
        """The action's button as wide as its widest text: toggling Play/Pause shifts nothing."""
        button = self.widgetForAction(action)
        if not isinstance(button, QToolButton):
            return
        shown = action.text()
        widths = []
        for text in texts:
            button.setText(text)
            widths.append(button.sizeHint().width())
        button.setText(shown)
        button.setFixedWidth(max(widths))

    def _build_jump(self) -> None:
        self.addWidget(QLabel(" Jump to "))
        self.jump_edit = QLineEdit()
        self.jump_edit.setPlaceholderText("hh:mm:ss or s")
        self.jump_edit.setMaximumWidth(110)
        self.jump_edit.returnPressed.connect(self.ask_jump)
        self.addWidget(self.jump_edit)
        self.jump_button = QPushButton("Go")
        self.jump_button.clicked.connect(self.ask_jump)
        self.addWidget(self.jump_button)

    def ask_jump(self) -> None:
        try:
            seconds = parse_time(self.jump_edit.text())
        except ValueError as exc:
            self.invalid_time.emit(str(exc))
            return
        self.jump_to.emit(seconds)

    def select_speed(self, speed: float | None) -> None:
        for i in range(self.speed_combo.count()):
            if self.speed_combo.itemData(i) == speed:
                self.speed_combo.setCurrentIndex(i)
                return

    def set_controllers(self, names: tuple[str, ...], current: str) -> None:
        self.controller_combo.blockSignals(True)
        self.controller_combo.clear()
        self.controller_combo.addItems(list(names))
        self.controller_combo.setCurrentText(current)
        self.controller_combo.blockSignals(False)

    def show_clock(self, time_s: float) -> None:
        self.clock_label.setText(f" t = {clock(time_s)} ")

    def show_playing(self, playing: bool) -> None:
        self.play_action.setText("Pause" if playing else "Play")
        self.play_action.setIcon(self.pause_icon if playing else self.play_icon)
