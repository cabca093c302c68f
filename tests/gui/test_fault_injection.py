"""Issue 12 items 2 and 3 in the window: the fault dialog builds the worker's InjectFault, the
injected faults can be cleared from the menus, and devices flagged faulty or substituted are
alarmed in the devices panel and on the map; with a real worker, a stuck-off injected from the
dialog zeroes the loop and detector health raises its alarm in the events list."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint

from trafficai.config import LOOP_FAULT_KINDS, TRANSPORT_FAULT_KINDS
from trafficai.gui.fault_dialog import FaultDialog, open_fault_dialog
from trafficai.gui.main_window import MainWindow
from trafficai.gui.map.layers import SUBSTITUTED_RING
from trafficai.gui.map.picking import Pick
from trafficai.gui.panels.devices import COLUMNS
from trafficai.runtime import commands as c
from trafficai.runtime.messages import DeviceStatus, DeviceView, FaultView, InjectedFaults
from trafficai.sensors.health import DetectorHealth

from .conftest import cross_frame, cross_ready

pytestmark = pytest.mark.gui


def test_the_dialog_builds_the_injection_and_offers_area_detectors_transport_faults_only(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = FaultDialog(("e1_N", "e1_S"), ("e2_N",), "ann", device="e1_S")
    qtbot.addWidget(dialog)
    kinds = [dialog.kind.itemText(i) for i in range(dialog.kind.count())]
    assert kinds == list(LOOP_FAULT_KINDS + TRANSPORT_FAULT_KINDS)  # not blackout: a camera fault
    assert dialog.command() == c.InjectFault("e1_S", "stuck-on", 0.0, None, None, "ann")  # now, until cleared
    dialog.kind.setCurrentText("noise")
    dialog.start.setValue(120.0)
    dialog.duration.setValue(300.0)
    assert dialog.command() == c.InjectFault("e1_S", "noise", 120.0, 300.0, None, "ann")  # default sigma
    dialog.default_param.setChecked(False)
    dialog.param.setValue(0.4)
    assert dialog.command().param == 0.4
    dialog.device.setCurrentText("e2_N")
    kinds = [dialog.kind.itemText(i) for i in range(dialog.kind.count())]
    assert kinds == list(TRANSPORT_FAULT_KINDS)
    sent: list[c.InjectFault] = []
    dialog.injected.connect(sent.append)
    dialog.accept()
    assert sent == [c.InjectFault("e2_N", "dropout", 120.0, 300.0, None, "ann")]


def _devices(generation: int, *sources: str) -> DeviceStatus:
    views = tuple(DeviceView(f"e1.{s}", "e1", s, "online", 10.0, 1, 0, (), (), ()) for s in sources)
    return DeviceStatus(generation, 10.0, "in-process", "", True, views, 2, 0)


def test_faulty_and_substituted_devices_are_alarmed_in_panel_and_map(fake_window: MainWindow) -> None:
    window = fake_window
    ready = cross_ready()
    window.bridge.ready.emit(ready)
    window.bridge.devices.emit(_devices(ready.generation, "e1_N", "e1_S"))
    stuck = FaultView(0, "e1_S", "stuck-off", 5.0, None, None, "ann")
    window.bridge.faults.emit(InjectedFaults(ready.generation, (stuck,)))
    failed = {"e1_S": DetectorHealth("failed", "card off", 8.0)}
    frame = replace(cross_frame([]), detector_health=failed, substituted=frozenset({"e1_S"}))
    window.bridge.frame.emit(frame)
    model, column = window.devices_panel.model, COLUMNS.index("health")
    assert model.text(0, column) == "ok"
    assert model.text(1, column) == "failed: card off · substituted · stuck-off injected"
    layer = window.map.detector_layer
    assert layer.health[:2] == ["ok", "failed"] and layer.substituted[:2] == [False, True]
    pens = [p.color().getRgb()[:3] for p in layer.item.data["pen"]]
    assert pens[1] == SUBSTITUTED_RING and pens[0] != SUBSTITUTED_RING
    # the device's menu injects on it and clears the fault acting on it
    window._device_menu("e1_S", QPoint(5, 5))
    texts = [a.text() for a in window.context_menu.actions()]
    assert texts == ["Inject fault on e1_S…", "Clear fault stuck-off on e1_S"]
    window.context_menu.actions()[1].trigger()
    assert window.bridge.sent[-1] == c.ClearFault(0, "e1_S", "ann")  # type: ignore[attr-defined]


def test_the_simulation_menu_clears_only_faults_acting_now(fake_window: MainWindow) -> None:
    window = fake_window
    ready = cross_ready()
    window.bridge.ready.emit(ready)
    faults = (
        FaultView(0, "e1_N", "noise", 0.0, 5.0, 0.2),  # ended at t=5
        FaultView(1, "e1_S", "latency", 0.0, None, 60.0, "ann"),
        FaultView(2, "e1_N", "stuck-on", 100.0, None, None, "ann"),  # starts later
    )
    window.bridge.faults.emit(InjectedFaults(ready.generation, faults))
    window.bridge.frame.emit(cross_frame([], time_s=10.0))
    menu = window.clear_fault_menu
    assert menu is not None
    menu.aboutToShow.emit()
    assert [a.text() for a in menu.actions()] == ["Clear fault latency (messages) on e1_S"]
    window.bridge.faults.emit(InjectedFaults(ready.generation + 1, ()))  # another simulation's: ignored
    assert window.injected_faults is not None and len(window.injected_faults.faults) == 3


@pytest.mark.sumo
def test_stuck_off_from_the_dialog_zeroes_the_loop_and_raises_an_alarm(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    geometry = window.ready.geometry  # type: ignore[union-attr]
    loop = "e1_N_in_0"
    index = geometry.e1.ids.index(loop)
    window.send(c.Jump(120.0))
    qtbot.waitUntil(lambda: window.last_frame.snapshot.time_s >= 120.0, timeout=20000)  # type: ignore[union-attr]
    x, y = (float(v) for v in geometry.e1.xy[index])
    window._map_menu(Pick("e1", loop, index, x, y), QPoint(10, 10))
    (inject,) = [a for a in window.context_menu.actions() if a.text() == f"Inject fault on {loop}…"]
    inject.trigger()
    dialog = window.findChild(FaultDialog)
    assert dialog is not None and dialog.device.currentText() == loop
    dialog.kind.setCurrentText("stuck-off")
    dialog.accept()
    qtbot.waitUntil(
        lambda: window.injected_faults is not None and bool(window.injected_faults.faults), timeout=10000
    )
    window.send(c.Step(1))
    qtbot.waitUntil(lambda: window.last_frame.snapshot.time_s >= 121.0, timeout=10000)  # type: ignore[union-attr]
    onset = int(window.last_frame.snapshot.detectors.e1_count[index])  # type: ignore[union-attr]
    window.send(c.Jump(480.0))
    qtbot.waitUntil(lambda: window.last_frame.snapshot.time_s >= 480.0, timeout=30000)  # type: ignore[union-attr]
    detectors = window.last_frame.snapshot.detectors  # type: ignore[union-attr]
    assert (int(detectors.e1_count[index]), float(detectors.e1_occupancy[index])) == (onset, 0.0)
    rows = [r.event for r in window.events_panel.model.rows]
    assert any(e.kind == "fault" and e.object_id == loop and e.user == "ann" for e in rows)
    assert any(e.kind == "detector" and e.object_id == loop and e.severity == "alarm" for e in rows)
    assert window.map.detector_layer.health[index] == "failed"


def test_the_dialog_needs_a_running_simulation(fake_window: MainWindow) -> None:
    assert open_fault_dialog(fake_window) is None
    assert "Inject fault" in fake_window.notice.text.text()
