"""Retention: raw detector bins of old runs are deleted; the runs and their KPIs stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trafficai.errors import StoreError
from trafficai.storage import RunStore


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
