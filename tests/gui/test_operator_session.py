"""A real window under Xvfb, driven as an operator would (tests/gui/operator_session.py): the
simulation still runs after each action and the events say what happened (issue 9, item 11)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.sumo, pytest.mark.xdist_group("xvfb")]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (`make system-deps` installs it; .ci/run does)")
    read, write = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    try:
        assert number, "Xvfb did not report a display"
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_session(display: str, scenario: str, out: Path) -> dict[str, Any]:
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "TRAFFICAI_DATA_DIR": str(out.parent)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.gui.operator_session", scenario, str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert out.exists(), f"the session wrote no report: {proc.stderr[-2000:]}"
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def test_an_operator_session_in_a_real_window_never_stops_the_simulation(
    display: str, tmp_path: Path
) -> None:
    report = run_session(display, "grid4x4", tmp_path / "session.json")
    assert "error" not in report, report.get("error")
    assert report["platform"] == "xcb" and report["opened"]
    for step in (
        "plays",
        "jumped",
        "runs_after_jump",
        "override_held",
        "override_expired",
        "closed",
        "runs_after_close",
        "runs_after_block",
        "cleared",
        "runs_after_clear",
    ):
        assert report[step], f"{step} failed: {report}"
    assert report["state"] == "running" and report["time_s"] > 600.0
    kinds = [(e["kind"], e["user"]) for e in report["events"]]
    assert ("override", "operator-session") in kinds
    assert any(e["kind"] == "incident" and report["lanes"][0] in e["message"] for e in report["events"])
    assert not [e for e in report["events"] if e["severity"] == "alarm" and e["kind"] == "simulation"]
