"""The shared-policy VecEnv: slots, auto-reset, worker processes, a crashed worker."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from trafficai.control.rl.config import EnvConfig
from trafficai.control.rl.vec_env import SharedPolicyVecEnv
from trafficai.errors import SimulationError

pytestmark = pytest.mark.sumo


def test_every_signal_is_a_slot_and_episodes_restart(grid2x2: str) -> None:
    env = SharedPolicyVecEnv(EnvConfig(scenario=grid2x2, episode_s=50))
    try:
        assert env.num_envs == 4 and env.signal_ids == ("A0", "A1", "B0", "B1")
        obs = env.reset()
        assert obs.shape == (4, env.observation_space.shape[0])
        assert env.action_masks().shape == (4, env.action_space.n)
        for k in range(10):
            obs, rewards, dones, infos = env.step(np.full(4, k % 2))
            assert obs.shape == (4, env.observation_space.shape[0]) and rewards.shape == (4,)
        assert dones.all()  # 50 s / 5 s: the 10th decision ends the episode
        assert all(info["TimeLimit.truncated"] and "terminal_observation" in info for info in infos)
        assert all(info["episode"]["l"] == 10 for info in infos)
        obs, _, dones, _ = env.step(np.zeros(4))
        assert not dones.any()  # the next episode started by itself
    finally:
        env.close()


def test_two_worker_processes(grid2x2: str) -> None:
    env = SharedPolicyVecEnv(EnvConfig(scenario=grid2x2, episode_s=50), n_workers=2)
    try:
        assert env.num_envs == 8
        first = env.reset()
        assert first.shape[0] == 8
        for _ in range(12):
            obs, _rewards, _dones, _infos = env.step(np.ones(8, dtype=np.int64))
        assert obs.shape[0] == 8
    finally:
        env.close()
    assert not env.workers[1].process.is_alive()  # type: ignore[union-attr]  # worker 0 is in-process


def test_a_crashed_worker_is_reported(grid2x2: str) -> None:
    env = SharedPolicyVecEnv(EnvConfig(scenario=grid2x2, episode_s=100), n_workers=2)
    try:
        env.reset()
        os.kill(env.workers[1].process.pid, signal.SIGKILL)  # type: ignore[union-attr]
        with pytest.raises(SimulationError, match="environment worker 1"):
            for _ in range(5):
                env.step(np.zeros(8, dtype=np.int64))
    finally:
        env.close()


def test_the_learners_seed_never_picks_the_simulations_seeds(grid2x2: str) -> None:
    # SB3 calls env.seed(learner seed) when a model is built; SUMO seeds must stay the configs'
    # (42 here), or training would run on SUMO seeds 0, 1, 2, ..., the seeds evaluation uses.
    env = SharedPolicyVecEnv(EnvConfig(scenario=grid2x2, episode_s=50, seed=42))
    try:
        assert env.seed(0) == [None] * env.num_envs
        env.reset()
        local = env.workers[0]
        assert local.episodes.next_seed == 43  # type: ignore[union-attr]  # the first episode ran on 42
    finally:
        env.close()
