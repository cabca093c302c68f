"""Detector health on the map is what the worker publishes (the map judges nothing); the map's menu
marks a detector failed or back in service."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint

from trafficai.gui.main_window import MainWindow
from trafficai.gui.map.picking import Pick
from trafficai.gui.map.widget import NetworkMap
from trafficai.runtime import commands as c
from trafficai.sensors.health import DetectorHealth

from .conftest import cross_frame, cross_ready

pytestmark = pytest.mark.gui


def test_the_map_shows_the_published_health_and_judges_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    net_map = NetworkMap()
    qtbot.addWidget(net_map)
    net_map.set_ready(cross_ready())
    ids = (*net_map.net.e1.ids, *net_map.net.e2.ids)  # type: ignore[union-attr]
    net_map.set_frame(cross_frame([]))  # no health published: nothing changes
    assert set(net_map.detector_layer.health) <= {"ok"}
    failed = {ids[0]: DetectorHealth("failed", "marked failed by ann", 3.0)}
    net_map.set_frame(replace(cross_frame([], seq=2), detector_health=failed))
    assert net_map.detector_layer.health[0] == "failed"
    assert set(net_map.detector_layer.health[1:]) <= {"ok"}


def _menu_texts(window: MainWindow, pick: Pick) -> list[str]:
    window._map_menu(pick, QPoint(10, 10))
    return [a.text() for a in window.context_menu.actions()]


def _trigger(window: MainWindow, text: str) -> None:
    (action,) = [a for a in window.context_menu.actions() if a.text() == text]
    action.trigger()


@pytest.mark.sumo
def test_the_map_menu_marks_a_detector_failed_and_back_in_service(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    geometry = window.ready.geometry  # type: ignore[union-attr]
    loop_id = geometry.e1.ids[0]
    x, y = (float(v) for v in geometry.e1.xy[0])
    pick = Pick("e1", loop_id, 0, x, y)
    assert f"Mark detector {loop_id} back in service" not in _menu_texts(window, pick)
    _trigger(window, f"Mark detector {loop_id} failed")
    window.send(c.Step(1))

    def health() -> DetectorHealth | None:
        frame = window.last_frame
        return frame.detector_health.get(loop_id) if frame is not None else None

    qtbot.waitUntil(lambda: health() is not None and health().state == "failed", timeout=5000)  # type: ignore[union-attr]
    assert health().reason == "marked failed by ann"  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.map.detector_layer.health[0] == "failed", timeout=5000)
    texts = _menu_texts(window, pick)
    assert f"Mark detector {loop_id} failed" not in texts
    _trigger(window, f"Mark detector {loop_id} back in service")
    window.send(c.Step(1))
    qtbot.waitUntil(lambda: health() is not None and health().state == "ok", timeout=5000)  # type: ignore[union-attr]
    rows = [r.event for r in window.events_panel.model.rows if r.event.kind == "detector"]
    assert [e.user for e in rows] == ["ann", "ann"]
