"""The worker's message stream: a pipe of length-prefixed pickles, written by a thread, read without
ever blocking.

Each message goes as ``HEADER`` (body length, kind, frame seq) + pickle, in one ``os.write``, so
the client can tell frames from other messages (and skip stale frames) without unpickling them.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import struct
import threading
from multiprocessing.connection import Connection

from trafficai.runtime.messages import Message, SimFrame

HEADER = struct.Struct("!QBQ")  # message length, kind, frame seq
KIND_MESSAGE, KIND_FRAME = 0, 1
PIPE_BYTES = 1 << 20


class MessageStream:
    """Worker side of the message stream: a pipe of length-prefixed pickles.

    The simulation thread only pickles and enqueues; a writer thread does the (blocking) writes,
    each message in one ``os.write``. ``multiprocessing.Queue`` writes a large message's header
    and body separately and needs the GIL in between, which libsumo holds for a whole step: the
    client's read would block on a half-written frame for tens of milliseconds.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.fd = conn.fileno()
        grow_pipe(self.fd)
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="messages", daemon=True)
        self._thread.start()
        self.broken = False

    def put(self, message: Message | object) -> None:
        """Any picklable message (the vision worker sends its own); SimFrames are marked as frames."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        seq = message.seq if isinstance(message, SimFrame) else 0
        self._queue.put(
            HEADER.pack(len(data), KIND_FRAME if isinstance(message, SimFrame) else KIND_MESSAGE, seq) + data
        )

    def _write(self) -> None:
        while True:
            buf = self._queue.get()
            if buf is None:
                return
            view = memoryview(buf)
            try:
                while view:
                    view = view[os.write(self.fd, view) :]
            except OSError:  # the client is gone; nobody to tell
                self.broken = True
                return

    def close(self, timeout_s: float = 3.0) -> None:
        """Deliver what is queued, then close."""
        self._queue.put(None)
        self._thread.join(timeout_s)
        self.conn.close()


class MessageReader:
    """Client side of the message stream: non-blocking reads, whole messages only."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.fd = conn.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = bytearray()
        self.eof = False

    def read(self, max_bytes: int = 64 << 20) -> list[tuple[int, int, bytes]]:
        """Complete messages available now: (kind, frame seq, pickle)."""
        total = 0
        while not self.eof and total < max_bytes:
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                break
            except OSError:
                self.eof = True
                break
            if not chunk:
                self.eof = True
                break
            self.buffer += chunk
            total += len(chunk)
        out: list[tuple[int, int, bytes]] = []
        start = 0
        while len(self.buffer) - start >= HEADER.size:
            size, kind, seq = HEADER.unpack_from(self.buffer, start)
            end = start + HEADER.size + size
            if end > len(self.buffer):
                break
            out.append((kind, seq, bytes(self.buffer[start + HEADER.size : end])))
            start = end
        del self.buffer[:start]
        return out

    def close(self) -> None:
        self.conn.close()


def grow_pipe(fd: int) -> None:
    """Room for two frames in the pipe (Linux), so writing one never waits for the reader."""
    try:
        import fcntl
    except ImportError:  # not on this platform: writes may then wait for the reader
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
