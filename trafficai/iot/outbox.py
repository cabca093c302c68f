"""A publisher's on-disk outbox (SQLite, WAL): every message is kept until the ingest acknowledges
its sequence number, so an outage of the broker, the network or the ingest loses nothing.

MQTT's PUBACK is not enough: Mosquitto acknowledges before anything is on disk and paho keeps its
session in memory only. The ack here is the control center's *watermark*: every sequence number up
to it is in the run store. One outbox serves every device of a publisher process.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from trafficai.errors import TrafficAIError

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS outbox (device TEXT NOT NULL, seq INTEGER NOT NULL, topic TEXT NOT NULL, "
    "payload BLOB NOT NULL, PRIMARY KEY (device, seq)) WITHOUT ROWID",
    # the last sequence number handed out per device survives the messages' deletion, so a restarted
    # publisher never reuses one
    "CREATE TABLE IF NOT EXISTS sequence (device TEXT PRIMARY KEY, last_seq INTEGER NOT NULL)",
)


class OutboxError(TrafficAIError):
    """The outbox file cannot be opened or written."""


class Pending(NamedTuple):
    device: str
    seq: int
    topic: str
    payload: bytes


class Outbox:
    """The messages of ``path`` not yet acknowledged. One connection: use from one thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # acks arrive on the transport's network thread
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL: a committed message survives the publisher's crash (only a power cut can lose
            # the last commits), at a fraction of FULL's fsyncs
            self._conn.execute("PRAGMA synchronous = NORMAL")
            for statement in _SCHEMA:
                self._conn.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"cannot open the outbox {path}: {exc}") from exc

    def add(self, items: Iterable[Pending]) -> None:
        """Keep ``items`` (committed before this returns, so before they are published)."""
        rows = list(items)
        if not rows:
            return
        last: dict[str, int] = {}  # one sequence update per device, not per message
        for row in rows:
            last[row.device] = max(row.seq, last.get(row.device, row.seq))
        try:
            with self._lock, self._conn:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany("INSERT OR IGNORE INTO outbox VALUES (?, ?, ?, ?)", rows)
                self._conn.executemany(
                    "INSERT INTO sequence VALUES (?, ?) ON CONFLICT(device) DO UPDATE SET "
                    "last_seq = MAX(last_seq, excluded.last_seq)",
                    list(last.items()),
                )
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot write the outbox {self.path}: {exc}") from exc

    def ack(self, device: str, watermark: int) -> int:
        """Forget ``device``'s messages up to ``watermark``; how many were removed."""
        try:
            with self._lock:
                cursor = self._conn.execute(
                    "DELETE FROM outbox WHERE device = ? AND seq <= ?", (device, watermark)
                )
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot write the outbox {self.path}: {exc}") from exc
        return cursor.rowcount

    def pending(self, device: str | None = None, limit: int = 10_000) -> list[Pending]:
        """Unacknowledged messages, per device in sequence order."""
        with self._lock:
            if device is None:
                rows = self._conn.execute("SELECT * FROM outbox ORDER BY device, seq LIMIT ?", (limit,))
            else:
                rows = self._conn.execute(
                    "SELECT * FROM outbox WHERE device = ? ORDER BY seq LIMIT ?", (device, limit)
                )
            return [Pending(d, s, t, bytes(p)) for d, s, t, p in rows]

    def size(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def last_seqs(self) -> dict[str, int]:
        with self._lock:
            return {d: int(s) for d, s in self._conn.execute("SELECT device, last_seq FROM sequence")}

    def close(self) -> None:
        self._conn.close()
