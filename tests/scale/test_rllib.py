"""RLlib multi-agent PPO runs the PettingZoo env unchanged, every signal on one shared policy."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.conftest import DATA
from trafficai.control.rl.config import EnvConfig
from trafficai.scale.rllib import SHARED_POLICY, ppo_config, shared_policy, train_ppo

GRID2X2 = str(DATA / "grid2x2")  # four signals: four agents on one policy

pytestmark = [pytest.mark.usefixtures("ray_cluster"), pytest.mark.xdist_group("ray")]


def test_every_agent_maps_to_the_shared_policy() -> None:
    assert {shared_policy(a) for a in ("A0", "A1", "B0", "B1")} == {SHARED_POLICY}


def test_one_ppo_iteration_trains_the_shared_policy_on_every_signal(tmp_path: Path) -> None:
    env = EnvConfig(scenario=GRID2X2, episode_s=60)
    config = ppo_config(env, env_runners=1, batch_size=48, minibatch_size=48, epochs=1)
    result = train_ppo(config, iterations=1, out=tmp_path / "ckpt")
    assert result.env_steps >= 48
    assert result.agent_steps == 4 * result.env_steps  # four signals act in every env step
    assert result.episodes >= 1 and result.episode_return_mean is not None
    assert math.isfinite(result.policy_loss)
    assert result.weight_change > 0  # the learner's update reached the sampling policy
    assert result.checkpoint is not None and any(result.checkpoint.iterdir())


@pytest.mark.slow
def test_a_short_training_on_two_env_runners_restores_from_its_checkpoint(tmp_path: Path) -> None:
    from ray.rllib.algorithms.algorithm import Algorithm

    env = EnvConfig(scenario=GRID2X2, episode_s=120)
    config = ppo_config(env, env_runners=2, batch_size=96, minibatch_size=48, epochs=2)
    result = train_ppo(config, iterations=3, out=tmp_path / "ckpt")
    assert result.env_steps >= 3 * 96 and result.agent_steps == 4 * result.env_steps
    assert result.checkpoint is not None
    restored = Algorithm.from_checkpoint(str(result.checkpoint))
    try:
        assert restored.get_module(SHARED_POLICY) is not None
    finally:
        restored.stop()
