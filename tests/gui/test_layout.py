"""The main window without a worker (a fake bridge): it fits common screens, says where a command was
refused, raises critical alarms until acknowledged, and its panels read as an operator expects."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

from tests.support.fake_bridge import FakeBridge
from trafficai.core.events import Event, event_key
from trafficai.gui import window_layout
from trafficai.gui.feedback import command_title
from trafficai.gui.main_window import MainWindow
from trafficai.runtime import commands as c
from trafficai.runtime.messages import Events, Ready, SignalChanges, SignalView

from .conftest import cross_frame, cross_geometry, cross_ready

pytestmark = pytest.mark.gui

SCREENS = (QSize(1920, 1080), QSize(1366, 768))


@pytest.fixture
def window(fake_window: MainWindow) -> MainWindow:
    return fake_window


def bridge(win: MainWindow) -> FakeBridge:
    assert isinstance(win.bridge, FakeBridge)
    return win.bridge


def many_signals_ready(ids: list[str]) -> Ready:
    """The cross junction's signal under each of ``ids`` (one geometry, several signals)."""
    geometry = cross_geometry()
    template = geometry.signals[0]
    signals = tuple(dataclasses.replace(template, id=signal_id) for signal_id in ids)
    ready = cross_ready(dataclasses.replace(geometry, signals=signals))
    return dataclasses.replace(ready, greens={i: ("GrGr", "rGrG") for i in ids}, controllable=tuple(ids))


# -- fits the screen --------------------------------------------------------------------------------


