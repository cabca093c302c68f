"""``run``, ``scenarios``, ``runs``, ``compare``, ``export`` as a user meets them: one-line errors,
JSON output, the run store commands."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.support import assert_one_line_error, trafficai
from tests.conftest import DATA, ROOT

pytestmark = pytest.mark.sumo


def test_run_json_has_the_documented_keys(tiny: str) -> None:
    proc = trafficai("run", tiny, "--controller", "max-pressure", "--end", "300", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    for key in (
        "mean_delay_s",
        "mean_waiting_s",
        "mean_travel_time_s",
        "throughput_veh",
        "mean_queue_veh",
        "co2_kg",
        "departed",
        "arrived",
        "teleports",
        "run_id",
    ):
        assert key in data
    assert data["controller"] == "max-pressure" and data["departed"] > 0 and data["mean_delay_s"] > 0
    runs = trafficai("runs")
    assert data["run_id"] in runs.stdout and "completed" in runs.stdout


def test_compare_and_export(tiny: str, tmp_path: Path) -> None:
    ids = [
        json.loads(trafficai("run", tiny, "--controller", c, "--end", "300", "--json").stdout)["run_id"]
        for c in ("fixed", "greedy")
    ]
    proc = trafficai("compare", *ids)
    assert proc.returncode == 0 and "mean_delay_s" in proc.stdout and "%" in proc.stdout
    for fmt in ("csv", "parquet"):
        proc = trafficai("export", ids[0], "--format", fmt, "--out", str(tmp_path))
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / f"{ids[0]}_series.{fmt}").stat().st_size > 100


def test_scenarios_lists_the_library_with_sizes() -> None:
    proc = trafficai("scenarios")
    assert proc.returncode == 0
    for name in ("single", "corridor", "grid4x4", "city"):
        assert name in proc.stdout
    assert "34" in proc.stdout  # city's signal count


def test_unknown_scenario() -> None:
    assert_one_line_error(trafficai("run", "atlantis"), "unknown scenario 'atlantis'", "grid4x4")


def test_unknown_controller(tiny: str) -> None:
    assert_one_line_error(
        trafficai("run", tiny, "--controller", "magic"), "unknown controller 'magic'", "max-pressure"
    )


def test_missing_manifest_and_missing_net(tmp_path: Path) -> None:
    assert_one_line_error(
        trafficai("run", str(tmp_path / "nothing" / "scenario.toml")), "scenario manifest not found"
    )
    (tmp_path / "scenario.toml").write_text('[scenario]\nname = "x"\nnet = "gone.net.xml"\n')
    assert_one_line_error(
        trafficai("run", str(tmp_path)), "scenario.toml", "field 'scenario.net'", "gone.net.xml"
    )


def test_malformed_manifest(tmp_path: Path) -> None:
    (tmp_path / "scenario.toml").write_text("[scenario\n")
    assert_one_line_error(trafficai("run", str(tmp_path)), "scenario.toml", "invalid TOML")
    (tmp_path / "scenario.toml").write_text('[scenario]\nname = "x"\nnet = "a"\nspeed = 3\n')
    assert_one_line_error(trafficai("run", str(tmp_path)), "field 'scenario.speed'", "Extra inputs")


def test_malformed_net() -> None:
    assert_one_line_error(
        trafficai("run", str(DATA / "odd" / "broken" / "broken.sumocfg")), "broken.net.xml", "unexpected end"
    )


def test_net_without_signals() -> None:
    assert_one_line_error(
        trafficai("run", str(DATA / "odd" / "nosignals.sumocfg")),
        "nosignals.sumocfg",
        "no controllable signals",
    )


def test_sumo_error_mid_run_keeps_what_was_recorded(tmp_path: Path) -> None:
    for f in (DATA / "tiny").iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    routes = tmp_path / "tiny.rou.xml"
    routes.write_text(
        routes.read_text().replace(
            "</routes>", '<vehicle id="bad" depart="450"><route edges="W_in NOPE"/></vehicle></routes>'
        )
    )
    proc = trafficai("run", str(tmp_path / "scenario.toml"))
    assert_one_line_error(proc, "NOPE", "scenario tiny", "t=")
    from trafficai.storage import RunStore

    with RunStore() as store:
        run = store.list_runs(1)[0]
        assert run.status == "failed" and run.n_bins >= 4
        assert any("NOPE" in e.message for e in store.events(run.id))


def test_bad_option_values() -> None:
    assert_one_line_error(trafficai("run", "single", "--end", "-5"), "end_s")
    assert_one_line_error(trafficai("export", "nope", "--format", "xls"), "unknown format 'xls'")
    assert_one_line_error(trafficai("compare", "nope"), "run nope not found")


def test_sigkill_keeps_every_completed_bin(isolated_data_dir: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "trafficai.cli", "run", "city", "--json"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = isolated_data_dir / "runs.sqlite"
    deadline = time.monotonic() + 120
    bins = 0
    try:
        while time.monotonic() < deadline and bins < 5:
            time.sleep(0.2)
            if db.exists():
                try:
                    with sqlite3.connect(db) as con:
                        bins = con.execute("select coalesce(max(n_bins), 0) from runs").fetchone()[0]
                except sqlite3.OperationalError:
                    continue
        assert bins >= 5, "the run never recorded 5 bins"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    from trafficai.storage import RunStore

    with RunStore() as store:
        run = store.list_runs(1)[0]
        assert run.status == "interrupted"
        assert run.n_bins >= bins
        series = store.network_series(run.id)
        assert len(series["t_end"]) == run.n_bins and series["queue_veh"].size == run.n_bins


def test_runs_lists_every_controller_in_charge_and_from_when() -> None:
    from trafficai.cli.runs import controllers_text
    from trafficai.storage import ControllerRecord, RunStore

    with RunStore() as store:
        run_id = store.create_run("city", "fixed", 1, {})
        store.add_controller(run_id, 0.0, "fixed")
        store.add_controller(run_id, 120.0, "rl")
        store.add_controller(run_id, 300.0, "max-pressure", ["6", "7"])
        history = store.controllers([run_id])[run_id]
    text = controllers_text("fixed", history)
    assert text == "fixed; rl from t=120s; max-pressure on 6,7 from t=300s"
    assert controllers_text("webster", []) == "webster"  # a run recorded before the history
    assert controllers_text("fixed", [ControllerRecord(0.0, "fixed")]) == "fixed"
    listed = trafficai("runs", env={**os.environ, "COLUMNS": "300"})
    assert listed.returncode == 0 and text in listed.stdout
