"""A banner above the map for what stopped the simulation (or ended it), with a restart button."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

ERROR_COLOR = "#5a1a1a"
NOTICE_COLOR = "#1a3a5a"


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.button = QPushButton("Restart simulation")
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)
        self._color(ERROR_COLOR)
        self.setVisible(False)

    def _color(self, color: str) -> None:
        self.setStyleSheet(
            f"QFrame {{ background: {color}; border-radius: 4px; }} QLabel {{ color: white; }}"
        )

    def show_text(self, text: str, error: bool = True) -> None:
        self._color(ERROR_COLOR if error else NOTICE_COLOR)
        self.text.setText(text)
        self.setVisible(True)
