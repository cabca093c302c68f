"""A detected incident in the events list: one click closes the lane it names."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from trafficai.core.events import Event
from trafficai.gui.panels.events import EventsPanel
from trafficai.runtime.commands import CloseLane

pytestmark = pytest.mark.gui


def test_create_incident_closes_the_reported_lane(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = EventsPanel()
    qtbot.addWidget(panel)
    panel.user = "ann"
    detected = Event(
        930.0, "alarm", "incident-detected", "incident suspected on lane J6_J6S_0 ...", "J6_J6S_0", "system"
    )
    other = Event(940.0, "alarm", "fallback", "controller dropped", "C")
    panel.add_events([detected, other])
    sent: list[object] = []
    panel.create_incident.connect(sent.append)
    # newest first: row 1 is the detected incident; the fallback alarm (row 0) offers nothing
    for row in (0, 1):
        index = panel.proxy.index(row, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        panel.view.selectionModel().select(index, flags)
        qtbot.mouseClick(panel.incident_button, Qt.MouseButton.LeftButton)
    assert len(sent) == 1
    command = sent[0]
    assert isinstance(command, CloseLane)
    assert command.lane_id == "J6_J6S_0" and command.user == "ann" and "detected incident" in command.reason
