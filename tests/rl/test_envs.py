"""The Gymnasium and PettingZoo environments: API checkers, odd networks, subsets, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

from tests.conftest import DATA
from tests.rl.features import ORACLE_FEATURES
from trafficai.config import SafetyConfig
from trafficai.control.rl.config import EnvConfig, ObservationConfig
from trafficai.control.rl.env import TrafficSignalEnv
from trafficai.control.rl.episode import ControlledEpisodes
from trafficai.control.rl.multi_env import TrafficSignalParallelEnv
from trafficai.errors import ScenarioError

pytestmark = pytest.mark.sumo

ODD = DATA / "odd"
ALL_FEATURES = ObservationConfig(features=ORACLE_FEATURES)


def test_gymnasium_env_checker(tiny: str) -> None:
    env = TrafficSignalEnv(EnvConfig(scenario=tiny, episode_s=120))
    try:
        check_env(env, skip_render_check=True)
    finally:
        env.close()


def test_gymnasium_env_checker_all_features(tiny: str) -> None:
    env = TrafficSignalEnv(EnvConfig(scenario=tiny, episode_s=120, observation=ALL_FEATURES))
    try:
        check_env(env, skip_render_check=True)
        obs, info = env.reset(seed=3)
        assert env.observation_space.contains(obs)
        assert info["action_mask"].tolist() == [True, True]
    finally:
        env.close()


def test_pettingzoo_parallel_api(grid2x2: str) -> None:
    env = TrafficSignalParallelEnv(EnvConfig(scenario=grid2x2, episode_s=150, observation=ALL_FEATURES))
    try:
        parallel_api_test(env, num_cycles=40)
    finally:
        env.close()


def test_parallel_env_runs_to_truncation(grid2x2: str) -> None:
    env = TrafficSignalParallelEnv(grid2x2, episode_s=100)
    try:
        obs, _ = env.reset(seed=1)
        assert set(obs) == {"A0", "A1", "B0", "B1"}
        steps = 0
        while env.agents:
            _, _rewards, terms, truncs, _ = env.step({a: 1 for a in env.agents})
            steps += 1
        assert all(truncs.values()) and not any(terms.values())
        assert steps == 20  # 100 s / 5 s
        assert env.episodes.backend.time_s == pytest.approx(100.0)
    finally:
        env.close()


def test_same_seed_same_episode(tiny: str) -> None:
    env = TrafficSignalEnv(tiny, episode_s=200)
    try:
        runs = []
        for _ in range(2):
            obs, _ = env.reset(seed=7)
            trace = [obs]
            for k in range(30):
                obs, _reward, _, _, _ = env.step(k % 2)
                trace.append(obs)
            runs.append(np.stack(trace))
        np.testing.assert_array_equal(runs[0], runs[1])
    finally:
        env.close()


@pytest.mark.parametrize("config", ["allred", "actuated", "delay", "noalt", "addprog", "gz", "begin"])
def test_odd_networks(config: str) -> None:
    """All-red phases, actuated / delay-based programs, non-alternating phases, begin != 0 ..."""
    env = TrafficSignalEnv(str(ODD / f"{config}.sumocfg"), episode_s=120)
    try:
        obs, _ = env.reset(seed=1)
        assert env.observation_space.contains(obs)
        rng = np.random.default_rng(0)
        done = False
        while not done:
            obs, _, _, done, _info = env.step(int(rng.integers(env.action_space.n)))
            assert env.observation_space.contains(obs)
        assert env.episodes.loop.safety.is_controlled(env.signal_id)
    finally:
        env.close()


def test_no_controllable_signals_is_refused() -> None:
    with pytest.raises(ScenarioError, match="no controllable signals"):
        TrafficSignalParallelEnv(str(ODD / "nosignals.sumocfg"))


def test_unknown_signal_is_refused(tiny: str) -> None:
    with pytest.raises(ScenarioError, match="unknown signal"):
        TrafficSignalEnv(tiny, signal="nope")


def test_subset_of_signals_rest_keep_their_program(grid2x2: str) -> None:
    env = TrafficSignalParallelEnv(grid2x2, signals=("A0", "B1"), episode_s=120)
    try:
        _obs, _ = env.reset(seed=2)
        assert env.possible_agents == ["A0", "B1"]
        while env.agents:
            env.step({"A0": 0, "B1": 1})
        safety = env.episodes.loop.safety
        assert safety.is_controlled("A0") and safety.is_controlled("B1")
        assert not safety.is_controlled("A1") and not safety.is_controlled("B0")
        assert safety.status("A1").stage.startswith("program:")
    finally:
        env.close()


def test_padding_and_action_mask(tiny: str) -> None:
    """A signal padded to 4 stages: mask [1, 1, 0, 0]; an action past its stages keeps the green."""
    no_max = SafetyConfig(max_green_s=None)  # max green would end the green on its own
    episodes = ControlledEpisodes(
        EnvConfig(scenario=tiny, pad_phases=4, pad_lanes=6, episode_s=200, safety=no_max)
    )
    try:
        assert episodes.n_actions == 4
        assert episodes.action_mask().tolist() == [[True, True, False, False]]
        obs = episodes.reset(1)
        assert obs.shape == (1, 4 + 1 + 6 + 6 + 4)
        assert obs[0, -4:].tolist() == [1, 1, 0, 0]
        safety = episodes.loop.safety
        green = safety.status(episodes.signal_ids[0]).current_green
        for _ in range(20):
            episodes.step([3])
            status = safety.status(episodes.signal_ids[0])
            assert status.stage == "green" and status.current_green == green
    finally:
        episodes.close()


def test_different_phase_counts_share_one_space() -> None:
    """The city network mixes 2-, 3- and 4-stage signals: one padded space, masks per signal."""
    episodes = ControlledEpisodes(EnvConfig(scenario="city"))
    try:
        topo = episodes.topology
        counts = set(topo.n_greens.tolist())
        assert len(counts) > 1
        mask = episodes.action_mask()
        assert mask.shape == (topo.n_signals, topo.max_phases)
        assert (mask.sum(axis=1) == topo.n_greens).all()
    finally:
        episodes.close()
