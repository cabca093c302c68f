"""Messages above the map, where the operator is looking: the banner for what stopped the simulation
(or ended it), the alarm banner that stays until a critical alarm is acknowledged, and the transient
notice for a refused command."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

ERROR_COLOR = "#5a1a1a"
NOTICE_COLOR = "#1a3a5a"
ALARM_COLOR = "#7a1010"
REFUSAL_COLOR = "#5a4210"
NOTICE_MS = 10_000  # a refusal stays this long (or until the next one, or until closed)


def _colored(frame: QFrame, color: str) -> None:
    frame.setStyleSheet(f"QFrame {{ background: {color}; border-radius: 4px; }} QLabel {{ color: white; }}")


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.button = QPushButton("Restart simulation")
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)
        _colored(self, ERROR_COLOR)
        self.setVisible(False)

    def show_text(self, text: str, error: bool = True) -> None:
        _colored(self, ERROR_COLOR if error else NOTICE_COLOR)
        self.text.setText(text)
        self.setVisible(True)


class AlarmBanner(QFrame):
    """The oldest unacknowledged critical alarm; visible until every one is acknowledged."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.ack_button = QPushButton("Acknowledge")
        self.show_button = QPushButton("Show events")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.show_button)
        layout.addWidget(self.ack_button)
        _colored(self, ALARM_COLOR)
        self.setVisible(False)

    def show_alarm(self, text: str | None, more: int = 0) -> None:
        """``text`` None: nothing left to acknowledge (hidden)."""
        if text is None:
            self.setVisible(False)
            return
        others = f" <i>(+{more} more unacknowledged)</i>" if more else ""
        self.text.setText(f"<b>ALARM</b> {text}{others}")
        self.setVisible(True)


class Notice(QFrame):
    """A transient message (a refused or failed command and why), closed by a timer or its button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.close_button = QPushButton("Dismiss")
        self.close_button.clicked.connect(lambda: self.setVisible(False))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.close_button)
        _colored(self, REFUSAL_COLOR)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(lambda: self.setVisible(False))
        self.setVisible(False)

    def show_text(self, text: str, duration_ms: int = NOTICE_MS) -> None:
        self.text.setText(text)
        self.setVisible(True)
        self.timer.start(duration_ms)
