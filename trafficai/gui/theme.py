"""Look of the control center: a dark palette for long shifts in a control room, and pen/brush caches."""

from __future__ import annotations

from functools import lru_cache

import pyqtgraph as pg
from PySide6.QtGui import QBrush, QColor, QPalette, QPen
from PySide6.QtWidgets import QApplication, QLabel, QSizePolicy

BACKGROUND = "#15171b"
PANEL = "#1e2127"
TEXT = "#d8dce3"
MUTED = "#8a919e"
ACCENT = "#4ea1ff"
SEVERITY_COLORS = {"info": "#8a919e", "warning": "#ffb347", "alarm": "#ff5c5c"}


def apply(app: QApplication) -> None:
    """Fusion style with a dark palette; pyqtgraph defaults to match."""
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: PANEL,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BACKGROUND,
        QPalette.ColorRole.AlternateBase: PANEL,
        QPalette.ColorRole.ToolTipBase: PANEL,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#2a2e36",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#000000",
        QPalette.ColorRole.PlaceholderText: MUTED,
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(MUTED))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(MUTED))
    app.setPalette(palette)
    configure_pyqtgraph()


def configure_pyqtgraph() -> None:
    pg.setConfigOptions(background=BACKGROUND, foreground=TEXT, antialias=False, imageAxisOrder="row-major")


@lru_cache(maxsize=256)
def brush(r: int, g: int, b: int, a: int = 255) -> QBrush:
    return QBrush(QColor(r, g, b, a))


@lru_cache(maxsize=256)
def pen(r: int, g: int, b: int, width: float = 1.0, cosmetic: bool = True, a: int = 255) -> QPen:
    p = QPen(QColor(r, g, b, a))
    p.setWidthF(width)
    p.setCosmetic(cosmetic)
    return p


def steady(label: QLabel, template: str = "") -> QLabel:
    """A label whose changing text never re-lays out the window (a relayout repaints every plot).

    With ``template`` the width fits that text; otherwise the layout decides the width.
    """
    label.setWordWrap(False)
    if template:
        label.setFixedWidth(label.fontMetrics().horizontalAdvance(template) + 24)
    else:
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    label.setFixedHeight(label.fontMetrics().height() + 6)
    return label
