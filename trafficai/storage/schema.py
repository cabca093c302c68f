"""SQLite schema of the run store, and its creation/version check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from trafficai.errors import StoreError

SCHEMA_VERSION = 2  # 2: controllers and detector_health tables (added to a version-1 store)

# One row per run; kpis/config are JSON because they are read whole and never queried into.
# `host`/`pid` identify the writer so readers can tell a crashed run from a live one.
_RUNS = """
CREATE TABLE IF NOT EXISTS runs (
    id          TEXT PRIMARY KEY,
    scenario    TEXT NOT NULL,
    controller  TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    status      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    config_json TEXT NOT NULL,
    kpis_json   TEXT NOT NULL DEFAULT '{}',
    n_bins      INTEGER NOT NULL DEFAULT 0,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL
)
"""

# Long/narrow series table. WITHOUT ROWID + this primary key stores the rows clustered by
# (run, scope, time), so reading one run's series is a single range scan with no separate index to
# maintain, and a bin written twice is rejected instead of silently duplicated.
# `object_id` is '' for the network scope. NULL `value` is how SQLite stores NaN.
_SERIES = """
CREATE TABLE IF NOT EXISTS series (
    run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    scope     TEXT NOT NULL CHECK (scope IN ('network', 'signal', 'detector')),
    t_end     REAL NOT NULL,
    object_id TEXT NOT NULL,
    metric    TEXT NOT NULL,
    t_begin   REAL NOT NULL,
    value     REAL,
    PRIMARY KEY (run_id, scope, t_end, object_id, metric)
) WITHOUT ROWID
"""

_EVENTS = """
CREATE TABLE IF NOT EXISTS events (
    id        INTEGER PRIMARY KEY,
    run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    time_s    REAL NOT NULL,
    severity  TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'alarm')),
    kind      TEXT NOT NULL,
    message   TEXT NOT NULL,
    user      TEXT NOT NULL DEFAULT '',
    wall_time TEXT NOT NULL
)
"""

# Every controller that took charge during a run, at simulation time `time_s`; `signals` is a
# comma-separated list, '' for every controllable signal. Rows in the order they happened (id).
_CONTROLLERS = """
CREATE TABLE IF NOT EXISTS controllers (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    time_s     REAL NOT NULL,
    controller TEXT NOT NULL,
    signals    TEXT NOT NULL DEFAULT ''
)
"""

# Every change of a detector's health (ok | suspect | failed), judged by the run or marked by an
# operator (`user`), at simulation time `time_s`.
_DETECTOR_HEALTH = """
CREATE TABLE IF NOT EXISTS detector_health (
    id       INTEGER PRIMARY KEY,
    run_id   TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    time_s   REAL NOT NULL,
    detector TEXT NOT NULL,
    state    TEXT NOT NULL CHECK (state IN ('ok', 'suspect', 'failed')),
    reason   TEXT NOT NULL DEFAULT '',
    user     TEXT NOT NULL DEFAULT ''
)
"""

_TABLES = (
    _RUNS,
    "CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at)",
    _SERIES,
    _EVENTS,
    "CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, time_s)",
    _CONTROLLERS,
    "CREATE INDEX IF NOT EXISTS controllers_by_run ON controllers (run_id, id)",
    _DETECTOR_HEALTH,
    "CREATE INDEX IF NOT EXISTS detector_health_by_run ON detector_health (run_id, time_s)",
)


def stored_schema_version(conn: sqlite3.Connection) -> int | None:
    """The store's schema version, None for a new (empty) store. Reads only, takes no write lock."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if has_table is None:
        return None
    version: int | None = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    return version


def ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the tables on a new store; refuse a store written by a newer trafficai.

    Must run inside a write transaction so two processes opening a new store at once do not both
    insert a version row.
    """
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    version = stored_schema_version(conn)
    # Checked before touching anything else: a newer layout must not get our tables added to it.
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"run store {path} has schema version {version}, newer than this trafficai supports "
            f"({SCHEMA_VERSION}); upgrade trafficai or use another store"
        )
    for statement in _TABLES:  # IF NOT EXISTS: an older store gets the tables it lacks
        conn.execute(statement)
    if version is None:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
    elif version < SCHEMA_VERSION:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
