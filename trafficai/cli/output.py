"""Where commands write: tables on stdout, progress and warnings on stderr (rich)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

out = Console()
err = Console(stderr=True)


def print_json(payload: Any) -> None:
    """One JSON object on one stdout line (``--json``): nothing else goes to stdout."""
    sys.stdout.write(json.dumps(payload) + "\n")


def progress_bar(counter: str, *, transient: bool = True, info: bool = False) -> Progress:
    """A progress bar on stderr; ``counter`` formats ``task.completed``/``task.total``."""
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn(counter)]
    if info:
        columns.append(TextColumn("{task.fields[info]}"))
    return Progress(*columns, TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=transient)
