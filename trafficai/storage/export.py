"""Export one run to files other tools read: the long series table plus the run's metadata.

Files are written to ``<name>.part`` and renamed when complete, so a failed export never leaves a
truncated file that looks finished.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import itertools
import json
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from trafficai.errors import StoreError
from trafficai.storage.records import SeriesRow
from trafficai.storage.store import RunStore

ExportFormat = Literal["parquet", "csv"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("parquet", "csv")
SERIES_COLUMNS = ("run_id", "scope", "object_id", "metric", "t_begin", "t_end", "value")
SeriesWriter = Callable[[Path, str, Iterator[SeriesRow]], None]
_PARQUET_BATCH_ROWS = 65_536  # bounds memory: a run can hold about a million series values

_PARQUET_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("scope", pa.string()),
        ("object_id", pa.string()),
        ("metric", pa.string()),
        ("t_begin", pa.float64()),
        ("t_end", pa.float64()),
        ("value", pa.float64()),
    ]
)


def export_run(store: RunStore, run_id: str, fmt: ExportFormat, out: Path | None = None) -> list[Path]:
    """Write ``<run_id>_series.<fmt>`` and ``<run_id>_run.json`` into ``out`` (default: the cwd).

    ``run_id`` may be a unique prefix; files are named with the full id. Returns the written paths.
    Missing values are empty cells in CSV and nulls in Parquet.
    """
    if fmt not in EXPORT_FORMATS:
        raise StoreError(f"unknown export format {fmt!r} (expected one of {', '.join(EXPORT_FORMATS)})")
    record = store.get_run(run_id)
    out_dir = Path.cwd() if out is None else out.expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create export directory {out_dir}: {exc.strerror or exc}") from exc

    series_path = out_dir / f"{record.id}_series.{fmt}"
    write_series: SeriesWriter = _write_parquet if fmt == "parquet" else _write_csv
    with _written_atomically(series_path) as part:
        write_series(part, record.id, store.iter_series(record.id))

    metadata_path = out_dir / f"{record.id}_run.json"
    metadata = {**dataclasses.asdict(record), "series_file": series_path.name}
    with _written_atomically(metadata_path) as part:
        part.write_text(json.dumps(_finite_or_null(metadata), indent=2, sort_keys=True) + "\n", "utf-8")
    return [series_path, metadata_path]


def _write_parquet(path: Path, run_id: str, rows: Iterator[SeriesRow]) -> None:
    with pq.ParquetWriter(path, _PARQUET_SCHEMA) as writer:
        wrote_any = False
        while batch := list(itertools.islice(rows, _PARQUET_BATCH_ROWS)):
            scope, object_id, metric, t_begin, t_end, value = zip(*batch, strict=True)
            columns = [
                pa.array([run_id] * len(batch), pa.string()),
                pa.array(scope, pa.string()),
                pa.array(object_id, pa.string()),
                pa.array(metric, pa.string()),
                pa.array(t_begin, pa.float64()),
                pa.array(t_end, pa.float64()),
                pa.array(value, pa.float64(), from_pandas=True),  # from_pandas: NaN becomes null
            ]
            writer.write_batch(pa.record_batch(columns, schema=_PARQUET_SCHEMA))
            wrote_any = True
        if not wrote_any:  # a run without bins still gets a readable file with the schema
            writer.write_table(_PARQUET_SCHEMA.empty_table())


def _write_csv(path: Path, run_id: str, rows: Iterator[SeriesRow]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SERIES_COLUMNS)
        writer.writerows(
            (run_id, row.scope, row.object_id, row.metric, row.t_begin, row.t_end, _csv_number(row.value))
            for row in rows
        )


def _csv_number(value: float) -> float | str:
    return "" if math.isnan(value) else value  # an empty cell is what spreadsheets treat as missing


@contextlib.contextmanager
def _written_atomically(path: Path) -> Iterator[Path]:
    part = path.with_name(path.name + ".part")
    try:
        yield part
        os.replace(part, path)
    except OSError as exc:
        _remove_quietly(part)
        raise StoreError(f"cannot write export file {path}: {exc.strerror or exc}") from exc
    except BaseException:
        _remove_quietly(part)
        raise


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):  # the original error is the one worth reporting
        path.unlink(missing_ok=True)


def _finite_or_null(value: Any) -> Any:
    """Replace NaN/inf by null: strict JSON readers reject Python's NaN literal."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite_or_null(item) for item in value]
    return value
