"""The live network map: lanes coloured by a scheme, vehicles, signal heads, detectors, cameras,
incidents; pan, zoom, fit, follow a vehicle; click to pick, right-click for incident actions."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRectF, QTimer, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from trafficai.core.geometry import NetGeometry
from trafficai.core.snapshot import Snapshot
from trafficai.gui import theme
from trafficai.gui.map.layers import (
    LANE_WIDTH_M,
    CameraLayer,
    DetectorLayer,
    IncidentLayer,
    LaneLayer,
    SelectionLayer,
    SignalLayer,
)
from trafficai.gui.map.overlays import JunctionLayer, StreetNameLayer
from trafficai.gui.map.picking import Pick, Picker
from trafficai.gui.map.schemes import (
    CATEGORIES,
    LANE_SCHEMES,
    VEHICLE_SPEED,
    lane_bins,
    vehicle_bins,
    vehicle_colors,
)
from trafficai.gui.map.search import Hit, SearchIndex
from trafficai.gui.map.vehicles import MIN_VEHICLE_PX, VehicleItem
from trafficai.gui.widgets.legend import LegendBar
from trafficai.runtime.messages import CameraView, IncidentView, Ready, SimFrame

RENDER_INTERVAL_MS = 25  # 40 Hz: smooth, and leaves the event loop time for the rest
PICK_TOLERANCE_PX = 8.0
MAX_GLIDE_S = 1.0


class MapView(pg.PlotWidget):  # type: ignore[misc]
    """A plot widget that counts its paints (the status bar's render FPS)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paint_count = 0

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        self.paint_count += 1


class NetworkMap(QWidget):
    picked = Signal(object)  # Pick | None
    context_requested = Signal(object, QPoint)  # Pick | None, global position

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        theme.configure_pyqtgraph()
        self.view = MapView(self)
        self.plot: pg.PlotItem = self.view.getPlotItem()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.vb: pg.ViewBox = self.plot.getViewBox()
        self.vb.setMenuEnabled(False)
        self.junctions = JunctionLayer(self.plot)
        self.lanes = LaneLayer(self.plot, LANE_SCHEMES["speed"].colors)
        self.street_names = StreetNameLayer(self.plot)
        self.incident_layer = IncidentLayer(self.plot)
        self.signal_layer = SignalLayer(self.plot)
        self.detector_layer = DetectorLayer(self.plot)
        self.vehicles = VehicleItem(VEHICLE_SPEED.colors)
        self.plot.addItem(self.vehicles)
        self.camera_layer = CameraLayer(self.plot)
        self.selection_layer = SelectionLayer(self.plot)
        self.lane_scheme = "speed"
        self.vehicle_scheme = "speed"
        self.net: NetGeometry | None = None
        self.cameras: tuple[CameraView, ...] = ()
        self.picker: Picker | None = None
        self.search_index: SearchIndex | None = None
        self.snapshot: Snapshot | None = None
        self.incidents: tuple[IncidentView, ...] = ()
        self.selected: Pick | None = None
        self.follow = False
        self._detector_ids: tuple[str, ...] = ()  # E1 then E2, as the detector layer draws them
        self._last_frame_wall = 0.0
        self._dirty = False

        bar = self._build_bar()
        self.legend = LegendBar()
        self.vehicle_legend = LegendBar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.vehicle_legend)
        self._update_legends()

        self.view.scene().sigMouseClicked.connect(self._clicked)
        self.vb.sigRangeChanged.connect(lambda *_: self._zoomed())
        self.timer = QTimer(self)
        self.timer.setInterval(RENDER_INTERVAL_MS)
        self.timer.timeout.connect(self._render_tick)
        self.timer.start()

    def _build_bar(self) -> QHBoxLayout:
        """The row above the map: colour schemes, layer switches, follow and fit."""
        self.lane_combo = QComboBox()
        for key, scheme in LANE_SCHEMES.items():
            self.lane_combo.addItem(scheme.label, key)
        self.lane_combo.currentIndexChanged.connect(
            lambda _: self.set_lane_scheme(str(self.lane_combo.currentData()))
        )
        self.vehicle_combo = QComboBox()
        self.vehicle_combo.addItem("Speed", "speed")
        self.vehicle_combo.addItem("Type", "type")
        self.vehicle_combo.currentIndexChanged.connect(
            lambda _: self.set_vehicle_scheme(str(self.vehicle_combo.currentData()))
        )
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Show the whole network")
        self.fit_button.clicked.connect(self.fit)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Go to id…")
        self.search_edit.setToolTip(
            "Go to an intersection, junction, vehicle, detector, camera, edge or street by its id or name"
        )
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMaximumWidth(220)
        self.search_completer = QCompleter([], self.search_edit)
        self.search_completer.setCaseSensitivity(pg.QtCore.Qt.CaseSensitivity.CaseInsensitive)
        self.search_completer.setFilterMode(pg.QtCore.Qt.MatchFlag.MatchContains)
        self.search_edit.setCompleter(self.search_completer)
        self.search_edit.returnPressed.connect(lambda: self.go_to(self.search_edit.text()))
        self.follow_box = QCheckBox("Follow vehicle")
        self.follow_box.setEnabled(False)
        self.follow_box.toggled.connect(self._set_follow)
        self.layer_boxes: dict[str, QCheckBox] = {}
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Lanes:"))
        bar.addWidget(self.lane_combo)
        bar.addWidget(QLabel("Vehicles:"))
        bar.addWidget(self.vehicle_combo)
        for key, label, items in (
            ("signals", "Signals", [self.signal_layer.item]),
            ("detectors", "Detectors", [self.detector_layer.item]),
            ("cameras", "Cameras", [self.camera_layer.item, self.camera_layer.fov]),
        ):
            box = QCheckBox(label)
            box.setChecked(True)
            box.toggled.connect(lambda on, its=items: [it.setVisible(on) for it in its])
            self.layer_boxes[key] = box
            bar.addWidget(box)
        bar.addStretch(1)
        bar.addWidget(self.search_edit)
        bar.addWidget(self.follow_box)
        bar.addWidget(self.fit_button)
        return bar

    # -- data ---------------------------------------------------------------------------------

    @property
    def paint_count(self) -> int:
        return self.view.paint_count

    def set_ready(self, ready: Ready) -> None:
        geometry = ready.geometry
        self.net = geometry
        self.cameras = ready.cameras
        self.picker = Picker(geometry, ready.cameras)
        self.search_index = SearchIndex(geometry, ready.cameras)
        self.search_completer.model().setStringList(self.search_index.ids())  # type: ignore[attr-defined]
        self.junctions.set_geometry(geometry)
        self.street_names.set_geometry(geometry)
        self._detector_ids = (*geometry.e1.ids, *geometry.e2.ids)
        self.lanes.set_geometry(geometry)
        self.signal_layer.set_geometry(geometry)
        self.detector_layer.set_geometry(geometry)
        self.camera_layer.set_cameras(ready.cameras)
        self.incident_layer.set_geometry(geometry)
        xmin, ymin, xmax, ymax = geometry.bounds
        pad = max(xmax - xmin, ymax - ymin, 50.0) * 0.1
        self.vehicles.set_bounds(QRectF(xmin - pad, ymin - pad, xmax - xmin + 2 * pad, ymax - ymin + 2 * pad))
        self.vehicles.set_vehicles((), np.zeros((0, 2)), np.zeros(0), np.zeros(0, np.int32))
        self.snapshot = None
        self.select(None)
        self.fit()

    def set_frame(self, frame: SimFrame) -> None:
        snapshot = frame.snapshot
        now = time.perf_counter()
        interval = now - self._last_frame_wall if self._last_frame_wall else 0.0
        self._last_frame_wall = now
        glide = min(interval, MAX_GLIDE_S) if frame.playing and interval > 0 else 0.0
        self.snapshot = snapshot
        veh = snapshot.vehicles
        self.vehicles.set_vehicles(
            veh.ids, veh.xy, veh.angle, vehicle_bins(self.vehicle_scheme, veh), glide, now
        )
        self._color_lanes()
        self.signal_layer.set_states(snapshot.signals.state)
        # health is judged by the worker at simulation rate; the map only shows it
        health = frame.detector_health
        if health:
            states = [health[d].state if d in health else "ok" for d in self._detector_ids]
            self.detector_layer.set_health(states)
            cams = [health[c.id].state if c.id in health else "ok" for c in self.camera_layer.cameras]
            self.camera_layer.set_status(health=cams)
        self.detector_layer.set_substituted([d in frame.substituted for d in self._detector_ids])
        self._dirty = True

    def set_device_states(self, states: Mapping[tuple[str, str], str]) -> None:
        """Device states by (kind, detector or camera id): offline devices look offline on the map."""
        if self.net is None:
            return
        keys = [("e1", d) for d in self.net.e1.ids] + [("e2", d) for d in self.net.e2.ids]
        self.detector_layer.set_device_states([states.get(k, "unknown") for k in keys])
        cams = [states.get(("camera", c.id), "unknown") for c in self.camera_layer.cameras]
        self.camera_layer.set_status(states=cams)
        self._dirty = True

    def set_incidents(self, incidents: Sequence[IncidentView]) -> None:
        self.incidents = tuple(incidents)
        self.incident_layer.set_incidents(incidents)
        if self.picker is not None:
            self.picker.set_incidents(self.incident_layer.block_xy, self.incident_layer.block_ids)

    def _color_lanes(self) -> None:
        if self.snapshot is None or self.net is None:
            return
        self.lanes.set_bins(lane_bins(self.lane_scheme, self.snapshot.lanes, self.net.lanes))

    def set_lane_scheme(self, key: str) -> None:
        if key not in LANE_SCHEMES:
            raise ValueError(f"unknown lane colouring {key!r} (known: {', '.join(LANE_SCHEMES)})")
        self.lane_scheme = key
        self.lanes.set_colors(LANE_SCHEMES[key].colors)
        if self.lane_combo.currentData() != key:
            self.lane_combo.setCurrentIndex(self.lane_combo.findData(key))
        self._color_lanes()
        self._update_legends()

    def set_vehicle_scheme(self, key: str) -> None:
        if key not in ("speed", "type"):
            raise ValueError(f"unknown vehicle colouring {key!r} (speed, type)")
        self.vehicle_scheme = key
        self.vehicles.set_colors(vehicle_colors(key))
        if self.vehicle_combo.currentData() != key:
            self.vehicle_combo.setCurrentIndex(self.vehicle_combo.findData(key))
        if self.snapshot is not None:
            self.vehicles.set_bins(vehicle_bins(key, self.snapshot.vehicles))
        self._update_legends()

    def _update_legends(self) -> None:
        scheme = LANE_SCHEMES[self.lane_scheme]
        if scheme.edges:
            unit = f" ({scheme.unit})" if scheme.unit else ""
            self.legend.set_entries(
                f"Lanes: {scheme.label.lower()}{unit}", list(zip(scheme.colors, scheme.labels(), strict=True))
            )
        else:
            self.legend.set_entries("Lanes: plain", [])
        if self.vehicle_scheme == "speed":
            self.vehicle_legend.set_entries(
                "Vehicles: speed (km/h)", list(zip(VEHICLE_SPEED.colors, VEHICLE_SPEED.labels(), strict=True))
            )
        else:
            names = list(self.snapshot.vehicle_types) if self.snapshot is not None else []
            entries = [
                (CATEGORIES[i % len(CATEGORIES)], name) for i, name in enumerate(names[: len(CATEGORIES)])
            ]
            self.vehicle_legend.set_entries("Vehicles: type", entries)

    # -- view ---------------------------------------------------------------------------------

    def fit(self) -> None:
        if self.net is None:
            return
        xmin, ymin, xmax, ymax = self.net.bounds
        self.vb.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0.05)

    def _zoomed(self) -> None:
        """Lanes at least ~2.5 px wide when zoomed out, their true width when zoomed in; street names
        only when they can be read."""
        metres_per_px = self.tolerance_m(1.0)
        if metres_per_px > 0:
            width = max(LANE_WIDTH_M, 2.5 * metres_per_px)
            self.lanes.set_width(width)
            self.incident_layer.set_width(width)
            self.selection_layer.set_width(width)
            self.street_names.set_zoom(metres_per_px)

    def search(self, text: str) -> list[Hit]:
        """What "go to" finds for ``text`` (static ids, and the vehicles of the latest frame)."""
        if self.search_index is None:
            return []
        return self.search_index.find(text, self.vehicles.ids, self.vehicles.xy)

    def go_to(self, text: str) -> Hit | None:
        """Show and select the best hit for ``text`` (as a click on it would); None if nothing."""
        hits = self.search(text)
        if not hits:
            self.search_edit.setStyleSheet("QLineEdit { border: 1px solid rgb(230, 60, 60); }")
            self.search_edit.setToolTip(f"nothing called {text.strip()!r} on this network")
            return None
        self.search_edit.setStyleSheet("")
        hit = hits[0]
        self.zoom_to(hit.pick.x, hit.pick.y, hit.extent_m)
        self.select(hit.pick)
        self.picked.emit(hit.pick)
        return hit

    def center_on(self, x: float, y: float) -> None:
        (x0, x1), (y0, y1) = self.vb.viewRange()
        w, h = x1 - x0, y1 - y0
        self.vb.setRange(xRange=(x - w / 2, x + w / 2), yRange=(y - h / 2, y + h / 2), padding=0)

    def zoom_to(self, x: float, y: float, half_size_m: float) -> None:
        self.vb.setRange(
            xRange=(x - half_size_m, x + half_size_m), yRange=(y - half_size_m, y + half_size_m), padding=0
        )

    def _set_follow(self, on: bool) -> None:
        self.follow = on and self.selected is not None and self.selected.kind == "vehicle"

    def _render_tick(self) -> None:
        now = time.perf_counter()
        if not (self._dirty or self.vehicles.animating(now)):
            return
        self._dirty = False
        self.vehicles.advance(now)
        pick = self.selected
        if pick is not None and pick.kind == "vehicle":
            i = self._vehicle_index(pick.id)
            if i is None:
                self.selection_layer.clear()
            else:
                x, y = float(self.vehicles.xy[i, 0]), float(self.vehicles.xy[i, 1])
                self.selection_layer.set_point(x, y)
                if self.follow:
                    self.center_on(x, y)

    def _vehicle_index(self, vehicle_id: str) -> int | None:
        try:
            return self.vehicles.ids.index(vehicle_id)
        except ValueError:
            return None

    # -- picking ------------------------------------------------------------------------------

    def tolerance_m(self, pixels: float = PICK_TOLERANCE_PX) -> float:
        size = self.vb.viewPixelSize()
        return float(max(size[0], size[1])) * pixels

    def pick_at(self, x: float, y: float, tolerance_px: float = PICK_TOLERANCE_PX) -> Pick | None:
        if self.picker is None:
            return None
        return self.picker.pick(
            x,
            y,
            self.tolerance_m(tolerance_px),
            self.vehicles.xy,
            self.vehicles.ids,
            vehicle_px=float(self.vehicles.drawn_px or MIN_VEHICLE_PX),
        )

    def select(self, pick: Pick | None) -> None:
        self.selected = pick
        self.follow_box.setEnabled(pick is not None and pick.kind == "vehicle")
        if pick is None or pick.kind != "vehicle":
            self.follow_box.setChecked(False)
            self.follow = False
        if pick is None:
            self.selection_layer.clear()
        elif pick.kind == "lane" and self.net is not None:
            self.selection_layer.set_lane(np.asarray(self.net.lanes.shapes[pick.index], dtype=np.float64))
        else:
            self.selection_layer.lane.setData([], [])
            self.selection_layer.set_point(pick.x, pick.y)
        self._dirty = True

    def _clicked(self, event: object) -> None:
        button = event.button()  # type: ignore[attr-defined]
        scene_pos = event.scenePos()  # type: ignore[attr-defined]
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            return
        point = self.vb.mapSceneToView(scene_pos)
        pick = self.pick_at(point.x(), point.y())
        if button == pg.QtCore.Qt.MouseButton.LeftButton:
            self.select(pick)
            self.picked.emit(pick)
        elif button == pg.QtCore.Qt.MouseButton.RightButton:
            self.context_requested.emit(pick, event.screenPos().toPoint())  # type: ignore[attr-defined]
