"""Standard-library logging for the ``trafficai`` logger: stderr, and a file when one is given.

Level from ``--log-level`` / ``$TRAFFICAI_LOG_LEVEL``. Calling it again replaces the handlers it
installed before, so a process (the CLI, then a worker) can reconfigure without duplicate lines.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from trafficai.errors import ConfigError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_MARK = "_trafficai_handler"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (rich and pytest replace it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str, log_file: Path | None) -> Path | None:
    """Send the ``trafficai`` logger's records at ``level`` and above to stderr and, when given,
    appended to ``log_file`` (its folder is created). Returns the log file's path, if any."""
    name = level.strip().upper()
    if name not in LEVELS:
        raise ConfigError(f"unknown log level {level!r} ({', '.join(LEVELS)})")
    logger = logging.getLogger("trafficai")
    for handler in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
        logger.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [_StderrHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        setattr(handler, _HANDLER_MARK, True)
        logger.addHandler(handler)
    logger.setLevel(name)
    return log_file
