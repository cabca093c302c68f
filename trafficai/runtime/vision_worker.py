"""The vision worker process: the camera wall's renderer and detector, at its own rate (no Qt).

It runs beside the simulation worker and never slows it: the GUI forwards the vehicles near the
shown cameras from the frames it already receives (:class:`VehicleBatch`, a queue of two; when
vision is slow the GUI's puts fail and the worker takes only the newest, so stale frames are
dropped, counted in :class:`VisionStatus`). Each tick (``fps`` per second) renders every shown
camera once from the newest batch; images leave on a :class:`~trafficai.runtime.transport.MessageStream`
(one write per message, read by the GUI without blocking) and are flow-controlled by a shared
counter like the simulation's frames. Started by :class:`trafficai.runtime.vision_client.VisionHandle`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal as signal_module
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol

from trafficai.runtime.logs import configure_logging
from trafficai.runtime.transport import MessageStream
from trafficai.runtime.vision_engine import VisionEngine
from trafficai.runtime.vision_messages import (
    SetDetector,
    ShowCameras,
    StopVision,
    VehicleBatch,
    VisionMessage,
    VisionScene,
    VisionSettings,
    VisionStatus,
)

logger = logging.getLogger(__name__)
STATUS_EVERY_S = 1.0
PARENT_CHECK_S = 0.5
MAX_WAIT_S = 0.05


class _Counter(Protocol):
    value: int


class VisionLoop:
    """Commands, the newest vehicles, one render per shown camera per tick."""

    def __init__(
        self, settings: VisionSettings, publish: Callable[[VisionMessage], None], acked: Callable[[], int]
    ) -> None:
        self.settings = settings
        self.publish = publish
        self.acked = acked
        self.engine = VisionEngine()
        self.note = self.engine.set_detector(settings.detector, settings.weights)
        self.batch: VehicleBatch | None = None
        self.used: VehicleBatch | None = None  # the batch of the last tick
        self.dropped = 0
        self.images = 0
        self.stopping = False
        self.next_tick = 0.0
        self.last_status = 0.0
        self.status_mark = (time.perf_counter(), 0)
        self.parent_pid = os.getppid()
        self.last_parent_check = 0.0

    def serve(self, inbox: Any, vehicles: Any) -> None:
        self.publish_status()
        while not self.stopping:
            self.take_commands(inbox, max(0.0, min(self.next_tick - time.perf_counter(), MAX_WAIT_S)))
            self.take_vehicles(vehicles)
            now = time.perf_counter()
            if now >= self.next_tick:
                self.next_tick = now + 1.0 / self.settings.fps
                self.tick()
            if now - self.last_status >= STATUS_EVERY_S:
                self.publish_status()
            if now - self.last_parent_check >= PARENT_CHECK_S:
                self.last_parent_check = now
                if os.getppid() != self.parent_pid:  # the window died without a word
                    self.stopping = True

    def take_commands(self, inbox: Any, wait_s: float) -> None:
        try:
            command = inbox.get(timeout=wait_s) if wait_s > 0 else inbox.get_nowait()
            while True:
                self.apply(command)
                command = inbox.get_nowait()
        except queue.Empty:
            return
        except (EOFError, OSError, ValueError):  # the window closed the queue
            self.stopping = True

    def apply(self, command: object) -> None:
        engine = self.engine
        if isinstance(command, VisionScene):
            engine.set_scene(command)
            self.batch = self.used = None
        elif isinstance(command, ShowCameras):
            engine.show(command.cameras)
            self.used = None  # render the newly shown ones at once, even while paused
        elif isinstance(command, SetDetector):
            self.publish(
                VisionStatus(command.runtime, "loading the detector", engine.shown, 0.0, self.dropped)
            )
            self.note = engine.set_detector(command.runtime, command.weights)
            self.used = None
        elif isinstance(command, StopVision):
            self.stopping = True
        self.publish_status()

    def take_vehicles(self, vehicles: Any) -> None:
        """The newest batch waiting; older ones not yet rendered count as dropped."""
        with contextlib.suppress(queue.Empty, EOFError, OSError, ValueError):
            while True:
                batch = vehicles.get_nowait()
                if self.batch is not None and self.batch is not self.used and self.engine.shown:
                    self.dropped += 1
                self.batch = batch

    def tick(self) -> None:
        batch, engine = self.batch, self.engine
        if batch is None or not engine.shown:
            return
        if engine.seq - self.acked() > 2 * len(engine.shown):  # the window has not taken the last ones
            if batch is not self.used:
                self.dropped += 1
            return
        self.used = batch
        for camera in engine.shown:
            message = engine.process(camera, batch)
            if message is not None:
                self.images += 1
                self.publish(message)

    def publish_status(self) -> None:
        now = time.perf_counter()
        t0, n0 = self.status_mark
        rate = (self.images - n0) / (now - t0) if now > t0 else 0.0
        self.status_mark = (now, self.images)
        self.last_status = now
        engine = self.engine
        self.publish(VisionStatus(engine.detector_name, self.note, engine.shown, rate, self.dropped))


def vision_main(
    settings: VisionSettings, inbox: Any, vehicles: Any, conn: Connection, acked: _Counter
) -> None:
    """Entry point of the vision worker process."""
    signal_module.signal(signal_module.SIGINT, signal_module.SIG_IGN)
    if settings.nice > 0 and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(settings.nice)
    configure_logging(settings.log_level, None)
    stream = MessageStream(conn)
    logger.info("vision worker started (pid %d, detector %s)", os.getpid(), settings.detector)
    try:
        VisionLoop(settings, stream.put, lambda: int(acked.value)).serve(inbox, vehicles)
    finally:
        logger.info("vision worker exits")
        stream.close()
