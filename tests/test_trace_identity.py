"""Refactors keep behaviour: a seeded headless run and a seeded RL episode reproduce the traces
recorded before the architecture refactor (issue 8) — KPIs, every recorded series value and event,
and every observation and reward of an episode.

Regenerate (only when behaviour is meant to change, and say so in the commit):
``python -m tests.test_trace_identity`` writes tests/data/traces/*.json.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

TRACES = Path(__file__).parent / "data" / "traces"
SCENARIOS = Path(__file__).parent.parent / "scenarios"

pytestmark = pytest.mark.sumo


def headless_trace(store_path: Path) -> dict[str, Any]:
    from trafficai.config import HealthSection, RunConfig, SimConfig
    from trafficai.runtime.session import run_headless
    from trafficai.storage import RunStore

    config = RunConfig(
        scenario=str(SCENARIOS / "corridor"),
        controller="max-pressure",
        end_s=900,
        sim=SimConfig(seed=7),
        # the trace was recorded without vehicle subscriptions; the count-bias camera witness
        # subscribes every vehicle, and lane aggregates then come from the vehicle arrays
        # (core/lane_state.py), which moves network/mean_speed_mps at float rounding (KPIs and
        # events unchanged); off here, so the recorded path is the one compared
        health=HealthSection(bias_camera=False),
    )
    store = RunStore(store_path)
    try:
        result = run_headless(config, store)
    finally:
        store.close()
    db = sqlite3.connect(store_path)
    try:
        series = db.execute(
            "SELECT scope, metric, t_begin, t_end, object_id, value FROM series"
            " ORDER BY scope, metric, t_end, object_id"
        ).fetchall()
        events = db.execute("SELECT time_s, severity, kind, message FROM events ORDER BY id").fetchall()
    finally:
        db.close()
    # the sensors layer adds per-approach objects ("<signal>/<edge>") and occupancy/speed for area
    # detectors; the check covers what was recorded before: loops' occupancy, every count/vehicles/halting
    loops = {row[4] for row in series if row[0] == "detector" and row[1] == "count"}
    series = [
        row
        for row in series
        if row[0] != "detector"
        or ("/" not in row[4] and row[1] != "speed" and (row[1] != "occupancy" or row[4] in loops))
    ]
    by_metric: dict[str, list[Any]] = {}
    for scope, metric, *rest, value in series:
        rounded = None if value is None else round(value, 6)
        by_metric.setdefault(f"{scope}/{metric}", []).append([*rest, rounded])
    return {
        "kpis": {k: round(v, 6) for k, v in sorted(result.kpis.items())},
        # one digest per recorded metric: metrics added later (new sensor bins) do not break the check
        "series": {
            key: {"rows": len(rows), "sha256": hashlib.sha256(json.dumps(rows).encode()).hexdigest()}
            for key, rows in sorted(by_metric.items())
        },
        # detector-health events are new with the sensors layer
        "events": [list(e) for e in events if e[2] != "detector"],
    }


def episode_trace() -> dict[str, Any]:
    from trafficai.control.rl.multi_env import TrafficSignalParallelEnv

    env = TrafficSignalParallelEnv(str(SCENARIOS / "grid4x4"), episode_s=300)
    rng = np.random.default_rng(11)
    observations, rewards = [], []
    try:
        obs, _ = env.reset(seed=5)
        observations.append({a: np.round(o, 6).tolist() for a, o in sorted(obs.items())})
        while env.agents:
            actions = {a: int(rng.integers(env.action_space(a).n)) for a in sorted(env.agents)}
            obs, reward, _, _, _ = env.step(actions)
            observations.append({a: np.round(o, 6).tolist() for a, o in sorted(obs.items())})
            rewards.append({a: round(float(r), 6) for a, r in sorted(reward.items())})
    finally:
        env.close()
    return {
        "steps": len(rewards),
        "observations_sha256": hashlib.sha256(json.dumps(observations).encode()).hexdigest(),
        "rewards": rewards,
    }


def test_headless_run_matches_recorded_trace(tmp_path: Path) -> None:
    expected = json.loads((TRACES / "headless_corridor.json").read_text())
    actual = headless_trace(tmp_path / "runs.sqlite")
    assert actual["kpis"] == expected["kpis"]
    assert actual["events"] == expected["events"]
    # one intended change since the recording: a loop's cumulative count no longer drops by the
    # vehicle standing on it at SUMO's interval ends (issue 9), so the 30 s count bins shift by one
    # vehicle between neighbours; test_geometry_counts_and_vehicle_getters in
    # tests/sim/test_operator_data.py checks them step by step
    changed = {"detector/count"}
    compared = [key for key in expected["series"] if key not in changed]
    assert {key: actual["series"].get(key) for key in compared} == {
        k: expected["series"][k] for k in compared
    }
    assert actual["series"]["detector/count"]["rows"] == expected["series"]["detector/count"]["rows"]


def test_rl_episode_matches_recorded_trace() -> None:
    expected = json.loads((TRACES / "episode_grid4x4.json").read_text())
    assert episode_trace() == expected


if __name__ == "__main__":
    import tempfile

    TRACES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        (TRACES / "headless_corridor.json").write_text(
            json.dumps(headless_trace(Path(tmp) / "runs.sqlite"), indent=1) + "\n"
        )
    (TRACES / "episode_grid4x4.json").write_text(json.dumps(episode_trace(), indent=1) + "\n")
    sys.exit(0)
