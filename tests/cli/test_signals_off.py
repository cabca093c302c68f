"""``trafficai run`` on a configuration with every signal switched off (``tls.all-off``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import DATA, ROOT

pytestmark = pytest.mark.sumo

ALL_OFF = DATA / "odd" / "alloff.sumocfg"


def trafficai_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trafficai.cli", "run", str(ALL_OFF), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_run_with_signals_off_completes() -> None:
    proc = trafficai_run("--end", "300", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["controller"] == "fixed" and data["departed"] > 0 and data["arrived"] > 0


def test_run_with_signals_off_refuses_a_controller_in_one_line() -> None:
    proc = trafficai_run("--controller", "max-pressure", "--end", "60")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert "alloff.sumocfg" in errors[0] and "switched off" in errors[0] and "max-pressure" in errors[0]


def test_evaluate_with_signals_off_skips_the_refused_baselines_with_a_note(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("matplotlib")
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "trafficai.cli", "evaluate", str(ALL_OFF)),
            *("--seeds", "1", "--end", "60", "--out", str(tmp_path), "--json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["controller"] == "fixed" and report["baselines"] == {}
    assert set(report["skipped_baselines"]) == {"actuated", "webster", "max-pressure", "greedy", "sotl"}
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "switched off" in notes[0] and "max-pressure" in notes[0]
    assert "Traceback" not in proc.stderr
