"""Retention: raw detector bins of old runs are deleted (by ``prune`` and by the ``[storage]
retention_days`` setting, at the start of a run); the runs and their KPIs stay."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.support import assert_one_line_error, trafficai
from trafficai.errors import ConfigError, StoreError
from trafficai.storage import RunStore
from trafficai.storage.retention import apply_retention, retention_days


def test_prune_deletes_only_old_runs_detector_bins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with RunStore(tmp_path / "runs.sqlite") as store:
        run = store.create_run("s", "fixed", 1, {})
        store.add_bin(run, 0.0, 60.0, {"queue_veh": 1.0}, {}, {"e1": {"count": 3.0}})
        store.finish_run(run, {"mean_delay_s": 5.0})
        assert store.prune_bins(30) == 0  # started now: kept
        later = datetime.now(UTC) + timedelta(days=31)
        assert store.prune_bins(30, now=later) == 1
        assert store.scoped_series(run, "detector") == []
        assert store.network_series(run)["queue_veh"].tolist() == [1.0]
        assert store.get_run(run).kpis["mean_delay_s"] == 5.0
        with pytest.raises(StoreError, match="older-than"):
            store.prune_bins(-1)


def _old_run_with_bins(store: RunStore, days_ago: float) -> str:
    """A run started ``days_ago`` days ago, with a detector bin and a device bin."""
    from trafficai.storage.devices import BinRow, DeviceStore

    run = store.create_run("s", "fixed", 1, {})
    store.add_bin(run, 0.0, 30.0, {"queue_veh": 1.0}, {}, {"e1": {"count": 3.0}})
    started = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    with store._transaction("age the run") as conn:  # as if it had been recorded then
        conn.execute("UPDATE runs SET started_at = ? WHERE id = ?", (started, run))
    with DeviceStore(store.path) as devices:
        devices.add_bins(run, [BinRow("e1.e1", 1, 0.0, 30.0, {"count": 3.0})])
    return run


def _device_bins(store: RunStore, run: str) -> int:
    from trafficai.storage.devices import DeviceStore

    with DeviceStore(store.path) as devices:
        return len(devices.bins(run))


def test_prune_deletes_the_device_bins_of_old_runs_too() -> None:
    with RunStore() as store:
        old, recent = _old_run_with_bins(store, 40), _old_run_with_bins(store, 2)
        assert store.prune_bins(30) == 2  # the old run's detector series value and its device bin
        assert _device_bins(store, old) == 0 and store.scoped_series(old, "detector") == []
        assert _device_bins(store, recent) == 1 and len(store.scoped_series(recent, "detector")) == 1


def _configure(isolated_data_dir: Path, text: str) -> None:
    config = Path(os.environ["TRAFFICAI_CONFIG"])
    config.write_text(text)


def test_the_retention_setting_is_validated_and_applied(isolated_data_dir: Path) -> None:
    with RunStore() as store:
        old = _old_run_with_bins(store, 10)
        assert apply_retention(store) is None  # no setting: everything is kept
        _configure(isolated_data_dir, "[storage]\nretention_days = -1\n")
        with pytest.raises(ConfigError, match="storage configuration: field 'retention_days'"):
            apply_retention(store)
        _configure(isolated_data_dir, "[storage]\nretention_days = 7\n")
        assert retention_days() == 7.0
        assert apply_retention(store) == 2
        assert store.scoped_series(old, "detector") == [] and _device_bins(store, old) == 0


def test_prune_without_arguments_uses_the_setting(isolated_data_dir: Path) -> None:
    with RunStore() as store:
        old = _old_run_with_bins(store, 10)
    proc = trafficai("prune")
    assert_one_line_error(proc, "give --older-than DAYS, or set [storage] retention_days")
    _configure(isolated_data_dir, "[storage]\nretention_days = 7\n")
    proc = trafficai("prune")
    assert proc.returncode == 0, proc.stderr
    assert "deleted 2 detector bin values older than 7 days" in proc.stdout
    with RunStore() as store:
        assert store.scoped_series(old, "detector") == []


@pytest.mark.sumo
def test_a_run_applies_the_retention_before_it_starts(isolated_data_dir: Path, tiny: str) -> None:
    with RunStore() as store:
        old = _old_run_with_bins(store, 1)
    _configure(isolated_data_dir, "[storage]\nretention_days = 0.5\n")
    proc = trafficai("run", tiny, "--end", "60", "--json")
    assert proc.returncode == 0, proc.stderr
    new = json.loads(proc.stdout)["run_id"]
    with RunStore() as store:
        assert store.scoped_series(old, "detector") == []
        assert store.scoped_series(new, "detector") != []  # the run started after the pruning
