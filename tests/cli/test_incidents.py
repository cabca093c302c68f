"""``--incident`` on ``run`` and ``evaluate``: scripted closures and blocks, one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.cli.support import assert_one_line_error, trafficai

pytestmark = pytest.mark.sumo


def test_run_with_scripted_incidents_reports_them_and_completes(tiny: str) -> None:
    proc = trafficai(
        "run",
        tiny,
        "--end",
        "240",
        "--incident",
        "close-edge:N_in@30+60",
        "--incident",
        "block-lane:E_in_0@0:20+1:00",
        "--incident",
        "close-lane:C_S_0@40",
    )
    assert proc.returncode == 0, proc.stderr
    assert "INC-1: lane E_in_0 blocked at" in proc.stderr
    assert "INC-2: edge closed N_in (scheduled)" in proc.stderr
    assert "INC-3: lane closed C_S_0 (scheduled)" in proc.stderr
    assert "end their trip before the closure" in proc.stderr  # C_S is an exit: no way round it


@pytest.mark.parametrize(
    ("spec", "needle"),
    [("close-lane:N_in_0", "the time is missing"), ("close-lane:nowhere_0@10", "has no lane 'nowhere_0'")],
)
def test_a_bad_incident_is_one_line(tiny: str, spec: str, needle: str) -> None:
    assert_one_line_error(trafficai("run", tiny, "--end", "60", "--incident", spec), needle)


def test_evaluate_applies_the_incidents_to_every_episode(tiny: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("matplotlib")
    args = ("evaluate", tiny, "--controller", "fixed", "--no-baselines", "--seeds", "1", "--end", "120")
    out = ("--out", str(tmp_path), "--json")
    plain = json.loads(trafficai(*args, *out).stdout)
    proc = trafficai(*args, *out, "--incident", "close-edge:N_in@10")
    assert proc.returncode == 0, proc.stderr
    closed = json.loads(proc.stdout)
    assert closed["incidents"] == ["close-edge:N_in@10"] and plain["incidents"] == []
    assert closed["kpis"]["throughput_veh"]["mean"] < plain["kpis"]["throughput_veh"]["mean"]
