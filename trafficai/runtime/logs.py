"""Logging with the standard library: the ``trafficai`` logger to stderr and, optionally, a file.

The level comes from ``--log-level`` or ``TRAFFICAI_LOG_LEVEL`` (default INFO). Child processes
(the simulation worker, training jobs) call :func:`configure_logging` themselves: ``spawn`` starts
them with fresh logging state.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from trafficai.errors import ConfigError

LOGGER_NAME = "trafficai"
LEVEL_ENV = "TRAFFICAI_LOG_LEVEL"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"
LOGS_DIR = "logs"

_handlers: list[logging.Handler] = []  # the ones configure_logging added (replaced on a new call)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (rich, typer's runner and pytest
    replace it after logging was configured)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def log_level(level: str | None = None) -> str:
    """``level``, else ``$TRAFFICAI_LOG_LEVEL``, else INFO; ConfigError for an unknown name."""
    name = (level or os.environ.get(LEVEL_ENV) or "INFO").strip().upper()
    if name not in LEVELS:
        raise ConfigError(f"unknown log level {name!r} (one of {', '.join(LEVELS)})")
    return name


def configure_logging(level: str, log_file: Path | None) -> Path | None:
    """Send the ``trafficai`` logger's records at ``level`` and above to stderr and, when given, to
    ``log_file`` (its folder is created). Returns the log file's path, or None when it could not be
    opened (then only stderr is used, and a warning says so)."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in _handlers:
        logger.removeHandler(handler)
        handler.close()
    _handlers.clear()
    logger.setLevel(log_level(level))
    logger.propagate = False  # the stderr handler here prints it; the root would print it twice
    formatter = logging.Formatter(FORMAT)
    stderr = _StderrHandler(sys.stderr)
    stderr.setFormatter(formatter)
    _handlers.append(stderr)
    opened: Path | None = None
    problem = ""
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            file_handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            problem = f"cannot write the log file {log_file}: {exc}"
        else:
            file_handler.setFormatter(formatter)
            _handlers.append(file_handler)
            opened = log_file
    for handler in _handlers:
        logger.addHandler(handler)
    if problem:
        logger.warning(problem)
    return opened


def process_log_path(folder: Path, prefix: str) -> Path:
    """A log file name unique to this process: ``<folder>/logs/<prefix>-<UTC time>-<pid>.log``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return folder / LOGS_DIR / f"{prefix}-{stamp}-{os.getpid()}.log"
