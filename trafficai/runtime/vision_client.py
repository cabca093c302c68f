"""The client side of the vision worker process (no Qt, no OpenCV): start, send, feed, poll, stop.

Importing this module loads nothing of the ``vision`` extra; the worker process imports it.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import pickle
import queue
import time
from multiprocessing.connection import Connection
from typing import Any

from trafficai.runtime.transport import MessageReader
from trafficai.runtime.vision_messages import (
    CameraImage,
    StopVision,
    VehicleBatch,
    VisionCommand,
    VisionMessage,
    VisionSettings,
)

VEHICLE_QUEUE = 2  # batches waiting at most: a slow worker makes the GUI's puts fail, never wait


def run_vision_worker(*args: Any) -> None:
    """The process target: imports the worker (OpenCV, the renderer) only in the child."""
    from trafficai.runtime.vision_worker import vision_main

    vision_main(*args)


class VisionHandle:
    def __init__(self, settings: VisionSettings | None = None) -> None:
        ctx = mp.get_context("spawn")
        self.settings = settings or VisionSettings()
        self.commands: Any = ctx.Queue()
        self.vehicles: Any = ctx.Queue(maxsize=VEHICLE_QUEUE)
        reader, writer = ctx.Pipe(duplex=False)
        self._writer: Connection | None = writer
        self.reader = MessageReader(reader)
        self.acked: Any = ctx.RawValue("q", 0)
        self.process = ctx.Process(
            target=run_vision_worker,
            args=(self.settings, self.commands, self.vehicles, writer, self.acked),
            name="trafficai-vision",
            daemon=True,
        )
        self.batches_refused = 0  # batches not queued because the worker had not taken the last ones

    def start(self) -> None:
        self.process.start()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def send(self, command: VisionCommand) -> None:
        if self.process.is_alive():
            self.commands.put(command)

    def feed(self, batch: VehicleBatch) -> bool:
        """Offer the newest vehicles; False (dropped) when two are still waiting."""
        try:
            self.vehicles.put_nowait(batch)
        except (queue.Full, ValueError, OSError):
            self.batches_refused += 1
            return False
        return True

    def poll(self) -> list[VisionMessage]:
        """Every message waiting now, in order; images are acknowledged as taken."""
        out: list[VisionMessage] = []
        for _, _, data in self.reader.read():
            message = pickle.loads(data)
            if isinstance(message, CameraImage) and message.seq > self.acked.value:
                self.acked.value = message.seq
            out.append(message)
        return out

    def exit_description(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "still running"
        return f"killed by signal {-code}" if code < 0 else f"exit code {code}"

    def stop(self, timeout_s: float = 3.0) -> None:
        """Ask the worker to stop; kill it when it does not within ``timeout_s``."""
        if self.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                self.commands.put(StopVision())
            deadline = time.perf_counter() + timeout_s
            while self.process.is_alive() and time.perf_counter() < deadline:
                self.reader.read()  # drain, so the worker's writer can finish
                time.sleep(0.01)
            if self.process.is_alive():
                self.process.kill()
        if self.process.pid is not None:
            self.process.join(1.0)
        for q in (self.commands, self.vehicles):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                q.cancel_join_thread()
                q.close()
        with contextlib.suppress(OSError):
            self.reader.close()
