"""``trafficai incidents fit``: one-line errors, and a real (small) fit that a live run then uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.support import assert_one_line_error, trafficai


def test_an_unknown_scenario_is_one_line() -> None:
    assert_one_line_error(trafficai("incidents", "fit", "nowhere"), "unknown scenario 'nowhere'")


def test_a_duration_within_the_warmup_is_one_line(tiny: str) -> None:
    proc = trafficai("incidents", "fit", tiny, "--duration", "200", "--warmup", "300")
    assert_one_line_error(proc, "--duration 200 must exceed --warmup 300")


@pytest.mark.sumo
def test_a_small_fit_is_written_and_a_live_run_uses_it(tiny: str, tmp_path: Path) -> None:
    out = tmp_path / "bounds.json"
    args = ("--runs", "1", "--duration", "420", "--warmup", "300", "--jobs", "1", "--out", str(out))
    proc = trafficai("incidents", "fit", tiny, *args, "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    data = json.loads(out.read_text())
    assert data["scenario"] == "tiny" and data["detector"] == "held-vehicles"
    assert data["fit"]["seeds"] == [50000, 50100, 50200] and data["fit"]["levels"] == [0.8, 1.0, 1.2]
    assert len(data["bounds"]) == len(data["pairs"]) == summary["pairs"]
    assert data["pairs_fingerprint"] == summary["pairs_fingerprint"]
    bounds = ("--detect-incidents", "--incident-bounds", str(out))
    run = trafficai("--log-level", "info", "run", tiny, "--end", "60", *bounds)
    assert run.returncode == 0, run.stderr
    assert f"incident detection: held-vehicles with the bounds of {out}" in run.stderr
