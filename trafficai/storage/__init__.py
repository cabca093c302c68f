"""Run store: every simulation run's config, KPIs, time series and events in one SQLite file.

``export`` (pyarrow) and ``compare`` are imported from their modules so that opening the store
does not pay for pyarrow.
"""

from trafficai.storage.paths import default_data_dir, default_store_path
from trafficai.storage.records import (
    ControllerRecord,
    EventRecord,
    HealthRecord,
    RunRecord,
    RunSummary,
    SeriesRow,
)
from trafficai.storage.store import RunStore

__all__ = [
    "ControllerRecord",
    "EventRecord",
    "HealthRecord",
    "RunRecord",
    "RunStore",
    "RunSummary",
    "SeriesRow",
    "default_data_dir",
    "default_store_path",
]
