"""Shared by the CLI tests: the command in a subprocess, the app in-process, their outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import typer

from tests.conftest import ROOT
from trafficai.cli.app import build_app


def trafficai(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``trafficai ARGS`` as a user runs it (``python -m trafficai.cli``), in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "trafficai.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"} if env is None else env,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def cli_app() -> typer.Typer:
    """A fresh ``trafficai`` app for ``CliRunner`` (exceptions reach the test as ``result.exception``)."""
    return build_app()


def last_json(result: object) -> dict[str, object]:
    """The one JSON object a ``--json`` command prints last on stdout."""
    out = result.stdout  # type: ignore[attr-defined]
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]
