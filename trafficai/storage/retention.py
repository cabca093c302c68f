"""Retention: the ``[storage] retention_days`` setting applied to the run store.

Applied when a headless run or the control center starts (``trafficai run``, ``trafficai gui``) and
by ``trafficai prune`` without ``--older-than``; what it deletes is :meth:`RunStore.prune_bins`.
"""

from __future__ import annotations

import logging

from trafficai.config import resolve_storage_config
from trafficai.storage.store import RunStore

logger = logging.getLogger(__name__)


def retention_days() -> float | None:
    """The configured retention (None: raw bins are kept); a bad value is one ConfigError line."""
    return resolve_storage_config().retention_days


def apply_retention(store: RunStore, days: float | None = None) -> int | None:
    """Delete the raw detector bins older than ``days`` (default: the configured retention) from
    ``store``; the rows deleted, None when no retention is set."""
    days = retention_days() if days is None else days
    if days is None:
        return None
    deleted = store.prune_bins(days)
    if deleted:
        logger.info("retention: deleted %d raw detector bin values older than %g days", deleted, days)
    return deleted
