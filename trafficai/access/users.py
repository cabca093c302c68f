"""Operator accounts in one SQLite file under the data directory (``users.sqlite``, mode 0600).

Passwords are argon2id hashes (argon2-cffi's defaults: RFC 9106's low-memory profile); the TOTP
secret is kept as is (the verifier needs it; the file is readable by its owner only); recovery
codes are argon2id hashes, each deleted when used. Logins are :mod:`trafficai.access.auth`.
Multi-user mode is on as soon as the file holds one user (:func:`multi_user`).
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from argon2 import PasswordHasher

from trafficai.access.roles import Role, parse_role
from trafficai.errors import AccessError
from trafficai.storage.paths import default_users_path

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_last_step INTEGER NOT NULL DEFAULT -1,
    failed_count INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS recovery_codes (
    name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    code_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_log (
    time REAL NOT NULL,
    name TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
"""


class AuditSink(Protocol):
    """Where account changes and logins are recorded (:class:`trafficai.access.audit.AuditLog`)."""

    def record(
        self, user: str, action: str, target: str = "", detail: dict[str, Any] | None = None
    ) -> object: ...


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    totp: bool  # a second factor is enrolled
    failed_count: int
    locked_until: float  # epoch seconds; 0: not locked
    recovery_codes_left: int = 0


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a login checks (read inside the login's transaction)."""

    password_hash: str
    totp_secret: str | None
    totp_last_step: int
    failed_count: int
    locked_until: float


def multi_user(path: Path | None = None) -> bool:
    """True when the users file exists and holds a user (read only: it is never created here)."""
    target = path or default_users_path()
    if not target.is_file():
        return False
    try:
        with sqlite3.connect(f"file:{target}?mode=ro", uri=True, timeout=5.0) as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
    except sqlite3.Error as exc:
        raise AccessError(f"users file {target} cannot be read: {exc}") from None


def role_of(name: str, path: Path | None = None) -> Role | None:
    """The role of ``name`` (None: no such user), read only."""
    target = path or default_users_path()
    if not target.is_file():
        return None
    try:
        with sqlite3.connect(f"file:{target}?mode=ro", uri=True, timeout=5.0) as db:
            row = db.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
    except sqlite3.Error as exc:
        raise AccessError(f"users file {target} cannot be read: {exc}") from None
    return parse_role(row[0]) if row else None


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise AccessError(
            f"user name {name!r} is not allowed: 1-64 letters, digits, '_', '.', '@' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccessError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    return password


class UserStore:
    """The accounts; every change is recorded to ``audit`` (when given) naming who made it."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        hasher: PasswordHasher | None = None,
        audit: AuditSink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path or default_users_path()
        self.hasher = hasher or PasswordHasher()
        self.audit = audit
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        try:
            self.db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise AccessError(f"users file {self.path} cannot be opened: {exc}") from None
        if fresh:
            os.chmod(self.path, 0o600)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> UserStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before reading (two logins cannot both use one code)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _record(self, by: str, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        if self.audit is not None:
            self.audit.record(by, action, target, detail)

    # -- reading --------------------------------------------------------------------------------

    def users(self) -> list[User]:
        rows = self.db.execute("SELECT name FROM users ORDER BY name").fetchall()
        return [self.get(r[0]) for r in rows]

    def any_users(self) -> bool:
        return self.db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def get(self, name: str) -> User:
        row = self.db.execute(
            "SELECT name, role, totp_secret, failed_count, locked_until FROM users WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise AccessError(f"unknown user {name!r}")
        codes = self.db.execute("SELECT COUNT(*) FROM recovery_codes WHERE name = ?", (name,)).fetchone()[0]
        return User(row[0], parse_role(row[1]), row[2] is not None, row[3], row[4], codes)

    def credentials(self, name: str) -> Credentials | None:
        row = self.db.execute(
            "SELECT password_hash, totp_secret, totp_last_step, failed_count, locked_until "
            "FROM users WHERE name = ?",
            (name,),
        ).fetchone()
        return Credentials(*row) if row else None

    def recovery_hashes(self, name: str) -> list[tuple[int, str]]:
        return self.db.execute(
            "SELECT rowid, code_hash FROM recovery_codes WHERE name = ?", (name,)
        ).fetchall()

    def login_log(self, limit: int = 50) -> list[tuple[float, str, str, str]]:
        return self.db.execute(
            "SELECT time, name, outcome, reason FROM login_log ORDER BY rowid DESC LIMIT ?", (limit,)
        ).fetchall()

    # -- changing -------------------------------------------------------------------------------

    def add(self, name: str, role: Role, password: str, *, by: str) -> User:
        check_name(name)
        check_password(password)
        digest = self.hasher.hash(password)
        try:
            self.db.execute(
                "INSERT INTO users (name, role, password_hash, created) VALUES (?, ?, ?, ?)",
                (name, role.label, digest, self.clock()),
            )
        except sqlite3.IntegrityError:
            raise AccessError(f"user {name!r} exists already") from None
        self._record(by, "user.add", name, {"role": role.label})
        return self.get(name)

    def remove(self, name: str, *, by: str) -> None:
        self.get(name)
        self.db.execute("DELETE FROM users WHERE name = ?", (name,))
        self._record(by, "user.remove", name)

    def set_role(self, name: str, role: Role, *, by: str) -> None:
        old = self.get(name).role
        self.db.execute("UPDATE users SET role = ? WHERE name = ?", (role.label, name))
        self._record(by, "user.role", name, {"from": old.label, "to": role.label})

    def set_password(self, name: str, password: str, *, by: str) -> None:
        self.get(name)
        check_password(password)
        self.db.execute(
            "UPDATE users SET password_hash = ? WHERE name = ?", (self.hasher.hash(password), name)
        )
        self._record(by, "user.password", name)

    def set_second_factor(
        self, name: str, secret: str | None, recovery_hashes: list[str], *, by: str
    ) -> None:
        """Enrol (``secret``) or remove (None) the TOTP factor; replaces the recovery codes."""
        self.get(name)
        with self.transaction() as db:
            db.execute("UPDATE users SET totp_secret = ?, totp_last_step = -1 WHERE name = ?", (secret, name))
            db.execute("DELETE FROM recovery_codes WHERE name = ?", (name,))
            db.executemany(
                "INSERT INTO recovery_codes (name, code_hash) VALUES (?, ?)",
                [(name, h) for h in recovery_hashes],
            )
        self._record(by, "user.totp.enrol" if secret else "user.totp.remove", name)

    def unlock(self, name: str, *, by: str) -> None:
        self.get(name)
        self.db.execute("UPDATE users SET failed_count = 0, locked_until = 0 WHERE name = ?", (name,))
        self._record(by, "user.unlock", name)
