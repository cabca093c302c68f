"""``trafficai whatif``: branches forked from one moment of a run, compared by KPIs."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Filled in below."""
