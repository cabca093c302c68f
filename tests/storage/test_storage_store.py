from __future__ import annotations

import math
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from trafficai.errors import StoreError
from trafficai.storage.paths import DATA_DIR_ENV
from trafficai.storage.records import RunRecord
from trafficai.storage.schema import SCHEMA_VERSION
from trafficai.storage.store import RunStore

CONFIG = {"scenario": {"name": "grid3x3", "duration_s": 3600}, "controller": {"kind": "fixed"}}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore(tmp_path / "nested" / "runs.sqlite") as opened:
        yield opened


def _record_three_bins(store: RunStore) -> str:
    run_id = store.create_run("grid3x3", "fixed", 7, CONFIG)
    for i in range(3):
        store.add_bin(
            run_id,
            i * 60.0,
            (i + 1) * 60.0,
            {"mean_delay_s": 10.0 + i, "throughput_veh": 100.0 * (i + 1)},
            signals={"J1": {"queue_veh": float(i)}, "J2": {"queue_veh": 2.0 * i}},
            detectors={"D1": {"flow_veh_h": 500.0 + i, "occupancy": 0.1 * i}},
        )
    return run_id


def test_round_trip_create_bins_finish_get(store: RunStore) -> None:
    run_id = _record_three_bins(store)
    store.finish_run(run_id, {"mean_delay_s": 11.0, "throughput_veh": 600.0})

    record = store.get_run(run_id)
    assert isinstance(record, RunRecord)
    assert (record.id, record.scenario, record.controller, record.seed) == (run_id, "grid3x3", "fixed", 7)
    assert record.status == "completed"
    assert record.config == CONFIG
    assert record.kpis == {"mean_delay_s": 11.0, "throughput_veh": 600.0}
    assert record.n_bins == 3
    assert record.finished_at is not None and record.finished_at >= record.started_at
    assert record.started_at.endswith("+00:00")  # UTC

    series = store.network_series(run_id)
    assert sorted(series) == ["mean_delay_s", "t_end", "throughput_veh"]
    np.testing.assert_array_equal(series["t_end"], [60.0, 120.0, 180.0])
    np.testing.assert_array_equal(series["mean_delay_s"], [10.0, 11.0, 12.0])
    np.testing.assert_array_equal(series["throughput_veh"], [100.0, 200.0, 300.0])

    signals = store.scoped_series(run_id, "signal")
    assert len(signals) == 6
    assert [(r.t_end, r.object_id, r.value) for r in signals if r.t_end == 180.0] == [
        (180.0, "J1", 2.0),
        (180.0, "J2", 4.0),
    ]
    assert {r.t_begin for r in signals if r.t_end == 120.0} == {60.0}
    detectors = store.scoped_series(run_id, "detector")
    assert [(r.metric, r.value) for r in detectors if r.t_end == 120.0] == [
        ("flow_veh_h", 501.0),
        ("occupancy", 0.1),
    ]
    network = store.scoped_series(run_id, "network")
    assert {r.object_id for r in network} == {""} and len(network) == 6


def test_list_runs_newest_first_with_limit(store: RunStore) -> None:
    ids = [store.create_run("s", "fixed", seed, {}) for seed in range(4)]
    listed = store.list_runs()
    assert [run.id for run in listed] == ids[::-1]
    assert [run.seed for run in listed] == [3, 2, 1, 0]
    assert all(run.status == "running" for run in listed)  # this process is alive
    assert [run.id for run in store.list_runs(limit=2)] == ids[:1:-1]
    with pytest.raises(StoreError, match="limit"):
        store.list_runs(limit=0)


