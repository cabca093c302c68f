"""The tamper-evident audit log: every operator action, login, account and configuration change.

One SQLite file (``audit.sqlite`` under the data directory, WAL). Each row holds the SHA-256 of
the previous row's hash plus its own canonical JSON (``seq``, time, user, action, target, detail),
and an Ed25519 signature of that hash, so that:

* an edited row no longer matches its hash; a deleted, inserted or reordered row breaks the
  sequence numbers or the chain at the first row it touches; a forged row appended after the last
  one lacks a valid signature (the key, ``audit_signing_key.pem``, mode 0600, never leaves this
  machine);
* a cut tail (or a rewrite by someone holding the key) is found only against a **checkpoint**:
  the signed (seq, hash) of a row, written every ``CHECKPOINT_EVERY`` rows into the log and
  exportable (``trafficai audit checkpoint --out FILE``) to be kept elsewhere (RFC 6962's idea).

:func:`verify` names the first broken row. Signing keys are :mod:`trafficai.access.signing`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trafficai.access.signing import SigningKey, checkpoint_message
from trafficai.errors import AuditError
from trafficai.storage.paths import default_audit_key_path, default_audit_path

GENESIS = "0" * 64
CHECKPOINT_EVERY = 100

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    time TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    time: str
    user: str
    action: str
    target: str
    detail: str  # canonical JSON
    prev_hash: str
    hash: str
    signature: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    time: str
    public_key: str  # hex of the raw Ed25519 public key that signed it
    signature: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "hash": self.hash,
                "time": self.time,
                "public_key": self.public_key,
                "signature": self.signature,
            },
            indent=2,
        )

    @classmethod
    def from_file(cls, path: Path) -> Checkpoint:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                int(data["seq"]),
                str(data["hash"]),
                str(data["time"]),
                str(data["public_key"]),
                str(data["signature"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AuditError(f"checkpoint file {path} is not a trafficai audit checkpoint: {exc}") from None


def canonical(seq: int, time: str, user: str, action: str, target: str, detail: str) -> str:
    return json.dumps(
        {"seq": seq, "time": time, "user": user, "action": action, "target": target, "detail": detail},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def chain_hash(prev_hash: str, seq: int, time: str, user: str, action: str, target: str, detail: str) -> str:
    body = canonical(seq, time, user, action, target, detail)
    return hashlib.sha256(prev_hash.encode("ascii") + body.encode("utf-8")).hexdigest()


def canonical_detail(detail: dict[str, Any] | None) -> str:
    return json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class AuditLog:
    """Append-only writer and reader of one audit file."""

    def __init__(
        self, path: Path | None = None, key_path: Path | None = None, *, create: bool = True
    ) -> None:
        self.path = path or default_audit_path()
        self.key = SigningKey.load_or_create(key_path or default_audit_key_path())
        if not create and not self.path.is_file():
            raise AuditError(f"no audit log at {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path} cannot be opened (corrupt?): {exc}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def record(
        self, user: str, action: str, target: str = "", detail: dict[str, Any] | None = None
    ) -> AuditRow:
        """Append one row (one transaction: two writers cannot take the same place in the chain)."""
        when = datetime.now(UTC).isoformat(timespec="microseconds")
        body = canonical_detail(detail)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                last = self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                digest = chain_hash(prev, seq, when, user, action, target, body)
                row = AuditRow(seq, when, user, action, target, body, prev, digest, self.key.sign_hex(digest))
                self.db.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _values(row))
                if seq % CHECKPOINT_EVERY == 0:
                    self._insert_checkpoint(seq, digest)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path}: cannot append ({exc})") from None
        return row

    def _insert_checkpoint(self, seq: int, digest: str) -> Checkpoint:
        when = datetime.now(UTC).isoformat(timespec="seconds")
        signature = self.key.sign_hex(checkpoint_message(seq, digest, when))
        point = Checkpoint(seq, digest, when, self.key.public_hex, signature)
        self.db.execute(
            "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?)",
            (point.seq, point.hash, point.time, point.public_key, point.signature),
        )
        return point

    def checkpoint(self) -> Checkpoint:
        """A signed checkpoint of the last row now (kept in the log; export it with ``to_json``)."""
        last = self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        if last is None:
            raise AuditError(f"audit log {self.path} is empty: nothing to checkpoint")
        return self._insert_checkpoint(last[0], last[1])

    def rows(self) -> Iterator[AuditRow]:
        try:
            for values in self.db.execute("SELECT * FROM audit ORDER BY seq"):
                yield AuditRow(*values)
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path} cannot be read (corrupt?): {exc}") from None

    def checkpoints(self) -> list[Checkpoint]:
        try:
            return [Checkpoint(*v) for v in self.db.execute("SELECT * FROM checkpoints ORDER BY seq")]
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path} cannot be read (corrupt?): {exc}") from None


def _values(row: AuditRow) -> tuple[Any, ...]:
    return (
        row.seq,
        row.time,
        row.user,
        row.action,
        row.target,
        row.detail,
        row.prev_hash,
        row.hash,
        row.signature,
    )


@dataclass(frozen=True, slots=True)
class Verified:
    rows: int
    checkpoints: int
    last_seq: int


def verify_rows(rows: list[AuditRow], key: SigningKey, checkpoints: list[Checkpoint]) -> Verified:
    """Check the chain and every checkpoint; :class:`AuditError` names the first broken row."""
    prev = GENESIS
    for index, row in enumerate(rows, start=1):
        where = f"audit log broken at row {index}"
        if row.seq != index:
            raise AuditError(f"{where}: found row {row.seq} there (a row was deleted, inserted or moved)")
        if row.prev_hash != prev:
            raise AuditError(f"{where}: it does not follow row {index - 1} (deleted, inserted or reordered)")
        if chain_hash(prev, row.seq, row.time, row.user, row.action, row.target, row.detail) != row.hash:
            raise AuditError(f"{where}: its content was edited (hash mismatch)")
        if not key.verify_hex(row.hash, row.signature):
            raise AuditError(f"{where}: its signature is not this log's key (forged or re-signed)")
        prev = row.hash
    by_seq = {row.seq: row for row in rows}
    for point in checkpoints:
        _check_checkpoint(point, by_seq, len(rows))
    return Verified(len(rows), len(checkpoints), rows[-1].seq if rows else 0)


def _check_checkpoint(point: Checkpoint, by_seq: dict[int, AuditRow], count: int) -> None:
    message = checkpoint_message(point.seq, point.hash, point.time)
    if not SigningKey.verify_with(point.public_key, message, point.signature):
        raise AuditError(f"checkpoint of row {point.seq} ({point.time}) has an invalid signature")
    row = by_seq.get(point.seq)
    if row is None:
        raise AuditError(
            f"audit log truncated: it ends at row {count}, but a checkpoint signed {point.time} "
            f"covers row {point.seq}"
        )
    if row.hash != point.hash:
        raise AuditError(
            f"audit log broken at or before row {point.seq}: "
            f"it differs from the checkpoint signed {point.time}"
        )


def verify(log: AuditLog, extra: Sequence[Checkpoint] = ()) -> Verified:
    """Verify ``log`` against its own checkpoints and ``extra`` (exported ones kept elsewhere)."""
    return verify_rows(list(log.rows()), log.key, [*log.checkpoints(), *extra])
