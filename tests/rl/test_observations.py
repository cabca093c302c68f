"""Observations and rewards: pure functions checked against SUMO's own readings."""

from __future__ import annotations

import numpy as np
import pytest

from tests.rl.features import ORACLE_FEATURES
from trafficai.control.rl import rewards
from trafficai.control.rl.config import EnvConfig, ObservationConfig, RewardConfig
from trafficai.control.rl.episode import ControlledEpisodes
from trafficai.control.rl.observations import PhaseState, feature_slices, observe
from trafficai.core.snapshot import Snapshot
from trafficai.sim.partial_read import PartialReader, ReadSpec

pytestmark = pytest.mark.sumo

SENSORS = ObservationConfig(
    features=(
        "phase",
        "min_green",
        "queue",
        "density",
        "occupancy",
        "speed",
        "loop_occupancy",
        "phase_queue",
    ),
    source="sensors",
)


def _full(episodes: ControlledEpisodes) -> Snapshot:
    return episodes.backend.snapshot(vehicles=False)


def test_sensor_observations_equal_the_detector_readings(tiny: str) -> None:
    episodes = ControlledEpisodes(EnvConfig(scenario=tiny, episode_s=400, observation=SENSORS))
    try:
        topo = episodes.topology
        slices = feature_slices(topo, SENSORS)
        geometry = episodes.backend.geometry
        lanes = topo.lane_ids[0]
        e2_of = {geometry.lanes.ids[int(lane_index)]: i for i, lane_index in enumerate(geometry.e2.lanes)}
        e1_of = {geometry.lanes.ids[int(lane_index)]: i for i, lane_index in enumerate(geometry.e1.lanes)}
        assert set(lanes) <= set(e2_of) and set(lanes) <= set(e1_of)
        obs = episodes.reset(3)
        seen_queue = 0.0
        for k in range(70):
            full = _full(episodes)  # the backend's own full read, an independent path
            det = full.detectors
            for j, lane in enumerate(lanes):
                d2, d1 = e2_of[lane], e1_of[lane]
                capacity = max(geometry.e2.lengths[d2] / 7.5, 1.0)
                assert obs[0, slices["queue"]][j] == pytest.approx(
                    min(det.e2_halting[d2] / capacity, 1.0), abs=1e-6
                )
                assert obs[0, slices["density"]][j] == pytest.approx(
                    min(det.e2_vehicles[d2] / capacity, 1.0), abs=1e-6
                )
                assert obs[0, slices["occupancy"]][j] == pytest.approx(det.e2_occupancy[d2], abs=1e-6)
                speed = det.e2_speed[d2]
                vmax = geometry.lanes.max_speeds[geometry.lanes.ids.index(lane)]
                expected = 1.0 if speed < 0 else min(speed / vmax, 1.0)
                assert obs[0, slices["speed"]][j] == pytest.approx(expected, abs=1e-5)
                assert obs[0, slices["loop_occupancy"]][j] == pytest.approx(det.e1_occupancy[d1], abs=1e-6)
            seen_queue += float(obs[0, slices["queue"]].sum())
            obs = episodes.step([k // 6 % 2]).observations
        assert seen_queue > 0  # the comparison saw real queues, not only zeros
    finally:
        episodes.close()


def test_partial_read_equals_full_snapshot(grid2x2: str) -> None:
    """The optimisation (read only some lanes / values) gives SUMO's values for what it reads."""
    episodes = ControlledEpisodes(EnvConfig(scenario=grid2x2, episode_s=300))
    try:
        episodes.reset(1)
        geometry = episodes.backend.geometry
        spec = ReadSpec(
            lanes=tuple(range(0, len(geometry.lanes), 2)),
            lane_fields=frozenset({"vehicles", "halting", "occupancy", "mean_speed", "waiting", "co2_mg_s"}),
            e1=tuple(range(len(geometry.e1))),
            e1_fields=frozenset({"occupancy", "speed"}),
            e2=tuple(range(len(geometry.e2))),
            e2_fields=frozenset({"vehicles", "halting", "occupancy", "speed"}),
        )
        reader = PartialReader(episodes.backend, spec)
        compared = 0
        for k in range(40):
            episodes.step([k % 2] * 4)
            part, full = reader.read(), _full(episodes)
            idx = np.array(spec.lanes)
            for name in ("vehicles", "halting", "occupancy", "mean_speed", "waiting", "co2_mg_s"):
                np.testing.assert_allclose(
                    getattr(part.lanes, name)[idx], getattr(full.lanes, name)[idx], rtol=1e-6
                )
            for name in ("e1_occupancy", "e1_speed", "e2_vehicles", "e2_halting", "e2_occupancy", "e2_speed"):
                np.testing.assert_allclose(
                    getattr(part.detectors, name), getattr(full.detectors, name), rtol=1e-6
                )
            compared += int(full.lanes.vehicles[idx].sum())
        assert compared > 0
    finally:
        episodes.close()


def test_lane_observations_and_rewards_match_sumo(grid2x2: str) -> None:
    features = ORACLE_FEATURES
    config = EnvConfig(scenario=grid2x2, episode_s=300, observation=ObservationConfig(features=features))
    episodes = ControlledEpisodes(config)
    try:
        topo = episodes.topology
        slices = feature_slices(topo, config.observation)
        geometry = episodes.backend.geometry
        obs = episodes.reset(5)
        for k in range(40):
            full = _full(episodes)
            phase = episodes.phase_state()
            np.testing.assert_allclose(obs, observe(topo, config.observation, full, phase), atol=1e-6)
            for i, signal_id in enumerate(topo.signal_ids):
                status = episodes.loop.safety.status(signal_id)
                onehot = obs[i, slices["phase"]]
                assert onehot.sum() == (1 if status.controlled else 0)
                if status.controlled:
                    assert onehot[status.current_green] == 1
                assert obs[i, slices["min_green"]][0] == float(status.can_switch)
                lanes = [geometry.lanes.ids.index(lane) for lane in topo.lane_ids[i]]
                caps = np.maximum(geometry.lanes.lengths[lanes] / 7.5, 1.0)
                np.testing.assert_allclose(
                    obs[i, slices["queue"]][: len(lanes)],
                    np.minimum(full.lanes.halting[lanes] / caps, 1),
                    atol=1e-6,
                )
                np.testing.assert_allclose(
                    obs[i, slices["density"]][: len(lanes)],
                    np.minimum(full.lanes.vehicles[lanes] / caps, 1),
                    atol=1e-6,
                )
                assert (obs[i, slices["queue"]][len(lanes) :] == 0).all()  # padding
            for kind in ("queue", "pressure", "delay", "diff-waiting-time"):
                value = rewards.measure(kind, topo, full)
                if kind == "queue":
                    expected = [
                        full.lanes.halting[[geometry.lanes.ids.index(lane) for lane in ls]].sum()
                        for ls in topo.lane_ids
                    ]
                    np.testing.assert_allclose(value, expected)
                assert value.shape == (topo.n_signals,)
            obs = episodes.step([k // 3 % 2] * 4).observations
    finally:
        episodes.close()


def test_diff_waiting_time_reward_is_the_drop_in_waiting(tiny: str) -> None:
    episodes = ControlledEpisodes(
        EnvConfig(scenario=tiny, episode_s=300, reward=RewardConfig(kind="diff-waiting-time"))
    )
    try:
        episodes.reset(2)
        previous = rewards.measure("diff-waiting-time", episodes.topology, _full(episodes))
        for k in range(30):
            result = episodes.step([k // 4 % 2])
            now = rewards.measure("diff-waiting-time", episodes.topology, _full(episodes))
            np.testing.assert_allclose(result.rewards, previous - now, atol=1e-5)
            previous = now
    finally:
        episodes.close()


def test_total_delay_counts_the_vehicles_waiting_to_enter(tiny: str) -> None:
    """total-delay = the approaches' delay rate + every vehicle SUMO could not insert yet (tiny: all
    routes start on an approach edge of its one signal)."""
    episodes = ControlledEpisodes(
        EnvConfig(scenario=tiny, episode_s=400, demand_scale=6, reward=RewardConfig(kind="total-delay"))
    )
    try:
        episodes.reset(1)
        most = 0
        for _ in range(60):
            result = episodes.step([0])  # hold one stage: the other approaches back up off the network
            pending = len(episodes.backend.pending_vehicles())
            lane_delay = rewards.measure("delay", episodes.topology, _full(episodes))
            np.testing.assert_allclose(-result.rewards, lane_delay + pending, atol=1e-4)
            most = max(most, pending)
        assert most > 5  # the backlog really was there, and counted
    finally:
        episodes.close()


def test_reward_scale_and_first_decision() -> None:
    """Pure: compute() scales, and diff-waiting-time rewards 0 when there is no previous measure."""
    from trafficai.control.rl.observations import SignalTopology

    lanes_n = 3
    topo = SignalTopology(
        signal_ids=("J",),
        greens=(("Gr", "rG"),),
        lane_ids=(("a", "b"),),
        n_greens=np.array([2]),
        max_lanes=2,
        max_phases=2,
        lane_idx=np.array([[0, 1]]),
        lane_valid=np.ones((1, 2), np.float32),
        lane_cap=np.full((1, 2), 10.0, np.float32),
        lane_vmax=np.full((1, 2), 10.0, np.float32),
        out_idx=np.array([[2]]),
        out_valid=np.ones((1, 1), np.float32),
        out_cap=np.full((1, 1), 10.0, np.float32),
        stage_in=np.array([[[1, 0], [0, 1]]], np.float32),
        stage_out=np.ones((1, 2, 1), np.float32),
        e2_idx=np.zeros((1, 2), np.int64),
        e2_valid=np.zeros((1, 2), np.float32),
        e2_cap=np.ones((1, 2), np.float32),
        e2_out_idx=np.zeros((1, 1), np.int64),
        e2_out_valid=np.zeros((1, 1), np.float32),
        e2_out_cap=np.ones((1, 1), np.float32),
        e1_idx=np.zeros((1, 2), np.int64),
        e1_valid=np.zeros((1, 2), np.float32),
    )
    from trafficai.core.snapshot import DetectorArrays, LaneArrays, NetworkCounters, SignalArrays

    def snap(vehicles: list[int], halting: list[int], speed: list[float], waiting: list[float]) -> Snapshot:
        f = lambda xs, t: np.array(xs, dtype=t)  # noqa: E731
        lanes = LaneArrays(
            f(vehicles, np.int32),
            f(halting, np.int32),
            f([0.1] * lanes_n, np.float32),
            f(speed, np.float32),
            f(waiting, np.float32),
            f([0] * lanes_n, np.float32),
        )
        z = np.zeros(0)
        return Snapshot(
            0,
            0.0,
            lanes,
            SignalArrays(("Gr",), np.zeros(1, np.int32), np.zeros(1, np.float32)),
            DetectorArrays(*(z,) * 7),
            NetworkCounters(),
        )

    s = snap([4, 2, 5], [3, 1, 0], [2.0, 10.0, 5.0], [30.0, 10.0, 0.0])
    r, m = rewards.compute(RewardConfig(kind="queue", scale=0.5), topo, s, None)
    assert r.tolist() == [-2.0] and m.tolist() == [4.0]
    r, _ = rewards.compute(RewardConfig(kind="pressure"), topo, s, None)
    assert r.tolist() == [-1.0]  # |6 in - 5 out|
    r, _ = rewards.compute(RewardConfig(kind="delay"), topo, s, None)
    assert r[0] == pytest.approx(-(4 * 0.8 + 2 * 0.0))
    r, m = rewards.compute(RewardConfig(kind="diff-waiting-time"), topo, s, None)
    assert r.tolist() == [0.0] and m[0] == pytest.approx(0.4)
    r, _ = rewards.compute(RewardConfig(kind="diff-waiting-time"), topo, s, np.array([1.0]))
    assert r[0] == pytest.approx(0.6)
    phase = PhaseState(np.array([1]), np.array([1.0], np.float32), np.array([30.0], np.float32))
    config = ObservationConfig(
        features=("phase", "min_green", "time_in_green", "queue", "phase_queue", "phase_pressure")
    )
    obs = observe(topo, config, s, phase)
    assert obs.tolist()[0] == pytest.approx([0, 1, 1, 0.5, 0.3, 0.1, 0.3, 0.1, 0.4 - 0.5, 0.2 - 0.5, 1, 1])
