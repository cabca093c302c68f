"""The run store: every run's config, KPIs, time series and events in one SQLite file.

One process writes a run; any number of readers (GUI, CLI) read concurrently thanks to WAL mode.
Each call that writes is its own committed transaction, so a run killed with SIGKILL keeps
everything up to its last completed ``add_bin``. ``synchronous=NORMAL`` keeps that guarantee for
process crashes (only a power cut can lose the last few commits) at a fraction of FULL's fsyncs.

A ``RunStore`` wraps one connection: use one per thread.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from trafficai.errors import StoreError
from trafficai.storage.liveness import this_host, writer_is_gone
from trafficai.storage.paths import default_store_path
from trafficai.storage.records import (
    FINAL_STATUSES,
    HEALTH_STATES,
    RUNNING,
    SCOPES,
    SEVERITIES,
    ControllerRecord,
    EventRecord,
    HealthRecord,
    RunRecord,
    RunSummary,
    SeriesRow,
)
from trafficai.storage.schema import SCHEMA_VERSION, ensure_schema, stored_schema_version

# How long a writer waits for another writer's lock before giving up (sets SQLite's busy_timeout).
BUSY_TIMEOUT_S = 10.0
_NO_OBJECTS: Mapping[str, Mapping[str, float]] = MappingProxyType({})
_SERIES_KEY_TIME = "t_end"
_AMBIGUOUS_SHOWN = 5

_RUN_COLUMNS = (
    "id, scenario, controller, seed, status, started_at, finished_at, kpis_json, config_json, "
    "n_bins, host, pid"
)
_INSERT_SERIES = (
    "INSERT INTO series (run_id, scope, t_end, object_id, metric, t_begin, value) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class RunStore:
    """Runs recorded in the SQLite file at ``path`` (default: the per-user store)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = (path if path is not None else default_store_path()).expanduser()
        self._conn: sqlite3.Connection | None = _open_connection(self.path)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------

    def create_run(self, scenario: str, controller: str, seed: int, config: Mapping[str, Any]) -> str:
        """Record a new run as "running" by this process and return its id."""
        config_json = _to_json(config, "run config")
        started = datetime.now(UTC)
        with self._transaction("create a run") as conn:
            # The write lock is held, so the id cannot be taken between the check and the insert.
            run_id = _unused_run_id(conn, started)
            conn.execute(
                "INSERT INTO runs (id, scenario, controller, seed, status, started_at, config_json, "
                "host, pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    scenario,
                    controller,
                    int(seed),
                    RUNNING,
                    _iso(started),
                    config_json,
                    this_host(),
                    os.getpid(),
                ),
            )
        return run_id

    def add_bin(
        self,
        run_id: str,
        t_begin: float,
        t_end: float,
        network: Mapping[str, float],
        signals: Mapping[str, Mapping[str, float]] = _NO_OBJECTS,
        detectors: Mapping[str, Mapping[str, float]] = _NO_OBJECTS,
    ) -> None:
        """Store one KPI bin (network, per-signal and per-detector values) as one transaction."""
        if not t_begin <= t_end:
            raise StoreError(f"bin of run {run_id} ends (t={t_end:g}s) before it begins (t={t_begin:g}s)")
        if _SERIES_KEY_TIME in network:
            raise StoreError(f"network metric name {_SERIES_KEY_TIME!r} is reserved for the bin end time")
        rows = _bin_rows(run_id, float(t_begin), float(t_end), network, signals, detectors)
        with self._transaction(f"add the bin ending at t={t_end:g}s to run {run_id}") as conn:
            # Counting bins on the run row keeps list_runs cheap; rowcount 0 also means "no such run".
            updated = conn.execute("UPDATE runs SET n_bins = n_bins + 1 WHERE id = ?", (run_id,))
            if updated.rowcount == 0:
                raise self._not_found(run_id)
            conn.executemany(_INSERT_SERIES, rows)

    def add_event(
        self, run_id: str, time_s: float, severity: str, kind: str, message: str, user: str = ""
    ) -> None:
        """Record an event (severity info|warning|alarm) at simulation time ``time_s``."""
        if severity not in SEVERITIES:
            raise StoreError(f"unknown event severity {severity!r} (expected one of {', '.join(SEVERITIES)})")
        with self._transaction(f"add an event to run {run_id}") as conn:
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise self._not_found(run_id)
            conn.execute(
                "INSERT INTO events (run_id, time_s, severity, kind, message, user, wall_time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, float(time_s), severity, kind, message, user, _iso(datetime.now(UTC))),
            )

    def add_controller(
        self, run_id: str, time_s: float, controller: str, signals: Sequence[str] = ()
    ) -> None:
        """Record that ``controller`` took charge of ``signals`` (empty: all) at ``time_s``."""
        self._insert_into_run(
            run_id,
            "INSERT INTO controllers (run_id, time_s, controller, signals) VALUES (?, ?, ?, ?)",
            (float(time_s), controller, ",".join(signals)),
            f"add a controller to run {run_id}",
        )

    def add_detector_health(
        self, run_id: str, time_s: float, detector: str, state: str, reason: str = "", user: str = ""
    ) -> None:
        """Record a change of ``detector``'s health (ok|suspect|failed) at ``time_s``."""
        if state not in HEALTH_STATES:
            raise StoreError(f"unknown detector state {state!r} (expected one of {', '.join(HEALTH_STATES)})")
        self._insert_into_run(
            run_id,
            "INSERT INTO detector_health (run_id, time_s, detector, state, reason, user) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (float(time_s), detector, state, reason, user),
            f"add a detector health change to run {run_id}",
        )

    def _insert_into_run(self, run_id: str, sql: str, values: tuple[Any, ...], action: str) -> None:
        with self._transaction(action) as conn:
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise self._not_found(run_id)
            conn.execute(sql, (run_id, *values))

    def finish_run(self, run_id: str, kpis: Mapping[str, float], status: str = "completed") -> None:
        """Close a run with its final KPIs and status (completed|failed|interrupted)."""
        if status not in FINAL_STATUSES:
            raise StoreError(f"unknown final status {status!r} (expected one of {', '.join(FINAL_STATUSES)})")
        kpis_json = _to_json(_as_floats(kpis, f"final KPIs of run {run_id}"), f"final KPIs of run {run_id}")
        with self._transaction(f"finish run {run_id}") as conn:
            updated = conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, kpis_json = ? WHERE id = ?",
                (status, _iso(datetime.now(UTC)), kpis_json, run_id),
            )
            if updated.rowcount == 0:
                raise self._not_found(run_id)

    def set_run_faults(self, run_id: str, faults: Sequence[Mapping[str, Any]]) -> None:
        """The run's injected faults (its ground truth), replacing the config's ``faults`` list: a
        fault injected while the run goes on (the GUI) is recorded as a ``--fault`` one is."""
        with self._transaction(f"record the faults of run {run_id}") as conn:
            row = conn.execute("SELECT config_json FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise self._not_found(run_id)
            config = json.loads(row[0])
            config["faults"] = [dict(f) for f in faults]
            conn.execute(
                "UPDATE runs SET config_json = ? WHERE id = ?", (_to_json(config, "run config"), run_id)
            )

    def prune_bins(self, older_than_days: float, now: datetime | None = None) -> int:
        """Retention: delete the raw detector bins of runs started more than ``older_than_days``
        days before ``now``: their series of scope ``detector`` and the bins their devices published
        (``iot_bins``); the runs, their KPIs, network and signal series, events and health records
        stay. Returns the rows deleted."""
        if not (older_than_days >= 0 and math.isfinite(older_than_days)):
            raise StoreError(f"--older-than must be 0 days or more, got {older_than_days:g}")
        cutoff = (now or datetime.now(UTC)).timestamp() - older_than_days * 86400.0
        with self._transaction("prune detector bins") as conn:
            old = [
                run_id
                for run_id, started in conn.execute("SELECT id, started_at FROM runs")
                if datetime.fromisoformat(started).timestamp() < cutoff
            ]
            device_bins = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'iot_bins'"
            ).fetchone()
            deleted = 0
            for run_id in old:
                cursor = conn.execute("DELETE FROM series WHERE run_id = ? AND scope = 'detector'", (run_id,))
                deleted += cursor.rowcount
                if device_bins is not None:
                    deleted += conn.execute("DELETE FROM iot_bins WHERE run_id = ?", (run_id,)).rowcount
        return deleted

    # -- reading (every run_id may be a unique prefix) -------------------------------------------

    def list_runs(self, limit: int = 50) -> list[RunSummary]:
        """The ``limit`` most recently started runs, newest first."""
        if limit < 1:
            raise StoreError(f"limit must be at least 1, got {limit}")
        with self._reading("list runs") as conn:
            rows = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [RunSummary(**_summary_fields(row)) for row in rows]

    def get_run(self, run_id: str) -> RunRecord:
        with self._reading(f"read run {run_id}") as conn:
            full_id = self._resolve(conn, run_id)
            row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (full_id,)).fetchone()
        return RunRecord(**_summary_fields(row), host=row[10], pid=row[11])

    def network_series(self, run_id: str) -> dict[str, NDArray[np.float64]]:
        """Network KPIs as aligned arrays: ``"t_end"`` plus one array per metric (NaN where missing)."""
        with self._reading(f"read the series of run {run_id}") as conn:
            full_id = self._resolve(conn, run_id)
            rows = conn.execute(
                "SELECT t_end, metric, value FROM series WHERE run_id = ? AND scope = 'network' "
                "ORDER BY t_end",
                (full_id,),
            ).fetchall()
        return _pivot_by_time(rows)

    def scoped_series(self, run_id: str, scope: str) -> list[SeriesRow]:
        """Every value of one scope (network|signal|detector), ordered by time, object, metric."""
        return list(self.iter_series(run_id, scope))

    def iter_series(
        self, run_id: str, scope: str | None = None, metrics: Sequence[str] = ()
    ) -> Iterator[SeriesRow]:
        """Stream the long series table of a run (all scopes when ``scope`` is None; only
        ``metrics`` when given); for exports and forecasting."""
        if scope is not None and scope not in SCOPES:
            raise StoreError(f"unknown series scope {scope!r} (expected one of {', '.join(SCOPES)})")
        with self._reading(f"read the series of run {run_id}") as conn:
            full_id = self._resolve(conn, run_id)  # resolved now, so a bad id fails before iterating
            query = "SELECT scope, object_id, metric, t_begin, t_end, value FROM series WHERE run_id = ?"
            params: tuple[str, ...] = (full_id,)
            if scope is not None:
                query += " AND scope = ?"
                params += (scope,)
            if metrics:
                query += f" AND metric IN ({', '.join('?' * len(metrics))})"
                params += tuple(metrics)
            cursor = conn.execute(query + " ORDER BY scope, t_end, object_id, metric", params)
        return self._rows_of(cursor, full_id)

    def events(self, run_id: str) -> list[EventRecord]:
        """A run's events in simulation-time order."""
        with self._reading(f"read the events of run {run_id}") as conn:
            full_id = self._resolve(conn, run_id)
            rows = conn.execute(
                "SELECT time_s, severity, kind, message, user, wall_time FROM events WHERE run_id = ? "
                "ORDER BY time_s, id",
                (full_id,),
            ).fetchall()
        return [EventRecord(*row) for row in rows]

    def controllers(self, run_ids: Sequence[str]) -> dict[str, list[ControllerRecord]]:
        """Per run (full ids, as listed): every controller that took charge, in order."""
        out: dict[str, list[ControllerRecord]] = {run_id: [] for run_id in run_ids}
        if not run_ids:
            return out
        marks = ", ".join("?" * len(run_ids))
        with self._reading("read the controllers of runs") as conn:
            rows = conn.execute(
                f"SELECT run_id, time_s, controller, signals FROM controllers WHERE run_id IN ({marks}) "
                "ORDER BY id",
                tuple(run_ids),
            ).fetchall()
        for run_id, time_s, controller, signals in rows:
            out[run_id].append(ControllerRecord(time_s, controller, tuple(filter(None, signals.split(",")))))
        return out

    def detector_health(self, run_id: str) -> list[HealthRecord]:
        """A run's detector health changes in simulation-time order."""
        with self._reading(f"read the detector health of run {run_id}") as conn:
            full_id = self._resolve(conn, run_id)
            rows = conn.execute(
                "SELECT time_s, detector, state, reason, user FROM detector_health WHERE run_id = ? "
                "ORDER BY time_s, id",
                (full_id,),
            ).fetchall()
        return [HealthRecord(*row) for row in rows]

    # -- internals -------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"run store {self.path} is closed")
        return self._conn

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        with _transaction(self._connection(), action, self.path) as conn:
            yield conn

    @contextmanager
    def _reading(self, action: str) -> Iterator[sqlite3.Connection]:
        try:
            yield self._connection()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot {action} in run store {self.path}: {exc}") from exc

    def _rows_of(self, cursor: sqlite3.Cursor, run_id: str) -> Iterator[SeriesRow]:
        with self._reading(f"read the series of run {run_id}"):
            for scope, object_id, metric, t_begin, t_end, value in cursor:
                yield SeriesRow(scope, object_id, metric, t_begin, t_end, np.nan if value is None else value)

    def _resolve(self, conn: sqlite3.Connection, run_id: str) -> str:
        """The full id of the one run whose id is ``run_id`` or starts with it."""
        if not run_id:
            raise StoreError(f"empty run id (run store {self.path})")
        if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None:
            return run_id
        matches = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT ?",
                (len(run_id), run_id, _AMBIGUOUS_SHOWN + 1),
            )
        ]
        if not matches:
            raise self._not_found(run_id)
        if len(matches) > 1:
            shown = ", ".join(matches[:_AMBIGUOUS_SHOWN]) + (
                ", ..." if len(matches) > _AMBIGUOUS_SHOWN else ""
            )
            raise StoreError(f"run id {run_id!r} is ambiguous in {self.path}: matches {shown}")
        return str(matches[0])

    def _not_found(self, run_id: str) -> StoreError:
        return StoreError(f"run {run_id} not found in {self.path}")


