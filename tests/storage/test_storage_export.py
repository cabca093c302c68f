from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from trafficai.errors import StoreError
from trafficai.storage.export import SERIES_COLUMNS, export_run
from trafficai.storage.store import RunStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore(tmp_path / "runs.sqlite") as opened:
        yield opened


@pytest.fixture
def run_id(store: RunStore) -> str:
    run_id = store.create_run("grid3x3", "maxpressure", 42, {"bin_s": 60})
    for n in range(3):
        store.add_bin(
            run_id,
            n * 60.0,
            (n + 1) * 60.0,
            {"mean_delay_s": 12.5 + n, "spillback": math.nan if n == 1 else 0.0},
            signals={"J1": {"queue_veh": 3.0 * n}},
            detectors={"D1": {"flow_veh_h": 0.1 + n}, "D2": {"flow_veh_h": 1e-7 * n}},
        )
    store.finish_run(run_id, {"mean_delay_s": 13.5, "spillback": math.inf})
    return run_id


def _expected_rows(store: RunStore, run_id: str) -> list[tuple[str, str, str, str, float, float, float]]:
    return [(run_id, *row) for row in store.iter_series(run_id)]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_parquet_round_trip(store: RunStore, run_id: str, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "new"
    paths = export_run(store, run_id[:-1], "parquet", out)  # prefix is fine; files use the full id
    assert paths == [out / f"{run_id}_series.parquet", out / f"{run_id}_run.json"]

    table = pq.read_table(paths[0])
    assert tuple(table.column_names) == SERIES_COLUMNS
    expected = _expected_rows(store, run_id)
    assert table.num_rows == len(expected) == 3 * (2 + 1 + 2)
    got = list(zip(*(table.column(name).to_pylist() for name in SERIES_COLUMNS), strict=True))
    for got_row, want_row in zip(got, expected, strict=True):
        assert got_row[:6] == want_row[:6]
        want_value = want_row[6]
        assert got_row[6] is None if math.isnan(want_value) else got_row[6] == want_value
    assert table.column("value").null_count == 1  # the NaN spillback became a proper null
    by_key = {(r[1], r[2], r[3], r[5]): r[6] for r in got}
    assert by_key[("detector", "D1", "flow_veh_h", 180.0)] == 2.1
    assert by_key[("detector", "D2", "flow_veh_h", 120.0)] == 1e-7


def test_csv_round_trip(store: RunStore, run_id: str, tmp_path: Path) -> None:
    series_path, _ = export_run(store, run_id, "csv", tmp_path)
    assert series_path == tmp_path / f"{run_id}_series.csv"
    with series_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = _expected_rows(store, run_id)
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        assert tuple(row[c] for c in SERIES_COLUMNS[:4]) == want[:4]
        assert (float(row["t_begin"]), float(row["t_end"])) == want[4:6]
        value = math.nan if row["value"] == "" else float(row["value"])
        assert _same(value, want[6])  # floats survive the text round trip exactly
    assert sum(row["value"] == "" for row in rows) == 1


def test_metadata_json(store: RunStore, run_id: str, tmp_path: Path) -> None:
    _, meta_path = export_run(store, run_id, "csv", tmp_path)
    meta = json.loads(meta_path.read_text(encoding="utf-8"), parse_constant=pytest.fail)
    assert meta["id"] == run_id
    assert (meta["scenario"], meta["controller"], meta["seed"]) == ("grid3x3", "maxpressure", 42)
    assert meta["status"] == "completed" and meta["n_bins"] == 3
    assert meta["config"] == {"bin_s": 60}
    assert meta["kpis"] == {"mean_delay_s": 13.5, "spillback": None}  # inf is not valid JSON
    assert meta["series_file"] == f"{run_id}_series.csv"


def test_default_output_dir_is_cwd(
    store: RunStore, run_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    paths = export_run(store, run_id, "parquet", None)
    assert [p.parent for p in paths] == [tmp_path, tmp_path]
    assert all(p.is_file() for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(run_id)) == [
        f"{run_id}_run.json",
        f"{run_id}_series.parquet",
    ]  # no leftover .part files


def test_run_without_bins_exports_empty_tables(store: RunStore, tmp_path: Path) -> None:
    empty = store.create_run("s", "c", 0, {})
    parquet_path, _ = export_run(store, empty, "parquet", tmp_path)
    table = pq.read_table(parquet_path)
    assert table.num_rows == 0 and tuple(table.column_names) == SERIES_COLUMNS
    csv_path, _ = export_run(store, empty, "csv", tmp_path)
    assert csv_path.read_text(encoding="utf-8").splitlines() == [",".join(SERIES_COLUMNS)]


def test_unknown_format(store: RunStore, run_id: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"unknown export format 'xlsx'.*parquet, csv"):
        export_run(store, run_id, "xlsx", tmp_path)  # type: ignore[arg-type]
    assert list(tmp_path.glob("*_series.*")) == []


def test_unwritable_output_is_a_store_error(store: RunStore, run_id: str, tmp_path: Path) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("")
    with pytest.raises(StoreError, match=r"cannot create export directory .*taken"):
        export_run(store, run_id, "csv", a_file)
    blocked = tmp_path / "out"
    blocked.mkdir()
    (blocked / f"{run_id}_series.parquet").mkdir()  # a directory where the file should go
    with pytest.raises(StoreError, match=r"cannot write export file"):
        export_run(store, run_id, "parquet", blocked)
    assert not list(blocked.glob("*.part"))


def test_unknown_run(store: RunStore, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not found"):
        export_run(store, "19990101", "csv", tmp_path)
