"""A stand-in for the GUI's worker bridge: the same Qt signals, no worker process; every command the
window sends is kept in ``sent``. Tests emit the worker's messages on its signals themselves.

    monkeypatch.setattr("trafficai.gui.main_window.WorkerBridge", FakeBridge)
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from trafficai.runtime.commands import Command
from trafficai.runtime.worker_config import WorkerConfig


class FakeBridge(QObject):
    ready = Signal(object)
    frame = Signal(object)
    progress = Signal(object)
    kpi = Signal(object)
    signal_changes = Signal(object)
    events = Signal(object)
    incidents = Signal(object)
    refused = Signal(str, str)
    failed = Signal(str)
    finished = Signal(object)
    died = Signal(str)
    closed = Signal()
    devices = Signal(object)
    whatif = Signal(object)
    forecast = Signal(object)
    faults = Signal(object)

    def __init__(self, config: WorkerConfig, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.sent: list[Command] = []
        self.dead = False
        self.pid: int | None = None

    def start(self) -> None:
        self.dead = False

    def send(self, command: Command) -> bool:
        if self.dead:
            return False
        self.sent.append(command)
        return True

    def alive(self) -> bool:
        return not self.dead

    def restart_process(self) -> None:
        self.dead = False

    def stop(self, timeout_s: float = 3.0) -> None:
        self.dead = True
