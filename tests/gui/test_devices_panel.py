"""The devices panel, the map's offline detectors and the broker's state in the status bar, fed by the
worker's DeviceStatus through a fake bridge; device events reach the events list."""

from __future__ import annotations

import pytest

from trafficai.core.events import Event
from trafficai.gui.main_window import MainWindow
from trafficai.gui.map.layers import HEALTH_COLORS, OFFLINE_FILL
from trafficai.gui.panels.devices import COLUMNS, drops_text, latest_text, network_text, sparkline
from trafficai.runtime.messages import DeviceStatus, DeviceView, Events

from .conftest import cross_ready

pytestmark = pytest.mark.gui


@pytest.fixture
def window(fake_window: MainWindow) -> MainWindow:
    return fake_window


def _view(source: str, state: str, **kw: object) -> DeviceView:
    values = {
        "last_seen_s": 90.0,
        "stored": 3,
        "gaps": 0,
        "drops": (),
        "latest": (("count", 4.0), ("occupancy", 0.12), ("speed", 11.43)),
        "history": (2.0, 4.0, 8.0),
    }
    values.update(kw)
    return DeviceView(f"e1.{source}", "e1", source, state, **values)  # type: ignore[arg-type]


def _status(
    generation: int, *views: DeviceView, transport: str = "mqtt", connected: bool = True
) -> DeviceStatus:
    broker = "localhost:8883" if transport == "mqtt" else ""
    return DeviceStatus(generation, 90.0, transport, broker, connected, views, 6, 2)


def test_pure_texts() -> None:
    assert sparkline([0.0, 4.0, 8.0]) == "▁▅█"
    assert sparkline([0.0, 0.0]) == "▁▁" and sparkline([]) == ""
    assert drops_text([("bad_unit", 2), ("duplicate", 1)]) == "bad_unit 2, duplicate 1"
    assert latest_text([("count", 4.0), ("occupancy", 0.12), ("speed", 11.43)]) == "n 4 · occ 12% · v 11.4"
    assert network_text(None).startswith("no devices")
    camera = [
        ("approach.N_in", 4.0), ("class.car", 3.0), ("class.van", 1.0), ("movement.N_in.E_out", 1.0),
        ("movement.N_in.S_out", 3.0), ("movement.N_in.W_out", 0.0), ("queue.N_in", 12.5),
        ("speed.N_in", 6.24),
    ]  # fmt: skip
    assert latest_text(camera) == "car 3, van 1 · N_in 4 (→E_out 1, →S_out 3) q 12.5 m v 6.2"


def test_the_panel_lists_devices_with_status_gaps_drops_and_a_sparkline(window: MainWindow) -> None:
    ready = cross_ready()
    window.bridge.ready.emit(ready)
    south = _view("e1_S", "offline", gaps=2, drops=(("bad_unit", 2),), last_seen_s=30.0)
    window.bridge.devices.emit(_status(ready.generation, _view("e1_N", "online"), south))
    model = window.devices_panel.model
    assert model.rowCount() == 2
    row = [model.text(1, c) for c in range(len(COLUMNS))]
    latest = model.text(0, COLUMNS.index("latest"))
    expected = ["e1.e1_S", "e1", "e1_S", "offline", "ok", "00:00:30", "3", "2", "bad_unit 2", latest, "▃▅█"]
    assert row == expected
    assert window.devices_panel.headline.text() == (
        "2 devices on the MQTT broker localhost:8883, connected · 1 online · "
        "6 bins stored · 2 messages dropped"
    )
    assert window.status_labels.broker_label.text() == "broker localhost:8883 connected"
    # the map: the offline loop drawn as offline, unlike any health colour; the online one by health
    layer = window.map.detector_layer
    assert layer.device_states == ["online", "offline"]
    brushes = [b.color().getRgb()[:3] for b in layer.item.data["brush"]]
    assert brushes == [HEALTH_COLORS["ok"], OFFLINE_FILL] and OFFLINE_FILL not in HEALTH_COLORS.values()


def test_a_lost_broker_shows_in_the_status_bar_and_a_stale_status_is_ignored(window: MainWindow) -> None:
    ready = cross_ready()
    window.bridge.ready.emit(ready)
    window.bridge.devices.emit(_status(ready.generation, _view("e1_N", "online"), connected=False))
    assert window.status_labels.broker_label.text() == "broker localhost:8883 disconnected"
    assert "DISCONNECTED" in window.devices_panel.headline.text()
    window.bridge.devices.emit(_status(ready.generation - 1, transport="in-process"))  # an old simulation's
    assert window.devices_panel.model.rowCount() == 1
    window.bridge.devices.emit(_status(ready.generation, transport="in-process"))
    assert window.status_labels.broker_label.text() == "devices in-process"


def test_device_events_are_in_the_events_list(window: MainWindow) -> None:
    ready = cross_ready()
    window.bridge.ready.emit(ready)
    events = (
        Event(60.0, "warning", "iot_status", "device e1.e1_S offline", "e1.e1_S"),
        Event(61.0, "warning", "iot_drop", "device e1.e1_S: 2 message(s) dropped (bad_unit)", "e1.e1_S"),
    )
    window.bridge.events.emit(Events(ready.generation, events))
    kinds = [r.event.kind for r in window.events_panel.model.rows]
    assert kinds[-2:] == ["iot_status", "iot_drop"]