# -- module helpers ------------------------------------------------------------------------------


def _open_connection(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the directory of run store {path}: {exc.strerror or exc}") from exc
    try:
        # isolation_level=None: no implicit transactions; every write goes through _transaction.
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open run store {path}: {exc}") from exc
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"run store {path} cannot use WAL journaling (got {mode!r}); use a local disk")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Only a new or outdated store takes the write lock, so a reader (GUI) opening the store
        # never waits for the writer's transaction.
        if stored_schema_version(conn) != SCHEMA_VERSION:
            with _transaction(conn, "create the schema", path):
                ensure_schema(conn, path)
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"cannot open run store {path}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def _transaction(conn: sqlite3.Connection, action: str, path: Path) -> Iterator[sqlite3.Connection]:
    """One committed write transaction; rolled back on any exception, sqlite errors as StoreError."""
    try:
        # IMMEDIATE takes the write lock up front, so waiting for another writer honours busy_timeout
        # instead of failing when a read transaction tries to upgrade.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.rollback()
        raise StoreError(f"cannot {action} in run store {path}: {exc}") from exc


def _unused_run_id(conn: sqlite3.Connection, started: datetime) -> str:
    """``YYYYMMDD-HHMMSS-xxxx``: sorts by start time; the random suffix separates same-second runs."""
    stamp = started.strftime("%Y%m%d-%H%M%S")
    while True:
        run_id = f"{stamp}-{secrets.token_hex(2)}"
        if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            return run_id


