"""The worker process and its client handle (no Qt).

:class:`WorkerHandle` starts :func:`worker_main` in a ``spawn`` process (libsumo allows one
simulation per process and holds the GIL while stepping; a SUMO fatal error must not take a window
down). Commands arrive on a queue; messages leave on a :class:`~trafficai.runtime.transport.MessageStream`.
Frames are flow-controlled through a shared counter: the client acknowledges the frames it has
taken, and the worker keeps at most two unacknowledged.

The worker logs to stderr and to a log file per worker process under the run store's folder
(``<store folder>/logs/gui-<UTC time>-<pid>.log``): it outlives the run, and a failure reaches the
client with its path (``Failed.log_path``).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import pickle
import signal as signal_module
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from trafficai.runtime.commands import Command, Shutdown
from trafficai.runtime.logs import configure_logging, process_log_path
from trafficai.runtime.messages import Closed, Failed, Message
from trafficai.runtime.sim_worker import SimWorker
from trafficai.runtime.transport import KIND_FRAME, MessageReader, MessageStream
from trafficai.runtime.worker_config import WorkerConfig
from trafficai.storage.paths import default_store_path

logger = logging.getLogger(__name__)


class _Counter(Protocol):
    value: int


def worker_log_path(config: WorkerConfig) -> Path:
    """Where a worker process started with ``config`` logs: beside the run store it records to."""
    store = Path(config.store_path).expanduser() if config.store_path else default_store_path()
    return process_log_path(store.parent, "gui")


def worker_main(config: WorkerConfig, commands: Any, conn: Connection, acked: _Counter) -> None:
    """Entry point of the worker process."""
    signal_module.signal(signal_module.SIGINT, signal_module.SIG_IGN)  # the client decides when we stop
    with contextlib.suppress(OSError):
        os.dup2(2, 1)  # SUMO prints progress on stdout; keep the client's stdout clean (JSON output)
    if config.nice > 0 and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(config.nice)
    log = configure_logging(config.log_level, worker_log_path(config))
    log_path = str(log) if log is not None else ""
    logger.info("simulation worker for %s started (pid %d)", config.scenario, os.getpid())
    stream = MessageStream(conn)
    worker = SimWorker(config, stream.put, lambda: int(acked.value), log_path=log_path)
    try:
        worker.serve(commands)
    except BaseException as exc:
        logger.exception("the simulation worker stopped")
        message = f"the simulation worker stopped: {type(exc).__name__}: {exc}"
        stream.put(Failed(message, config.scenario, log_path))
        raise
    finally:
        logger.info("simulation worker exits")
        logging.shutdown()
        sys.stderr.flush()
        stream.close()


class WorkerHandle:
    """The client side of a worker process (no Qt): start, send, poll, supervise."""

    def __init__(self, config: WorkerConfig) -> None:
        ctx = mp.get_context("spawn")
        self.config = config
        self.commands: Any = ctx.Queue()
        reader, writer = ctx.Pipe(duplex=False)
        self._writer: Connection | None = writer
        self.reader = MessageReader(reader)
        self.acked: Any = ctx.RawValue("q", 0)
        self.process = ctx.Process(
            target=worker_main,
            args=(config, self.commands, writer, self.acked),
            name=f"trafficai-sim-{Path(config.scenario).name}",
            daemon=True,
        )
        self.closed = False
        self.frames_skipped = 0

    def start(self) -> None:
        self.process.start()
        if self._writer is not None:
            self._writer.close()  # the worker has its own copy; ours would hide the end of the stream
            self._writer = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def send(self, command: Command) -> None:
        if not self.closed:
            self.commands.put(command)

    def ack(self, seq: int) -> None:
        """Tell the worker the client has taken every frame up to ``seq``."""
        if seq > self.acked.value:
            self.acked.value = seq

    def poll(self) -> list[Message]:
        """Messages waiting now, in order; of several frames only the newest (the others are acknowledged
        unread: "latest wins")."""
        raw = self.reader.read()
        last_frame = max((i for i, (kind, _, _) in enumerate(raw) if kind == KIND_FRAME), default=-1)
        out: list[Message] = []
        for i, (kind, seq, data) in enumerate(raw):
            if kind == KIND_FRAME and i != last_frame:
                self.frames_skipped += 1
                self.ack(seq)
                continue
            message = pickle.loads(data)
            if isinstance(message, Closed):
                self.closed = True
            out.append(message)
        return out

    def alive(self) -> bool:
        return self.process.is_alive()

    def exit_description(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            try:
                name = signal_module.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"killed by {name}"
        return f"exit code {code}"

    def shutdown(self, timeout_s: float = 3.0) -> None:
        """Ask the worker to finish its run and exit; kill it if it does not within the timeout."""
        if self.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                self.commands.put(Shutdown())
            deadline = time.perf_counter() + timeout_s
            while self.process.is_alive() and time.perf_counter() < deadline:
                self.reader.read()  # drain, so the worker's writer can finish
                time.sleep(0.01)
            if self.process.is_alive():
                self.process.kill()
            self.process.join(1.0)
        self.closed = True
        self._release()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2.0)

    def _release(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.commands.cancel_join_thread()
            self.commands.close()
        with contextlib.suppress(OSError):
            self.reader.close()
