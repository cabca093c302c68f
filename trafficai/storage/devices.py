"""The run store's device tables: the inventory of connected devices, their bins (exactly once per
device and sequence number) and the ingest's drop counters.

The tables live in the run store's SQLite file beside ``runs``; they are created when a
``DeviceStore`` opens the file, so stores written before them gain them without a schema bump.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from trafficai.storage.paths import default_store_path
from trafficai.storage.store import _open_connection, _transaction

try:  # the iot extra: a bin's values written as JSON in a tenth of the time
    import orjson
except ImportError:  # pragma: no cover - the base install
    orjson = None  # type: ignore[assignment]

DEVICE_TABLES = (
    """CREATE TABLE IF NOT EXISTS iot_devices (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        device_id TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, lane TEXT NOT NULL,
        approach TEXT NOT NULL, x REAL NOT NULL, y REAL NOT NULL, firmware TEXT NOT NULL,
        fingerprint TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'unknown',
        last_seen REAL, PRIMARY KEY (run_id, device_id)) WITHOUT ROWID""",
    # the primary key is what makes the ingest idempotent: a bin resent after an outage is ignored
    """CREATE TABLE IF NOT EXISTS iot_bins (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        device_id TEXT NOT NULL, seq INTEGER NOT NULL, t_begin REAL NOT NULL, t_end REAL NOT NULL,
        values_json TEXT NOT NULL, PRIMARY KEY (run_id, device_id, seq)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS iot_drops (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        device_id TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (run_id, device_id, reason)) WITHOUT ROWID""",
)


_INSERT_BIN = "INSERT OR IGNORE INTO iot_bins VALUES (?, ?, ?, ?, ?, ?)"
_SET_STATUS = (
    "UPDATE iot_devices SET status = COALESCE(?, status), "
    "last_seen = MAX(COALESCE(last_seen, ?), COALESCE(?, last_seen)) WHERE run_id = ? AND device_id = ?"
)
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def _values_json(values: Mapping[str, float]) -> str:
    """``values`` as compact JSON text (the same text as ``json``'s for the ingest's finite values)."""
    plain = values if type(values) is dict else dict(values)
    if orjson is None:
        return _ENCODE(plain)
    text = orjson.dumps(plain).decode()
    # orjson writes NaN and inf as null where json writes NaN: a non-finite value (the ingest stores
    # none) keeps json's spelling
    return text if "null" not in text else _ENCODE(plain)


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One device of a run's inventory."""

    device_id: str
    kind: str
    source: str
    lane: str
    approach: str
    x: float
    y: float
    firmware: str
    fingerprint: str = ""
    status: str = "unknown"
    last_seen: float | None = None


@dataclass(frozen=True, slots=True)
class BinRow:
    device_id: str
    seq: int
    t_begin: float
    t_end: float
    values: Mapping[str, float]


class DeviceStore:
    """Device data of the runs in the store at ``path``. One connection: use one per thread."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = (path if path is not None else default_store_path()).expanduser()
        self._conn = _open_connection(self.path)
        with self._write("create the device tables") as conn:
            for statement in DEVICE_TABLES:
                conn.execute(statement)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        with _transaction(self._conn, action, self.path) as conn:
            yield conn

    # -- inventory -------------------------------------------------------------------------------

    def register(self, run_id: str, devices: Iterable[DeviceRow]) -> None:
        """Add devices to a run's inventory (a device already there keeps its status)."""
        rows = [
            (run_id, d.device_id, d.kind, d.source, d.lane, d.approach, d.x, d.y, d.firmware, d.fingerprint)
            for d in devices
        ]
        with self._write(f"register the devices of run {run_id}") as conn:
            conn.executemany(
                "INSERT INTO iot_devices (run_id, device_id, kind, source, lane, approach, x, y, firmware, "
                "fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "firmware = excluded.firmware, fingerprint = excluded.fingerprint",
                rows,
            )

    def set_status(self, run_id: str, device_id: str, status: str | None, seen_at: float | None) -> None:
        with self._write(f"update device {device_id}") as conn:
            conn.execute(_SET_STATUS, (status, seen_at, seen_at, run_id, device_id))

    def devices(self, run_id: str) -> list[DeviceRow]:
        rows = self._conn.execute(
            "SELECT device_id, kind, source, lane, approach, x, y, firmware, fingerprint, status, last_seen "
            "FROM iot_devices WHERE run_id = ? ORDER BY device_id",
            (run_id,),
        ).fetchall()
        return [DeviceRow(*row) for row in rows]

    # -- bins ------------------------------------------------------------------------------------

    def add_bins(
        self,
        run_id: str,
        bins: Iterable[BinRow],
        drops: Mapping[tuple[str, str], int] | None = None,
        seen: Iterable[tuple[str, str | None, float | None]] = (),
    ) -> list[bool]:
        """Store bins in one transaction; per bin, True if it was new (False: already stored).
        ``drops`` (device, reason) -> count are added to the drop counters, and ``seen`` (device,
        status or None, seen at) update the inventory, in the same commit."""
        rows = [(run_id, b.device_id, b.seq, b.t_begin, b.t_end, _values_json(b.values)) for b in bins]
        with self._write(f"add device bins to run {run_id}") as conn:
            conn.executemany(_SET_STATUS, [(s, at, at, run_id, d) for d, s, at in seen])
            conn.execute("SAVEPOINT bulk")
            cursor = conn.executemany(_INSERT_BIN, rows)
            if cursor.rowcount == len(rows):
                conn.execute("RELEASE bulk")
                fresh = [True] * len(rows)
            else:  # some were stored already (a replay, a second writer): tell which, row by row
                conn.execute("ROLLBACK TO bulk")
                conn.execute("RELEASE bulk")
                fresh = [conn.execute(_INSERT_BIN, row).rowcount == 1 for row in rows]
            for (device_id, reason), count in (drops or {}).items():
                conn.execute(
                    "INSERT INTO iot_drops VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET count = count + ?",
                    (run_id, device_id, reason, count, count),
                )
        return fresh

    def seqs(self, run_id: str) -> dict[str, list[int]]:
        """Every stored sequence number per device, ascending."""
        out: dict[str, list[int]] = {}
        for device_id, seq in self._conn.execute(
            "SELECT device_id, seq FROM iot_bins WHERE run_id = ? ORDER BY device_id, seq", (run_id,)
        ):
            out.setdefault(device_id, []).append(int(seq))
        return out

    def bins(self, run_id: str, device_id: str | None = None) -> list[BinRow]:
        query = "SELECT device_id, seq, t_begin, t_end, values_json FROM iot_bins WHERE run_id = ?"
        params: tuple[str, ...] = (run_id,)
        if device_id is not None:
            query += " AND device_id = ?"
            params += (device_id,)
        rows = self._conn.execute(query + " ORDER BY device_id, seq", params).fetchall()
        return [BinRow(d, int(s), tb, te, json.loads(v)) for d, s, tb, te, v in rows]

    def drops(self, run_id: str) -> dict[tuple[str, str], int]:
        return {
            (d, r): int(c)
            for d, r, c in self._conn.execute(
                "SELECT device_id, reason, count FROM iot_drops WHERE run_id = ?", (run_id,)
            )
        }

    def add_event(self, run_id: str, time_s: float, severity: str, kind: str, message: str) -> None:
        """An event in the run's events list (the same table ``RunStore.events`` reads)."""
        with self._write(f"add an event to run {run_id}") as conn:
            conn.execute(
                "INSERT INTO events (run_id, time_s, severity, kind, message, user, wall_time) "
                "VALUES (?, ?, ?, ?, ?, '', ?)",
                (
                    run_id,
                    time_s,
                    severity,
                    kind,
                    message,
                    datetime.now(UTC).isoformat(timespec="microseconds"),
                ),
            )
