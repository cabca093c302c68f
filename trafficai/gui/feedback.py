"""What the operator is told about what they did and what went wrong: command names in words, the
window title, the alarm the banner shows. Pure functions of the window's state."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QApplication

from trafficai.gui.panels.events import EventModel, clock

SIGNAL_COMMANDS = frozenset({"Override", "ClearOverride", "SetController"})
INCIDENT_COMMANDS = frozenset(
    {
        "CloseLane",
        "CloseEdge",
        "OpenLane",
        "BlockLane",
        "RouteDemand",
        "ClearIncident",
        "RestoreAll",
        "DemandScale",
    }
)
APP_TITLE = "trafficai control center"


def command_title(name: str) -> str:
    """'BlockLane' -> 'Block lane': a command's type name as the operator reads it."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).capitalize()


def window_title(scenario: str) -> str:
    """The title names the scenario; Qt appends the application's display name (set by ``app``),
    so the title repeats it only when no display name is set (tests, embedding)."""
    app = QApplication.instance()
    display = app.applicationDisplayName() if isinstance(app, QApplication) else ""
    if APP_TITLE in display:
        return scenario
    return f"{scenario} — {APP_TITLE}" if scenario else APP_TITLE


def open_alarm(model: EventModel) -> tuple[str | None, int]:
    """The banner's text for the oldest unacknowledged critical alarm (None: none) and how many more."""
    row = model.oldest_open_critical()
    if row is None:
        return None, 0
    e = row.event
    where = f" {e.object_id}" if e.object_id else ""
    return f"{clock(e.time_s)} · {e.kind}{where}: {e.message}", len(model.open_critical) - 1
