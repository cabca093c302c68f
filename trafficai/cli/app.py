"""The Typer tree of the ``trafficai`` command: global options, then one module per command group."""

from __future__ import annotations

import typer

from trafficai.cli import (
    audit,
    bench,
    federated,
    forecast,
    gui,
    history,
    incidents,
    iot,
    rl,
    runs,
    sweep,
    users,
    vision,
    whatif,
)
from trafficai.cli.options import apply_global_options


def build_app() -> typer.Typer:
    """A fresh ``trafficai`` app (tests invoke their own, so no state leaks between them)."""
    app = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        help="trafficai: open traffic-signal operations on SUMO.",
    )
    app.callback()(apply_global_options)
    runs.register(app)
    gui.register(app)
    rl.register(app)
    vision.register(app)
    app.add_typer(bench.build_bench_app(), name="bench")
    iot.register(app)
    users.register(app)
    audit.register(app)
    incidents.register(app)
    whatif.register(app)
    history.register(app)
    forecast.register(app)
    sweep.register(app)
    federated.register(app)
    return app


app = build_app()
