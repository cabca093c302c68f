"""The main window against a real worker on the tiny network: controls, overrides, picking, crash and
restart, a broken scenario, the screenshot command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage

from trafficai.gui.main_window import MainWindow
from trafficai.runtime import commands as c
from trafficai.runtime.worker_config import WorkerConfig

from .conftest import BROKEN, TINY

pytestmark = [pytest.mark.gui, pytest.mark.sumo]

ROOT = Path(__file__).resolve().parents[2]


def sim_time(win: MainWindow) -> float:
    return win.last_frame.snapshot.time_s if win.last_frame is not None else -1.0


def test_time_controls_drive_the_worker(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert window.ready is not None and window.ready.scenario == "tiny"
    assert window.map.net is window.ready.geometry
    window.step_action.trigger()
    qtbot.waitUntil(lambda: sim_time(window) == 1.0, timeout=5000)
    window.send(c.Step(9))
    qtbot.waitUntil(lambda: sim_time(window) == 10.0, timeout=5000)
    snap = window.last_frame.snapshot  # type: ignore[union-attr]
    assert window.map.vehicles.count == len(snap.vehicles)
    assert window.map.vehicles.ids == snap.vehicles.ids
    assert window.vehicles_label.text() == f"vehicles {snap.counters.running:,}"
    window.speed_combo.setCurrentIndex(window.speed_combo.findData(5.0))
    window.speed_combo.activated.emit(window.speed_combo.currentIndex())
    window.play_action.trigger()
    qtbot.waitUntil(lambda: window.last_progress is not None and window.last_progress.playing, timeout=5000)
    assert window.last_progress is not None and window.last_progress.speed == 5.0
    qtbot.waitUntil(lambda: sim_time(window) >= 11.0, timeout=5000)
    window.play_action.trigger()
    qtbot.waitUntil(
        lambda: window.last_progress is not None and not window.last_progress.playing, timeout=5000
    )
    window.jump_edit.setText("00:05:00")
    window.jump_button.click()
    qtbot.waitUntil(lambda: sim_time(window) == 300.0, timeout=10000)
    assert window.clock_label.text().strip() == "t = 00:05:00"


def test_override_from_the_signals_panel_is_held_in_sumo_and_expires(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.signals_panel
    assert panel.current == "C"
    assert not panel.apply_override.isEnabled()  # no reason yet
    panel.action.setCurrentIndex(panel.action.findData("hold"))
    panel.duration.setValue(100.0)
    panel.reason.setText("police on site")
    assert panel.apply_override.isEnabled()
    panel.apply_override.click()
    qtbot.waitUntil(
        lambda: window.last_frame is not None and window.last_frame.signals[0].override == "hold",
        timeout=5000,
    )
    view = window.last_frame.signals[0]  # type: ignore[union-attr]
    assert view.override_user == "ann" and view.override_reason == "police on site"
    window.send(c.Play())
    qtbot.waitUntil(lambda: panel.timeline is not None and panel.timeline.now >= 150, timeout=10000)
    timeline = panel.timeline
    assert timeline is not None
    times, states = timeline.times[0], timeline.states[0]
    assert states[0] == "rrrGGgrrrGGg" and times[1] >= 100.0  # SUMO kept the green for 100 s, not 42
    qtbot.waitUntil(
        lambda: window.last_frame is not None and window.last_frame.signals[0].override == "", timeout=5000
    )
    rows = [r.event for r in window.events_panel.model.rows if r.event.kind == "override"]
    assert any(e.user == "ann" and "police on site" in e.message for e in rows)
    assert any("expired" in e.message for e in rows)


def test_an_invalid_override_is_refused_in_the_panel(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.send(c.Override("C", "force", 60.0, "test", "ann", green=5))
    qtbot.waitUntil(lambda: "no green stage 5" in window.last_refusal, timeout=5000)
    assert "Refused" in window.signals_panel.message.text()


def test_clicking_the_map_opens_the_inspector(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.send(c.Jump(60.0))
    qtbot.waitUntil(
        lambda: sim_time(window) == 60.0 and len(window.last_frame.snapshot.vehicles) > 0,  # type: ignore[union-attr]
        timeout=10000,
    )
    qtbot.wait(100)
    snap = window.last_frame.snapshot  # type: ignore[union-attr]
    vid = snap.vehicles.ids[0]
    x, y = (float(v) for v in snap.vehicles.xy[0])
    point = window.map.view.mapFromScene(window.map.vb.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(window.map.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: window.inspector.pick is not None, timeout=3000)
    assert window.inspector.pick is not None and window.inspector.pick.id == vid
    assert "speed (km/h)" in window.inspector.values
    assert window.incidents_panel.lane  # a vehicle's lane becomes the incident target
    window.send(c.Step(3))
    qtbot.waitUntil(lambda: len(window.inspector.series) >= 2, timeout=5000)


def test_a_worker_crash_shows_the_error_and_restart_works(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    old_pid = window.bridge.pid
    window.bridge.kill()
    qtbot.waitUntil(lambda: window.state == "died", timeout=5000)
    assert window.banner.isVisible() and "stopped unexpectedly" in window.banner_text.text()
    assert "SIGKILL" in window.banner_text.text()
    assert any(
        r.event.severity == "alarm" and r.event.kind == "worker" for r in window.events_panel.model.rows
    )
    window.banner_button.click()
    qtbot.waitUntil(
        lambda: (
            window.bridge.alive() and window.state in ("paused", "running") and window.last_frame is not None
        ),
        timeout=20000,
    )
    assert window.bridge.pid != old_pid and not window.banner.isVisible()
    window.send(c.Step(2))
    qtbot.waitUntil(lambda: sim_time(window) == 2.0, timeout=5000)


def test_a_broken_scenario_shows_an_error_and_the_simulation_keeps_running(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.open_scenario(BROKEN)
    qtbot.waitUntil(
        lambda: window.error_dialog is not None and window.error_dialog.isVisible(), timeout=20000
    )
    dialog = window.error_dialog
    assert dialog is not None and "broken.sumocfg" in dialog.text()
    assert "broken" in dialog.informativeText()
    assert window.candidate is None and window.bridge.alive()
    before = sim_time(window)
    window.send(c.Step(5))
    qtbot.waitUntil(lambda: sim_time(window) == before + 5, timeout=5000)
    window.open_scenario("no-such-scenario")
    qtbot.waitUntil(lambda: "no-such-scenario" in window.error_dialog.text(), timeout=3000)  # type: ignore[union-attr]


def test_a_failed_start_names_the_worker_log_in_the_banner(qtbot) -> None:  # type: ignore[no-untyped-def]
    win = MainWindow(WorkerConfig.for_scenario(BROKEN, speed=None, playing=False), user="ann")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.state == "failed", timeout=20000)
    text = win.banner_text.text()
    assert "broken" in text and "details in " in text and text.endswith(".log)")
    win.close()


def test_the_screenshot_command_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "trafficai.cli",
            "gui",
            TINY,
            "--speed",
            "max",
            "--screenshot",
            str(out),
            "--after",
            "2",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(out))
    assert image.width() >= 1200 and image.height() >= 800


def test_opening_another_scenario_replaces_the_simulation(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    old = window.bridge
    grid = str(ROOT / "tests" / "data" / "grid2x2" / "grid2x2.sumocfg")
    window.open_scenario(grid)
    qtbot.waitUntil(lambda: window.ready is not None and window.ready.scenario == "grid2x2", timeout=20000)
    assert window.bridge is not old and not old.alive()
    assert len(window.map.signal_layer.signal) > 0 and window.signals_panel.table.rowCount() == 4
    qtbot.waitUntil(lambda: window.last_frame is not None, timeout=5000)


def test_incident_controls_close_and_clear_a_lane(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.incidents_panel
    assert not panel.close_lane_button.isEnabled()  # nothing selected yet
    lanes = window.ready.geometry.lanes  # type: ignore[union-attr]
    lane = lanes.index()["N_in_0"]
    x, y = (float(v) for v in lanes.shapes[lane][0])
    point = window.map.view.mapFromScene(window.map.vb.mapViewToScene(QPointF(x, y - 30.0)))
    qtbot.mouseClick(window.map.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: panel.lane == "N_in_0", timeout=3000)
    panel.reason.setText("road works")
    panel.close_lane_button.click()
    qtbot.waitUntil(lambda: len(panel.incidents) == 1, timeout=5000)
    incident = panel.incidents[0]
    assert (incident.kind, incident.target, incident.user, incident.reason) == (
        "lane closed",
        "N_in_0",
        "ann",
        "road works",
    )
    assert window.map.incident_layer.closed_lanes == {lane}
    panel.table.selectRow(0)
    panel.clear_button.click()
    qtbot.waitUntil(lambda: len(panel.incidents) == 0, timeout=5000)
    assert window.map.incident_layer.closed_lanes == set()


def test_route_demand_from_the_map_menu_is_listed_drawn_and_cleared(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.incidents_panel
    lanes = window.ready.geometry.lanes  # type: ignore[union-attr]
    lane = lanes.index()["N_in_0"]
    x, y = (float(v) for v in lanes.shapes[lane][0])
    pick = window.map.pick_at(x, y - 30.0)
    assert pick is not None and (pick.kind, pick.id) == ("lane", "N_in_0")
    window._map_menu(pick, QPoint(10, 10))
    menu = window.context_menu
    (action,) = [a for a in menu.actions() if a.text().startswith("Scale demand through edge N_in")]
    action.trigger()
    dialog = window.route_demand_dialog
    assert dialog is not None and dialog.isVisible() and "N_in" in dialog.labelText()
    dialog.setDoubleValue(0.0)
    dialog.accept()
    qtbot.waitUntil(lambda: len(panel.incidents) == 1, timeout=5000)
    incident = panel.incidents[0]
    assert (incident.kind, incident.target, incident.demand_factor, incident.user) == (
        "route demand",
        "N_in",
        0.0,
        "ann",
    )
    row = [panel.table.item(0, col).text() for col in range(panel.table.columnCount())]
    assert row[:3] == [incident.id, "route demand", "N_in × 0"] and row[4] == "until cleared"
    assert window.map.incident_layer.demand_lanes == {lane}
    assert window.map.incident_layer.closed_lanes == set()  # the lane stays open
    window._map_menu(pick, QPoint(10, 10))  # now the menu offers to clear it (and still to close the lane)
    texts = [a.text() for a in window.context_menu.actions()]
    assert "Clear demand scaling through N_in (0x)" in texts and "Close lane N_in_0" in texts
    panel.table.selectRow(0)
    panel.clear_button.click()
    qtbot.waitUntil(lambda: len(panel.incidents) == 0, timeout=5000)
    assert window.map.incident_layer.demand_lanes == set()
    # from the panel, on the picked lane's edge; a refusal shows in the status bar
    panel.set_target("N_in_0", 20.0)
    assert panel.route_demand_button.isEnabled()
    panel.route_factor.setValue(2.0)
    panel.route_demand_button.click()
    qtbot.waitUntil(lambda: len(panel.incidents) == 1, timeout=5000)
    assert panel.incidents[0].demand_factor == 2.0
    window.send(c.RouteDemand("nowhere", 1.0, "ann"))
    qtbot.waitUntil(lambda: "unknown edge 'nowhere'" in window.last_refusal, timeout=5000)
    panel.restore_button.click()
    qtbot.waitUntil(lambda: len(panel.incidents) == 0, timeout=5000)


def test_an_acknowledged_alarm_is_recorded_by_the_worker(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    from trafficai.core.events import Event

    window.events_panel.add_events([Event(0.0, "alarm", "gui", "test alarm", "C", "ann")])
    assert window.alarm_banner.isVisible()
    window.alarm_banner.ack_button.click()
    assert not window.alarm_banner.isVisible()
    qtbot.waitUntil(
        lambda: any(
            r.event.kind == "ack" and r.event.user == "ann" and "test alarm" in r.event.message
            for r in window.events_panel.model.rows
        ),
        timeout=5000,
    )