def _bin_rows(
    run_id: str,
    t_begin: float,
    t_end: float,
    network: Mapping[str, float],
    signals: Mapping[str, Mapping[str, float]],
    detectors: Mapping[str, Mapping[str, float]],
) -> list[tuple[str, str, float, str, str, float, float]]:
    what = f"bin ending at t={t_end:g}s of run {run_id}"
    rows = [
        (run_id, "network", t_end, "", metric, t_begin, value)
        for metric, value in _as_floats(network, what).items()
    ]
    for scope, objects in (("signal", signals), ("detector", detectors)):
        for object_id, values in objects.items():
            rows.extend(
                (run_id, scope, t_end, object_id, metric, t_begin, value)
                for metric, value in _as_floats(values, what).items()
            )
    return rows


def _as_floats(values: Mapping[str, float], what: str) -> dict[str, float]:
    try:
        return {str(name): float(value) for name, value in values.items()}
    except (TypeError, ValueError) as exc:
        raise StoreError(f"non-numeric value in {what}: {exc}") from exc


def _pivot_by_time(rows: Sequence[tuple[float, str, float | None]]) -> dict[str, NDArray[np.float64]]:
    """(t_end, metric, value) rows ordered by t_end -> one array per metric aligned on t_end."""
    times: dict[float, int] = {}
    for t_end, _, _ in rows:
        times.setdefault(t_end, len(times))
    series: dict[str, NDArray[np.float64]] = {_SERIES_KEY_TIME: np.array(list(times), dtype=np.float64)}
    for t_end, metric, value in rows:
        column = series.get(metric)
        if column is None:
            column = series[metric] = np.full(len(times), np.nan, dtype=np.float64)
        if value is not None:  # NULL is how SQLite stored NaN
            column[times[t_end]] = value
    return series


def _summary_fields(row: Sequence[Any]) -> dict[str, Any]:
    run_id, scenario, controller, seed, status, started_at, finished_at, kpis_json, config_json = row[:9]
    n_bins, host, pid = row[9:12]
    if status == RUNNING and writer_is_gone(host, pid):
        status = "interrupted"  # its writer died without finish_run (crash, SIGKILL)
    return {
        "id": run_id,
        "scenario": scenario,
        "controller": controller,
        "seed": seed,
        "status": status,
        "started_at": started_at,
        "finished_at": finished_at,
        "kpis": {name: float(value) for name, value in json.loads(kpis_json).items()},
        "config": json.loads(config_json),
        "n_bins": n_bins,
    }


def _to_json(value: Mapping[str, Any], what: str) -> str:
    try:
        # default=str: the config is a record, not round-tripped; Paths and enums keep their text.
        return json.dumps(dict(value), sort_keys=True, default=str)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what} cannot be stored as JSON: {exc}") from exc


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")