def test_the_minimum_size_fits_a_1280x720_screen_and_the_window_fills_common_screens(
    window: MainWindow, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window.bridge.ready.emit(cross_ready())
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert minimum.width() <= 1280 and minimum.height() <= 720, minimum
    docks = window.docks
    tabbed = set(window.tabifiedDockWidgets(docks["kpis"]))
    assert {docks["incidents"], docks["events"], docks["training"]} <= tabbed
    for screen in SCREENS:
        window_layout.fit(window, screen)
        qtbot.waitUntil(lambda s=screen: fills(window, s), timeout=3000)  # type: ignore[misc]
        assert window.statusBar().geometry().bottom() < screen.height()


def fills(window: MainWindow, screen: QSize) -> bool:
    """The window has the screen's size and the map and the docks share it (the docks settle on
    the next layout pass)."""
    docks = window.docks
    return (
        window.size() == screen
        and window.map.width() >= 0.35 * screen.width()
        and window.map.height() >= 0.45 * screen.height()
        and all(
            docks[k].isVisible() and docks[k].height() >= 0.25 * screen.height()
            for k in ("signals", "inspector", "kpis")  # the other bottom docks are tabs behind the KPIs
        )
        and docks["signals"].width() >= 0.2 * screen.width()
    )


def test_the_first_size_is_cut_to_the_screen() -> None:
    assert window_layout.initial_size(QSize(1366, 728)) == QSize(1366, 728)
    assert window_layout.initial_size(QSize(2560, 1440)) == QSize(1600, 1000)
    assert window_layout.initial_size(QSize()) == QSize(1600, 1000)


def test_the_title_names_the_scenario_and_the_application_once(window: MainWindow) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    old = app.applicationDisplayName()
    try:
        app.setApplicationDisplayName("trafficai control center")
        window.bridge.ready.emit(cross_ready())
        assert window.windowTitle() == "cross"  # Qt shows "cross — trafficai control center"
        app.setApplicationDisplayName("")
        window.bridge.ready.emit(cross_ready())
        assert window.windowTitle().count("trafficai control center") == 1
    finally:
        app.setApplicationDisplayName(old)


def test_the_toolbar_does_not_shift_when_play_turns_to_pause(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    bar = window.time_controls
    play = bar.widgetForAction(bar.play_action)
    before = (play.width(), bar.speed_combo.x(), bar.jump_edit.x(), bar.clock_label.x())
    bar.show_playing(True)
    qtbot.wait(50)
    assert bar.play_action.text() == "Pause"
    assert (play.width(), bar.speed_combo.x(), bar.jump_edit.x(), bar.clock_label.x()) == before
    bar.show_playing(False)
    qtbot.wait(50)
    assert (play.width(), bar.speed_combo.x(), bar.jump_edit.x(), bar.clock_label.x()) == before


# -- feedback where the operator acted --------------------------------------------------------------


def test_a_refused_map_command_shows_its_reason_above_the_map(window: MainWindow) -> None:
    window.bridge.ready.emit(cross_ready())
    reason = "stop for vehicle 'x' on lane '-509_1' is not downstream the current route"
    window.send(c.BlockLane("N_in_0", 40.0, 600.0, "ann"))
    window.bridge.refused.emit("BlockLane", reason)
    assert window.notice.isVisible() and window.notice.isAncestorOf(window.notice.text)
    assert "Block lane refused" in window.notice.text.text() and "not downstream" in window.notice.text.text()
    assert window.centralWidget().isAncestorOf(window.notice)  # above the map, not in a hidden tab
    assert window.statusBar().currentMessage().startswith("Block lane refused: stop for vehicle 'x'")
    assert "not downstream" in window.incidents_panel.message.text()  # and next to the incident controls
    window.incidents_panel.close_lane_button.setEnabled(True)
    window.incidents_panel.lane = "N_in_0"
    window.incidents_panel.close_lane_button.click()  # a new try clears the old reason
    assert window.incidents_panel.message.text() == ""
    assert isinstance(bridge(window).sent[-1], c.CloseLane)


def test_a_command_that_cannot_be_sent_says_so_in_view(window: MainWindow) -> None:
    bridge(window).dead = True
    assert not window.send(c.Step(1))
    assert window.notice.isVisible() and "Step not sent" in window.notice.text.text()
    window.jump_edit.setText("ten past")
    window.jump_button.click()
    assert "not a time" in window.notice.text.text()


def test_command_names_read_as_words() -> None:
    assert command_title("BlockLane") == "Block lane"
    assert command_title("Override") == "Override"


def test_a_critical_alarm_raises_a_banner_until_acknowledged_and_the_worker_records_who(
    window: MainWindow,
) -> None:
    window.bridge.ready.emit(cross_ready())
    warning = Event(30.0, "warning", "sumo", "teleporting vehicle")
    window.bridge.events.emit(Events(0, (warning,)))
    assert not window.alarm_banner.isVisible()  # a warning is listed, not raised
    first = Event(60.0, "alarm", "fallback", "controller rl missed its deadline", "C")
    second = Event(61.0, "alarm", "sumo", "Error: vehicle 'x' has no valid route")
    window.bridge.events.emit(Events(0, (first, second)))
    banner = window.alarm_banner
    assert (
        banner.isVisible() and "missed its deadline" in banner.text.text() and "+1 more" in banner.text.text()
    )
    assert window.status_labels.alarm_label.text() == "alarms: 2"
    banner.ack_button.click()
    assert banner.isVisible() and "no valid route" in banner.text.text()  # the next one
    banner.ack_button.click()
    assert not banner.isVisible()
    acks = [cmd for cmd in bridge(window).sent if isinstance(cmd, c.AcknowledgeAlarm)]
    assert [a.key for a in acks] == [event_key(first), event_key(second)]
    assert all(a.user == "ann" for a in acks) and "missed its deadline" in acks[0].summary
    row = next(r for r in window.events_panel.model.rows if r.event is first)
    assert row.acked_by == "ann" and len(row.acked_at) == 8  # who, and the wall-clock time
    assert window.status_labels.alarm_label.text() == "alarms: 0"


def test_acknowledging_many_at_once_is_one_command(window: MainWindow) -> None:
    events = tuple(Event(float(t), "warning", "sensor", f"loop {t} chatter") for t in range(50))
    window.bridge.events.emit(Events(0, events))
    window.events_panel.acknowledge_all()
    acks = [cmd for cmd in bridge(window).sent if isinstance(cmd, c.AcknowledgeAlarm)]
    assert len(acks) == 1 and acks[0].key == "*" and "50 warnings" in acks[0].summary


# -- events list ------------------------------------------------------------------------------------


def test_events_are_newest_first_follow_new_ones_and_show_whole_kinds(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.events_panel
    window.docks["events"].raise_()
    window_layout.fit(window, QSize(1920, 1080))
    qtbot.waitUntil(lambda: panel.view.isVisible(), timeout=3000)
    panel.add_events([Event(float(t), "info", "controller", f"event {t}") for t in range(300)])
    proxy = panel.proxy
    assert proxy.index(0, 6).data() == "event 299" and proxy.index(299, 6).data() == "event 0"
    assert panel.view.verticalScrollBar().value() == 0  # following: the newest in view
    panel.add_events([Event(301.0, "info", "controller", "newest")])
    assert proxy.index(0, 6).data() == "newest" and panel.view.verticalScrollBar().value() == 0
    panel.follow.setChecked(False)
    panel.view.verticalScrollBar().setValue(100)
    reading = panel.view.indexAt(panel.view.viewport().rect().topLeft()).data()
    panel.add_events([Event(302.0 + t, "info", "run", "more") for t in range(5)])
    assert panel.view.indexAt(panel.view.viewport().rect().topLeft()).data() == reading  # it stays put
    kind = panel.view.horizontalHeader().sectionSize(3)
    assert kind >= panel.view.fontMetrics().horizontalAdvance("controller") + 12


# -- signals panel ----------------------------------------------------------------------------------


def test_the_signals_table_sorts_ids_as_numbers_and_shows_every_row(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    ids = ["1", "176", "183", "2", "10", "J3", "J12", "5", "44", "7", "3", "9"]
    window_layout.fit(window, QSize(1920, 1080))
    window.bridge.ready.emit(many_signals_ready(ids))
    table = window.signals_panel.table
    shown = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert shown == ["1", "2", "3", "5", "7", "9", "10", "44", "176", "183", "J3", "J12"]
    qtbot.waitUntil(lambda: table.viewport().height() > 0, timeout=3000)
    last = table.visualItemRect(table.item(len(ids) - 1, 0))
    assert last.bottom() <= table.viewport().height(), (last, table.viewport().height())
    table.selectRow(shown.index("176"))
    assert window.signals_panel.current == "176"


def test_table_and_detail_agree_on_time_in_phase_and_the_controller_box_follows(
    window: MainWindow, qtbot
) -> None:  # type: ignore[no-untyped-def]
    ready = dataclasses.replace(cross_ready(), controller="max-pressure")
    window.bridge.ready.emit(ready)
    panel = window.signals_panel
    window.bridge.signal_changes.emit(SignalChanges(0, ((0, 6.0, "yryr"),)))
    view = SignalView("C", "max-pressure", True, 0, 2, "green", 34.0)
    frame = dataclasses.replace(cross_frame([], time_s=10.0), signals=(view,))
    window.bridge.frame.emit(frame)
    qtbot.waitUntil(lambda: panel.table.item(0, 2).text() != "", timeout=3000)
    assert panel.table.item(0, 2).text() == "34"
    assert panel.in_phase.text() == "34 s"
    assert panel.controller_combo.currentText() == "max-pressure"  # not 'fixed', the first item


def test_the_state_string_is_not_clipped(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    from trafficai.gui.panels.signals import state_html

    window.bridge.ready.emit(cross_ready())
    label = window.signals_panel.state
    assert "font-size" not in state_html("GgyrO")  # the label's own font, which sizes the label
    assert label.height() >= label.fontMetrics().height() + 2
    assert label.fontMetrics().descent() > 0


def test_the_fake_bridge_has_every_signal_of_the_real_one() -> None:
    from PySide6.QtCore import Signal

    from tests.support.fake_bridge import FakeBridge
    from trafficai.gui.bridge import WorkerBridge

    def signals(cls: type) -> set[str]:
        return {name for name, value in vars(cls).items() if isinstance(value, Signal)}

    real = signals(WorkerBridge)
    assert "frame" in real and real <= signals(FakeBridge)
