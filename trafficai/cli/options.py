"""Options given before the command (``trafficai --log-level debug run ...``), kept on the context."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import typer


class LogLevel(StrEnum):
    debug = "DEBUG"
    info = "INFO"
    warning = "WARNING"
    error = "ERROR"
    critical = "CRITICAL"


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    log_level: str = LogLevel.warning.value


def apply_global_options(
    ctx: typer.Context,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            "--log-level",
            envvar="TRAFFICAI_LOG_LEVEL",
            case_sensitive=False,
            help="Messages at this level and above go to stderr (and to the run's log file)",
        ),
    ] = LogLevel.warning,
) -> None:
    """trafficai: open traffic-signal operations on SUMO."""
    from trafficai.runtime.logs import configure_logging

    configure_logging(log_level.value, None)
    ctx.obj = GlobalOptions(log_level=log_level.value)


def global_options(ctx: typer.Context) -> GlobalOptions:
    """The options given before the command (defaults where the app has no callback, e.g. tests)."""
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, GlobalOptions) else GlobalOptions()
