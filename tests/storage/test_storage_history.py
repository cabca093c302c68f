"""The run record's history: every controller in charge and every detector health change."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from trafficai.errors import StoreError
from trafficai.storage import ControllerRecord, HealthRecord, RunStore
from trafficai.storage.schema import SCHEMA_VERSION


def test_controllers_in_charge_are_listed_per_run_in_order(tmp_path: Path) -> None:
    with RunStore(tmp_path / "runs.sqlite") as store:
        first = store.create_run("city", "fixed", 1, {})
        other = store.create_run("city", "webster", 1, {})
        store.add_controller(first, 0.0, "fixed")
        store.add_controller(other, 0.0, "webster")
        store.add_controller(first, 120.0, "rl")
        store.add_controller(first, 300.0, "max-pressure", ["6", "7"])
        history = store.controllers([first, other, "no-such-run"])
    assert history[first] == [
        ControllerRecord(0.0, "fixed"),
        ControllerRecord(120.0, "rl"),
        ControllerRecord(300.0, "max-pressure", ("6", "7")),
    ]
    assert history[other] == [ControllerRecord(0.0, "webster")]
    assert history["no-such-run"] == []


def test_detector_health_changes_are_kept_with_who_set_them(tmp_path: Path) -> None:
    with RunStore(tmp_path / "runs.sqlite") as store:
        run_id = store.create_run("city", "fixed", 1, {})
        store.add_detector_health(run_id, 200.0, "e1_6", "failed", "locked on", "system")
        store.add_detector_health(run_id, 90.0, "e1_7", "failed", "marked failed by ann", "ann")
        with pytest.raises(StoreError, match="unknown detector state 'broken'"):
            store.add_detector_health(run_id, 1.0, "e1_7", "broken")
        with pytest.raises(StoreError, match="not found"):
            store.add_controller("nope", 0.0, "fixed")
        assert store.detector_health(run_id[:-1]) == [
            HealthRecord(90.0, "e1_7", "failed", "marked failed by ann", "ann"),
            HealthRecord(200.0, "e1_6", "failed", "locked on", "system"),
        ]


def test_a_version_1_store_gets_the_new_tables_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        old_run = store.create_run("city", "fixed", 1, {})
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE controllers")
    conn.execute("DROP TABLE detector_health")
    conn.execute("UPDATE schema_version SET version = 1")
    conn.commit()
    conn.close()
    with RunStore(path) as store:
        assert store.get_run(old_run).controller == "fixed"
        assert store.controllers([old_run]) == {old_run: []}  # recorded before the history
        store.add_controller(old_run, 5.0, "rl")
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        conn.close()
