"""Camera devices in the window: the fault dialog lists the run's cameras with the camera and
transport faults, and the map's camera icons show their device's health and online state."""

from __future__ import annotations

from dataclasses import replace

import pytest

from trafficai.config import CAMERA_FAULT_KINDS, TRANSPORT_FAULT_KINDS
from trafficai.gui.fault_dialog import FaultDialog, fault_cameras
from trafficai.gui.main_window import MainWindow
from trafficai.gui.map.layers import HEALTH_COLORS, OFFLINE_FILL
from trafficai.gui.panels.devices import COLUMNS
from trafficai.runtime import commands as c
from trafficai.runtime.messages import DeviceStatus, DeviceView
from trafficai.sensors.health import DetectorHealth

from .conftest import cross_frame, cross_ready

pytestmark = pytest.mark.gui


def test_the_dialog_offers_a_camera_its_camera_and_transport_faults(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = FaultDialog(("e1_N",), ("e2_N",), "ann", device="cam", cameras=("cam",))
    qtbot.addWidget(dialog)
    assert [dialog.device.itemText(i) for i in range(dialog.device.count())] == ["e1_N", "e2_N", "cam"]
    kinds = [dialog.kind.itemText(i) for i in range(dialog.kind.count())]
    assert kinds == list(CAMERA_FAULT_KINDS + TRANSPORT_FAULT_KINDS)
    dialog.kind.setCurrentText("blackout")
    assert dialog.command() == c.InjectFault("cam", "blackout", 0.0, None, None, "ann")
    dialog.device.setCurrentText("e1_N")
    assert "blackout" not in [dialog.kind.itemText(i) for i in range(dialog.kind.count())]


def _status(generation: int, camera_state: str) -> DeviceStatus:
    views = (
        DeviceView("e1.e1_N", "e1", "e1_N", "online", 10.0, 1, 0, (), (), ()),
        DeviceView("cam.cam", "camera", "cam", camera_state, 10.0, 1, 0, (), (), ()),
    )
    return DeviceStatus(generation, 10.0, "in-process", "", True, views, 2, 0)


def _fill(window: MainWindow) -> tuple[int, ...]:
    return tuple(window.map.camera_layer.item.data["brush"][0].color().getRgb()[:3])


def test_camera_icons_and_the_devices_panel_show_camera_health_and_state(fake_window: MainWindow) -> None:
    window = fake_window
    ready = cross_ready()
    window.bridge.ready.emit(ready)
    window.bridge.devices.emit(_status(ready.generation, "online"))
    assert fault_cameras(window) == ("cam",)
    dark = {"cam": DetectorHealth("failed", "blackout: nothing seen in 4 bins", 8.0)}
    window.bridge.frame.emit(replace(cross_frame([]), detector_health=dark))
    assert window.map.camera_layer.health == ["failed"] and _fill(window) == HEALTH_COLORS["failed"]
    model, column = window.devices_panel.model, COLUMNS.index("health")
    assert model.text(1, column) == "failed: blackout: nothing seen in 4 bins"
    window.bridge.devices.emit(_status(ready.generation, "offline"))
    assert window.map.camera_layer.device_states == ["offline"] and _fill(window) == OFFLINE_FILL