def test_run_id_is_time_sortable_and_unique(store: RunStore) -> None:
    ids = [store.create_run("s", "c", 0, {}) for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", run_id) for run_id in ids)


def test_missing_values_come_back_as_nan(store: RunStore) -> None:
    run_id = store.create_run("s", "c", 0, {})
    store.add_bin(run_id, 0.0, 60.0, {"a": 1.0, "b": math.nan})
    store.add_bin(run_id, 60.0, 120.0, {"a": 2.0})  # b not reported in this bin
    series = store.network_series(run_id)
    np.testing.assert_array_equal(series["a"], [1.0, 2.0])
    assert np.isnan(series["b"]).all()
    assert math.isnan(store.scoped_series(run_id, "network")[1].value)


def test_lookup_by_unique_prefix(store: RunStore) -> None:
    run_id = store.create_run("s", "c", 0, {})
    assert store.get_run(run_id[:-1]).id == run_id
    store.add_bin(run_id, 0.0, 60.0, {"a": 1.0})
    assert store.network_series(run_id[:-2])["a"].tolist() == [1.0]


def test_ambiguous_prefix_is_an_error(store: RunStore) -> None:
    first = store.create_run("s", "c", 0, {})
    store.create_run("s", "c", 1, {})
    with pytest.raises(StoreError, match="ambiguous"):
        store.get_run(first[:8])  # both share the date


def test_unknown_run_names_id_and_store(store: RunStore) -> None:
    with pytest.raises(StoreError, match=r"run nope not found in .*runs\.sqlite"):
        store.get_run("nope")
    with pytest.raises(StoreError, match="not found"):
        store.add_bin("nope", 0.0, 1.0, {"a": 1.0})
    with pytest.raises(StoreError, match="not found"):
        store.add_event("nope", 0.0, "info", "k", "m")
    with pytest.raises(StoreError, match="not found"):
        store.finish_run("nope", {})
    with pytest.raises(StoreError, match="empty run id"):
        store.get_run("")


def test_failed_bin_leaves_nothing_behind(store: RunStore) -> None:
    run_id = store.create_run("s", "c", 0, {})
    store.add_bin(run_id, 0.0, 60.0, {"a": 1.0})
    with pytest.raises(StoreError, match="t=60s"):  # same bin twice: primary key conflict
        store.add_bin(run_id, 0.0, 60.0, {"a": 5.0}, signals={"J1": {"q": 1.0}})
    assert store.get_run(run_id).n_bins == 1
    assert store.scoped_series(run_id, "signal") == []
    assert store.network_series(run_id)["a"].tolist() == [1.0]


def test_invalid_inputs_are_store_errors(store: RunStore) -> None:
    run_id = store.create_run("s", "c", 0, {})
    with pytest.raises(StoreError, match="before it begins"):
        store.add_bin(run_id, 60.0, 0.0, {"a": 1.0})
    with pytest.raises(StoreError, match="reserved"):
        store.add_bin(run_id, 0.0, 60.0, {"t_end": 1.0})
    with pytest.raises(StoreError, match="non-numeric"):
        store.add_bin(run_id, 0.0, 60.0, {"a": "lots"})  # type: ignore[dict-item]
    with pytest.raises(StoreError, match="severity"):
        store.add_event(run_id, 0.0, "panic", "k", "m")
    with pytest.raises(StoreError, match="final status"):
        store.finish_run(run_id, {}, status="running")
    with pytest.raises(StoreError, match="scope"):
        store.scoped_series(run_id, "lane")
    with pytest.raises(StoreError, match="JSON"):
        store.create_run("s", "c", 0, {1: "a", "b": 2})  # type: ignore[dict-item]
    assert store.get_run(run_id).n_bins == 0


def test_config_with_non_json_values_is_recorded_as_text(store: RunStore, tmp_path: Path) -> None:
    run_id = store.create_run("s", "c", 0, {"net": tmp_path / "a.net.xml"})
    assert store.get_run(run_id).config == {"net": str(tmp_path / "a.net.xml")}


def test_events_in_time_order_with_wall_clock(store: RunStore) -> None:
    run_id = store.create_run("s", "c", 0, {})
    store.add_event(run_id, 120.0, "alarm", "detector_fault", "D7 stuck at 100 %")
    store.add_event(run_id, 30.0, "info", "manual_override", "J1 -> phase 2", user="ops")
    events = store.events(run_id)
    assert [(e.time_s, e.severity, e.kind, e.user) for e in events] == [
        (30.0, "info", "manual_override", "ops"),
        (120.0, "alarm", "detector_fault", ""),
    ]
    assert events[1].message == "D7 stuck at 100 %"
    assert all(e.wall_time.endswith("+00:00") for e in events)


def test_finish_statuses(store: RunStore) -> None:
    failed = store.create_run("s", "c", 0, {})
    store.finish_run(failed, {"a": math.nan}, status="failed")
    record = store.get_run(failed)
    assert record.status == "failed" and math.isnan(record.kpis["a"])


def test_data_survives_reopen_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        run_id = _record_three_bins(store)
    with RunStore(path) as store:
        assert store.get_run(run_id).n_bins == 3
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        conn.close()


def test_default_path_comes_from_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "d"))
    with RunStore() as store:
        assert store.path == tmp_path / "d" / "runs.sqlite"
    assert store.path.is_file()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    RunStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        RunStore(path)


def test_unusable_paths_are_store_errors(tmp_path: Path) -> None:
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello, this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"cannot open run store .*notes\.txt"):
        RunStore(not_a_db)
    with pytest.raises(StoreError, match="directory"):
        RunStore(not_a_db / "runs.sqlite")  # parent is a file


def test_closed_store_says_so(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.list_runs()


@pytest.mark.skipif(sys.platform == "win32", reason="writer liveness is only probed on POSIX")
def test_dead_writer_shows_interrupted_other_host_stays_running(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        dead = store.create_run("s", "c", 0, {})
        remote = store.create_run("s", "c", 1, {})
        alive = store.create_run("s", "c", 2, {})
    conn = sqlite3.connect(path)
    # pid 2**22 + 1 is above Linux's pid_max ceiling, so no process can have it.
    conn.execute("UPDATE runs SET pid = ? WHERE id IN (?, ?)", (2**22 + 1, dead, remote))
    conn.execute("UPDATE runs SET host = 'elsewhere.example' WHERE id = ?", (remote,))
    conn.commit()
    conn.close()
    with RunStore(path) as store:
        statuses = {run.id: run.status for run in store.list_runs()}
        assert statuses == {dead: "interrupted", remote: "running", alive: "running"}
        assert store.get_run(dead).status == "interrupted"
        store.finish_run(dead, {}, status="completed")
        assert store.get_run(dead).status == "completed"
