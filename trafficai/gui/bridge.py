"""Qt side of the simulation worker: polls its queue on a timer and re-emits messages as signals.

Frames are "latest wins": of the frames waiting at a poll only the newest is emitted (and all are
acknowledged, so the worker may publish again). Every other message is emitted in order. If the
worker process dies, ``died`` says how; a new worker can be started with :meth:`restart_process`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from trafficai.runtime.commands import Command
from trafficai.runtime.messages import (
    Closed,
    DeviceStatus,
    Events,
    Failed,
    Finished,
    ForecastUpdate,
    Incidents,
    InjectedFaults,
    KpiSample,
    Progress,
    Ready,
    Refused,
    SignalChanges,
    SimFrame,
    WhatIfResults,
)
from trafficai.runtime.worker_config import WorkerConfig
from trafficai.runtime.worker_process import WorkerHandle

POLL_MS = 10


class WorkerBridge(QObject):
    ready = Signal(object)  # Ready
    frame = Signal(object)  # SimFrame
    progress = Signal(object)  # Progress
    kpi = Signal(object)  # KpiSample
    signal_changes = Signal(object)  # SignalChanges
    events = Signal(object)  # Events
    incidents = Signal(object)  # Incidents
    refused = Signal(str, str)  # command, message
    failed = Signal(str)  # message (worker alive, simulation stopped)
    finished = Signal(object)  # Finished
    died = Signal(str)  # the worker process ended without being asked
    closed = Signal()
    devices = Signal(object)  # DeviceStatus
    whatif = Signal(object)  # WhatIfResults
    forecast = Signal(object)  # ForecastUpdate
    faults = Signal(object)  # InjectedFaults

    def __init__(self, config: WorkerConfig, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.handle: WorkerHandle | None = None
        self.dead = False
        self.frames_received = 0
        self.frames_shown = 0
        self.last_ready: Ready | None = None
        self.last_failed: Failed | None = None  # cleared by the next Ready
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    @property
    def pid(self) -> int | None:
        return self.handle.pid if self.handle is not None else None

    def start(self) -> None:
        self.handle = WorkerHandle(self.config)
        self.handle.start()
        self.dead = False
        self.timer.start()

    def restart_process(self) -> None:
        """A fresh worker process (after a crash): the scenario loads again from its start."""
        self.stop()
        self.start()

    def send(self, command: Command) -> bool:
        if self.handle is None or self.dead or not self.handle.alive():
            return False
        self.handle.send(command)
        return True

    def alive(self) -> bool:
        return self.handle is not None and self.handle.alive()

    def stop(self, timeout_s: float = 3.0) -> None:
        self.timer.stop()
        if self.handle is not None:
            self.handle.shutdown(timeout_s)
            self.handle = None

    def kill(self) -> None:
        """For tests: what a crash looks like."""
        if self.handle is not None:
            self.handle.kill()

    def poll(self) -> None:
        handle = self.handle
        if handle is None:
            return
        messages = handle.poll()
        latest: SimFrame | None = None
        newest_seq = 0
        for message in messages:
            if isinstance(message, SimFrame):
                self.frames_received += 1
                latest = message
                newest_seq = max(newest_seq, message.seq)
                continue
            if latest is not None and isinstance(message, Ready):
                latest = None  # a frame of the previous simulation
            self._emit(message)
        if latest is not None:
            self.frames_shown += 1
            self.frame.emit(latest)
        if newest_seq:
            handle.ack(newest_seq)
        if not messages and not handle.alive() and not self.dead:
            self.dead = True
            self.timer.stop()
            if handle.closed:
                self.closed.emit()
            else:
                self.died.emit(f"the simulation worker stopped unexpectedly ({handle.exit_description()})")

    def _emit(self, message: object) -> None:
        if isinstance(message, Ready):
            self.last_ready = message
            self.last_failed = None
            self.ready.emit(message)
        elif isinstance(message, Progress):
            self.progress.emit(message)
        elif isinstance(message, KpiSample):
            self.kpi.emit(message)
        elif isinstance(message, SignalChanges):
            self.signal_changes.emit(message)
        elif isinstance(message, Events):
            self.events.emit(message)
        elif isinstance(message, Incidents):
            self.incidents.emit(message)
        elif isinstance(message, Refused):
            self.refused.emit(message.command, message.message)
        elif isinstance(message, Failed):
            self.last_failed = message
            log = f" (details in {message.log_path})" if message.log_path else ""
            self.failed.emit(f"{message.message}{log}")
        elif isinstance(message, Finished):
            self.finished.emit(message)
        elif isinstance(message, DeviceStatus):
            self.devices.emit(message)
        elif isinstance(message, WhatIfResults):
            self.whatif.emit(message)
        elif isinstance(message, ForecastUpdate):
            self.forecast.emit(message)
        elif isinstance(message, InjectedFaults):
            self.faults.emit(message)
        elif isinstance(message, Closed):
            pass
