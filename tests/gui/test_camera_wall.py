"""The camera wall: boxes, ids, counts and queue bars from a (fake) vision worker; offline with the
reason; clicking a tile or a map camera opens it large; frustums on the map."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest

from tests.gui.conftest import TINY, cross_frame, cross_ready
from tests.support.fake_vision_bridge import FakeVisionBridge
from trafficai.gui.map.picking import Pick
from trafficai.runtime.messages import CameraView
from trafficai.runtime.vision_messages import ApproachReading, CameraImage, CameraOffline, VisionStatus

if TYPE_CHECKING:
    from trafficai.gui.main_window import MainWindow

CAMERAS = (
    CameraView("cam", "C", 20.0, 20.0, 225.0, 70.0),
    CameraView("auto_C_N_in", "C", 6.0, 10.0, 10.0, 62.0, 75.0, 10.0, 19.0, 640, 384, 10.0),
    CameraView("auto_C_S_in", "C", -6.0, -10.0, 190.0, 62.0, 75.0, 10.0, 19.0, 640, 384, 10.0),
)


@pytest.fixture
def wall_window(qtbot, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """The window over fake worker and vision bridges, a run with three cameras, the wall raised."""
    from tests.support.fake_bridge import FakeBridge
    from trafficai.gui.main_window import MainWindow
    from trafficai.runtime.worker_config import WorkerConfig

    monkeypatch.setattr("trafficai.gui.main_window.WorkerBridge", FakeBridge)
    monkeypatch.setattr("trafficai.gui.camera_wall.VisionBridge", FakeVisionBridge)
    win = MainWindow(WorkerConfig.for_scenario(TINY, speed=None, playing=False), user="ann")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert win.camera_wall.bridge.shown == ()  # tabbed behind the KPIs: nothing rendered
    win.bridge.ready.emit(replace(cross_ready(), cameras=CAMERAS))
    assert win.camera_wall.bridge.shown == ()
    win.docks["cameras"].raise_()
    qtbot.waitUntil(lambda: win.camera_wall.visible, timeout=5000)
    yield win
    win.close()


def _image(camera: str, boxes: list[list[float]], ids: tuple[int, ...], queue_m: float = 30.0) -> CameraImage:
    grey = np.full((384, 640, 3), 90, np.uint8)
    ok, jpeg = cv2.imencode(".jpg", grey)
    assert ok
    return CameraImage(
        generation=0,
        seq=1,
        camera=camera,
        time_s=12.0,
        jpeg=jpeg.tobytes(),
        width=640,
        height=384,
        boxes=np.array(boxes, np.float32).reshape(-1, 4),
        track_ids=ids,
        classes=("car",) * len(ids),
        approaches=(ApproachReading("N_in", 7, (queue_m,), 3),),
        detector="truth",
        counting_since_s=0.0,
        process_ms=20.0,
    )


def test_wall_renders_the_junctions_cameras_approach_cameras_first(wall_window: MainWindow) -> None:
    wall = wall_window.camera_wall
    assert wall.panel.shown() == ("auto_C_N_in", "auto_C_S_in", "cam")
    assert [c.id for c in wall.bridge.shown] == ["auto_C_N_in", "auto_C_S_in", "cam"]
    wall_window.docks["kpis"].raise_()  # tabbed away: nothing is rendered
    assert not wall.visible and wall.bridge.shown == ()


def test_tile_paints_boxes_ids_counts_and_queue(wall_window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    wall = wall_window.camera_wall
    wall.bridge.image.emit(_image("auto_C_N_in", [[100, 100, 300, 250]], (42,)))
    tile = wall.panel.tile("auto_C_N_in")
    assert tile is not None and tile.image is not None
    grabbed = tile.grab().toImage()  # paints
    assert [(b.track_id, b.cls) for b in tile.painted] == [(42, "car")]
    rect = tile.painted[0].rect
    edge = grabbed.pixelColor(int(rect.left() + rect.width() / 2), int(rect.top()))
    inside = grabbed.pixelColor(int(rect.center().x()), int(rect.center().y()))
    assert (edge.red(), edge.green()) > (200, 180) and edge.blue() < 80  # the car's yellow box
    assert abs(inside.red() - 90) < 12  # the frame itself inside the box
    assert tile.reading is not None and tile.reading.approaches[0].count == 7
    other = wall.panel.tile("auto_C_S_in")
    assert other is not None and other.image is None  # images go to their own tile only


def test_offline_source_shows_offline_with_reason(wall_window: MainWindow) -> None:
    wall = wall_window.camera_wall
    wall.bridge.image.emit(_image("cam", [[10, 10, 50, 50]], (1,)))
    reason = "its pose sees no road (check height, heading and tilt)"
    wall.bridge.offline.emit(CameraOffline(0, "cam", reason))
    tile = wall.panel.tile("cam")
    assert tile is not None and tile.offline and "sees no road" in tile.offline_reason
    tile.grab()
    assert tile.painted == []  # no stale boxes over an offline camera
    wall.bridge.died.emit("the vision worker stopped (exit code 1)")
    assert all(t.offline for t in wall.panel.tiles if t.camera)
    wall.bridge.status.emit(VisionStatus("truth", "", ("cam",), 4.5, 3))
    assert "3 dropped" in wall.panel.status.text()


def test_clicking_a_tile_or_a_map_camera_opens_it_large(wall_window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    wall = wall_window.camera_wall
    wall.bridge.image.emit(_image("auto_C_S_in", [[100, 100, 200, 200]], (5,)))
    tile = wall.panel.tile("auto_C_S_in")
    assert tile is not None
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    assert wall.large is not None and wall.large.isVisible() and wall.large.camera == "auto_C_S_in"
    assert wall.large.tile.image is not None  # the last frame at once, not after the next one
    wall.bridge.image.emit(_image("auto_C_S_in", [[100, 100, 200, 200], [300, 100, 400, 200]], (5, 6)))
    wall.large.tile.grab()
    assert len(wall.large.tile.painted) == 2
    wall_window._picked(Pick("camera", "cam", 0, 20.0, 20.0))
    assert wall.large.camera == "cam" and "cam" in [c.id for c in wall.bridge.shown]


def test_stale_generation_images_are_ignored(wall_window: MainWindow) -> None:
    wall = wall_window.camera_wall
    wall.bridge.image.emit(replace(_image("cam", [[1, 1, 9, 9]], (1,)), generation=5))
    tile = wall.panel.tile("cam")
    assert tile is not None and tile.image is None


def test_frames_are_fed_only_while_cameras_are_shown(wall_window: MainWindow) -> None:
    wall = wall_window.camera_wall
    wall_window.bridge.frame.emit(cross_frame([("v", 0.0, 50.0, 180.0, 10.0)]))
    assert wall.bridge.frames_fed == 1
    wall.set_visible(False)
    wall_window.bridge.frame.emit(cross_frame([("v", 0.0, 45.0, 180.0, 10.0)], seq=2))
    assert wall.bridge.frames_fed == 1


def test_map_draws_each_cameras_frustum(wall_window: MainWindow) -> None:
    layer = wall_window.map.camera_layer
    assert [c.id for c in layer.cameras] == [c.id for c in CAMERAS]
    x, y = layer.fov.getData()
    assert x is not None and y is not None
    outlines = np.split(np.column_stack([x, y]), np.flatnonzero(np.isnan(x)))
    polygons = [o[np.isfinite(o).all(axis=1)] for o in outlines]
    polygons = [p for p in polygons if len(p)]
    assert len(polygons) == len(CAMERAS)
    for camera, poly in zip(CAMERAS, polygons, strict=True):
        # each footprint starts near its camera and reaches out to about its range
        reach = np.hypot(poly[:, 0] - camera.x, poly[:, 1] - camera.y).max()
        assert camera.range_m * 0.8 <= reach <= camera.range_m + 1e-6


def test_an_alarms_camera_opens_from_the_events_list(wall_window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QItemSelectionModel, Qt

    from trafficai.core.events import Event

    events = wall_window.events_panel
    alarm = Event(
        930.0,
        "alarm",
        "incident-detected",
        "incident suspected on lane N_in_0",
        "N_in_0",
        "system",
        "auto_C_N_in",
    )
    stranger = Event(935.0, "alarm", "incident-detected", "incident suspected", "S_in_0", "system", "gone")
    events.add_events([alarm, stranger])
    assert not events.camera_button.isEnabled()
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    events.view.selectionModel().select(events.proxy.index(1, 0), flags)  # newest first: the alarm
    assert events.camera_button.isEnabled() and "auto_C_N_in" in events.camera_button.toolTip()
    qtbot.mouseClick(events.camera_button, Qt.MouseButton.LeftButton)
    wall = wall_window.camera_wall
    assert wall.large is not None and wall.large.isVisible() and wall.large.camera == "auto_C_N_in"
    assert "auto_C_N_in" in [c.id for c in wall.bridge.shown]
    events.view.doubleClicked.emit(events.proxy.index(0, 0))  # a camera this run does not have
    assert wall.large.camera == "auto_C_N_in"
    assert "gone" in wall_window.notice.text.text()
