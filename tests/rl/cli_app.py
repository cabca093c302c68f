"""The RL commands as a Typer app of their own, and the JSON line they print (shared by CLI tests)."""

from __future__ import annotations

import json

import typer

from trafficai.cli_rl import register


def rl_app() -> typer.Typer:
    main = typer.Typer()
    bench = typer.Typer()
    main.add_typer(bench, name="bench")
    register(main, bench)
    return main


def last_json(result: object) -> dict[str, object]:
    """The one JSON object a ``--json`` command prints last on stdout."""
    out = result.stdout  # type: ignore[attr-defined]
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]
