"""Injecting a device fault into the live run and clearing one: the dialog (Simulation → Inject
fault…, and the devices panel's and the map's context menus) and the menu of the faults acting now.

The dialog only builds the command. The worker checks the role, the device and the kind, records
the fault as the run's ground truth and audits it (``runtime/live_faults.py``); a refusal comes back
as for any other command. Times are simulated seconds from now; 0 means now (start) or until
cleared (duration).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from trafficai.config import CAMERA_FAULT_KINDS, LOOP_FAULT_KINDS, TRANSPORT_FAULT_KINDS
from trafficai.runtime.commands import ClearFault, InjectFault
from trafficai.runtime.messages import FaultView, InjectedFaults
from trafficai.sensors.faults import DEFAULT_PARAM

if TYPE_CHECKING:
    from trafficai.gui.main_window import MainWindow

# what the parameter of a kind means (sensors/faults.py); kinds not named here take none
PARAM_MEANING = {
    "noise": "sigma of the occupancy noise",
    "bias": "fraction added to counts and occupancy",
    "chatter": "extra counts per 30 s",
    "spoofing": "occupancy the device claims",
    "packet-loss": "share of messages lost",
    "latency": "delay of each message (s)",
    "clock-skew": "time-stamp shift (s)",
}
MAX_TIME_S = 24 * 3600.0


def kinds_for(device: str, loops: Sequence[str], cameras: Sequence[str] = ()) -> tuple[str, ...]:
    """The fault kinds a device can take: a loop the loop and transport kinds, a camera the camera
    and transport ones, an area detector the transport ones."""
    if device in cameras:
        return CAMERA_FAULT_KINDS + TRANSPORT_FAULT_KINDS
    return LOOP_FAULT_KINDS + TRANSPORT_FAULT_KINDS if device in loops else TRANSPORT_FAULT_KINDS


def active_faults(faults: InjectedFaults | None, time_s: float, device: str = "") -> list[FaultView]:
    """The injected faults acting at ``time_s`` (of ``device`` only, when given)."""
    if faults is None:
        return []
    return [f for f in faults.faults if f.state(time_s) == "active" and (not device or f.device == device)]


class FaultDialog(QDialog):
    """Pick a device, a fault kind, its start, duration and parameter; OK emits ``injected``."""

    injected = Signal(object)  # InjectFault

    def __init__(
        self,
        loops: Sequence[str],
        areas: Sequence[str],
        user: str,
        device: str = "",
        parent: QWidget | None = None,
        cameras: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self.loops, self.cameras, self.user = tuple(loops), tuple(cameras), user
        self.setWindowTitle("Inject a device fault")
        self.device = QComboBox()
        self.device.addItems([*loops, *areas, *cameras])
        if device:
            self.device.setCurrentText(device)
        self.kind = QComboBox()
        self.start = _seconds_box("now")
        self.duration = _seconds_box("until cleared")
        self.param = QDoubleSpinBox()
        self.param.setRange(-10.0, 1000.0)
        self.param.setDecimals(2)
        self.default_param = QCheckBox("the kind's default")
        self.default_param.setChecked(True)
        self.default_param.toggled.connect(lambda on: self.param.setEnabled(not on))
        self.param_meaning = QLabel()
        self.note = QLabel(
            "The fault is the run's ground truth: recorded in the run store and the audit log.\n"
            "Loop and camera faults change what the device reports; transport faults its messages."
        )
        form = QFormLayout()
        form.addRow("Device:", self.device)
        form.addRow("Fault:", self.kind)
        form.addRow("Start in:", self.start)
        form.addRow("Duration:", self.duration)
        form.addRow("Parameter:", self.param)
        form.addRow("", self.default_param)
        form.addRow("", self.param_meaning)
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok_cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.device.currentTextChanged.connect(self._device_changed)
        self.kind.currentTextChanged.connect(self._kind_changed)
        self._device_changed(self.device.currentText())

    def _device_changed(self, device: str) -> None:
        kind = self.kind.currentText()
        self.kind.clear()
        self.kind.addItems(list(kinds_for(device, self.loops, self.cameras)))
        if kind:
            self.kind.setCurrentText(kind)
        self._kind_changed(self.kind.currentText())

    def _kind_changed(self, kind: str) -> None:
        meaning = PARAM_MEANING.get(kind)
        self.param.setVisible(meaning is not None)
        self.default_param.setVisible(meaning is not None)
        self.param_meaning.setText(meaning or "this fault takes no parameter")
        if meaning is not None:
            self.param.setValue(DEFAULT_PARAM[kind])
            self.default_param.setText(f"the kind's default ({DEFAULT_PARAM[kind]:g})")

    def command(self) -> InjectFault:
        """The injection the form describes."""
        kind = self.kind.currentText()
        takes_param = kind in PARAM_MEANING and not self.default_param.isChecked()
        return InjectFault(
            self.device.currentText(),
            kind,
            delay_s=float(self.start.value()),
            duration_s=float(self.duration.value()) or None,
            param=float(self.param.value()) if takes_param else None,
            user=self.user,
        )

    def accept(self) -> None:
        self.injected.emit(self.command())
        super().accept()


def _seconds_box(zero_text: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, MAX_TIME_S)
    box.setDecimals(0)
    box.setSingleStep(30.0)
    box.setSuffix(" s")
    box.setSpecialValueText(zero_text)  # shown at 0
    return box


def open_fault_dialog(window: MainWindow, device: str = "") -> FaultDialog | None:
    """A window-modal dialog (the event loop keeps running) that sends the injection on OK."""
    ready = window.ready
    if ready is None:
        window.show_notice("Inject fault", "the simulation is not running")
        return None
    dialog = FaultDialog(
        ready.geometry.e1.ids, ready.geometry.e2.ids, window.user, device, window, fault_cameras(window)
    )
    dialog.injected.connect(window.send)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.open()
    return dialog


def fault_cameras(window: MainWindow) -> tuple[str, ...]:
    """The cameras a fault can name: the run's camera devices (from the devices panel's latest
    status), else the scenario's cameras (the worker refuses them when they are not devices)."""
    status = window.devices_panel.status
    devices = tuple(d.source for d in status.devices if d.kind == "camera") if status is not None else ()
    ready = window.ready
    return devices or (tuple(c.id for c in ready.cameras) if ready is not None else ())


def add_clear_actions(window: MainWindow, menu: QMenu, device: str = "") -> None:
    """One "Clear …" action per injected fault acting now (on ``device`` only, when given)."""
    now = window.sim_time()
    for fault in active_faults(window.injected_faults, now, device):
        own = LOOP_FAULT_KINDS + CAMERA_FAULT_KINDS
        kind = fault.kind if fault.kind in own else f"{fault.kind} (messages)"
        action = menu.addAction(f"Clear fault {kind} on {fault.device}")
        index, on = fault.index, fault.device
        action.triggered.connect(lambda _=False, i=index, d=on: window.send(ClearFault(i, d, window.user)))
        window.gate.gate(action, ClearFault)


def device_menu(window: MainWindow, device: str) -> QMenu:
    """The context menu of one device: inject a fault on it, clear its faults."""
    menu = QMenu(window)
    add_fault_actions(window, menu, device)
    return menu


def add_fault_actions(window: MainWindow, menu: QMenu, device: str) -> None:
    """Inject a fault on ``device``, and clear the faults acting on it (map and devices menus)."""
    inject = menu.addAction(f"Inject fault on {device}…")
    inject.triggered.connect(lambda: open_fault_dialog(window, device))
    window.gate.gate(inject, InjectFault)
    add_clear_actions(window, menu, device)
